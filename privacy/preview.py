"""Previews that hold no identifier: what Dagster may store about a table's rows.

Dagster keeps asset metadata in its run storage, which is copied, backed up and shown to
everyone with the UI. A preview keeps the values of a column only when the column is known
not to identify anyone: declared without PII, or not text (counts, amounts, dates, flags) and
not named like an identifier. Every other value is replaced by its type in angle brackets
(``<EMAIL_ADDRESS>``, ``<PERSON>``), and unknown text by ``<TEXT>``: unknown means protected.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from privacy import pii_types
from privacy.catalog import Declared, type_from_name

UNKNOWN_TEXT = "<TEXT>"
# Opaque keys and codes the hub mints or the sources use as record keys.
_KEY_SUFFIXES = ("_id", "_no", "_key", "_hash", "_uri")


def _is_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)


def column_placeholder(name: str, dtype: pa.DataType, declared: Declared | None) -> str | None:
    """What replaces the column's values in a preview, or None when they may be shown."""
    by_name = type_from_name(name)
    if declared is not None and declared.pii_type != pii_types.NONE:
        return f"<{declared.pii_type}>"
    if by_name != pii_types.NONE:
        return f"<{by_name}>"
    if declared is not None or not _is_text(dtype) or name.endswith(_KEY_SUFFIXES) or name == "id":
        return None
    return UNKNOWN_TEXT


def mask_preview(table: pa.Table, declared: Mapping[str, Declared]) -> pa.Table:
    """``table`` with every value that may identify a person replaced by a placeholder."""
    for index, field in enumerate(table.schema):
        placeholder = column_placeholder(field.name, field.type, declared.get(field.name))
        if placeholder is not None:
            values = [None if v is None else placeholder for v in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(values, pa.string()))
    return table
