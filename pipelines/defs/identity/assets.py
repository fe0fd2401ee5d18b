"""Identity assets: thin adapters around the `identity` library (DESIGN §4, issue 3).

- ``identity_model`` trains a new model version. It is materialised on demand (or on a slow
  schedule of your own), never by the regular runs: those only score with the current model.
- ``identity_graph`` and ``identity_changes`` resolve ``int_person_records`` into stable
  customer IDs (incrementally when the model and settings are unchanged) and publish the
  graph with history and the run's change events as Delta tables in gold.
- ``identity_quality`` reports cluster sizes, suspected over-merges and churn per run.
"""


from collections.abc import Iterator

import dagster as dg
import polars as pl

from identity import canonical, evidence, health, resolve, train
from identity.run_state import State
from identity.settings import IdentityConfig
from identity.workspace import Workspace, model_for
from pipelines.defs.resources import HubStorage
from warehouse import delta_store, identity_store
from warehouse.publish import connect_warehouse

INPUT = dg.AssetKey(["intermediate", "int_person_records"])
MODEL = dg.AssetKey("identity_model")
GRAPH = dg.AssetKey("identity_graph")
CHANGES = dg.AssetKey("identity_changes")
QUALITY = dg.AssetKey("identity_quality")
GROUP = "identity"


def workspace(storage: HubStorage) -> Workspace:
    return Workspace(storage.paths().identity_workspace)


def read_person_records(storage: HubStorage) -> tuple[pl.DataFrame, canonical.LoadReport]:
    """The canonical records dbt built, read-only from the warehouse."""
    with connect_warehouse(storage.paths().warehouse_db) as con:
        raw = con.sql(f"select * from {canonical.DEFAULT_DUCKDB_TABLE}").pl()
    return canonical.to_canonical(raw)


def _load_metadata(report: canonical.LoadReport) -> dict[str, object]:
    return {"input_rows": report.rows_read, "input_warnings": report.warning_count,
            **({"input_warning_detail": dg.MetadataValue.md(
                "\n".join(f"- {k}: {v:,}" for k, v in report.warnings.items()))}
               if report.warnings else {})}


@dg.asset(key=MODEL, group_name=GROUP, deps=[INPUT], kinds={"splink", "duckdb"},
          tags={"schedule": "on-demand"})
def identity_model(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """The identity model (Splink), trained on the canonical person records.

    Training estimates the prior, u from random pairs and m from anchor pairs (see
    docs/identity.md); the model JSON and its term-frequency tables are written to
    state/identity/models/vNNNN and become the current version. Unchanged records train
    the same model, which keeps its version (so identity runs stay incremental). Not run
    on a schedule.
    """
    config = IdentityConfig.load()
    records, report = read_person_records(storage)
    saved = train.train_on_records(records, config, workspace(storage).models)
    meta = saved.meta
    context.log.info(f"trained identity model {saved.version} on {meta['input_records']:,} records")
    table = "\n".join(["| comparison | m from | anchor pairs | EM drift |", "|---|---|---|---|"]
                      + [f"| {k} | {v['m_from']} | {v['anchor_pairs']:,} | {v['em_drift']} |"
                         for k, v in meta["comparisons"].items()])
    return dg.MaterializeResult(metadata={
        "version": saved.version, "trained_records": meta["trained_records"],
        "probability_two_random_records_match": meta["probability_two_random_records_match"],
        "training_seconds": meta["seconds"], "comparisons": dg.MetadataValue.md(table),
        "model_path": dg.MetadataValue.path(str(workspace(storage).models / saved.version)),
        **_load_metadata(report),
    })


@dg.multi_asset(
    specs=[
        dg.AssetSpec(GRAPH, group_name=GROUP, deps=[INPUT, MODEL], kinds={"delta"},
                     description="Every source record's customer_id, with history "
                                 "(valid_from/valid_to) so any past state can be rebuilt."),
        dg.AssetSpec(CHANGES, group_name=GROUP, deps=[INPUT, MODEL], kinds={"delta"},
                     description="Append-only log of ID events per run: created, merged, "
                                 "split, moved, erased."),
    ],
    can_subset=True,  # selecting either runs the resolution and publishes both
)
def identity_graph(context: dg.AssetExecutionContext, storage: HubStorage) -> Iterator[dg.MaterializeResult]:
    """Resolve the canonical person records into stable customer IDs.

    Scores only new and changed records when the model and settings are unchanged, carries
    IDs forward by record overlap, and publishes gold/identity_graph and
    gold/identity_changes (Delta).
    """
    config = IdentityConfig.load()
    ws = workspace(storage)
    paths = storage.paths()
    records, report = read_person_records(storage)
    had_model = ws.model() is not None
    model, how = model_for(ws, records, config)
    if not had_model:
        context.log.warning(f"no identity model yet: using {how} (materialise identity_model "
                            "to retrain)")
    result = resolve.run(records, ws.run_state, model, config, evidence.load_overrides(ws.overrides),
                         run_id=context.run.run_id)
    identity_store.publish(result.state.graph if result.graph_changed else None, result.changes,
                           paths.gold / "identity_graph", paths.gold / "identity_changes")
    summary = result.summary()
    context.log.info(f"identity: {summary}")
    selected = context.selected_asset_keys
    if GRAPH in selected:
        yield dg.MaterializeResult(asset_key=GRAPH, metadata={
            "dagster/row_count": delta_store.row_count(paths.gold / "identity_graph"),
            "records": result.records, "customers": result.clusters, "mode": result.mode,
            "new_records": result.new, "changed_records": result.changed,
            "removed_records": result.removed, "rescored_records": result.rescored,
            "id_changes": result.id_changes, "input_unchanged": result.input_unchanged,
            "shared_identifiers": result.shared.height,
            "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in result.seconds.items()}),
            "table_path": dg.MetadataValue.path(str(paths.gold / "identity_graph")),
            **_load_metadata(report),
        })
    if CHANGES in selected:
        yield dg.MaterializeResult(asset_key=CHANGES, metadata={
            "dagster/row_count": delta_store.row_count(paths.gold / "identity_changes"),
            "events_this_run": dg.MetadataValue.json(dict(result.events)),
            "table_path": dg.MetadataValue.path(str(paths.gold / "identity_changes")),
        })


def _markdown(df: pl.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join(lines)


@dg.asset(key=QUALITY, group_name=GROUP, deps=[GRAPH, CHANGES], kinds={"delta"})
def identity_quality(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """Health of the identity graph: cluster sizes, suspected over-merges, churn per run.

    Appends one row per run to gold/identity_quality and rewrites gold/identity_suspects
    (customers too large, or holding two national IDs or birth dates).
    """
    config = IdentityConfig.load()
    paths = storage.paths()
    state = State.load(workspace(storage).run_state)
    if state is None:
        raise dg.Failure("no identity run yet: materialise identity_graph first")
    q = health.assess(state, config)
    last = state.meta.get("last_run", {})
    row = pl.DataFrame([{
        "run_id": state.meta.get("run_id"), "ts": state.meta.get("ts"),
        "records": q.records, "customers": q.customers, "largest_customer": q.largest,
        "customers_over_size_limit": q.over_limit, "suspected_over_merges": q.suspects.height,
        "id_changes": last.get("id_changes", 0), "input_unchanged": last.get("input_unchanged"),
        "churn_rate": last.get("id_changes", 0) / max(1, q.records),
    }])
    runs = identity_store.read(paths.gold / "identity_quality", dict(row.schema))
    if state.meta.get("run_id") not in set(runs["run_id"].to_list()):
        delta_store.append(paths.gold / "identity_quality", row.to_arrow())
    delta_store.overwrite(paths.gold / "identity_suspects", q.suspects.to_arrow())
    top = q.suspects.head(20)
    return dg.MaterializeResult(metadata={
        **q.metadata(), "churn_rate": float(row["churn_rate"][0]),
        "id_changes_last_run": int(row["id_changes"][0]),
        "suspects_sample": dg.MetadataValue.md(_markdown(top) if top.height else "none"),
        "table_path": dg.MetadataValue.path(str(paths.gold / "identity_quality")),
    })
