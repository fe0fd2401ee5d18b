"""`hub identity ...`: resolve any canonical file, explain a customer, evaluate against truth.

Wired into the main CLI with ``app.add_typer(identity_app, name="identity")``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_setup import command_group, fail

if TYPE_CHECKING:
    from identity.settings import IdentityConfig
    from identity.workspace import Workspace

identity_app = command_group(
    "Identity resolution: one stable customer ID per person, explained and measured.")

WORKSPACE_IN_OUT = ".identity"


def _quiet() -> None:
    # Splink logs training progress and per-level notes at INFO/WARNING; the CLI prints its
    # own summary instead.
    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _config(path: Path | None) -> IdentityConfig:
    from identity.settings import IdentityConfig

    if path is not None and not path.exists():
        raise fail(f"{path}: no such config file")
    return IdentityConfig.load(path)


def _workspace(state: Path | None) -> Workspace:
    """The workspace of a `resolve --out` folder, a workspace folder, or the pipeline's."""
    from identity.workspace import Workspace
    from pipelines.environment import hub_paths

    if state is None:
        return Workspace(hub_paths().identity_workspace)
    if (state / WORKSPACE_IN_OUT).is_dir():
        return Workspace(state / WORKSPACE_IN_OUT)
    return Workspace(state)


@identity_app.command()
def resolve(
    input: Annotated[Path, typer.Argument(help="CSV, Parquet or DuckDB file of canonical person records.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for clusters.parquet and pairs.parquet.")],
    table: Annotated[str | None, typer.Option(help="Table to read from a DuckDB file.")] = None,
    retrain: Annotated[bool, typer.Option(help="Train a new model on this input even if one exists.")] = False,
    full: Annotated[bool, typer.Option(help="Rescore everything instead of only what changed.")] = False,
    config: Annotated[Path | None, typer.Option(help="An identity.yaml to use instead of the default.")] = None,
) -> None:
    """Resolve INPUT into customers: write DIR/clusters.parquet and DIR/pairs.parquet.

    Re-running on the same DIR keeps customer IDs stable and only rescores what changed.
    """
    from identity import canonical
    from identity.columns import NoUsableColumns
    from identity.workspace import Workspace, clusters_table, column_lines, pairs_table, resolve

    _quiet()
    cfg = _config(config)
    started = time.perf_counter()
    try:
        records, report = canonical.load(input, table)
    except canonical.CanonicalInputError as exc:
        raise fail(str(exc)) from None
    for line in report.lines():
        typer.echo(line)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"{out}: cannot create the output folder ({exc.strerror})") from None
    ws = Workspace(out / WORKSPACE_IN_OUT)
    try:
        result, model, how = resolve(records, ws, cfg, retrain=retrain, full=full)
    except NoUsableColumns as exc:
        raise fail(f"{input}: {exc}") from None
    except Exception as exc:
        if os.environ.get("HUB_DEBUG"):
            raise
        raise fail(f"resolution failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    " (set HUB_DEBUG=1 for details)", 1) from None
    clusters_table(result).write_parquet(out / "clusters.parquet")
    pairs = pairs_table(result, cfg.pairs_threshold)
    pairs.write_parquet(out / "pairs.parquet")
    events = ", ".join(f"{k} {v:,}" for k, v in sorted(result.events.items())) or "none"
    typer.echo(f"{how}; {result.mode} run")
    for line in column_lines(model):
        typer.echo(line)
    typer.echo(f"{result.records:,} records -> {result.clusters:,} customers; "
               f"{pairs.height:,} pairs >= {cfg.pairs_threshold}; "
               f"{result.shared.height:,} shared identifiers ignored")
    typer.echo(f"ID events: {events} ({result.id_changes:,} records changed customer)")
    typer.echo(f"wrote {out / 'clusters.parquet'} and {out / 'pairs.parquet'} "
               f"in {time.perf_counter() - started:.1f}s")


@identity_app.command()
def explain(
    customer_id: Annotated[str, typer.Argument(help="A customer ID (merged IDs are followed).")],
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML page with charts.")] = None,
    state: Annotated[Path | None, typer.Option(help="A `resolve --out` folder or identity workspace (default: the pipeline's).")] = None,
) -> None:
    """Show a customer's records and the evidence that joined them."""
    from identity import explain
    from identity.run_state import State

    _quiet()
    ws = _workspace(state)
    run_state = State.load(ws.run_state)
    if run_state is None:
        raise fail(f"no identity run found in {ws.root}; run `hub identity resolve` or the "
                    "identity assets first", 1)
    from identity.runs import FEATURES_VERSION

    written_by = str(run_state.meta.get("settings_key", "")).split("|")
    if len(written_by) < 3 or written_by[2] != FEATURES_VERSION:
        raise fail(f"the identity state in {ws.root} was written by another version of the "
                    "hub; run identity resolution again first", 1)
    model = ws.model(run_state.meta.get("model_version"))
    if model is None:
        raise fail(f"model {run_state.meta.get('model_version')} of the last run is missing "
                    f"from {ws.models}", 1)
    try:
        e = explain.explain(run_state, model, customer_id)
    except explain.UnknownCustomer as exc:
        raise fail(str(exc), 1) from None
    typer.echo(explain.as_text(e))
    if html is not None:
        html.write_text(explain.as_html(e), encoding="utf-8")
        typer.echo(f"wrote {html}")


@identity_app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="Ground truth: source, [entity,] source_record_id, person_id.")],
    clusters: Annotated[Path | None, typer.Option(help="clusters.parquet/CSV to judge (default: the last run's assignment).")] = None,
    state: Annotated[Path | None, typer.Option(help="A `resolve --out` folder or identity workspace (default: the pipeline's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Pairwise and B-cubed precision, recall and F1 against ground truth."""
    import polars as pl

    from identity import evaluate
    from identity.run_state import State

    try:
        truth_df = evaluate.read_truth(truth)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    if clusters is not None:
        if not clusters.exists():
            raise fail(f"{clusters}: no such file")
        predicted = (pl.read_csv(clusters, infer_schema=False) if clusters.suffix.lower() == ".csv"
                     else pl.read_parquet(clusters))
        missing = {"source", "source_record_id", "customer_id"} - set(predicted.columns)
        if missing:
            raise fail(f"{clusters}: lacks column(s) {', '.join(sorted(missing))}")
    else:
        ws = _workspace(state)
        run_state = State.load(ws.run_state)
        if run_state is None:
            raise fail(f"no identity run found in {ws.root}; give --clusters or --state", 1)
        predicted = run_state.canonical.select("uid", "source", "source_record_id").join(
            run_state.assignment.select("uid", "customer_id"), on="uid")
    metrics = evaluate.evaluate(predicted.select(
        pl.col("source").cast(pl.String), pl.col("source_record_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String)), truth_df)
    if as_json:
        typer.echo(json.dumps(metrics.as_dict(), indent=1))
    else:
        for line in metrics.lines():
            typer.echo(line)


@identity_app.command()
def train(
    input: Annotated[Path | None, typer.Argument(help="Canonical records (default: the warehouse's int_person_records).")] = None,
    state: Annotated[Path | None, typer.Option(help="Identity workspace to store the model in (default: the pipeline's).")] = None,
    config: Annotated[Path | None, typer.Option(help="An identity.yaml to use instead of the default.")] = None,
) -> None:
    """Train a new model version (scheduled runs keep using it until the next training)."""
    from identity import canonical, train
    from identity.workspace import column_lines
    from pipelines.environment import hub_paths

    _quiet()
    cfg = _config(config)
    source = input or hub_paths().warehouse_db
    try:
        records, report = canonical.load(source)
    except canonical.CanonicalInputError as exc:
        raise fail(str(exc)) from None
    for line in report.lines():
        typer.echo(line)
    ws = _workspace(state)
    try:
        saved = train.train_on_records(records, cfg, ws.models)
    except ValueError as exc:  # too few records, or no column to train on
        raise fail(str(exc), 1) from None
    for line in column_lines(saved):
        typer.echo(line)
    typer.echo(f"trained {saved.version} on {saved.meta['input_records']:,} records in "
               f"{saved.meta['seconds']}s -> {ws.models / saved.version}")
