"""tunegate: an OpenAI-compatible fine-tuning gateway with a safety gate."""

__version__ = "0.1.0"
