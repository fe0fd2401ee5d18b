"""What the dbt project declares once and Python reads from the same place: the vars (reference
data such as the CRM stages and the feature calendar) and the per-folder model config (owner and
freshness of the marts) in ``dbt/dbt_project.yml``. Read as YAML, without dbt, so it costs nothing."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parents[1] / "dbt" / "dbt_project.yml"


@cache
def _project(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def dbt_vars(path: Path = DBT_PROJECT_YML) -> dict[str, Any]:
    """Every var the project declares, as dbt sees them without ``--vars``."""
    return dict(_project(path).get("vars") or {})


def dbt_var(name: str, path: Path = DBT_PROJECT_YML) -> Any:
    try:
        return dbt_vars(path)[name]
    except KeyError:
        raise KeyError(f"dbt var {name!r} is not declared in {path}") from None


def folder_meta(*folders: str, path: Path = DBT_PROJECT_YML) -> dict[str, Any]:
    """The ``+meta`` the project sets on ``models/<folders...>``, merged from the outside in as
    dbt merges it (a model's own meta then adds to it)."""
    project = _project(path)
    node = (project.get("models") or {}).get(project["name"]) or {}
    meta: dict[str, Any] = dict(node.get("+meta") or {})
    for folder in folders:
        node = node.get(folder) or {}
        meta.update(node.get("+meta") or {})
    return meta
