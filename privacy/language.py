"""zh or en for each text: the share of Chinese characters among its letters decides."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'zh' when Chinese characters make up at least a fifth of the letters, else 'en'.

    Customer text mixes scripts (an email address or a product name inside a Chinese post),
    so a few Chinese characters among many Latin ones count as Chinese: a statistical
    language model adds nothing for the two languages the hub handles.
    """
    cjk = len(_CJK.findall(text))
    if not cjk:
        return "en"
    latin = len(_LATIN.findall(text))
    return "zh" if cjk * 4 >= latin else "en"


def mask_cjk(text: str) -> str:
    """The text with each Chinese character replaced by a space: same offsets, and word
    boundaries where Presidio's `\\b` patterns expect them."""
    return _CJK.sub(" ", text)
