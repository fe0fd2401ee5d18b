"""The CRM client against a real HTTP server on 127.0.0.1 (the simulator's CRM API)."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from demo import world
from demo.crm_server import CrmServer
from pipelines.connectors.crm_api import CrmApiError, CrmClient
from pipelines.connectors.pull import cursors, pull_crm
from quality.contracts import CRM_CONTACTS
from warehouse import delta_store
from warehouse.layout import HubPaths

KEY = "test-key"


def _count(db: Path, table: str, where: str = "1=1") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select count(*) from {table} where {where}").fetchone()[0]


def _ids(client: CrmClient, entity: str) -> list[str]:
    return [r["id"] for page in client.pages(entity) for r in page.records]


def test_pagination_walks_every_record_exactly_once(tiny_world: Path) -> None:
    db = world.paths(tiny_world).crm_db
    with CrmServer(db, KEY, rate_limit=10_000) as server:
        ids = _ids(CrmClient(server.url, KEY, page_size=7), "contacts")
    assert len(ids) == len(set(ids)) == _count(db, "contacts")
    assert len(ids) > 7 * 3


def test_rate_limit_429_is_retried_after_retry_after(tiny_world: Path) -> None:
    db = world.paths(tiny_world).crm_db
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        import time

        time.sleep(seconds)

    with CrmServer(db, KEY, rate_limit=3, rate_window_s=1.0) as server:
        client = CrmClient(server.url, KEY, page_size=50, sleep=sleep)
        ids = _ids(client, "activities")
    assert len(ids) == len(set(ids)) == _count(db, "activities")
    assert client.retries > 0
    assert waits and all(w == 1.0 for w in waits)  # the server's Retry-After, not a guess


def test_server_errors_back_off_and_recover(tiny_world: Path) -> None:
    db = world.paths(tiny_world).crm_db
    with CrmServer(db, KEY, rate_limit=10_000, fail_every=3) as server:
        client = CrmClient(server.url, KEY, page_size=40, backoff_base_s=0.01)
        ids = _ids(client, "contacts")
    assert len(set(ids)) == _count(db, "contacts")
    assert client.retries >= 1


def test_bad_api_key_fails_with_a_clear_error(tiny_world: Path) -> None:
    with CrmServer(world.paths(tiny_world).crm_db, KEY) as server, pytest.raises(CrmApiError, match="HTTP 401"):
        list(CrmClient(server.url, "wrong").pages("contacts"))


def test_cursor_resume_pulls_only_new_or_changed(tiny_world: Path, tmp_path: Path, hub_paths: HubPaths) -> None:
    own = tmp_path / "world"
    shutil.copytree(tiny_world, own)
    db = world.paths(own).crm_db
    with CrmServer(db, KEY, rate_limit=10_000) as server:
        client = CrmClient(server.url, KEY, page_size=100)
        first = pull_crm(hub_paths, client, CRM_CONTACTS)
        assert first.accepted + first.quarantined == _count(db, "contacts")
        cursor = cursors(hub_paths).get("crm/contacts")

        assert pull_crm(hub_paths, client, CRM_CONTACTS).accepted == 0

        world.advance(own, days=1)
        changed = _count(db, "contacts", f"updated_at > '{cursor}'")
        assert changed > 0
        third = pull_crm(hub_paths, client, CRM_CONTACTS)
        assert third.accepted + third.quarantined == changed
        assert cursors(hub_paths).get("crm/contacts") > cursor
    total = delta_store.row_count(hub_paths.bronze_table("crm", "contacts"))
    assert total == first.accepted + third.accepted
