"""The day partitions of the feature tables and helpers to run a range of them in one go.

Partition key D materialises the snapshot with as_of_date D (the customer as known at the
start of D). History before FEATURES_DAILY_FROM keeps one snapshot a week (Mondays): the other
days are excluded from the partitions, so every partition is a snapshot and a full backfill
records about 130 partitions, not about 730. A backfill of any number of days is one run and one dbt
invocation (BackfillPolicy.single_run), with the range passed to dbt as vars.
"""

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from warehouse.dbt_config import dbt_var
from warehouse.publish import connect_warehouse

# The feature calendar is dbt's (vars in dbt/dbt_project.yml): the first day of the hub's
# history, and the day from which snapshots are daily (weekly, on Mondays, before).
FEATURES_START = str(dbt_var("features_history_start"))
FEATURES_DAILY_FROM = str(dbt_var("features_daily_from"))


def _weekly_history() -> list[datetime]:
    """The non-Monday days before FEATURES_DAILY_FROM: not partitions, as they hold no snapshot."""
    day, stop = date.fromisoformat(FEATURES_START), date.fromisoformat(FEATURES_DAILY_FROM)
    days = (day + timedelta(n) for n in range((stop - day).days))
    return [datetime.combine(d, datetime.min.time()) for d in days if d.weekday() != 0]


feature_partitions = dg.DailyPartitionsDefinition(
    start_date=FEATURES_START,
    end_offset=1,
    exclusions=_weekly_history(),
)
single_run = dg.BackfillPolicy.single_run()


def partition_dates(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last as_of_date of the partitions this run materialises (inclusive)."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def dbt_vars(start: date, end: date) -> str:
    return json.dumps({"features_start": start.isoformat(), "features_end": end.isoformat()})


def range_tags(start: str, end: str) -> dict[str, str]:
    """Run tags that make one run materialise the partitions start..end (keys YYYY-MM-DD)."""
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


def data_horizon(warehouse_db: Path) -> date | None:
    """The last as_of_date with complete data: the day after the latest event, if any."""
    if not warehouse_db.exists():
        return None
    with connect_warehouse(warehouse_db) as con:
        try:
            row = con.execute(
                "select max(day) + 1 from intermediate.int_customer_activity_daily"
            ).fetchone()
        except duckdb.CatalogException:
            return None
    return row[0] if row else None


def history_range_tags(warehouse_db: Path) -> dict[str, str]:
    """Tags for a run that builds every partition from the start of history to the data horizon
    (today before the warehouse exists; days past the horizon get no rows)."""
    day = min(data_horizon(warehouse_db) or date.today(), date.today())
    while not feature_partitions.has_partition_key(day.isoformat()):
        day -= timedelta(days=1)
    return range_tags(FEATURES_START, day.isoformat())
