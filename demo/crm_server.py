"""A HubSpot/Salesforce-like REST API over the simulated CRM's SQLite storage.

GET /v1/{contacts|accounts|opportunities|activities}?updated_since=&limit=&after=
Keyset pagination on (updated_at, id); bearer-token auth; a token-bucket rate limit
answering 429 with Retry-After; optional injected 503s for retry tests. The database
is opened per request, so advance() writes show up in a running server.
"""

from __future__ import annotations

import argparse
import base64
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

ENTITIES = ("contacts", "accounts", "opportunities", "activities")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class TokenBucket:
    """``capacity`` requests per ``window_s``, refilled continuously."""

    def __init__(self, capacity: int, window_s: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window_s
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def encode_cursor(updated_at: str, record_id: str) -> str:
    raw = json.dumps([updated_at, record_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[str, str]:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    updated_at, record_id = json.loads(raw)
    return str(updated_at), str(record_id)


def normalise_since(text: str) -> str:
    """Any ISO timestamp as the stored 'YYYY-MM-DDTHH:MM:SSZ' (UTC; naive means UTC)."""
    # An unescaped '+' in a query string arrives as a space: "...T10:00:00 02:00".
    moment = datetime.fromisoformat(text.strip().replace(" ", "+") if "T" in text else text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    # Stored times have whole seconds, so truncating keeps "strictly after" exact.
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class CrmServer:
    def __init__(self, db_path: Path, api_key: str, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: int = 100, rate_window_s: float = 1.0, fail_every: int = 0) -> None:
        self.db_path = Path(db_path)
        self.api_key = api_key
        self.bucket = TokenBucket(rate_limit, rate_window_s)
        self.fail_every = fail_every
        self._requests = 0
        self._count_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> CrmServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="crm-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI); ``start`` serves in the background."""
        self._httpd.serve_forever()

    def close(self) -> None:
        self._httpd.server_close()

    def __enter__(self) -> CrmServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- request handling ---------------------------------------------------------

    def handle(self, path: str, headers: Any) -> bytes:
        with self._count_lock:
            self._requests += 1
            number = self._requests
        if self.fail_every > 0 and number % self.fail_every == 0:
            raise ApiError(503, "service temporarily unavailable", {"Retry-After": "1"})
        if not self.bucket.take():
            raise ApiError(429, "rate limit exceeded", {"Retry-After": "1"})
        if headers.get("Authorization", "") != f"Bearer {self.api_key}":
            raise ApiError(401, "missing or invalid API key")
        url = urlsplit(path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "v1" or parts[1] not in ENTITIES:
            raise ApiError(404, f"unknown resource {url.path}")
        return self.page(parts[1], parse_qs(url.query))

    def page(self, entity: str, query: dict[str, list[str]]) -> bytes:
        try:
            limit = int(query.get("limit", [DEFAULT_LIMIT])[0])
            since = normalise_since(query["updated_since"][0]) if "updated_since" in query else None
            after = decode_cursor(query["after"][0]) if "after" in query else None
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"bad query parameter: {exc}") from exc
        if limit < 1:
            raise ApiError(400, "limit must be at least 1")
        limit = min(limit, MAX_LIMIT)
        where, args = [], []
        if since is not None:
            where.append("updated_at > ?")
            args.append(since)
        if after is not None:
            where.append("(updated_at, id) > (?, ?)")
            args.extend(after)
        sql = (f"SELECT id, updated_at, payload FROM {entity}"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY updated_at, id LIMIT ?")
        # Not mode=ro: a read-only WAL reader cannot remove the -wal/-shm files on close.
        con = sqlite3.connect(self.db_path)
        try:
            con.execute("PRAGMA query_only = ON")
            rows = con.execute(sql, (*args, limit + 1)).fetchall()
        finally:
            con.close()
        more = len(rows) > limit
        rows = rows[:limit]
        paging = (b',"paging":{"next":{"after":"'
                  + encode_cursor(rows[-1][1], rows[-1][0]).encode() + b'"}}') if more else b""
        # Payloads are stored as the API's JSON already; splice them without re-parsing.
        return (b'{"results":[' + b",".join(r[2].encode() for r in rows) + b"]" + paging + b"}")


def _handler_for(server: CrmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                body, status, headers = server.handle(self.path, self.headers), 200, {}
            except ApiError as err:
                body = json.dumps({"error": err.message, "status": err.status}).encode()
                status, headers = err.status, err.headers
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: a pipeline run makes thousands of requests

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.crm_server", description=__doc__)
    parser.add_argument("--world", type=Path, required=True, help="world root directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-limit", type=int, default=100)
    parser.add_argument("--rate-window", type=float, default=1.0)
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args(argv)
    from demo.layout import paths

    p = paths(args.world)
    api_key = json.loads(p.crm_config.read_text())["api_key"]
    server = CrmServer(p.crm_db, api_key, args.host, args.port, args.rate_limit,
                       args.rate_window, args.fail_every)
    print(f"CRM API on {server.url}/v1/contacts (Authorization: Bearer {api_key})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
