"""tunegate: an OpenAI-compatible fine-tuning gateway with a safety gate."""

__version__ = "0.1.0"

import os as _os

# litellm fetches a model cost map from the internet on import unless told not to; a gateway
# in a closed network must never wait on that.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
