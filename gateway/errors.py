"""Typed errors that leave the gateway in OpenAI's error envelope.

Raise one of these anywhere below a router; ``gateway.api.errors`` renders it as
``{"error": {"message", "type", "param", "code"}}`` with the matching status. Never send
``str(exception)`` of an unexpected exception to a client.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error a client may see."""

    status_code: int = 500
    error_type: str = "server_error"
    default_code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code

    def envelope(self) -> dict[str, dict[str, str | None]]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationFailed(GatewayError):
    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status_code = 403
    error_type = "invalid_request_error"
    default_code = "permission_denied"


class NotFound(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class Conflict(GatewayError):
    status_code = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class PayloadTooLarge(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "file_too_large"


class UnprocessableEntity(GatewayError):
    status_code = 422
    error_type = "invalid_request_error"


class RateLimited(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamFailed(GatewayError):
    """The provider answered with an error or could not be reached (after retries)."""

    status_code = 502
    error_type = "server_error"
    default_code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.upstream_status = upstream_status

    @property
    def retryable(self) -> bool:
        """429, 5xx and connection failures (no status) are worth another try."""
        return self.upstream_status is None or self.upstream_status == 429 or self.upstream_status >= 500


class ServiceUnavailable(GatewayError):
    status_code = 503
    error_type = "server_error"
    default_code = "service_unavailable"


class ConfigError(Exception):
    """The configuration cannot be used; startup stops with this one message."""
