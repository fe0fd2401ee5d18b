"""The CRM REST API: keyset pagination, incremental filter, auth, 429 and 503."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from demo import world
from demo.crm_server import CrmServer
from tests.demo.helpers import sql

AUTH = {"Authorization": "Bearer demo-key"}


@pytest.fixture(scope="module")
def server(world_root: Path):
    with CrmServer(world.paths(world_root).crm_db, "demo-key", rate_limit=10_000) as s:
        yield s


def walk(url: str, **params: str | int) -> list[dict]:
    out: list[dict] = []
    while True:
        body = requests.get(url, params=params, headers=AUTH, timeout=10).json()
        out.extend(body["results"])
        nxt = (body.get("paging") or {}).get("next")
        if not nxt:
            return out
        params["after"] = nxt["after"]


def test_pagination_walks_every_record_exactly_once(server: CrmServer, world_root: Path) -> None:
    db = world.paths(world_root).crm_db
    for entity in ("contacts", "accounts", "opportunities", "activities"):
        got = walk(f"{server.url}/v1/{entity}", limit=37)
        ids = [r["id"] for r in got]
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(r[0] for r in sql(db, f"SELECT id FROM {entity}"))
        keys = [(r["updated_at"], r["id"]) for r in got]
        assert keys == sorted(keys)


def test_updated_since_returns_only_newer_records(server: CrmServer, world_root: Path) -> None:
    db = world.paths(world_root).crm_db
    stamps = sorted(r[0] for r in sql(db, "SELECT updated_at FROM contacts"))
    since = stamps[len(stamps) // 2]
    got = walk(f"{server.url}/v1/contacts", updated_since=since, limit=50)
    assert got and all(r["updated_at"] > since for r in got)
    assert len(got) == sum(s > since for s in stamps)
    # Offsets and naive timestamps mean the same instant.
    naive = since.rstrip("Z")
    assert len(walk(f"{server.url}/v1/contacts", updated_since=naive + "+00:00")) == len(got)


def test_limit_is_capped_and_validated(server: CrmServer, world_root: Path) -> None:
    total = sql(world.paths(world_root).crm_db, "SELECT count(*) FROM activities")[0][0]
    body = requests.get(f"{server.url}/v1/activities", params={"limit": 5000}, headers=AUTH,
                        timeout=10).json()
    assert len(body["results"]) == min(total, 1000)
    assert ("paging" in body) == (total > 1000)
    bad = requests.get(f"{server.url}/v1/activities", params={"limit": "x"}, headers=AUTH,
                       timeout=10)
    assert bad.status_code == 400


def test_auth_and_unknown_entity(server: CrmServer) -> None:
    assert requests.get(f"{server.url}/v1/contacts", timeout=10).status_code == 401
    wrong = requests.get(f"{server.url}/v1/contacts", headers={"Authorization": "Bearer no"},
                         timeout=10)
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert requests.get(f"{server.url}/v1/leads", headers=AUTH, timeout=10).status_code == 404


def test_rate_limit_answers_429_with_retry_after(world_root: Path) -> None:
    with CrmServer(world.paths(world_root).crm_db, "demo-key", rate_limit=3,
                   rate_window_s=60) as s:
        codes = [requests.get(f"{s.url}/v1/accounts", headers=AUTH, timeout=10)
                 for _ in range(5)]
    assert [c.status_code for c in codes] == [200, 200, 200, 429, 429]
    assert codes[3].headers["Retry-After"] == "1"


def test_fail_every_injects_503(world_root: Path) -> None:
    with CrmServer(world.paths(world_root).crm_db, "demo-key", fail_every=3) as s:
        codes = [requests.get(f"{s.url}/v1/accounts", headers=AUTH, timeout=10).status_code
                 for _ in range(6)]
    assert codes == [200, 200, 503, 200, 200, 503]
