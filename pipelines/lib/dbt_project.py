"""The dbt project as Dagster sees it.

The manifest is (re)built only when it is missing or older than a dbt file.
``prepare_if_dev()`` would re-parse in every process that ``dagster dev`` starts,
which doubles a launch on two cores.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from warehouse.layout import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """dbt beside the running interpreter (a venv, a ``pip install``), else from PATH, so that
    ``hub`` works however it is launched: ``uv run``, ``.venv/bin/hub`` or an installed script."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class HubDbtCli(DbtCliResource):
    """dagster-dbt's resource, reading dbt's version from the installed package when the dbt it
    runs is the one beside this interpreter: dagster-dbt would ask `dbt --version` in a
    subprocess once per run, which alone takes half a minute on a loaded two-core machine and
    would hold up every near-real-time refresh."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


def dbt_cli() -> DbtCliResource:
    return HubDbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())


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
