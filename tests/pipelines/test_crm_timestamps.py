"""Impossible CRM timestamps are quarantined and never move the cursor (real CRM HTTP server)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

from demo import world
from demo.crm_server import CrmServer
from pipelines.connectors.crm_api import CrmClient
from pipelines.connectors.pull import cursors, pull_crm
from quality.contracts import CRM_CONTACTS, FUTURE_TOLERANCE
from quality.timestamps import format_timestamp, parse_timestamp
from warehouse import delta_store
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_quarantine_opened
from warehouse.layout import HubPaths

KEY = "test-key"


def _own_world(tiny_world: Path, tmp_path: Path) -> tuple[Path, Path]:
    own = tmp_path / "world"
    shutil.copytree(tiny_world, own)
    return own, world.paths(own).crm_db


def _stamps(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("select id, updated_at from contacts"))


def _stamp(db: Path, stamps: dict[str, str]) -> None:
    """Give contacts (copies of a real one under a new id, if absent) a new ``updated_at``."""
    with sqlite3.connect(db) as con:
        (template,) = con.execute("select payload from contacts order by id limit 1").fetchone()
        for record_id, stamp in stamps.items():
            found = con.execute("select payload from contacts where id = ?", (record_id,)).fetchone()
            record = {**json.loads(found[0] if found else template), "id": record_id, "updated_at": stamp}
            con.execute("insert or replace into contacts (id, updated_at, payload) values (?, ?, ?)",
                        (record_id, stamp, json.dumps(record)))


def _bronze_versions(paths: HubPaths) -> set[tuple[str, str]]:
    landed = delta_store.read(paths.bronze_table("crm", "contacts"), ["id", "updated_at"])
    assert landed is not None
    return {(r["id"], r["updated_at"]) for r in landed.to_pylist()}


def test_far_future_and_unparseable_stamps_are_quarantined_and_move_no_cursor(
    tiny_world: Path, tmp_path: Path, hub_paths: HubPaths
) -> None:
    own, db = _own_world(tiny_world, tmp_path)
    newest_real = max(_stamps(db).values())
    bad = {"FAR-FUTURE": "9999-12-31T23:59:59Z", "NOT-A-TIME": "31/12/2026 25:61"}
    _stamp(db, bad)

    with CrmServer(db, KEY, rate_limit=10_000) as server:
        client = CrmClient(server.url, KEY, page_size=100)
        first = pull_crm(hub_paths, client, CRM_CONTACTS)
        assert first.reconciles

        quarantine = read_quarantine_opened(hub_paths, "crm", development_vault(hub_paths))
        assert quarantine is not None
        mine = {json.loads(r["_raw"])["id"]: r for r in quarantine.to_pylist() if r["_field"] == "updated_at"}
        assert set(mine) == set(bad)
        assert mine["FAR-FUTURE"]["_rule"] == "future_timestamp"
        assert str(FUTURE_TOLERANCE) in mine["FAR-FUTURE"]["_error"]
        assert mine["NOT-A-TIME"]["_rule"] == "bad_timestamp"
        for row in mine.values():
            assert row["_entity"] == "contacts"
            assert row["_error"].startswith(f"crm/contacts {server.url}/v1/contacts")
            assert f"row {row['_row_number']}: field 'updated_at' " in row["_error"]
        # Only accepted records move the cursor.
        assert cursors(hub_paths).get("crm/contacts") == newest_real

        before = _stamps(db)
        world.advance(own, days=1)
        changed = {i: s for i, s in _stamps(db).items() if before.get(i) != s}
        assert changed
        second = pull_crm(hub_paths, client, CRM_CONTACTS)
    assert second.accepted == len(changed)  # every later change is pulled
    assert second.quarantined == 0  # and the bad records are not quarantined again
    assert second.reconciles
    assert set(changed.items()) <= _bronze_versions(hub_paths)


def test_the_cursor_stops_at_the_pull_start_when_a_source_clock_runs_ahead(
    tiny_world: Path, tmp_path: Path, hub_paths: HubPaths
) -> None:
    _, db = _own_world(tiny_world, tmp_path)
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # within the tolerance: accepted
    _stamp(db, {"SKEWED": format_timestamp(ahead)})

    with CrmServer(db, KEY, rate_limit=10_000) as server:
        client = CrmClient(server.url, KEY, page_size=100)
        started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        first = pull_crm(hub_paths, client, CRM_CONTACTS)
        finished = dt.datetime.now(dt.UTC)
        assert ("SKEWED", format_timestamp(ahead)) in _bronze_versions(hub_paths)
        assert first.quarantined == len(_planted_bad_contacts(hub_paths))
        cursor = parse_timestamp(cursors(hub_paths).get("crm/contacts"))
        assert started <= cursor <= finished

        # Written after the pull, before the skewed stamp: a cursor at that stamp would skip them.
        later = format_timestamp(dt.datetime.now(dt.UTC).replace(microsecond=0))
        updated = {record_id: later for record_id in sorted(_stamps(db))[:2]}
        _stamp(db, updated)
        second = pull_crm(hub_paths, client, CRM_CONTACTS)
    assert second.accepted == len(updated)
    assert second.reconciles
    assert set(updated.items()) <= _bronze_versions(hub_paths)


def _planted_bad_contacts(paths: HubPaths) -> list[dict]:
    quarantine = delta_store.read(paths.quarantine_table("crm"), ["_entity"])
    return [] if quarantine is None else [r for r in quarantine.to_pylist() if r["_entity"] == "contacts"]
