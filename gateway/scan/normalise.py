"""Text as a classifier should see it, whatever the row did to hide it.

Attackers hide harmful training text from classifiers with invisible characters (zero-width
joiners between letters, bidi overrides, Unicode tag characters that carry a whole hidden ASCII
message), look-alike letters from other scripts, and encodings (base64, hex, percent escapes,
ROT13, Atbash). ``normalise`` undoes what it can: the cleaned text is judged instead of the raw
one, and each decoding is judged again beside it.

Every segment of every row passes through here, so plain ASCII text without encoded-looking
runs takes a short path: a few cheap searches and one English score.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

from gateway.scan._decode import cipher_decodings, english_score
from gateway.scan._homoglyphs import fold

__all__ = ["REMOVED_KINDS", "Decoded", "Normalised", "chunk_spans", "chunks", "english_score", "normalise"]

REMOVED_KINDS = ("zero_width", "tag", "bidi", "control")
BOMB_FACTOR = 4  # all decodings together hold at most this many times the input's characters
CUT_SLACK = 100  # chunks: how far back from a window's edge to look for whitespace

_ZERO_WIDTH = r"\u200b-\u200d\u2060-\u2064\ufeff\u180e\u00ad"
_BIDI = r"\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069"
_TAG = r"\U000e0000-\U000e007f"
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1, but \t \n \r stay
_INVISIBLE = re.compile(f"[{_ZERO_WIDTH}{_BIDI}{_TAG}{_CONTROL}]")
_BY_KIND = tuple(
    (kind, re.compile(f"[{chars}]"))
    for kind, chars in (("zero_width", _ZERO_WIDTH), ("tag", _TAG), ("bidi", _BIDI), ("control", _CONTROL))
)
_ZERO_WIDTH_OR_BIDI = re.compile(f"[{_ZERO_WIDTH}{_BIDI}]")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_RUN = re.compile(f"[{_TAG}]+")
# Tag characters mirror ASCII at U+E0000; the language tag and CANCEL TAG carry no text.
_UNTAG = {cp: cp - 0xE0000 if 0xE0020 <= cp < 0xE007F else None for cp in range(0xE0000, 0xE0080)}

_B64_LINE = r"[A-Za-z0-9+/_-]{14,}={0,2}"  # 16 characters or more with the padding
_B64_RUN = re.compile(rf"{_B64_LINE}(?:\r?\n[A-Za-z0-9+/_-]{{4,}}={{0,2}})*")  # MIME wraps base64 lines
_HEX_ONLY = re.compile(r"(?:0[xX])?([0-9A-Fa-f]+)")
_HEX_RUN = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}|\b(?:[0-9A-Fa-f]{2}[ :]){7,}[0-9A-Fa-f]{2}\b")
_HEX_SEPARATORS = re.compile(r"\\x|[ :]")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[^\s%])+")  # linear: no nested quantifiers
# Cheap tests for the runs above (one regex with alternatives is several times slower). Hex bytes
# of text almost all start with a digit (ASCII is 0x20-0x7e), which lets the regex engine skip ahead.
_B64_CANDIDATE = re.compile(r"[A-Za-z0-9+/_-]{14}(?:[A-Za-z0-9+/_-]{2}|=)")
_HEX_CANDIDATE = re.compile(r"[0-9][0-9A-Fa-f][ :][0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}")
_MIN_RUN = 16  # base64 and hex
_MIN_PERCENT_ESCAPES = 3
_MIN_PRINTABLE = 0.9
_LETTER = re.compile(r"[^\W\d_]")
_LINE_BREAKS = str.maketrans("", "", "\t\n\r")


@dataclass(frozen=True, slots=True)
class Decoded:
    """One hidden text found in a segment: how it was hidden and what it says (normalised too)."""

    method: str  # "unicode_tags" | "base64" | "hex" | "percent" | "rot13" | "atbash"
    text: str


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str  # NFKC, invisible characters removed, look-alike letters folded
    removed: Mapping[str, int]  # characters removed, by kind (every REMOVED_KINDS key present)
    homoglyphs: int  # characters folded to Latin
    decoded: tuple[Decoded, ...]  # decodings worth judging again


_NOTHING_REMOVED: Mapping[str, int] = MappingProxyType(dict.fromkeys(REMOVED_KINDS, 0))


def normalise(text: str) -> Normalised:
    """Clean the text and find what it hides (decodings, and decodings inside those, once)."""
    cleaned, removed, homoglyphs, tags = _clean(text)
    decoded = _decode_all(cleaned, tags, budget=BOMB_FACTOR * len(text))
    return Normalised(cleaned, removed, homoglyphs, decoded)


def _clean(text: str) -> tuple[str, Mapping[str, int], int, tuple[str, ...]]:
    """(text, removed counts, folded count, texts smuggled in tag characters)."""
    if text.isascii() and not _ASCII_CONTROL.search(text):
        return text, _NOTHING_REMOVED, 0, ()  # ASCII is already NFKC and has no look-alikes
    removed: Mapping[str, int] = _NOTHING_REMOVED
    tags: tuple[str, ...] = ()
    if _INVISIBLE.search(text):
        tags = tuple(hidden for run in _TAG_RUN.findall(text) if (hidden := run.translate(_UNTAG)).strip())
        counts = {}
        for kind, pattern in _BY_KIND:
            text, counts[kind] = pattern.subn("", text)
        removed = MappingProxyType(counts)
    if not text.isascii():
        text, folded = fold(unicodedata.normalize("NFKC", text))
        return text, removed, folded, tags
    return text, removed, 0, tags


def _decode_all(text: str, tags: tuple[str, ...], *, budget: int) -> tuple[Decoded, ...]:
    """Breadth first: the text's own decodings, then those inside them, within the size budget."""
    layer = _by_method([("unicode_tags", hidden) for hidden in tags] + _decodings(text))
    found: list[Decoded] = []
    seen = {text}
    for depth in range(2):
        deeper: list[tuple[str, str]] = []
        for method, raw in layer:
            if budget <= 0:
                return tuple(found)
            decoded, _, _, hidden = _clean(raw[:budget])
            decoded = decoded[:budget]  # NFKC can expand (U+FDFA is 18 letters)
            if decoded in seen or not decoded.strip():
                continue
            seen.add(decoded)
            found.append(Decoded(method, decoded))
            budget -= len(decoded)
            if depth == 0:
                deeper += [("unicode_tags", text) for text in hidden] + _decodings(decoded)
        layer = _by_method(deeper)
    return tuple(found)


def _by_method(decodings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One text per method, its distinct decodings joined by newlines.

    A row with thousands of encoded runs then gives the classifiers a few texts, not thousands.
    """
    texts: dict[str, dict[str, None]] = {}
    for method, text in decodings:
        texts.setdefault(method, {})[text] = None
    return [(method, "\n".join(group)) for method, group in texts.items()]


def _decodings(text: str) -> list[tuple[str, str]]:
    """(method, decoded text) for each encoded run in the text, then for the text as a cipher."""
    found = _base64_runs(text) if _B64_CANDIDATE.search(text) else []
    if "\\x" in text or _HEX_CANDIDATE.search(text):
        found += _hex_runs(text)
    if "%" in text:
        found += _percent_runs(text)
    return found + cipher_decodings(text)


def _base64_runs(text: str) -> list[tuple[str, str]]:
    found = []
    for match in _B64_RUN.finditer(text):
        run = match.group()
        if len(run) < _MIN_RUN:
            continue
        pieces = [run, *run.split()] if "\n" in run else [run]  # wrapped whole, else line by line
        for piece in pieces:
            if decoded := _base64_or_hex(piece):
                found.append(decoded)
                if piece is run:
                    break
    return found


def _hex_runs(text: str) -> list[tuple[str, str]]:
    """Hex bytes written apart ("48 6f 77") or escaped ("\\x48\\x6f"); plain runs are base64's."""
    found = []
    for match in _HEX_RUN.finditer(text):
        if decoded := _from_hex(_HEX_SEPARATORS.sub("", match.group())):
            found.append(("hex", decoded))
    return found


def _percent_runs(text: str) -> list[tuple[str, str]]:
    found = []
    for match in _PERCENT_RUN.finditer(text):
        token = match.group()
        if token.count("%") < _MIN_PERCENT_ESCAPES:
            continue
        if decoded := _text(unquote_to_bytes(token.replace("+", " "))):  # "+" is a space in queries
            found.append(("percent", decoded))
    return found


def _base64_or_hex(run: str) -> tuple[str, str] | None:
    """A run of only hex digits is read as hex first; otherwise as base64 (standard or URL-safe)."""
    run = "".join(run.split())
    if (hex_only := _HEX_ONLY.fullmatch(run)) and (decoded := _from_hex(hex_only.group(1))):
        return "hex", decoded
    body = run.rstrip("=")
    if (body != run and len(run) % 4) or len(body) % 4 == 1:
        return None
    url_safe = "-" in body or "_" in body
    if url_safe and ("+" in body or "/" in body):
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if url_safe else base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    decoded = _text(raw)
    return ("base64", decoded) if decoded else None


def _from_hex(digits: str) -> str | None:
    if len(digits) < _MIN_RUN or len(digits) % 2:
        return None
    return _text(bytes.fromhex(digits))


def _text(raw: bytes) -> str | None:
    """UTF-8 that is mostly printable and has letters; anything else is binary or noise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Judge what a reader would get: hidden characters are removed, tag characters read as ASCII.
    shown = text if text.isascii() else _ZERO_WIDTH_OR_BIDI.sub("", text.translate(_UNTAG))
    if not _LETTER.search(shown):
        return None
    if shown.translate(_LINE_BREAKS).isprintable():  # the usual case, decided in C
        return text
    printable = sum(1 for char in shown if char.isprintable() or char in "\t\n\r")
    return text if printable >= _MIN_PRINTABLE * len(shown) else None


def chunk_spans(text: str, *, max_chars: int, overlap: int = 200) -> list[tuple[int, int]]:
    """(start, end) of each window ``chunks`` returns; consecutive windows share ≥ overlap characters.

    ``overlap`` is capped at half of ``max_chars`` so windows always advance. A window ends just
    after whitespace, and the next one starts just after whitespace, when there is some within
    ``CUT_SLACK`` characters; otherwise it cuts mid-word.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if overlap < 0:
        raise ValueError(f"overlap must not be negative, got {overlap}")
    size = len(text)
    if size <= max_chars:
        return [(0, size)]
    overlap = min(overlap, max_chars // 2)
    slack = min(CUT_SLACK, (max_chars - overlap) // 4)  # two cuts back still advance by half a step
    spans = []
    start = 0
    while start + max_chars < size:
        end = start + max_chars
        space = _last_space(text, end - slack, end)
        if space >= 0:
            end = space + 1
        spans.append((start, end))
        start = end - overlap
        if overlap and (space := _last_space(text, start - slack - 1, start)) >= 0:
            start = space + 1
    spans.append((start, size))
    return spans


def chunks(text: str, *, max_chars: int, overlap: int = 200) -> list[str]:
    """Overlapping windows of at most ``max_chars`` covering all the text: long texts are never truncated."""
    return [text[start:end] for start, end in chunk_spans(text, max_chars=max_chars, overlap=overlap)]


def _last_space(text: str, low: int, high: int) -> int:
    """Index of the last whitespace in text[low:high], or -1."""
    for index in range(high - 1, max(low, 0) - 1, -1):
        if text[index].isspace():
            return index
    return -1
