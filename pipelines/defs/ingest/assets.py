"""Bronze assets: one per source entity, landing raw records with lineage and quarantine."""


from collections.abc import Callable, Iterator

import dagster as dg

from pipelines.connectors.landing_files import read_csv, read_jsonl
from pipelines.connectors.pull import pull_crm, pull_erp, pull_files
from pipelines.defs.resources import CrmApi, ErpDatabase, HubStorage, LandingZone
from quality.contracts import (
    IOT_DEVICES,
    IOT_TELEMETRY,
    SOCIAL_POSTS,
    EntityContract,
    contracts_for,
)
from warehouse import delta_store
from warehouse.bronze import LandingReport

QUARANTINE_WARN_RATE = 0.01


def bronze_key(contract: EntityContract) -> dg.AssetKey:
    return dg.AssetKey(["bronze", contract.source, contract.entity])


def _spec(contract: EntityContract, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        bronze_key(contract),
        group_name="bronze",
        description=description,
        kinds={"delta"},
        tags={"layer": "bronze", "source": contract.source},
    )


def _checks(contract: EntityContract) -> list[dg.AssetCheckSpec]:
    key = bronze_key(contract)
    return [
        dg.AssetCheckSpec("rows_reconcile", asset=key, description="rows in = accepted + quarantined + already loaded"),
        dg.AssetCheckSpec("quarantine_rate", asset=key, description=f"under {QUARANTINE_WARN_RATE:.0%} of rows quarantined"),
    ]


def _results(storage: HubStorage, contract: EntityContract, report: LandingReport) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    key = bronze_key(contract)
    paths = storage.paths()
    metadata = {
        **report.metadata(),
        "dagster/row_count": delta_store.row_count(paths.bronze_table(contract.source, contract.entity)),
        "table_path": dg.MetadataValue.path(str(paths.bronze_table(contract.source, contract.entity))),
        "quarantine_path": dg.MetadataValue.path(str(paths.quarantine_table(contract.source))),
    }
    if report.sample_errors:
        metadata["quarantine_sample"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in report.sample_errors))
    if report.duplicate_files:
        metadata["duplicate_files_skipped"] = dg.MetadataValue.md("\n".join(f"- {d}" for d in report.duplicate_files))
    yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield dg.AssetCheckResult(
        asset_key=key, check_name="rows_reconcile", passed=report.reconciles,
        metadata={k: report.metadata()[k] for k in ("rows_in", "accepted", "quarantined", "already_loaded")},
    )
    rate = report.quarantined / report.rows_in if report.rows_in else 0.0
    yield dg.AssetCheckResult(
        asset_key=key, check_name="quarantine_rate", passed=rate < QUARANTINE_WARN_RATE,
        severity=dg.AssetCheckSeverity.WARN, metadata={"rate": rate, "quarantined": report.quarantined},
    )


def _selected(context: dg.AssetExecutionContext, contracts: list[EntityContract]) -> list[EntityContract]:
    keys = context.selected_asset_keys
    return [c for c in contracts if bronze_key(c) in keys]


def _source_asset(
    source: str, pull: Callable[[EntityContract], LandingReport], context: dg.AssetExecutionContext,
    storage: HubStorage,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    for contract in _selected(context, contracts_for(source)):
        report = pull(contract)
        context.log.info(f"{contract.name}: {report.metadata()}")
        yield from _results(storage, contract, report)


CRM = contracts_for("crm")
ERP = contracts_for("erp")


@dg.multi_asset(
    name="crm_bronze",
    specs=[_spec(c, f"CRM {c.entity}, pulled from the REST API by updated_at cursor.") for c in CRM],
    check_specs=[s for c in CRM for s in _checks(c)],
    can_subset=True,
)
def crm_bronze(context: dg.AssetExecutionContext, storage: HubStorage, crm: CrmApi) -> Iterator:
    """Pull new and changed CRM records (paginated, rate-limit aware) into bronze."""
    client = crm.client()
    yield from _source_asset("crm", lambda c: pull_crm(storage.paths(), client, c), context, storage)
    context.log.info(f"CRM requests retried: {client.retries}")


@dg.multi_asset(
    name="erp_bronze",
    specs=[_spec(c, f"ERP {c.entity}, extracted by (updated_at, key) watermark.") for c in ERP],
    check_specs=[s for c in ERP for s in _checks(c)],
    can_subset=True,
)
def erp_bronze(context: dg.AssetExecutionContext, storage: HubStorage, erp: ErpDatabase) -> Iterator:
    """Extract new and changed ERP rows into bronze."""
    engine = erp.engine()
    yield from _source_asset("erp", lambda c: pull_erp(storage.paths(), engine, c), context, storage)


FILE_SOURCES = {
    SOCIAL_POSTS.name: (SOCIAL_POSTS, ("social",), "*.jsonl", read_jsonl),
    IOT_DEVICES.name: (IOT_DEVICES, ("iot", "registry"), "*.csv", read_csv),
    IOT_TELEMETRY.name: (IOT_TELEMETRY, ("iot", "telemetry"), "*.jsonl", read_jsonl),
}


def _file_asset(contract: EntityContract) -> dg.AssetsDefinition:
    _, folder, pattern, reader = FILE_SOURCES[contract.name]

    @dg.multi_asset(
        name=f"{contract.source}_{contract.entity}_bronze",
        specs=[_spec(contract, f"{contract.name} file drops ({'/'.join(folder)}/{pattern}), each file landed exactly once.")],
        check_specs=_checks(contract),
    )
    def _asset(context: dg.AssetExecutionContext, storage: HubStorage, landing: LandingZone) -> Iterator:
        report = pull_files(storage.paths(), contract, landing.folder(*folder), pattern, reader)
        context.log.info(f"{contract.name}: {report.metadata()}")
        yield from _results(storage, contract, report)

    return _asset


social_posts_bronze = _file_asset(SOCIAL_POSTS)
iot_devices_bronze = _file_asset(IOT_DEVICES)
iot_telemetry_bronze = _file_asset(IOT_TELEMETRY)
