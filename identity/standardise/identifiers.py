"""Countries, national IDs and social handles.

As in ``contact``, every rule is written as Polars-compatible regular expressions, so that
``identity.canonical`` applies the same steps to whole columns that these functions apply
to one value.
"""

from __future__ import annotations

import re
from functools import lru_cache

from identity.standardise.names import clean_text

COUNTRY_FORM = r"^[A-Z]{2}$"
COUNTRY_NAMES = {
    "GERMANY": "DE", "DEUTSCHLAND": "DE", "CHINA": "CN", "中国": "CN", "USA": "US",
    "UNITED STATES": "US", "UK": "GB", "UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB",
}
# "ab 123.456-c" and "AB123456C" are one ID: separators are formatting, not content.
NATIONAL_ID_SEPARATORS = r"[\s.\-/]"
NATIONAL_ID_FORM = r"^[0-9A-Z]{4,24}$"
# "platform:handle", as the social source names its profiles; handles are case-blind.
SOCIAL_HANDLE_SEPARATORS = r"\s+"
SOCIAL_HANDLE_FORM = r"^[a-z0-9_]+:[^\s:]+$"

_COUNTRY = re.compile(COUNTRY_FORM)
_NATIONAL_ID_SEPARATORS = re.compile(NATIONAL_ID_SEPARATORS)
_NATIONAL_ID = re.compile(NATIONAL_ID_FORM)
_SOCIAL_HANDLE_SEPARATORS = re.compile(SOCIAL_HANDLE_SEPARATORS)
_SOCIAL_HANDLE = re.compile(SOCIAL_HANDLE_FORM)


@lru_cache(maxsize=10_000)
def country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 code: "de" -> "DE", "Germany" -> "DE"; anything else None."""
    text = clean_text(value)
    if text is None:
        return None
    upper = text.upper()
    return upper if _COUNTRY.match(upper) else COUNTRY_NAMES.get(upper)


@lru_cache(maxsize=500_000)
def national_id(value: str | None) -> str | None:
    """Upper case without separators ("ab 123 456 c" -> "AB123456C"); 4 to 24 letters or digits."""
    text = clean_text(value)
    if text is None:
        return None
    compact = _NATIONAL_ID_SEPARATORS.sub("", text.upper())
    return compact if _NATIONAL_ID.match(compact) else None


@lru_cache(maxsize=500_000)
def social_handle(value: str | None) -> str | None:
    """Lower-case ``platform:handle`` without spaces (" X:Bob_W77 " -> "x:bob_w77"), else None."""
    text = clean_text(value)
    if text is None:
        return None
    handle = _SOCIAL_HANDLE_SEPARATORS.sub("", text.lower())
    return handle if _SOCIAL_HANDLE.match(handle) else None
