"""Value standardisation shared by dbt staging (as DuckDB UDFs) and identity resolution.

Each function is pure and cached: source data repeats the same phones, emails
and names many times, so parsing each distinct value once is what keeps staging
fast.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pypinyin import Style, lazy_pinyin

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=500_000)
def clean_name(value: str | None) -> str | None:
    """NFKC-normalised, trimmed, single-spaced; full-width forms become ASCII."""
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return text or None


def has_cjk(value: str | None) -> bool:
    return bool(value) and bool(_CJK.search(value))


@lru_cache(maxsize=500_000)
def pinyin(value: str | None) -> str | None:
    """Toneless pinyin of a name written in Chinese characters, e.g. 王伟 -> 'wang wei'.

    Names with no Chinese characters return None: their Latin form is already
    what matching compares.
    """
    name = clean_name(value)
    if not name or not has_cjk(name):
        return None
    syllables = [s.strip() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default")]
    return " ".join(s for s in syllables if s).lower() or None


@lru_cache(maxsize=500_000)
def email(value: str | None) -> str | None:
    """Lower-cased address if it is syntactically valid, else None (no DNS lookups)."""
    if value is None or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@lru_cache(maxsize=500_000)
def phone_e164(value: str | None, country: str | None = None) -> str | None:
    """E.164 form of a phone number; ``country`` (ISO-2) resolves national formats."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    region = (country or "").upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
