"""Folding of Cyrillic, Greek and Armenian look-alikes into the Latin letters they imitate.

"Ηоw tо mаke а bоmb" (Greek Η, Cyrillic о and а) reads as English to a person but not to a
classifier's tokenizer. Genuine Cyrillic or Greek text must not be touched, so a word is folded
only when it also holds Latin letters, or when the text around it is mostly Latin.
NFKC (applied before) already handles fullwidth and mathematical letters; leetspeak is left alone.
"""

from __future__ import annotations

import re

# Each look-alike above the Latin letter it imitates, one script per line.
_LOOK_ALIKES = (
    ("аеорсухіјѕһԁԛԝӏүѵ", "aeopcyxijshdqwlyv"),  # Cyrillic lowercase
    ("АВЕКМНОРСТХУІЈЅԚԜҮӀ", "ABEKMHOPCTXYIJSQWYI"),  # Cyrillic uppercase
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX"),  # Greek uppercase
    ("ονακιρυ", "ovakipu"),  # Greek lowercase
    ("օսցհոɡ", "oughng"),  # Armenian, and the Latin IPA script g
)
CONFUSABLES: dict[str, str] = {
    look_alike: latin
    for look_alikes, latins in _LOOK_ALIKES
    for look_alike, latin in zip(look_alikes, latins, strict=True)
}

_TABLE = str.maketrans(CONFUSABLES)
_CONFUSABLE = re.compile("[" + "".join(CONFUSABLES) + "]")
_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def _mostly_latin(text: str, latin: int) -> bool:
    """More Latin letters than unambiguous non-Latin ones (look-alikes count for neither side)."""
    other = len(_LETTER.findall(text)) - latin - len(_CONFUSABLE.findall(text))
    return latin > other


def fold(text: str) -> tuple[str, int]:
    """The text with look-alikes folded where the script is mixed, and how many characters changed."""
    if not _CONFUSABLE.search(text):
        return text, 0
    latin = len(_LATIN.findall(text))
    if not latin:  # no Latin letters: nothing mixes scripts
        return text, 0
    fold_all = _mostly_latin(text, latin)
    changed = 0

    def fold_word(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group()
        if not _CONFUSABLE.search(word) or not (fold_all or _LATIN.search(word)):
            return word
        folded = word.translate(_TABLE)
        changed += sum(a != b for a, b in zip(word, folded, strict=True))
        return folded

    return _WORD.sub(fold_word, text), changed
