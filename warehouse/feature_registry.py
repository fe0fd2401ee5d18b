"""The feature registry, generated from the dbt model YAML (one source of truth).

Every feature is a column of ``customer_features_daily`` in
``dbt/models/marts/customer_features_daily.yml``: its description, ``data_type`` (enforced by
the dbt contract) and ``config.meta.feature`` (group, declared min/max) live there, next to the
SQL that computes it. The model's ``config.meta`` gives entity and timestamp; owner and
freshness come from the marts folder's ``+meta`` in ``dbt_project.yml`` unless the model sets them.
Reading the YAML directly keeps ``hub features list`` instant and independent of dbt parsing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from warehouse.dbt_config import folder_meta
from warehouse.layout import PROJECT_ROOT

FEATURE_MODEL = "customer_features_daily"
MODELS_YML = PROJECT_ROOT / "dbt" / "models" / "marts" / f"{FEATURE_MODEL}.yml"


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    dtype: str
    group: str
    owner: str
    freshness: str
    entity: str
    timestamp: str
    table: str
    min: float | None = None
    max: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_registry(models_yml: Path = MODELS_YML, model: str = FEATURE_MODEL) -> list[Feature]:
    """Every feature column of ``model``, in declaration order."""
    spec = _model(yaml.safe_load(models_yml.read_text()), model, models_yml)
    meta = {**folder_meta("marts"), **((spec.get("config") or {}).get("meta") or {})}
    entity, timestamp = meta.get("entity", "customer_id"), meta.get("timestamp", "as_of_date")
    freshness = _freshness(meta.get("freshness") or {})
    features = []
    for column in spec.get("columns") or []:
        if column["name"] in (entity, timestamp):
            continue
        feature = ((column.get("config") or {}).get("meta") or {}).get("feature") or {}
        features.append(
            Feature(
                name=column["name"],
                description=(column.get("description") or "").strip(),
                dtype=column.get("data_type", "unknown"),
                group=feature.get("group", "other"),
                owner=feature.get("owner", meta.get("owner", "unowned")),
                freshness=freshness,
                entity=entity,
                timestamp=timestamp,
                table=model,
                min=feature.get("min"),
                max=feature.get("max"),
            )
        )
    return features


def declared_ranges(
    features: list[Feature] | None = None,
) -> dict[str, tuple[float | None, float | None]]:
    """name -> (min, max) for every feature that declares a bound."""
    return {
        f.name: (f.min, f.max)
        for f in (features if features is not None else load_registry())
        if f.min is not None or f.max is not None
    }


def _model(doc: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    for model in doc.get("models") or []:
        if model.get("name") == name:
            return model
    raise KeyError(f"model {name} is not described in {path}")


def _freshness(spec: dict[str, Any]) -> str:
    hours = spec.get("fail_after_hours")
    return f"daily, stale after {hours} h" if hours else "daily"
