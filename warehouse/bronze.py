"""Landing raw source records in bronze: validate, stamp lineage, append, quarantine.

Bronze is append-only. Each row carries ``_batch_id``, ``_ingested_at``,
``_source_uri``, ``_row_number`` and ``_record_hash``; every batch is logged in
``bronze/_batches``. A record whose hash is already stored is counted as
``already_loaded`` and not written again, which makes every landing idempotent
even when a source re-sends what it sent before.

Direct identifiers, ``_extra`` values and quarantined payloads are encrypted before they are
written, and emails, phones and national IDs get join keys (``warehouse.bronze_protection``);
the record hash is taken of the record as sent, so re-deliveries are still recognised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from privacy.keys.master_key import load_master_key
from privacy.keys.vault import Vault
from quality.contracts import EntityContract
from quality.row_validation import DriftReport, RawRecord, validate
from quality.timestamps import parse_timestamp
from warehouse import delta_store
from warehouse.bronze_protection import join_key_columns, seal_raw, seal_rows
from warehouse.layout import HubPaths

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "int": pa.int64(), "float": pa.float64(),
    "bool": pa.bool_(), "json": pa.string(),
    # Bronze keeps a timestamp as the text the source sent; staging casts it.
    "timestamp": pa.string(),
}
LINEAGE_SCHEMA = pa.schema([
    ("_extra", pa.string()),
    ("_batch_id", pa.string()),
    ("_ingested_at", pa.timestamp("us", tz="UTC")),
    ("_source_uri", pa.string()),
    ("_row_number", pa.int64()),
    ("_record_hash", pa.string()),
])
QUARANTINE_SCHEMA = pa.schema([
    ("_entity", pa.string()),
    ("_raw", pa.string()),
    ("_error", pa.string()),
    ("_rule", pa.string()),
    ("_field", pa.string()),
    ("_batch_id", pa.string()),
    ("_source_uri", pa.string()),
    ("_row_number", pa.int64()),
    ("_ingested_at", pa.timestamp("us", tz="UTC")),
    ("_record_hash", pa.string()),
])
BATCH_SCHEMA = pa.schema([
    ("batch_id", pa.string()), ("source", pa.string()), ("entity", pa.string()),
    ("source_uri", pa.string()), ("rows_in", pa.int64()), ("accepted", pa.int64()),
    ("quarantined", pa.int64()), ("already_loaded", pa.int64()),
    ("drift", pa.string()), ("ingested_at", pa.timestamp("us", tz="UTC")),
])


def bronze_schema(contract: EntityContract) -> pa.Schema:
    fields = [pa.field(n, _ARROW_TYPES[f.type]) for n, f in contract.fields.items()]
    join_keys = [pa.field(n, pa.string()) for n in join_key_columns(contract)]
    return pa.schema(fields + join_keys + list(LINEAGE_SCHEMA))


def development_vault(paths: HubPaths) -> Vault:
    """The key store under the generated development master key (announced by a warning).

    For tests and benchmarks; the pipeline and the CLI hand in the vault of the master key
    the environment names.
    """
    master = load_master_key(key_file=None, key_value=None, dev_key_path=paths.dev_master_key)
    return Vault.open(paths.key_store, master)


def record_hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass
class LandingReport:
    source: str
    entity: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    already_loaded: int = 0
    batches: int = 0
    drift: DriftReport = field(default_factory=DriftReport)
    sample_errors: list[str] = field(default_factory=list)
    duplicate_files: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined + self.already_loaded

    def metadata(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in, "accepted": self.accepted, "quarantined": self.quarantined,
            "already_loaded": self.already_loaded, "batches": self.batches,
            "reconciles": self.reconciles, "schema_drift": self.drift.describe(),
            "duplicate_files": len(self.duplicate_files),
        }


class BronzeLanding:
    """Collects the batches of one entity in one run and commits them together."""

    def __init__(self, paths: HubPaths, contract: EntityContract, now: dt.datetime | None = None,
                 vault: Vault | None = None) -> None:
        self.paths = paths
        self.vault = vault if vault is not None else development_vault(paths)
        self.contract = contract
        self.table_path = paths.bronze_table(contract.source, contract.entity)
        self.quarantine_path = paths.quarantine_table(contract.source)
        self.ingested_at = now or dt.datetime.now(dt.UTC)
        self.report = LandingReport(contract.source, contract.entity)
        # Known hashes, and the table versions they were read at: the commit re-reads only
        # when another writer has committed since.
        self._stored_at, stored = delta_store.distinct_values_at(self.table_path, "_record_hash")
        self._quarantined_at, quarantined = delta_store.distinct_values_at(
            self.quarantine_path, "_record_hash", where=("_entity", contract.entity))
        self._known = stored | quarantined
        self._schema = bronze_schema(contract)
        self._accepted: list[pa.Table] = []
        self._rejected: list[dict[str, Any]] = []
        self._batches: list[dict[str, Any]] = []
        # The newest cursor value among accepted rows: a rejected row never moves a cursor.
        self.cursor_high: dt.datetime | None = None

    def _note_cursor(self, rows: list[dict[str, Any]]) -> None:
        name = self.contract.cursor_field
        stamps = [parse_timestamp(r[name]) for r in rows if r[name] is not None] if name else []
        if stamps:
            self.cursor_high = max(self.cursor_high or stamps[0], *stamps)

    def add_batch(self, records: Iterable[RawRecord], source_uri: str, batch_id: str) -> LandingReport:
        result = validate(records, self.contract, source_uri, as_of=self.ingested_at)
        self._note_cursor(result.accepted)
        rows, row_numbers, hashes = [], [], []
        already = 0
        for row, number in zip(result.accepted, result.accepted_rows, strict=True):
            digest = record_hash(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str))
            if digest in self._known:
                already += 1
                continue
            self._known.add(digest)
            rows.append(row)
            row_numbers.append(number)
            hashes.append(digest)
        quarantined = 0
        first_rejected = len(self._rejected)
        for rej in result.rejected:
            digest = record_hash(rej.raw_bytes)
            if digest in self._known:
                already += 1
                continue
            self._known.add(digest)
            quarantined += 1
            self._rejected.append({
                "_entity": self.contract.entity, "_raw": rej.raw, "_error": rej.error,
                "_rule": rej.rule, "_field": rej.field, "_batch_id": batch_id,
                "_source_uri": source_uri, "_row_number": rej.row_number,
                "_ingested_at": self.ingested_at, "_record_hash": digest,
            })
            if len(self.report.sample_errors) < 20:
                self.report.sample_errors.append(rej.error)
        fresh = self._rejected[first_rejected:]
        for rejected, sealed in zip(fresh, seal_raw(self.contract, [r["_raw"] for r in fresh],
                                                    [r["_record_hash"] for r in fresh], self.vault), strict=True):
            rejected["_raw"] = sealed
        if rows:
            rows = seal_rows(self.contract, rows, self.vault)
            n = len(rows)
            lineage = {
                "_batch_id": pa.array([batch_id] * n, pa.string()),
                "_ingested_at": pa.array([self.ingested_at] * n, pa.timestamp("us", tz="UTC")),
                "_source_uri": pa.array([source_uri] * n, pa.string()),
                "_row_number": pa.array(row_numbers, pa.int64()),
                "_record_hash": pa.array(hashes, pa.string()),
            }
            table = pa.Table.from_pylist(rows, schema=self._schema)
            for name, column in lineage.items():
                table = table.set_column(table.schema.get_field_index(name), name, column)
            self._accepted.append(table)
        r = self.report
        r.rows_in += result.rows_in
        r.accepted += len(rows)
        r.quarantined += quarantined
        r.already_loaded += already
        r.batches += 1
        r.drift.new_fields.update(result.drift.new_fields)
        r.drift.missing_fields |= result.drift.missing_fields
        self._batches.append({
            "batch_id": batch_id, "source": self.contract.source, "entity": self.contract.entity,
            "source_uri": source_uri, "rows_in": result.rows_in, "accepted": len(rows),
            "quarantined": quarantined, "already_loaded": already,
            "drift": result.drift.describe() if result.drift.has_drift else None,
            "ingested_at": self.ingested_at,
        })
        return r

    def commit(self) -> LandingReport:
        """Write accepted rows, quarantined rows and the batch log (data first, log last).

        Rows go in through ``delta_store.insert_missing`` on their hash, so a concurrent
        landing of the same rows cannot store them twice; a row that another writer stored
        first is counted as already loaded.
        """
        if self._accepted:
            planned = pa.concat_tables(self._accepted)
            stored = delta_store.insert_missing(self.table_path, planned, ["_record_hash"], self._stored_at)
            self._recount("accepted", planned, stored)
        if self._rejected:
            planned = pa.Table.from_pylist(self._rejected, schema=QUARANTINE_SCHEMA)
            stored = delta_store.insert_missing(
                self.quarantine_path, planned, ["_entity", "_record_hash"], self._quarantined_at)
            self._recount("quarantined", planned, stored)
        if self._batches:
            delta_store.append(self.paths.batches, pa.Table.from_pylist(self._batches, schema=BATCH_SCHEMA))
        self._accepted, self._rejected, self._batches = [], [], []
        return self.report

    def _recount(self, column: str, planned: pa.Table, stored: pa.Table) -> None:
        """Move rows that another writer stored first from ``column`` to ``already_loaded``."""
        if stored.num_rows == planned.num_rows:
            return
        counts = Counter(stored["_batch_id"].to_pylist())
        for batch in self._batches:
            lost = batch[column] - counts.get(batch["batch_id"], 0)
            batch[column] -= lost
            batch["already_loaded"] += lost
        lost = planned.num_rows - stored.num_rows
        setattr(self.report, column, getattr(self.report, column) - lost)
        self.report.already_loaded += lost
