"""Reading and writing the timestamps that sources send and cursors keep.

One reading for every caller: ISO 8601 dates and date-times, with ``Z`` or an offset;
a value without an offset is read as UTC, as the sources document.
"""

from __future__ import annotations

import datetime as dt


def parse_timestamp(text: str) -> dt.datetime:
    """``text`` as an aware UTC datetime; ValueError if it is not ISO 8601 or out of range."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is past datetime.max in UTC
        raise ValueError(f"{text!r} is out of range") from None


def format_timestamp(moment: dt.datetime) -> str:
    """``moment`` as ISO 8601 UTC with ``Z``, the form the CRM's cursors use."""
    utc = moment.astimezone(dt.UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return utc.strftime(pattern)
