"""The PII catalog: for every column, its declared and discovered PII type and its level.

Declarations come from the data contracts (handed in as plain data). Discovery reads the
column name and a sample of values (never every cell): a value the detector covers almost
whole is that entity (an email column); long texts with entities inside are free text.
Keys of the schema-drift column ``_extra`` are classified as columns of their own.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from privacy import pii_types
from privacy.detect import Detector

EXTRA = "_extra"
SAMPLE_SIZE = 200
# Share of sampled values that must be one entity before the column is called that type.
MIN_SHARE = 0.3
# Column-name rules, first match wins; names say what values in a sample may not show.
NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"(^|_)(e_?mail|email_address)$", "EMAIL_ADDRESS"),
    (r"(^|_)(phone|mobile|tel|telephone|fax)(_e164|_raw|_number|_no)?$", "PHONE_NUMBER"),
    (r"(^|_)(national_id|id_card|ssn|resident_id|passport)(_number|_no)?$", "NATIONAL_ID"),
    (r"(^|_)(birth_date|date_of_birth|dob|birthday)$", "DATE_OF_BIRTH"),
    (r"(^|_)(first_name|last_name|full_name|display_name|given_name|surname|owner_name)$",
     "PERSON"),
    (r"(^|_)(street|address|address_line_?\d?)$", "LOCATION"),
    (r"(^|_)(postcode|postal_code|zip|zipcode)$", "POSTCODE"),
    (r"(^|_)(handle|social_handle|social_login|social_profile|username)$", "SOCIAL_HANDLE"),
    (r"(^|_)(tax_id|vat_id|uscc)$", "TAX_ID"),
    (r"(^|_)(ip|ip_address)$", "IP_ADDRESS"),
    (r"(^|_)(card_number|iban)$", "CREDIT_CARD"),
    (r"(^|_)(bio|body|text|subject|comment|notes?|message|description|summary)$", "FREE_TEXT"),
)
_LINEAGE = re.compile(r"^_(batch_id|ingested_at|source_uri|record_hash|row_number|error|file|line)$")


@dataclass(frozen=True)
class Declared:
    pii_type: str
    level: str


@dataclass(frozen=True)
class CatalogRow:
    table: str
    column: str
    declared_type: str | None
    declared_level: str | None
    discovered_type: str
    sampled: int
    matched: int
    pii_type: str
    level: str
    status: str  # declared | contradicted | undeclared_pii | unclassified | not_pii

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def type_from_name(column: str) -> str:
    name = column.lower().removeprefix(f"{EXTRA}.")
    for pattern, pii_type in NAME_RULES:
        if re.search(pattern, name):
            return pii_type
    return pii_types.NONE


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def type_from_values(values: Sequence[str], detector: Detector) -> tuple[str, int]:
    """(discovered type, how many sampled values showed it) from the detector's findings."""
    if not values:
        return pii_types.NONE, 0
    whole: Counter[str] = Counter()
    inside = 0
    for value, entities in zip(values, detector.detect(values), strict=True):
        covering = [e for e in entities if (e.end - e.start) >= 0.8 * len(value.strip())]
        if covering:
            whole[max(covering, key=lambda e: e.score).type] += 1
        elif entities:
            inside += 1
    if whole:
        top, count = whole.most_common(1)[0]
        if count >= MIN_SHARE * len(values):
            return top, count
    long_text = sum(len(v) > 40 and " " in v.strip() for v in values) >= len(values) / 2
    if long_text and inside:  # prose that carries PII somewhere inside
        return pii_types.FREE_TEXT, inside
    return pii_types.NONE, 0


def expand_extra(rows: Iterable[object]) -> dict[str, list[str]]:
    """The values of each key of ``_extra`` JSON objects, as columns ``_extra.<key>``."""
    out: dict[str, list[str]] = {}
    for raw in rows:
        if not raw:
            continue
        try:
            record = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        for key, value in record.items():
            text = _as_text(value if not isinstance(value, dict | list) else json.dumps(value))
            out.setdefault(f"{EXTRA}.{key}", [])
            if text is not None:
                out[f"{EXTRA}.{key}"].append(text)
    return out


def classify_column(table: str, column: str, values: Sequence[object], detector: Detector,
                    declared: Declared | None) -> CatalogRow:
    texts = [t for t in (_as_text(v) for v in values) if t is not None][:SAMPLE_SIZE]
    by_values, matched = type_from_values(texts, detector)
    by_name = type_from_name(column)
    discovered = by_values if by_values != pii_types.NONE else by_name
    if declared is not None:
        # Only values contradict a declaration: a name such as email_opt_in may mislead.
        contradicted = not pii_types.agrees(declared.pii_type, by_values)
        discovered = by_values if contradicted else discovered
        level = declared.level
        if contradicted:
            level = pii_types.max_level(level, pii_types.level_of(discovered))
        pii_type = discovered if contradicted else declared.pii_type
        status = "contradicted" if contradicted else "declared"
    elif discovered != pii_types.NONE:
        pii_type, status = discovered, "undeclared_pii"
        level = pii_types.max_level(pii_types.level_of(discovered), pii_types.UNKNOWN_LEVEL)
    elif _LINEAGE.match(column):
        pii_type, level, status = pii_types.NONE, "L2", "not_pii"
    else:
        # Nothing seen in the sample is no proof: unknown means protected.
        pii_type, level, status = pii_types.NONE, pii_types.UNKNOWN_LEVEL, "unclassified"
    return CatalogRow(table, column, declared.pii_type if declared else None,
                      declared.level if declared else None, discovered, len(texts), matched,
                      pii_type, level, status)


def classify_table(table: str, columns: Mapping[str, Sequence[object]], detector: Detector,
                   declared: Mapping[str, Declared] | None = None) -> list[CatalogRow]:
    """Catalog rows for one table given a sample of its columns' values."""
    declared = declared or {}
    rows = []
    for column, values in columns.items():
        if column == EXTRA:
            for key, key_values in sorted(expand_extra(values).items()):
                rows.append(classify_column(table, key, key_values, detector, declared.get(key)))
            continue
        rows.append(classify_column(table, column, values, detector, declared.get(column)))
    return rows


def findings(rows: Iterable[CatalogRow]) -> list[CatalogRow]:
    """Rows a steward must look at: PII nobody declared, or values that contradict it."""
    return [r for r in rows if r.status in ("undeclared_pii", "contradicted")]
