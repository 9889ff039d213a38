"""The registry's wiring, and the retry helper's delay rules."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from gateway.errors import ConfigError, UpstreamFailed
from gateway.upstreams._http import UpstreamHttp, _retry_after
from gateway.upstreams.base import Upstream
from gateway.upstreams.openai_compat import OpenAICompatUpstream
from gateway.upstreams.registry import build_upstream, known_types, register_upstream
from gateway.upstreams.together import TogetherUpstream


def settings(**overrides: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "name": "main",
        "type": "openai",
        "base_url": "https://example.test/v1",
        "api_key": "k",
        "key_header": "Authorization",
        "extra_query": None,
        "extra_headers": None,
        "timeout": 5.0,
        "max_attempts": 2,
    }
    return SimpleNamespace(**{**base, **overrides})


@pytest.mark.parametrize(("kind", "cls"), [("openai", OpenAICompatUpstream), ("together", TogetherUpstream)])
async def test_build_upstream(kind: str, cls: type) -> None:
    upstream = build_upstream(settings(type=kind))
    assert isinstance(upstream, cls) and isinstance(upstream, Upstream) and upstream.name == "main"
    await upstream.aclose()


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown type 'bedrock'.*openai, together"):
        build_upstream(settings(type="bedrock"))


def test_a_type_registers_once() -> None:
    assert "openai" in known_types()
    with pytest.raises(ValueError, match="already registered"):
        register_upstream("openai")(lambda cfg, on_call, client: build_upstream(cfg))


async def test_azure_settings_reach_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"id": "gpt-4o"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        upstream = build_upstream(
            settings(key_header="api-key", extra_query={"api-version": "2024-10-21"}), client=client
        )
        assert await upstream.list_models() == ["gpt-4o"]
    assert seen[0].headers["api-key"] == "k" and seen[0].url.params["api-version"] == "2024-10-21"


def _response(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_forms() -> None:
    assert _retry_after(_response(**{"Retry-After": "3"})) == 3.0
    assert _retry_after(_response(**{"retry-after-ms": "250", "Retry-After": "3"})) == 0.25
    later = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (_retry_after(_response(**{"Retry-After": later})) or 0) <= 10
    assert _retry_after(_response(**{"Retry-After": "soon"})) is None
    assert _retry_after(_response()) is None


def test_delay_honours_retry_after_but_caps_it_and_backs_off_otherwise() -> None:
    http = UpstreamHttp(adapter="a", base_url="http://x", api_key=None, backoff_base=0.5, max_delay=4.0)
    asked = UpstreamFailed("busy", upstream_status=429)
    asked.retry_after = 120.0  # type: ignore[attr-defined]
    assert http._delay(1, asked) == 4.0
    plain = UpstreamFailed("down", upstream_status=503)
    assert 0.25 <= http._delay(1, plain) <= 0.5
    assert 1.0 <= http._delay(3, plain) <= 2.0
    assert 2.0 <= http._delay(10, plain) <= 4.0


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        UpstreamHttp(adapter="a", base_url="http://x", api_key=None, max_attempts=0)


async def test_a_provider_echoing_its_key_into_a_job_error_is_redacted() -> None:
    """Stands in for a misbehaving hosted provider: its job error quotes the key it was sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["Authorization"].removeprefix("Bearer ")
        return httpx.Response(
            200,
            json={
                "id": "ftjob-1",
                "object": "fine_tuning.job",
                "status": "failed",
                "model": "m",
                "created_at": 1,
                "error": {"message": f"key {key} has no quota", "code": "quota", "param": key},
            },
        )

    secret = "sk-provider-secret-0123456789"
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        upstream = build_upstream(settings(api_key=secret), client=client)
        job = await upstream.get_job("ftjob-1")
    assert job.error == {"message": "key [redacted] has no quota", "code": "quota", "param": "[redacted]"}
