"""Names: NFKC text, and toneless pinyin for names written in Chinese characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=500_000)
def clean_text(value: str | None) -> str | None:
    """NFKC-normalised (full-width forms become ASCII), single-spaced, trimmed; blank is None.

    Every other standardiser starts from this form, and ``identity.canonical`` applies it
    to every column (vectorised, the same three steps in Polars).
    """
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return text or None


def clean_name(value: str | None) -> str | None:
    """A name as written, in clean text: "  Ａｎｎａ   Maria " -> "Anna Maria"."""
    return clean_text(value)


def has_cjk(value: str | None) -> bool:
    return bool(value) and bool(_CJK.search(value))


@lru_cache(maxsize=500_000)
def pinyin(value: str | None) -> str | None:
    """Toneless pinyin of a name written in Chinese characters, e.g. 王伟 -> 'wang wei'.

    Names with no Chinese characters return None: their Latin form is already
    what matching compares. Identity resolution computes it (``features.latin_key``);
    staging keeps the characters only.
    """
    name = clean_text(value)
    if not name or not has_cjk(name):
        return None
    syllables = [s.strip() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")]
    return " ".join(s for s in syllables if s).lower() or None
