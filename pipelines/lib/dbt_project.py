"""The dbt project as Dagster sees it.

The manifest is (re)built only when it is missing or older than a dbt file.
``prepare_if_dev()`` would re-parse in every process that ``dagster dev`` starts,
which doubles a launch on two cores.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from warehouse.layout import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """dbt beside the running interpreter (a venv, a ``pip install``), else from PATH, so that
    ``hub`` works however it is launched: ``uv run``, ``.venv/bin/hub`` or an installed script."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


def _newest_source_mtime(root: Path) -> float:
    files = [p for d in ("models", "macros", "tests") for p in (root / d).rglob("*") if p.is_file()]
    files += [root / "dbt_project.yml", root / "profiles.yml"]
    return max(p.stat().st_mtime for p in files if p.exists())


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(Path(project.project_dir))


if manifest_is_stale():
    # The preparer's own resource looks for dbt on PATH only, so parse through ours.
    dbt_cli().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
