"""The PII types the catalog knows, the level each defaults to, and which agree."""

from __future__ import annotations

LEVELS = ("L1", "L2", "L3", "L4")
# A column nobody has declared is treated as personal until a steward says otherwise.
UNKNOWN_LEVEL = "L3"
NONE = "NONE"
FREE_TEXT = "FREE_TEXT"

DEFAULT_LEVEL = {
    NONE: "L2",
    "PERSON": "L3", "EMAIL_ADDRESS": "L3", "PHONE_NUMBER": "L3", "DATE_OF_BIRTH": "L3",
    "LOCATION": "L3", "POSTCODE": "L3", "SOCIAL_HANDLE": "L3", "IP_ADDRESS": "L3",
    FREE_TEXT: "L3", "CITY": "L2", "ORGANIZATION": "L2", "TAX_ID": "L2", "CN_USCC": "L2",
    "NATIONAL_ID": "L4", "CN_RESIDENT_ID": "L4", "US_SSN": "L4", "PASSPORT": "L4",
    "CREDIT_CARD": "L4", "IBAN_CODE": "L4",
}

# Detected entity types that a declaration of the key covers (a national ID column holds
# Chinese resident IDs; a tax ID column holds social credit codes).
COMPATIBLE = {
    "NATIONAL_ID": {"CN_RESIDENT_ID", "US_SSN", "PASSPORT"},
    "TAX_ID": {"CN_USCC"},
    "ORGANIZATION": {"PERSON"},  # a company named after its founder
    "PERSON": {"ORGANIZATION"},
    "FREE_TEXT": set(DEFAULT_LEVEL) - {NONE},
    "SOCIAL_HANDLE": {"PERSON"},
}


def level_of(pii_type: str) -> str:
    return DEFAULT_LEVEL.get(pii_type, UNKNOWN_LEVEL)


def agrees(declared: str, discovered: str) -> bool:
    return discovered in (NONE, declared) or discovered in COMPATIBLE.get(declared, set())


def max_level(*levels: str) -> str:
    return max(levels, key=LEVELS.index)

# Direct identifiers: a value of one of these types names or reaches a person by itself, so it
# is encrypted where it lands (bronze) under the record's data key. Quasi-identifiers (city,
# postcode, organisation) stay readable for analysis. Any L4 field is protected too, and so is
# anything nobody classified (schema-drift ``_extra``, quarantined payloads): unknown means
# protected.
DIRECT_IDENTIFIERS = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "DATE_OF_BIRTH", "LOCATION", "SOCIAL_HANDLE",
    "IP_ADDRESS", FREE_TEXT, "NATIONAL_ID", "CN_RESIDENT_ID", "US_SSN", "PASSPORT", "CREDIT_CARD",
    "IBAN_CODE",
})


def is_direct_identifier(pii_type: str, level: str) -> bool:
    """Whether a field declared ``pii_type`` at ``level`` is encrypted at rest."""
    return pii_type in DIRECT_IDENTIFIERS or level == "L4"
