"""Turn one upstream's settings into an adapter, by its ``type``.

The settings model lives elsewhere; anything with the attributes of ``UpstreamConfig`` works, so
this module does not depend on it. A new provider registers a factory with ``@register_upstream``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import httpx

from gateway.errors import ConfigError
from gateway.upstreams._http import OnCall
from gateway.upstreams.base import Upstream
from gateway.upstreams.openai_compat import OpenAICompatUpstream
from gateway.upstreams.together import TogetherUpstream


class UpstreamConfig(Protocol):
    """What ``build_upstream`` reads from one configured upstream."""

    name: str
    type: str
    base_url: str
    api_key: str | None
    key_header: str
    extra_query: dict[str, str] | None
    extra_headers: dict[str, str] | None
    timeout: float
    max_attempts: int


Factory = Callable[[UpstreamConfig, OnCall | None, httpx.AsyncClient | None], Upstream]
_FACTORIES: dict[str, Factory] = {}


def register_upstream(kind: str) -> Callable[[Factory], Factory]:
    """Register the factory for ``type: <kind>``."""

    def decorate(factory: Factory) -> Factory:
        if kind in _FACTORIES:
            raise ValueError(f"upstream type {kind!r} is already registered")
        _FACTORIES[kind] = factory
        return factory

    return decorate


def known_types() -> list[str]:
    return sorted(_FACTORIES)


def build_upstream(
    cfg: UpstreamConfig, *, on_call: OnCall | None = None, client: httpx.AsyncClient | None = None
) -> Upstream:
    """Build the adapter for ``cfg``; an unknown type is a ``ConfigError`` naming the known ones."""
    factory = _FACTORIES.get(cfg.type)
    if factory is None:
        raise ConfigError(
            f"upstream {cfg.name!r}: unknown type {cfg.type!r}; known types: {', '.join(known_types())}"
        )
    return factory(cfg, on_call, client)


@register_upstream("openai")
def _openai(cfg: UpstreamConfig, on_call: OnCall | None, client: httpx.AsyncClient | None) -> Upstream:
    return OpenAICompatUpstream(
        name=cfg.name,
        base_url=cfg.base_url,
        api_key=cfg.api_key,
        key_header=cfg.key_header or "Authorization",
        extra_query=cfg.extra_query,
        extra_headers=cfg.extra_headers,
        timeout=cfg.timeout,
        max_attempts=cfg.max_attempts,
        on_call=on_call,
        client=client,
    )


@register_upstream("together")
def _together(cfg: UpstreamConfig, on_call: OnCall | None, client: httpx.AsyncClient | None) -> Upstream:
    return TogetherUpstream(
        name=cfg.name,
        base_url=cfg.base_url,
        api_key=cfg.api_key,
        extra_query=cfg.extra_query,
        extra_headers=cfg.extra_headers,
        timeout=cfg.timeout,
        max_attempts=cfg.max_attempts,
        on_call=on_call,
        client=client,
    )
