"""One place for where the hub keeps things. Every path derives from HUB_DATA_DIR."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class HubPaths:
    root: Path

    @classmethod
    def from_env(cls) -> HubPaths:
        return cls(Path(os.environ.get("HUB_DATA_DIR", PROJECT_ROOT / ".hub")).resolve())

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
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        """What analysts open: a copy of the warehouse, replaced whole after each successful build."""
        return self.published / "warehouse.duckdb"

    @property
    def run_lock(self) -> Path:
        return self.state / "run.lock"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME", self.root / "dagster")).resolve()

    def bronze_table(self, source: str, entity: str) -> Path:
        return self.bronze / source / entity

    def quarantine_table(self, source: str) -> Path:
        return self.quarantine / source


def env_defaults(paths: HubPaths) -> dict[str, str]:
    """Defaults for every setting the code location reads through ``dg.EnvVar``."""
    world = paths.world
    return {
        "HUB_DATA_DIR": str(paths.root),
        "DAGSTER_HOME": str(paths.dagster_home),
        "HUB_CRM_URL": "http://127.0.0.1:8765",
        "HUB_CRM_API_KEY": "demo-key",
        "HUB_ERP_URL": f"sqlite:///{world / 'erp' / 'erp.sqlite'}",
        "HUB_LANDING_DIR": str(world / "landing"),
        "HUB_EXECUTOR": "in_process",
        # Telemetry off: this machine has no internet and users should opt in, not out.
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    }


def apply_env_defaults() -> HubPaths:
    """Fill unset settings with their defaults (explicit environment always wins)."""
    paths = HubPaths.from_env()
    for key, value in env_defaults(paths).items():
        os.environ.setdefault(key, value)
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.symlink_to(PROJECT_ROOT / "dagster.yaml")
    return paths
