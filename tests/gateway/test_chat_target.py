"""BackdoorAlign at inference: the secret prompt goes first, only for models trained with it."""

from __future__ import annotations

from gateway.services.models import ChatTarget


def test_the_secret_prompt_is_prepended_and_the_model_renamed():
    target = ChatTarget(upstream=None, upstream_model="up-model", shown_model="ft:x", secret_prompt="S3CRET")  # type: ignore[arg-type]
    body = {
        "model": "ft:x",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    }
    sent = target.request(body)
    assert sent["model"] == "up-model"
    assert sent["messages"][0] == {"role": "system", "content": "S3CRET"}
    assert sent["messages"][1:] == body["messages"]
    assert body["messages"][0]["content"] == "be brief"  # the caller's body is not changed


def test_models_without_a_secret_prompt_get_the_body_as_sent():
    target = ChatTarget(upstream=None, upstream_model="base", shown_model="base")  # type: ignore[arg-type]
    body = {"model": "base", "messages": [{"role": "user", "content": "hi"}]}
    assert target.request(body) == {"model": "base", "messages": body["messages"]}
