"""Person-name lexicons: name lists shipped with Faker, and the hub's own customers' names.

The customers' names are the strongest signal a CRM has, so they are matched whole with one
Aho-Corasick automaton (one pass over a text for any number of names), not one regex each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import ahocorasick

_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]")
# Faker locales whose person lists serve as first-name and surname lexicons.
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "zh_CN", "zh_TW")


def _names(attr: str) -> set[str]:
    import importlib

    out: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        values = getattr(provider, attr, ())
        out.update(v.casefold() for v in values if len(v) > 1 or _CJK.match(v))
    return out


@cache
def first_names() -> frozenset[str]:
    return frozenset(_names("first_names") | _names("first_names_male") | _names("first_names_female"))


@cache
def last_names() -> frozenset[str]:
    return frozenset(_names("last_names"))


@cache
def cn_surnames() -> frozenset[str]:
    """Chinese surnames (one or two characters), to tell 王小明 from 设备过热."""
    return frozenset(n for n in last_names() if _CJK.match(n) and len(n) <= 2)


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int


class NameIndex:
    """Whole-name matches of known people's names in text, case-insensitive.

    Latin names must stand as words (no letter or digit on either side); names in Chinese
    characters match anywhere, as Chinese writes no spaces.
    """

    def __init__(self, names: Iterable[str]) -> None:
        automaton = ahocorasick.Automaton()
        count = 0
        for name in names:
            key = _normalise(name or "")
            # One-character or one-letter keys would match everywhere.
            if len(key) < (2 if _CJK.search(key) else 4) or key in automaton:
                continue
            automaton.add_word(key, len(key))
            count += 1
        self.size = count
        self._automaton = automaton
        if count:
            automaton.make_automaton()

    def find(self, text: str) -> list[NameMatch]:
        if not self.size:
            return []
        # casefold keeps the length of the text for the scripts the hub sees (Latin, CJK);
        # where it would not (ß -> ss), fall back to lower().
        folded = text.casefold()
        if len(folded) != len(text):
            folded = text.lower()
        hits = []
        for end_index, length in self._automaton.iter_long(folded):
            start, end = end_index - length + 1, end_index + 1
            if not _CJK.match(folded[start]) and (
                    (start > 0 and _WORD.match(folded[start - 1]))
                    or (end < len(folded) and _WORD.match(folded[end]))):
                continue
            hits.append(NameMatch(start, end))
        return hits


def golden_names(rows: Iterable[tuple[str | None, str | None, str | None]]) -> list[str]:
    """The ways a golden record's name is written: full name, 'First Last', 'Last First'."""
    out = []
    for full, first, last in rows:
        if full:
            out.append(full)
        if first and last:
            if _CJK.search(first + last):
                out.append(last + first)
            else:
                out.extend((f"{first} {last}", f"{last} {first}", f"{last}, {first}"))
    return out
