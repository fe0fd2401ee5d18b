"""`hub quality`: what quality quarantined, and a report of every layer's quality."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipelines.environment import hub_paths

quality_app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = ["layer", "table", "record_key", "rules", "batch_id", "quarantined_at"]


@quality_app.command()
def quarantine(
    layer: Annotated[str | None, typer.Option(help="bronze, silver or gold.")] = None,
    table: Annotated[str | None, typer.Option(help="A table name, e.g. stg_erp__invoices or erp.customers.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only rows that failed this rule.")] = None,
) -> None:
    """Quarantined rows as CSV: layer, table, record_key (the business key, parts joined by ':'),
    rules (the failed rule names, ';'-separated), batch_id. Row values are never printed."""
    from warehouse.quality_store import quarantine_listing

    listing = quarantine_listing(hub_paths())
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in listing.to_pylist() if listing is not None else []:
        if layer and row["layer"] != layer:
            continue
        if table and row["table"] != table:
            continue
        if rule and rule not in row["rules"].split(";"):
            continue
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])


@quality_app.command()
def report(
    out: Annotated[Path, typer.Option(help="Where to write the self-contained HTML page.")] = Path("quality_report.html"),
) -> None:
    """Render the quality report (scores, trend, top failing rules, quarantine, freshness, drift)."""
    from warehouse.quality_report import write_report

    written = write_report(hub_paths(), out)
    typer.echo(str(written))
