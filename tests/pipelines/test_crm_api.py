"""The CRM client against a real HTTP server on 127.0.0.1 (the simulator's CRM API)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from demo import world
from demo.crm_server import CrmServer
from pipelines.connectors.crm_api import CrmApiError, CrmClient
from pipelines.connectors.pull import cursors, pull_crm
from quality.contracts import CRM_CONTACTS
from warehouse import delta_store
from warehouse.layout import PROJECT_ROOT, HubPaths

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


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: _Scripted

    def do_GET(self) -> None:
        content_type, body = self.server.next_answer()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Scripted(ThreadingHTTPServer):
    """Answers each GET with the next (content type, body) of a script; the last one repeats."""

    def __init__(self, script: list[tuple[str, bytes]]) -> None:
        self.script = script
        self.hits = 0
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def next_answer(self) -> tuple[str, bytes]:
        answer = self.script[min(self.hits, len(self.script) - 1)]
        self.hits += 1
        return answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_a_200_whose_body_is_not_json_is_retried_like_a_5xx() -> None:
    good = json.dumps({"results": [{"id": "c1"}, {"id": "c2"}], "paging": {}}).encode()
    server = _Scripted([
        ("text/html", b"<html>proxy error</html>"),
        ("application/json", b'{"results": [{"id": "c1"'),  # cut off mid-way
        ("application/json", good),
    ])
    try:
        client = CrmClient(server.url, KEY, backoff_base_s=0.01)
        assert _ids(client, "contacts") == ["c1", "c2"]
    finally:
        server.shutdown()
    assert client.retries == 2
    assert server.hits == 3


def test_a_body_that_stays_bad_fails_without_echoing_it() -> None:
    server = _Scripted([("text/html", b"<html>jane@example.com</html>")])
    try:
        with pytest.raises(CrmApiError, match="HTTP 200 with a body that is not a JSON object after 3 attempts") as err:
            list(CrmClient(server.url, KEY, max_retries=2, backoff_base_s=0.01).pages("contacts"))
    finally:
        server.shutdown()
    assert "jane" not in str(err.value)


def test_a_server_that_never_answers_fails_within_the_deadline() -> None:
    held: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def accept() -> None:
            while True:  # accept and never answer, as a hung backend behind a load balancer does
                try:
                    held.append(listener.accept()[0])
                except OSError:
                    return

        threading.Thread(target=accept, daemon=True).start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(CrmApiError, match=r"no answer within the 1\.5s deadline"):
            list(CrmClient(url, KEY, deadline_s=1.5).pages("contacts"))
        elapsed = time.monotonic() - started
    for conn in held:
        conn.close()
    assert 1.4 <= elapsed < 3.0


def test_hub_run_prints_the_root_cause_of_a_failed_step(tiny_world: Path, hub_paths: HubPaths) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DAGSTER_"))}
    with CrmServer(world.paths(tiny_world).crm_db, KEY) as server:
        env |= {
            "HUB_DATA_DIR": str(hub_paths.root),
            "HUB_CRM_URL": server.url,
            "HUB_CRM_API_KEY": "revoked-key",
        }
        done = subprocess.run(
            [str(Path(sys.executable).parent / "hub"), "run", "--select", "key:bronze/crm/contacts"],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    cause = next(line for line in done.stdout.splitlines() if line.strip().startswith("crm_bronze failed:"))
    assert f"CRM {server.url}/v1/contacts" in cause
    assert "HTTP 401" in cause
    assert "DagsterExecutionStepExecutionError" not in cause
