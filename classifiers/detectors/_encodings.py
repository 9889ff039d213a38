"""Base64 and hex blobs inside training text: found, classified, and cut out before cipher statistics.

A blob that decodes to readable text is an encoding that hides words from a word-level check (the row
classifiers judge the decoded text separately); images, hashes and other binary blobs are ordinary
data. Either way the blob is removed before the cipher detector measures letters and words.
"""

from __future__ import annotations

import base64
import binascii
import re

_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_B64_RE = re.compile(r"(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/]{40,}={0,2}")
_HEX_RE = re.compile(r"\b(?:0x)?(?:[0-9a-fA-F]{2}){20,}\b")


def encoding_kind(blob: str) -> str | None:
    """'text' when a base64/hex blob decodes to readable text; None for images, hashes, binary."""
    if blob.startswith("data:"):
        return None
    try:
        if _HEX_RE.fullmatch(blob):
            raw = binascii.unhexlify(blob.removeprefix("0x")[:400])
        else:
            raw = base64.b64decode(blob[: len(blob) // 4 * 4][:400], validate=True)
        text = raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return "text" if text and printable / len(text) > 0.95 and sum(map(str.isalpha, text)) > 10 else None


def strip_blobs(text: str) -> tuple[str, list[str]]:
    """The text without URLs, e-mail addresses and base64/hex blobs, and the kind of each blob
    ("text" or "binary")."""
    if "://" in text or "www." in text or "@" in text:
        text = _URL_RE.sub(" ", text)
    kinds = []
    if len(text) >= 40 and max(map(len, text.split()), default=0) >= 40:  # a blob is one long "word"
        for match in _B64_RE.finditer(text):
            blob = match.group()
            if not blob.isalpha():  # a long run of letters alone may be a cipher without spaces
                kinds.append(encoding_kind(blob) or "binary")
                text = text.replace(blob, " ")
    return text, kinds
