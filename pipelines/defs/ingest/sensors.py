"""Landing-folder sensors, one per entity of a file source: a run whenever files with new bytes arrive."""


import hashlib

import dagster as dg

from pipelines.connectors.pull import new_files
from pipelines.defs.ingest.assets import bronze_key
from pipelines.defs.ingest.sources import Files, file_drops
from pipelines.defs.resources import HubStorage, LandingZone
from quality.contracts import EntityContract


def _landing_sensor(contract: EntityContract, files: Files) -> dg.SensorDefinition:
    folder, pattern = files.folder, files.pattern
    job = dg.define_asset_job(
        f"land_{contract.source}_{contract.entity}", selection=dg.AssetSelection.assets(bronze_key(contract))
    )

    @dg.sensor(
        name=f"{contract.source}_{contract.entity}_landing_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Lands new {'/'.join(folder)}/{pattern} files; a file's bytes, not its name, make it new.",
    )
    def _sensor(context: dg.SensorEvaluationContext, storage: HubStorage, landing: LandingZone) -> dg.SensorResult:
        files = new_files(storage.paths(), contract, landing.folder(*folder), pattern)
        if not files:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new files"))
        # The run key is the set of file digests: the same delivery never triggers twice.
        run_key = hashlib.sha256("".join(sorted(f.sha256 for f in files)).encode()).hexdigest()[:32]
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, tags={"files": str(len(files))})]
        )

    return _sensor


LANDING_SENSORS: list[dg.SensorDefinition] = [_landing_sensor(c, f) for _, c, f in file_drops()]
