"""The dbt project keeps its layers: source() only in staging, int_* models in intermediate/,
and reference data written once, as dbt vars that the SQL reads and Python reads too."""

import re
from pathlib import Path

from warehouse.layout import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt" / "models"


def _sql(layer: str) -> dict[Path, str]:
    return {p: p.read_text() for p in (MODELS / layer).rglob("*.sql")}


def test_only_staging_reads_sources() -> None:
    readers = [p.relative_to(MODELS) for layer in ("intermediate", "marts") for p, sql in _sql(layer).items()
               if "source(" in sql]
    assert readers == []
    sources = [p.relative_to(MODELS) for p in MODELS.rglob("_*__sources.yml")]
    assert all(p.parts[0] == "staging" for p in sources), sources


def test_intermediate_models_live_in_intermediate() -> None:
    assert not list((MODELS / "marts").rglob("int_*.sql"))
    assert all(p.name.startswith("int_") for p in _sql("intermediate"))


def test_reference_data_is_not_written_out_in_sql() -> None:
    from warehouse.dbt_config import dbt_var

    stages = [*dbt_var("crm_open_stages"), dbt_var("crm_won_stage"), dbt_var("crm_lost_stage")]
    for layer in ("intermediate", "marts"):
        for path, sql in _sql(layer).items():
            assert not [s for s in stages if f"'{s}'" in sql], path
            assert not re.search(r"var\('features_[a-z_]+', '?[0-9-]+'?\)", sql), path
