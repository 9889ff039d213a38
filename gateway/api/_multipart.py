"""A streaming multipart/form-data reader: file parts go straight to a sink, never to memory.

Starlette's form parser receives the whole body before the handler runs, so a size limit
could only be checked afterwards; this reader enforces it while the bytes arrive. Parsing
runs in a worker thread so that decoding a large body never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from gateway.errors import InvalidRequest

MAX_FIELD_BYTES = 64 * 1024


class FileSink(Protocol):
    def write(self, chunk: bytes) -> None: ...


class StreamedForm:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.file_field: str | None = None
        self.filename: str | None = None


async def read_form(
    request: Request, *, file_field: str, open_sink: Callable[[str, StreamedForm], FileSink]
) -> StreamedForm:
    """Read the form; the part named ``file_field`` is streamed into ``open_sink(filename, form)``.

    ``open_sink`` is called when that part's headers have arrived, with the fields seen so far.
    """
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidRequest("The request must be multipart/form-data with a boundary.", param="file")

    form = StreamedForm()
    state: dict[str, object] = {}

    def on_part_begin() -> None:
        state.update(headers={}, name=None, filename=None, sink=None, value=bytearray(), field=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] = bytes(state.get("field", b"")) + data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        headers = state["headers"]
        key = bytes(state["field"]).lower()  # type: ignore[arg-type]
        headers[key] = headers.get(key, b"") + data[start:end]  # type: ignore[index,union-attr]

    def on_header_end() -> None:
        state["field"] = b""

    def on_headers_finished() -> None:
        disposition = state["headers"].get(b"content-disposition")  # type: ignore[union-attr]
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        if name == file_field:
            filename = options.get(b"filename", b"").decode("utf-8", "replace")
            form.file_field, form.filename = name, filename
            state["sink"] = open_sink(filename, form)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        sink = state.get("sink")
        if sink is not None:
            sink.write(data[start:end])  # type: ignore[attr-defined]
            return
        value = state["value"]
        value += data[start:end]  # type: ignore[operator]
        if len(value) > MAX_FIELD_BYTES:  # type: ignore[arg-type]
            raise InvalidRequest(f"Form field {state['name']!r} is too long.", param=str(state["name"]))

    def on_end() -> None:
        state["complete"] = True

    def on_part_end() -> None:
        if state.get("sink") is None and state.get("name"):
            form.fields[str(state["name"])] = bytes(state["value"]).decode("utf-8", "replace")  # type: ignore[arg-type]

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    async for chunk in request.stream():
        if chunk:
            await anyio.to_thread.run_sync(parser.write, chunk)
    parser.finalize()
    if not state.get("complete"):
        # A body cut off before the closing boundary: what arrived may be a truncated file.
        raise InvalidRequest(
            "The multipart/form-data body ended before its closing boundary; send the whole request.",
            param=file_field,
        )
    return form
