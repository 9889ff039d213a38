"""Every error leaves from here, in OpenAI's envelope, with the matching status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import GatewayError, InvalidRequest, NotFound

log = logging.getLogger(__name__)

_STATUS_TYPES = {
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
}
# Pydantic's error types for a body that is JSON but not an object (a list, a string, a number).
_NOT_AN_OBJECT = ("model_attributes_type", "dict_type", "model_type")


def _render(error: GatewayError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.status_code)


def _validation_error(exc: RequestValidationError) -> GatewayError:
    first = exc.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(location) or None
    # Pydantic puts "Value error, " before a validator's own message; the client needs only the message.
    message = first.get("msg", "Invalid request").removeprefix("Value error, ")
    kind = first.get("type")
    if kind == "missing":
        if param:
            message = f"Missing required parameter: '{param}'."
        else:
            message = "The request has no body; send a JSON object."
    elif kind == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    elif kind == "json_invalid":
        message = "We could not parse the JSON body of your request. Send valid JSON."
        param = None
    elif kind in _NOT_AN_OBJECT and not param:
        message = "The request body must be a JSON object."
    elif param:
        message = f"Invalid value for '{param}': {message}"
    return InvalidRequest(message, param=param, code="invalid_value" if param else None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: GatewayError) -> JSONResponse:
        return _render(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _render(_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _render(
                NotFound("Unknown route. See the OpenAI API reference for the routes tunegate serves.")
            )
        error = GatewayError(str(exc.detail))
        error.status_code = exc.status_code
        error.error_type = _STATUS_TYPES.get(
            exc.status_code, "invalid_request_error" if exc.status_code < 500 else "server_error"
        )
        return _render(error)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _render(GatewayError("The server had an error while processing your request."))
