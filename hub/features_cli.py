"""`hub features ...`: the feature registry, generated from the dbt model YAML."""

from __future__ import annotations

import json
from typing import Annotated

import typer

features_app = typer.Typer(no_args_is_help=True)


@features_app.callback()
def _features() -> None:
    """Point-in-time features for models: the registry."""


@features_app.command("list")
def list_features(
    group: Annotated[
        str | None,
        typer.Option(
            help="Only this group (rfm, activity, support, iot, social, opportunity, payment)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per feature, for tools.")
    ] = False,
) -> None:
    """Every feature of customer_features_daily: name, type, group, range, owner, freshness, description."""
    from warehouse.feature_registry import load_registry

    features = [f for f in load_registry() if group is None or f.group == group]
    if as_json:
        for feature in features:
            typer.echo(json.dumps(feature.as_dict(), ensure_ascii=False))
        return
    if not features:
        typer.echo("no features" + (f" in group {group!r}" if group else ""))
        return
    first = features[0]
    typer.echo(
        f"{len(features)} features in {first.table} (entity {first.entity}, at {first.timestamp}); "
        f"owner {first.owner}; freshness: {first.freshness}\n"
    )
    width = max(len(f.name) for f in features)
    typer.echo(f"{'name':<{width}}  {'dtype':<7} {'group':<12} {'range':<10} description")
    for f in features:
        bounds = "" if f.min is None and f.max is None else f"[{_num(f.min)}, {_num(f.max)}]"
        typer.echo(f"{f.name:<{width}}  {f.dtype:<7} {f.group:<12} {bounds:<10} {f.description}")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
