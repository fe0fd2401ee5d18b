"""Bronze assets: one per source entity, landing raw records with lineage and quarantine.
They are generated from the source entries in ``sources.py``."""


from collections.abc import Callable, Iterator, Mapping

import dagster as dg

from pipelines.connectors.landing_files import FolderSurvey, survey
from pipelines.connectors.pull import pull_files
from pipelines.defs.ingest.sources import SOURCES, Files, Source, file_drops
from pipelines.defs.resources import HubStorage, LandingZone
from quality.contracts import EntityContract
from warehouse import delta_store
from warehouse.bronze import LandingReport

QUARANTINE_WARN_RATE = 0.01


def bronze_key(contract: EntityContract) -> dg.AssetKey:
    return dg.AssetKey(["bronze", contract.source, contract.entity])


def _spec(contract: EntityContract, description: str, tags: Mapping[str, str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        bronze_key(contract),
        group_name="bronze",
        description=description,
        kinds={"delta"},
        tags={"layer": "bronze", "source": contract.source, **tags},
    )


def _checks(contract: EntityContract) -> list[dg.AssetCheckSpec]:
    key = bronze_key(contract)
    return [
        dg.AssetCheckSpec("rows_reconcile", asset=key, description="rows in = accepted + quarantined + already loaded"),
        dg.AssetCheckSpec("quarantine_rate", asset=key, description=f"under {QUARANTINE_WARN_RATE:.0%} of rows quarantined"),
    ]


def _folder_metadata(found: FolderSurvey) -> dict[str, object]:
    """What a landing folder held besides the files it lands, by file name only, never by content."""
    metadata: dict[str, object] = {"unexpected_files": len(found.unexpected), "refused_files": len(found.refused)}
    if found.warnings():
        metadata["landing_warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in found.warnings()))
    return metadata


def _results(
    storage: HubStorage, contract: EntityContract, report: LandingReport, extra: Mapping[str, object] | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    key = bronze_key(contract)
    paths = storage.paths()
    metadata = {
        **report.metadata(),
        **(extra or {}),
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
    contracts: list[EntityContract], pull: Callable[[EntityContract], LandingReport],
    context: dg.AssetExecutionContext, storage: HubStorage,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    for contract in _selected(context, contracts):
        report = pull(contract)
        context.log.info(f"{contract.name}: {report.metadata()}")
        yield from _results(storage, contract, report)


def _pull_asset(source: Source) -> dg.AssetsDefinition:
    """One subsettable multi-asset over the source's entities, pulled through one client."""
    pull = source.pull
    assert pull is not None
    contracts = list(source.contracts)

    @dg.multi_asset(
        name=f"{source.name}_bronze",
        specs=[_spec(c, pull.describe.format(entity=c.entity), source.tags) for c in contracts],
        check_specs=[s for c in contracts for s in _checks(c)],
        can_subset=True,
        description=pull.description,
        required_resource_keys={"storage", pull.resource},
    )
    def _asset(context: dg.AssetExecutionContext) -> Iterator:
        storage: HubStorage = context.resources.storage
        client = pull.connect(getattr(context.resources, pull.resource))
        with storage.vault() as vault:
            yield from _source_asset(contracts, lambda c: pull.land(storage.paths(), client, c, vault=vault),
                                     context, storage)
        if pull.summary:
            context.log.info(pull.summary(client))

    return _asset


def _file_asset(source: Source, contract: EntityContract, files: Files) -> dg.AssetsDefinition:
    folder, pattern, reader = files.folder, files.pattern, files.reader

    @dg.multi_asset(
        name=f"{contract.source}_{contract.entity}_bronze",
        specs=[_spec(contract, f"{contract.name} file drops ({'/'.join(folder)}/{pattern}), each file landed exactly once.", source.tags)],
        check_specs=_checks(contract),
    )
    def _asset(context: dg.AssetExecutionContext, storage: HubStorage, landing: LandingZone) -> Iterator:
        found = survey(landing.folder(*folder), pattern)
        for warning in found.warnings():
            context.log.warning(f"{contract.name} landing folder {'/'.join(folder)}: {warning}")
        with storage.vault() as vault:
            report = pull_files(storage.paths(), contract, landing.folder(*folder), pattern, reader, vault=vault)
        context.log.info(f"{contract.name}: {report.metadata()}")
        yield from _results(storage, contract, report, _folder_metadata(found))

    return _asset


BRONZE_ASSETS: list[dg.AssetsDefinition] = [
    *(_pull_asset(s) for s in SOURCES if s.pull),
    *(_file_asset(s, c, f) for s, c, f in file_drops()),
]
