"""Where the hub keeps things: every path below the data root, in one place.

The data root is named by ``HUB_DATA_DIR`` (default ``./.hub``). This module only names the
variable: the code location's environment (``pipelines.environment.hub_paths``) reads it and
hands the paths down, so no library reads the environment or builds a path of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_VAR = "HUB_DATA_DIR"
DEFAULT_ROOT = PROJECT_ROOT / ".hub"


@dataclass(frozen=True)
class HubPaths:
    root: Path

    @classmethod
    def at(cls, root: str | Path | None) -> HubPaths:
        """The layout under ``root``, or under the default data root when none is named."""
        return cls(Path(root or DEFAULT_ROOT).resolve())

    @property
    def bronze(self) -> Path:
        return self.root / "bronze"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def silver(self) -> Path:
        return self.root / "silver"

    @property
    def gold(self) -> Path:
        return self.root / "gold"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def world(self) -> Path:
        return self.root / "world"

    @property
    def warehouse_db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """What readers open: databases published from the warehouse (one per role)."""
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        """What analysts open: a copy of the warehouse, replaced whole after each successful build."""
        return self.published / "warehouse.duckdb"

    @property
    def run_lock(self) -> Path:
        """Held (flock) for a `hub run`'s life: one run per data root."""
        return self.state / "run.lock"

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance when ``DAGSTER_HOME`` does not name another."""
        return self.root / "dagster"

    @property
    def batches(self) -> Path:
        """One row per landed batch (page, chunk or file)."""
        return self.bronze / "_batches"

    @property
    def cursors(self) -> Path:
        """CRM cursors and ERP keyset watermarks."""
        return self.state / "cursors.json"

    @property
    def ledgers(self) -> Path:
        return self.state / "ledgers"

    @property
    def identity_workspace(self) -> Path:
        """Identity models, run state, key index and steward overrides."""
        return self.state / "identity"

    @property
    def keys(self) -> Path:
        """The key store: wrapped data keys per subject record."""
        return self.state / "keys"

    @property
    def key_store(self) -> Path:
        """The SQLite file of the key store (it overwrites what it deletes)."""
        return self.keys / "keys.sqlite"

    @property
    def dev_master_key(self) -> Path:
        """A generated master key for demos, used only when none is brought."""
        return self.state / "master.key"

    @property
    def audit(self) -> Path:
        """The hash-chained audit log."""
        return self.state / "audit"

    def stream_status(self, stream: str) -> Path:
        """A stream consumer's last report: counters, queue depth and lag."""
        return self.state / "stream" / f"{stream}.json"

    def bronze_table(self, source: str, entity: str) -> Path:
        return self.bronze / source / entity

    def quarantine_table(self, source: str) -> Path:
        return self.quarantine / source

    def layer_quarantine_table(self, layer: str, table: str) -> Path:
        """Rows of a silver or gold table that failed a quarantining rule."""
        return self.quarantine / layer / table

    @property
    def quality_results(self) -> Path:
        """Every validation result of every run (the quality history)."""
        return self.root / "quality" / "results"

    def gold_table(self, table: str) -> Path:
        return self.gold / table

    def ledger(self, source: str, entity: str) -> Path:
        """SHA-256 of every file landed for one file source entity."""
        return self.ledgers / f"{source}_{entity}.json"
