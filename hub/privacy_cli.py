"""`hub privacy ...`: classify a table's columns, detect PII in free text, manage the keys.

Wired into the main CLI with ``app.add_typer(privacy_app, name="privacy")``.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_setup import command_group, fail
from hub.keys_cli import add_key_commands
from pipelines.environment import hub_paths

if TYPE_CHECKING:
    from privacy.detect import Detector

privacy_app = command_group("PII protection: the catalog of personal data, detection in free text, the keys.")
add_key_commands(privacy_app)


def _detector(use_customers: bool) -> Detector:
    from hub.sql_cli import engineer_database
    from privacy.detect import Detector
    from privacy.names import NameIndex, golden_names
    from warehouse.pii_catalog import golden_name_rows

    rows = golden_name_rows(engineer_database(hub_paths())) if use_customers and hub_paths().published_db.exists() else []
    index = NameIndex(golden_names(rows))
    typer.echo(f"person names: context, name lists and the names of {len(rows):,} known customers "
               f"({index.size:,} spellings)", err=True)
    return Detector(index)


@privacy_app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="A CSV file, Parquet file or Delta table folder.")],
    sample: Annotated[int, typer.Option(help="Rows to sample.")] = 200,
) -> None:
    """Print the PII catalog rows (CSV) of a table: declared and discovered type, level."""
    from privacy.catalog import CatalogRow, classify_table
    from privacy.detect import Detector
    from privacy.sample import UnreadableTable, sample_columns
    from warehouse.pii_catalog import declarations_for

    try:
        columns = sample_columns(path, sample)
    except UnreadableTable as exc:
        raise fail(str(exc)) from None
    table = _table_name(path)
    rows = classify_table(table, columns, Detector(), declarations_for(table))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([f.name for f in fields(CatalogRow)])
    for row in rows:
        out.writerow(["" if v is None else v for v in row.as_dict().values()])


def _table_name(path: Path) -> str:
    """``bronze/<source>/<entity>`` for a bronze table under the data root, else the path."""
    resolved = path.resolve()
    bronze = hub_paths().bronze
    if resolved.is_relative_to(bronze) and len(resolved.relative_to(bronze).parts) == 2:
        return f"bronze/{resolved.relative_to(bronze).as_posix()}"
    return path.name


@privacy_app.command()
def detect(
    in_: Annotated[Path, typer.Option("--in", help='JSON lines: {"id", "text"} each.')],
    out: Annotated[Path, typer.Option("--out", help='JSON lines: {"id", "entities"} each.')],
    customers: Annotated[
        bool, typer.Option(help="Match the names of the hub's own customers (the published warehouse).")
    ] = True,
) -> None:
    """Find PII in each text (zh or en, detected per text); entities carry Presidio's names."""
    if not in_.is_file():
        raise fail(f"--in {in_}: no such file")
    ids, texts = [], []
    with in_.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise fail(f"{in_}, line {number}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict) or "id" not in record:
                raise fail(f"{in_}, line {number}: an object with \"id\" and \"text\" expected")
            text = record.get("text")
            if text is not None and not isinstance(text, str):
                raise fail(f"{in_}, line {number}, field text: a string expected")
            ids.append(record["id"])
            texts.append(text or "")
    found = _detector(customers).detect(texts)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for record_id, entities in zip(ids, found, strict=True):
            handle.write(json.dumps({"id": record_id, "entities": [e.as_json() for e in entities]},
                                    ensure_ascii=False) + "\n")
    total = sum(map(len, found))
    typer.echo(f"{len(ids):,} texts, {total:,} entities -> {out}", err=True)
