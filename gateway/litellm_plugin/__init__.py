"""tunegate as a LiteLLM proxy guardrail: the data gate at job creation, the model gate after it.

For teams that run a LiteLLM proxy instead of the tunegate gateway. See docs/litellm-plugin.md.
"""

from gateway.litellm_plugin.guardrail import TunegateGuardrail

__all__ = ["TunegateGuardrail"]
