"""Where each simulated system keeps its data under the world root (a contract)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorldPaths:
    root: Path
    crm_db: Path
    crm_config: Path
    erp_db: Path
    social_landing: Path
    iot_registry_landing: Path
    iot_telemetry_landing: Path
    truth_dir: Path
    manifest: Path

    @property
    def truth(self) -> Path:
        return self.truth_dir / "truth.parquet"

    @property
    def pii_spans(self) -> Path:
        """Where the PII planted in free text stands: (record, field, type, start, end)."""
        return self.truth_dir / "pii_spans.parquet"

    @property
    def people(self) -> Path:
        return self.truth_dir / "people.parquet"

    @property
    def companies(self) -> Path:
        return self.truth_dir / "companies.parquet"

    @property
    def sim_state(self) -> Path:
        """Id sequences advance() continues from; benchmarks and the pipeline ignore it."""
        return self.truth_dir / "sim_state.json"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def paths(root: Path | str) -> WorldPaths:
    root = Path(root)
    return WorldPaths(
        root=root,
        crm_db=root / "crm" / "crm.sqlite",
        crm_config=root / "crm" / "config.json",
        erp_db=root / "erp" / "erp.sqlite",
        social_landing=root / "landing" / "social",
        iot_registry_landing=root / "landing" / "iot" / "registry",
        iot_telemetry_landing=root / "landing" / "iot" / "telemetry",
        truth_dir=root / "truth",
        manifest=root / "manifest.json",
    )
