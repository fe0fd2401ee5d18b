"""Gold's Delta copies keep direct identifiers encrypted, as bronze does.

The marts in gold are files anyone with the data root can copy, so their direct identifiers
(the golden record's name, email, phone, street and birth date; a timeline's free-text
summary) are sealed with AES-256-GCM under a data key per customer, subject
``(gold/<table>, customer_id)``: forgetting a customer's gold keys crypto-shreds every old
version of these tables too. Which columns: those a contract declares, or whose name says, to
be a direct identifier (``privacy.pii_types.is_direct_identifier``), the same rule as bronze's.
A sealed column is text (``enc:...``) whatever its type in the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa

from privacy import pii_types
from privacy.catalog import Declared, type_from_name
from privacy.keys.envelope import Subject
from privacy.keys.vault import Vault

KEY_COLUMN = "customer_id"


def subject_source(table: str) -> str:
    return f"gold/{table}"


def protected_columns(schema: pa.Schema, declared: Mapping[str, Declared]) -> list[str]:
    out = []
    for field in schema:
        found = declared.get(field.name)
        pii = found.pii_type if found is not None and found.pii_type != pii_types.NONE else type_from_name(field.name)
        level = found.level if found is not None and found.pii_type == pii else pii_types.level_of(pii)
        if pii != pii_types.NONE and pii_types.is_direct_identifier(pii, level):
            out.append(field.name)
    return out


def sealed_schema(schema: pa.Schema, columns: list[str]) -> pa.Schema:
    for name in columns:
        schema = schema.set(schema.get_field_index(name), pa.field(name, pa.string()))
    return schema


def seal_batches(reader: pa.RecordBatchReader, table: str, vault: Vault,
                 declared: Mapping[str, Declared]) -> pa.RecordBatchReader:
    """``reader``'s batches with the protected columns sealed per customer."""
    columns = protected_columns(reader.schema, declared)
    if not columns or KEY_COLUMN not in reader.schema.names:
        return reader
    schema = sealed_schema(reader.schema, columns)
    source = subject_source(table)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            subjects = [Subject(source, str(c)) for c in batch.column(KEY_COLUMN).to_pylist()]
            arrays = list(batch.columns)
            for name in columns:
                index = batch.schema.get_field_index(name)
                values = [None if v is None else str(v) for v in batch.column(index).to_pylist()]
                arrays[index] = pa.array(vault.seal(subjects, name, values), pa.string())
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
