"""Email addresses and phone numbers.

Each rule has a *standard form*, a regular expression that both Python and Polars read the
same way: a value in that form is its own standard and is kept as written, without calling
the (slow) parsers. ``identity.canonical`` uses the same expressions to standardise whole
columns at once, so its vectorised path and these functions agree by construction.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from identity.standardise.names import clean_text

# A plain ASCII address: dot-separated atoms, domain labels that neither start nor end with
# a hyphen, a letters-only top-level domain. Anything else goes through email-validator.
EMAIL_FORM = (r"^[a-z0-9_%+\-]+(\.[a-z0-9_%+\-]+)*"
              r"@([a-z0-9]([a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,}$")
EMAIL_MAX_LENGTH = 254
E164_FORM = r"^\+[1-9][0-9]{6,14}$"
_EMAIL = re.compile(EMAIL_FORM)
_E164 = re.compile(E164_FORM)


@lru_cache(maxsize=500_000)
def email(value: str | None) -> str | None:
    """Lower-cased address if it is syntactically valid, else None (no DNS lookups)."""
    text = clean_text(value)
    if text is None:
        return None
    lowered = text.lower()
    if _EMAIL.match(lowered) and len(lowered) <= EMAIL_MAX_LENGTH:
        return lowered
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@lru_cache(maxsize=500_000)
def phone_e164(value: str | None, country: str | None = None) -> str | None:
    """E.164 form of a phone number; ``country`` (ISO-2) resolves national formats.

    A number already written in E.164 is kept as written; any other is parsed with
    ``phonenumbers`` and kept when its length is possible for its country.
    """
    text = clean_text(value)
    if text is None:
        return None
    if _E164.match(text):
        return text
    if text.startswith("00"):
        text = "+" + text[2:]
    region = (clean_text(country) or "").upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
