"""Dates, and birth dates in particular: one rule for staging and identity resolution.

Unambiguous forms are read as they stand: ISO ``1990-04-03`` (a time after it is
ignored), ``1990/04/03``, compact ``19900403``, dotted ``03.04.1990`` (day first: the
dot is the day-first countries' separator) and English month names (``3 April 1990``,
``Apr 3, 1990``). A year-last date with slashes or dashes (``03/04/1990``) is read by the
record's country (``config/date_order.yaml``: the US and a few others month first, most of
the world day first) unless the value decides by itself (``25/03/1990``, ``05/05/1990``).
When neither decides, the date is null and its issue is ``ambiguous``; a value in no known
form is ``unparseable``. A birth date before 1900 or after today is ``implausible``.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import yaml

from identity.standardise.identifiers import country as iso_country
from identity.standardise.names import clean_text

Issue = Literal["unparseable", "ambiguous", "implausible"]
Order = Literal["day_first", "month_first", "undecided"]
ISSUES: tuple[Issue, ...] = ("unparseable", "ambiguous", "implausible")
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# The only form whose reading depends on the country; a superset is harmless (the country
# is then handed over and ignored), so this one expression also serves Polars.
COUNTRY_DECIDES = r"^\d{1,2}[/\-]\d{1,2}[/\-]\d{4}$"
# The standard form: a value in it is its date when the date exists, so Polars may read it.
ISO_FORM = r"^[1-9]\d{3}-\d{2}-\d{2}$"

_ORDER_FILE = Path(__file__).parent.parent / "config" / "date_order.yaml"
_YEAR_FIRST = re.compile(r"(\d{4})[\-/.](\d{1,2})[\-/.](\d{1,2})(?:[T ]\d.*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_SLASHED = re.compile(COUNTRY_DECIDES)
_DAY_NAMED = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\.? ([a-z]+)\.?,? (\d{4})")
_NAMED_DAY = re.compile(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})")
_MONTHS = {name: i for i, names in enumerate((
    (), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec"))) for name in names}


@cache
def _orders() -> tuple[Order, dict[str, Order]]:
    policy = yaml.safe_load(_ORDER_FILE.read_text())
    by_country: dict[str, Order] = {}
    for order in ("month_first", "day_first", "undecided"):
        by_country.update({c.upper(): order for c in policy.get(order) or ()})
    return policy["default"], by_country


def order_for(country: str | None) -> Order:
    """How the record's country writes a year-last date; no country does not decide."""
    code = iso_country(country)
    if code is None:
        return "undecided"
    default, by_country = _orders()
    return by_country.get(code, default)


def _date(year: str, month: str | int, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


@lru_cache(maxsize=500_000)
def parse(value: str | None, country: str | None = None) -> tuple[dt.date | None, Issue | None]:
    """(date, None), or (None, the issue); (None, None) for a blank value."""
    text = clean_text(value)
    if text is None:
        return None, None
    found: dt.date | None = None
    if m := _YEAR_FIRST.fullmatch(text) or _COMPACT.fullmatch(text):
        found = _date(*m.groups())
    elif m := _DOTTED.fullmatch(text):
        found = _date(m[3], m[2], m[1])
    elif _SLASHED.fullmatch(text):
        first, second, year = re.split(r"[/\-]", text)
        a, b = int(first), int(second)
        if a > 12 or a == b:
            day_first = True
        elif b > 12:
            day_first = False
        elif (order := order_for(country)) == "undecided":
            return None, "ambiguous"
        else:
            day_first = order == "day_first"
        found = _date(year, second, first) if day_first else _date(year, first, second)
    elif m := _DAY_NAMED.fullmatch(text.lower()):
        found = _date(m[3], _MONTHS.get(m[2], 0), m[1])
    elif m := _NAMED_DAY.fullmatch(text.lower()):
        found = _date(m[3], _MONTHS.get(m[1], 0), m[2])
    return (found, None) if found else (None, "unparseable")


def parse_birth_date(value: str | None, country: str | None = None) -> tuple[dt.date | None, Issue | None]:
    """As ``parse``, and a date before 1900 or after today is ``implausible``."""
    found, issue = parse(value, country)
    if found is not None and not EARLIEST_BIRTH_DATE <= found <= latest_birth_date():
        return None, "implausible"
    return found, issue


def latest_birth_date() -> dt.date:
    return dt.date.today()


def date(value: str | None, country: str | None = None) -> dt.date | None:
    return parse(value, country)[0]


def birth_date(value: str | None, country: str | None = None) -> dt.date | None:
    return parse_birth_date(value, country)[0]


def birth_date_issue(value: str | None, country: str | None = None) -> Issue | None:
    return parse_birth_date(value, country)[1]
