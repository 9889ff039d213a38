"""The one place that talks HTTP to a provider: auth, retries with backoff, error mapping, metrics.

Adapters describe *what* to call; this module decides *how often* and turns every failure into
``UpstreamFailed``, so a provider's flakiness never leaks out as an ``httpx`` exception. The API key
lives only in request headers: it is never formatted into a message or a log line, and an upstream
message that echoes it back is redacted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from gateway.errors import UpstreamFailed

log = logging.getLogger(__name__)

T = TypeVar("T")
Expect = type | tuple[type, ...] | None

# on_call(adapter, operation, outcome, seconds); outcome is "ok", "retry" or "error".
OnCall = Callable[[str, str, str, float], None]

DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_MAX_DELAY = 30.0


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the upstream asked us to wait: ``retry-after-ms`` (OpenAI) or ``Retry-After``."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _Failure(UpstreamFailed):
    """An UpstreamFailed that remembers the upstream's Retry-After (not the response: it holds the key)."""

    retry_after: float | None = None


class UpstreamHttp:
    """An ``httpx.AsyncClient`` bound to one provider's base URL, credentials and retry policy."""

    def __init__(
        self,
        *,
        adapter: str,
        base_url: str,
        api_key: str | None,
        key_header: str = "Authorization",
        extra_query: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        max_delay: float = DEFAULT_MAX_DELAY,
        on_call: OnCall | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.adapter = adapter
        self.base_url = base_url.rstrip("/")
        self._secret = api_key or None
        self._secret_bytes = self._secret.encode() if self._secret else b""  # checked on every answer
        self._headers = dict(extra_headers or {})
        if api_key:  # "Authorization" carries a bearer token; any other header (Azure's api-key) the raw key
            bearer = key_header.lower() == "authorization"
            self._headers[key_header] = f"Bearer {api_key}" if bearer else api_key
        self._query = dict(extra_query or {})
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_delay = max_delay
        self._on_call = on_call
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self._timeout = httpx.Timeout(timeout)

    # -- retry policy ------------------------------------------------------------------------

    def _delay(self, attempt: int, failure: UpstreamFailed) -> float:
        """Exponential backoff with jitter; an upstream Retry-After wins, both capped."""
        hinted = getattr(failure, "retry_after", None)
        if hinted is not None:
            return min(hinted, self.max_delay)
        ceiling = min(self.max_delay, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _emit(self, operation: str, outcome: str, started: float) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(self.adapter, operation, outcome, time.monotonic() - started)
        except Exception:  # a broken metrics hook must not fail a provider call
            log.exception("on_call hook failed for %s/%s", self.adapter, operation)

    async def retrying(self, operation: str, attempt_once: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt_once`` until it succeeds, fails for good, or attempts run out."""
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                result = await attempt_once()
            except UpstreamFailed as failure:
                if not failure.retryable or attempt >= self.max_attempts:
                    self._emit(operation, "error", started)
                    raise
                self._emit(operation, "retry", started)
                delay = self._delay(attempt, failure)
                log.warning(
                    "%s %s failed (status %s, attempt %d/%d); retrying in %.2fs",
                    self.adapter,
                    operation,
                    failure.upstream_status,
                    attempt,
                    self.max_attempts,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self._emit(operation, "ok", started)
            return result

    # -- single requests ---------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    def _status_failure(self, response: httpx.Response) -> _Failure:
        """Build the error from the upstream's envelope: ``{"error": {"message", "code", ...}}``."""
        message = code = param = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            error = payload.get("error", payload)
            if isinstance(error, dict):
                message, code, param = error.get("message"), error.get("code"), error.get("param")
            elif isinstance(error, str):
                message = error
        text = str(message) if message else f"upstream {self.adapter} answered HTTP {response.status_code}"
        failure = _Failure(
            self._redact(text),
            upstream_status=response.status_code,
            # code and param reach the client's envelope and the job's error too: redacted like the message.
            code=self._redact(str(code)) if code is not None else None,
            param=self._redact(str(param)) if param is not None else None,
        )
        failure.retry_after = _retry_after(response)
        return failure

    def _transport_failure(self, exc: httpx.HTTPError) -> _Failure:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
        return _Failure(f"upstream {self.adapter} {kind} ({type(exc).__name__})", code="upstream_unreachable")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def _once(self, method: str, path: str, expect: Expect, **kwargs: Any) -> Any:
        params = {**self._query, **(kwargs.pop("params", None) or {})}
        try:
            response = await self._client.request(
                method, self.url(path), params=params, headers=self._headers, timeout=self._timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc) from None
        if response.status_code >= 400:
            raise self._status_failure(response)
        if expect is None:
            return None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if self._secret and isinstance(payload, dict | list) and self._secret_bytes in response.content:
            # A provider that echoes its key into a job's error or an event must not pass it on.
            payload = json.loads(self._redact(response.text))
        if not isinstance(payload, expect):
            raise _Failure(
                f"upstream {self.adapter} returned malformed JSON (HTTP {response.status_code})",
                code="upstream_bad_response",
            )
        return payload

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        expect: Expect = dict,
        retry: bool = True,
        **kwargs: Any,
    ) -> Any:
        """One JSON request whose body must be an ``expect`` (None: ignore the body).

        ``kwargs`` go to ``httpx`` (json, params, data, files). ``retry=False`` is for callers that
        run their own retry loop around several requests (see ``retrying``).
        """
        if not retry:
            return await self._once(method, path, expect, **kwargs)
        return await self.retrying(operation, lambda: self._once(method, path, expect, **kwargs))

    async def stream(self, operation: str, path: str, *, json_body: dict[str, Any]) -> AsyncIterator[bytes]:
        """POST and yield the response bytes as they come; retried only before the first byte."""
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            sent_any = False
            try:
                async with self._client.stream(
                    "POST",
                    self.url(path),
                    json=json_body,
                    params=self._query,
                    headers=self._headers,
                    timeout=self._timeout,
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise self._status_failure(response)
                    async for chunk in response.aiter_bytes():
                        sent_any = True
                        yield chunk
            except (httpx.HTTPError, UpstreamFailed) as exc:
                failure = exc if isinstance(exc, UpstreamFailed) else self._transport_failure(exc)
                if sent_any:
                    self._emit(operation, "error", started)
                    message = f"upstream {self.adapter} stream broke off mid-response"
                    raise UpstreamFailed(message, code="upstream_stream_broken") from None
                if not failure.retryable or attempt >= self.max_attempts:
                    self._emit(operation, "error", started)
                    raise failure from None
                self._emit(operation, "retry", started)
                await asyncio.sleep(self._delay(attempt, failure))
                continue
            self._emit(operation, "ok", started)
            return

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
