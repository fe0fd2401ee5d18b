"""Check digits that tell an identifier from a number that merely looks like one."""

from __future__ import annotations

import datetime as dt

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def cn_resident_id_check(body17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643)."""
    total = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def cn_resident_id_valid(value: str) -> bool:
    """18 characters, a real birth date at positions 7-14, and the right check character."""
    if len(value) != 18 or not value[:17].isdigit() or value[0] == "0":
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return cn_resident_id_check(value[:17]) == value[17].upper()


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass Luhn."""
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError("some digit always completes a Luhn number")


def uscc_check(body17: str) -> str:
    """The check character of a unified social credit code (GB 32100, MOD 31)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(value: str) -> bool:
    value = value.upper()
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        return False
    if not value[2:8].isdigit():  # the administrative area code
        return False
    return uscc_check(value[:17]) == value[17]
