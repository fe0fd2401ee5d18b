"""Incremental pulls from each kind of source into bronze.

Each pull reads its persisted position (cursor, watermark or file ledger), lands
what is new through :class:`warehouse.bronze.BronzeLanding`, and only then moves
the position forward. The vault encrypts what bronze protects; without one, a landing uses
the development key (tests and benchmarks).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from pipelines.connectors import erp_sql
from pipelines.connectors.crm_api import CrmClient
from pipelines.connectors.landing_files import LandedFile, list_files
from privacy.keys.vault import Vault
from quality.contracts import EntityContract
from quality.row_validation import RawRecord
from quality.timestamps import format_timestamp, parse_timestamp
from warehouse.bronze import BronzeLanding, LandingReport
from warehouse.layout import HubPaths
from warehouse.state_store import JsonState

log = logging.getLogger(__name__)

# Re-read a second before the cursor: records written in the same second as the
# last pull would otherwise be missed; record hashes drop what was already stored.
CURSOR_OVERLAP = dt.timedelta(seconds=1)


def cursors(paths: HubPaths) -> JsonState:
    return JsonState(paths.cursors)


def ledger(paths: HubPaths, contract: EntityContract) -> JsonState:
    return JsonState(paths.ledger(contract.source, contract.entity))


def _run_id(contract: EntityContract) -> str:
    return f"{contract.source}-{contract.entity}-{uuid.uuid4().hex[:12]}"


def pull_crm(paths: HubPaths, client: CrmClient, contract: EntityContract, vault: Vault | None = None) -> LandingReport:
    """Land what changed since the cursor, then move the cursor to the newest accepted record.

    The cursor never passes the pull's own start: a record stamped later (a source clock
    ahead of ours, within the contract's tolerance) is fetched again next time and dropped
    by its hash, instead of hiding the records written between the start and its stamp.
    """
    started = dt.datetime.now(dt.UTC)
    state = cursors(paths)
    since = _stored_cursor(state.get(contract.name), started, contract)
    request_since = (since - CURSOR_OVERLAP).isoformat() if since else None
    landing = BronzeLanding(paths, contract, now=started, vault=vault)
    run_id = _run_id(contract)
    for page in client.pages(contract.entity, request_since):
        records = [RawRecord(i, rec) for i, rec in enumerate(page.records, start=1)]
        landing.add_batch(records, page.url, f"{run_id}-p{page.number}")
    report = landing.commit()
    # Whole seconds, as the CRM stamps records; rounding down only re-reads a little.
    ceiling = started.replace(microsecond=0)
    newest = min(landing.cursor_high, ceiling) if landing.cursor_high else None
    if newest and (since is None or newest > since):
        state.update({contract.name: format_timestamp(newest)})
    return report


def _stored_cursor(text: str | None, started: dt.datetime, contract: EntityContract) -> dt.datetime | None:
    """The persisted cursor, or None (pull everything again) when it cannot be right."""
    if not text:
        return None
    try:
        moment = parse_timestamp(text)
    except ValueError:
        moment = None
    if moment is None or moment > started:
        # A cursor past the clock was moved by a bad record: what it skipped is unknown, so
        # pull everything again; record hashes keep bronze free of what it already holds.
        log.warning("%s: discarding cursor %r, which is not a time before now; pulling everything",
                    contract.name, text)
        return None
    return moment


def pull_erp(paths: HubPaths, engine: sa.Engine, contract: EntityContract, vault: Vault | None = None) -> LandingReport:
    """Land the rows after the keyset watermark, then move it to the last row it may pass.

    Rows arrive ordered by their cursor value, so a row stamped in the future sorts last:
    were the watermark to pass it, every row updated before that stamp would be skipped
    from then on. The watermark therefore stops at the last row whose stamp parses and is
    not after the pull's start; rows past it are read again next time and dropped by hash.
    """
    started = dt.datetime.now(dt.UTC)
    state = cursors(paths)
    watermark = state.get(contract.name)
    landing = BronzeLanding(paths, contract, now=started, vault=vault)
    run_id = _run_id(contract)
    url = engine.url.render_as_string(hide_password=True)
    cursor_field = contract.cursor_field or "updated_at"
    offset = 0
    last = watermark
    for number, chunk in enumerate(erp_sql.extract(engine, contract, watermark), start=1):
        records = [RawRecord(offset + i, row) for i, row in enumerate(chunk, start=1)]
        offset += len(chunk)
        landing.add_batch(records, f"{url}#{contract.entity}", f"{run_id}-c{number}")
        passable = [row for row in chunk if _not_after(row[cursor_field], started)]
        if passable:
            last = erp_sql.next_watermark(contract, passable)
    report = landing.commit()
    if last != watermark:
        state.update({contract.name: last})
    return report


def _not_after(value: object, moment: dt.datetime) -> bool:
    """Whether a cursor value (a datetime, or text as SQLite keeps it) is a time up to ``moment``."""
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    elif isinstance(value, str):
        try:
            stamp = parse_timestamp(value)
        except ValueError:
            return False
    else:
        return False
    return stamp <= moment


Reader = Callable[[Path], Iterator[RawRecord]]


def new_files(paths: HubPaths, contract: EntityContract, folder: Path, pattern: str) -> list[LandedFile]:
    """Files in ``folder`` whose bytes have not been landed before."""
    done = ledger(paths, contract).load()
    return [f for f in list_files(folder, pattern) if f.sha256 not in done]


def pull_files(
    paths: HubPaths, contract: EntityContract, folder: Path, pattern: str, reader: Reader,
    vault: Vault | None = None,
) -> LandingReport:
    state = ledger(paths, contract)
    done = state.load()
    landing = BronzeLanding(paths, contract, vault=vault)
    landed: dict[str, dict] = {}
    for landed_file in list_files(folder, pattern):
        sha, name = landed_file.sha256, landed_file.path.name
        first = landed.get(sha) or done.get(sha)
        if first:
            if name != first["file"] and name not in first.get("duplicates", []):
                landing.report.duplicate_files.append(f"{name} = {first['file']}")
                landed[sha] = {**first, "duplicates": [*first.get("duplicates", []), name]}
            continue
        landing.add_batch(reader(landed_file.path), str(landed_file.path), landed_file.batch_id)
        landed[sha] = {
            "file": name,
            "batch_id": landed_file.batch_id,
            "landed_at": landing.ingested_at.isoformat(),
        }
    report = landing.commit()
    if landed:
        state.update(landed)
    return report
