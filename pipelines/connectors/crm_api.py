"""HTTP client for a HubSpot/Salesforce-style CRM REST API.

Pagination follows the ``paging.next.after`` keyset token; ``updated_since``
makes pulls incremental. 429 answers are retried after the server's
``Retry-After``; 5xx answers, 200 answers whose body is not a JSON object and
dropped connections back off exponentially. Each page of a pull has a deadline
(retries included); each request's timeout is capped by what is left of it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)

# Each page of a pull, retries included, must arrive within this, so a server that accepts
# connections but never answers fails the run in two minutes instead of holding it. Per page,
# not per pull: a healthy pull of a large CRM may rightly take longer than any fixed bound.
DEFAULT_PAGE_DEADLINE_S = 120.0


class CrmApiError(RuntimeError):
    """A CRM request that failed for good (bad key, bad request, retries exhausted)."""


@dataclass(frozen=True)
class Page:
    number: int
    url: str
    records: list[dict[str, Any]]


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:  # requests' JSONDecodeError, and bodies cut off mid-way
        return None
    return body if isinstance(body, dict) else None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class CrmClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        page_size: int = 500,
        max_retries: int = 8,
        backoff_base_s: float = 0.25,
        backoff_max_s: float = 30.0,
        timeout_s: float = 30.0,
        deadline_s: float = DEFAULT_PAGE_DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.sleep = sleep
        self.retries = 0
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return delay * (0.5 + random.random() / 2)  # jitter keeps parallel clients apart

    def _get(self, url: str, params: dict[str, Any], deadline: float) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._past_deadline(url, attempt)
            try:
                # The per-request timeout never reaches past the page's deadline.
                response = self.session.get(url, params=params, timeout=min(self.timeout_s, remaining))
            except (requests.ConnectionError, requests.Timeout) as exc:
                if time.monotonic() >= deadline:
                    raise self._past_deadline(url, attempt + 1) from exc
                if attempt == self.max_retries:
                    raise CrmApiError(f"CRM {url}: no answer after {attempt + 1} attempts ({exc})") from exc
                self._wait(self._backoff(attempt), deadline, url, attempt + 1)
                continue
            if response.status_code == 200:
                body = _json_object(response)
                if body is not None:
                    return body
                # A cut-off or garbled body is a transient fault like a 5xx: ask again.
                if attempt == self.max_retries:
                    raise CrmApiError(
                        f"CRM {response.url}: HTTP 200 with a body that is not a JSON object after "
                        f"{attempt + 1} attempts ({response.headers.get('Content-Type', 'no content type')}, "
                        f"{len(response.content)} bytes)"
                    )
                self._wait(self._backoff(attempt), deadline, url, attempt + 1)
                continue
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt == self.max_retries:
                raise CrmApiError(
                    f"CRM {response.url}: HTTP {response.status_code} after {attempt + 1} attempts: "
                    f"{response.text[:200]}"
                )
            wait = _retry_after_seconds(response.headers.get("Retry-After"))
            if response.status_code == 429:
                log.info("CRM rate limit on %s, waiting %.1fs", url, wait or 1.0)
            self._wait(wait if wait is not None else self._backoff(attempt), deadline, url, attempt + 1)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, deadline: float, url: str, attempts: int) -> None:
        if time.monotonic() + seconds > deadline:
            raise self._past_deadline(url, attempts)
        self.retries += 1
        self.sleep(seconds)

    def _past_deadline(self, url: str, attempts: int) -> CrmApiError:
        return CrmApiError(
            f"CRM {url}: no answer within the {self.deadline_s:g}s deadline after {attempts} attempts"
        )

    def pages(self, entity: str, updated_since: str | None = None) -> Iterator[Page]:
        """Every page of ``entity`` changed after ``updated_since``, in (updated_at, id) order."""
        url = f"{self.base_url}/v1/{entity}"
        params: dict[str, Any] = {"limit": self.page_size}
        if updated_since:
            params["updated_since"] = updated_since
        number = 0
        while True:
            number += 1
            body = self._get(url, params, time.monotonic() + self.deadline_s)
            yield Page(number, f"{url}?page={number}", list(body.get("results") or []))
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after
