"""Row-level validation of raw source records against their entity contract.

Every raw record ends in exactly one of two places: accepted (typed, with unknown
fields kept in ``_extra``) or rejected (with the raw payload and a reason that
names the source, the file or URL, the row, the field and the rule). Counts
therefore always reconcile: ``rows_in == accepted + rejected``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quality.contracts import EntityContract, Field
from quality.timestamps import parse_timestamp

_INT_RE = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class RawRecord:
    """One record as delivered: a JSON line (str) or an already-decoded mapping."""

    row_number: int
    payload: str | Mapping[str, Any]
    # Why the bytes are not UTF-8; the payload then holds them backslash-escaped, or read in the
    # file's own encoding when that is evident.
    decode_error: str | None = None
    # The record's bytes as a file delivered them: a rejected record keeps them, and is told apart by them.
    raw: bytes | None = None
    encoding: str = "utf-8"  # how ``raw`` reads as text
    parse_error: str | None = None  # why a file's parser could not make a record of ``raw``

    def delivered(self) -> tuple[str, bytes]:
        """The record as delivered, as text (bytes it cannot read backslash-escaped) and as bytes."""
        if self.raw is not None:
            return self.raw.decode(self.encoding, errors="backslashreplace"), self.raw
        if isinstance(self.payload, str):
            return self.payload, self.payload.encode("utf-8")
        text = json.dumps(dict(self.payload), ensure_ascii=False, default=str)
        return text, text.encode("utf-8")


@dataclass(frozen=True)
class Rejection:
    row_number: int
    raw: str
    rule: str
    field: str | None
    error: str
    raw_bytes: bytes  # exactly as delivered: two rejections are the same row only if these are equal


@dataclass
class DriftReport:
    new_fields: Counter[str] = field(default_factory=Counter)
    missing_fields: set[str] = field(default_factory=set)

    @property
    def has_drift(self) -> bool:
        return bool(self.new_fields or self.missing_fields)

    def describe(self) -> str:
        parts = []
        if self.new_fields:
            parts.append("new fields " + ", ".join(f"{k} ({v} rows)" for k, v in sorted(self.new_fields.items())))
        if self.missing_fields:
            parts.append("missing fields " + ", ".join(sorted(self.missing_fields)))
        return "; ".join(parts) or "none"


@dataclass
class ValidationResult:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    accepted_rows: list[int] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    drift: DriftReport = field(default_factory=DriftReport)

    @property
    def rows_in(self) -> int:
        return len(self.accepted) + len(self.rejected)


class _RowError(Exception):
    def __init__(self, rule: str, field_name: str | None, problem: str) -> None:
        super().__init__(problem)
        self.rule = rule
        self.field_name = field_name
        self.problem = problem


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _timestamp(name: str, spec: Field, value: Any, as_of: dt.datetime) -> str:
    """The text as sent, once it reads as a timestamp no later than ``spec`` allows."""
    text = value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value
    if not isinstance(text, str):
        raise _RowError("wrong_type", name, f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    if spec.max_len is not None and len(text) > spec.max_len:
        raise _RowError("max_length", name, f"is {len(text)} characters, limit {spec.max_len}")
    try:
        moment = parse_timestamp(text)
    except ValueError:
        raise _RowError("bad_timestamp", name, f"is not an ISO 8601 timestamp, got {_describe(text)}") from None
    if spec.max_ahead is not None and moment > as_of + spec.max_ahead:
        raise _RowError(
            "future_timestamp", name,
            f"is {_describe(text)}, more than {spec.max_ahead} after the pull began ({as_of.isoformat()})",
        )
    return text


def _coerce(name: str, spec: Field, value: Any, as_of: dt.datetime) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == "" and spec.type != "json"):
        if spec.required:
            raise _RowError("missing_required", name, "is required but missing")
        return None
    kind = spec.type
    if kind == "timestamp":
        return _timestamp(name, spec, value, as_of)
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise _RowError("wrong_type", name, f"expected text, got {type(value).__name__}")
        if isinstance(value, (dt.datetime, dt.date)):
            value = value.isoformat()
        text = value if isinstance(value, str) else str(value)
        if spec.max_len is not None and len(text) > spec.max_len:
            raise _RowError("max_length", name, f"is {len(text)} characters, limit {spec.max_len}")
        return text
    if kind == "int":
        if isinstance(value, bool):
            raise _RowError("wrong_type", name, f"expected integer, got {_describe(value)}")
        if isinstance(value, int):
            return value
        if isinstance(value, (float, Decimal)) and value == int(value):
            return int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value.strip())
        raise _RowError("wrong_type", name, f"expected integer, got {_describe(value)}")
    if kind == "float":
        if isinstance(value, bool):
            raise _RowError("wrong_type", name, f"expected number, got {_describe(value)}")
        if isinstance(value, (int, float, Decimal)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise _RowError("wrong_type", name, f"expected number, got {_describe(value)}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        token = str(value).strip().lower()
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
        raise _RowError("wrong_type", name, f"expected true/false, got {_describe(value)}")
    # json: nested objects are kept as canonical JSON text for SQL to unpack.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _decode(record: RawRecord) -> dict[str, Any]:
    payload = record.payload
    if record.decode_error:
        raise _RowError("encoding", None, f"is not valid UTF-8 ({record.decode_error})")
    if record.parse_error:
        raise _RowError("malformed_csv", None, record.parse_error)
    if isinstance(payload, str):
        try:
            decoded = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise _RowError("malformed_json", None, f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(decoded, dict):
            raise _RowError("malformed_json", None, f"is JSON {type(decoded).__name__}, expected an object")
        return decoded
    record = dict(payload)
    if None in record:  # csv.DictReader puts surplus cells under the key None
        raise _RowError("malformed_csv", None, f"has {len(record[None])} more cells than the header")
    return record


def validate(
    records: Iterable[RawRecord], contract: EntityContract, source_uri: str,
    as_of: dt.datetime | None = None,
) -> ValidationResult:
    """Split ``records`` into typed accepted rows and explained rejections.

    ``as_of`` is when the pull began (default: now); timestamps are checked against it.
    """
    as_of = as_of or dt.datetime.now(dt.UTC)
    result = ValidationResult()
    seen_fields: set[str] = set()
    fields = contract.fields
    for record in records:
        try:
            decoded = _decode(record)
            seen_fields.update(decoded)
            row: dict[str, Any] = {}
            for name, spec in fields.items():
                row[name] = _coerce(name, spec, decoded.get(name), as_of)
            extra = {k: v for k, v in decoded.items() if k not in fields}
            if extra:
                result.drift.new_fields.update(extra.keys())
            row["_extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str) if extra else None
        except _RowError as err:
            where = f"field '{err.field_name}' " if err.field_name else "record "
            raw, raw_bytes = record.delivered()
            result.rejected.append(
                Rejection(
                    row_number=record.row_number,
                    raw=raw,
                    raw_bytes=raw_bytes,
                    rule=err.rule,
                    field=err.field_name,
                    error=f"{contract.name} {source_uri} row {record.row_number}: {where}{err.problem} [rule: {err.rule}]",
                )
            )
            continue
        result.accepted.append(row)
        result.accepted_rows.append(record.row_number)
    if result.rows_in:
        result.drift.missing_fields = {f for f in fields if f not in seen_fields and not fields[f].required}
    return result
