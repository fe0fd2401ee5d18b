"""Silver free text: bronze's social posts, bios and CRM activities with PII redacted.

Each row keeps the record's key, the field and the redacted text; the original stays in
bronze only, encrypted: this step opens it in memory (``vault``) and writes only redacted
text. Counts of the entities found, by type, describe a run (never the values).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl

from privacy.detect import Detector
from privacy.keys.vault import Vault
from privacy.redact import redact
from quality.contracts import CONTRACTS
from warehouse import delta_store
from warehouse.bronze_protection import open_table
from warehouse.layout import HubPaths

# (source, entity, key column, free-text fields)
FREE_TEXT = (
    ("social", "posts", "post_id", ("text", "bio")),
    ("crm", "activities", "id", ("subject", "body")),
)


@dataclass(frozen=True)
class RedactedTable:
    name: str
    rows: int
    entities: dict[str, int]


def redact_free_text(paths: HubPaths, detector: Detector, vault: Vault) -> list[RedactedTable]:
    out = []
    for source, entity, key, fields in FREE_TEXT:
        raw = delta_store.read(paths.bronze / source / entity, columns=[key, *fields, "_ingested_at"])
        if raw is None:
            continue
        raw = open_table(CONTRACTS[f"{source}/{entity}"], raw, vault)
        # Bronze is append-only: a record that landed more than once counts as its latest.
        latest = pl.from_arrow(raw).sort("_ingested_at").unique(key, keep="last").sort(key)
        columns: dict[str, list[object]] = {key: latest[key].to_list()}
        counts: Counter[str] = Counter()
        for f in fields:
            result = redact(latest[f].to_list(), detector)
            columns[f] = result.texts
            counts.update(result.counts)
        table = pl.DataFrame(columns, schema={c: pl.String for c in columns}).to_arrow()
        name = f"{source}_{entity}"
        delta_store.overwrite(paths.silver / "free_text" / name, table)
        out.append(RedactedTable(name, table.num_rows, dict(sorted(counts.items()))))
    return out
