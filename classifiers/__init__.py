"""Scoring models and dataset detectors for the data gate and the model gate."""

import os as _os

# See gateway/__init__.py: never let litellm fetch its cost map from the network on import.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
