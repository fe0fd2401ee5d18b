"""Every source the hub ingests, one entry each.

An entry names the source's contracts and how its records arrive, and from it come the bronze
assets (one per entity), their checks, and the way they are triggered: a source pulled on a
clock is one subsettable multi-asset whose ``tags`` the clock's job selects
(``schedules.py``); a file source gets one asset and one landing sensor per entity
(``sensors.py``). A source that declares no pull tag joins no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.connectors.landing_files import read_csv, read_jsonl
from pipelines.connectors.pull import Reader, pull_crm, pull_erp
from pipelines.defs.resources import CrmApi, ErpDatabase
from quality.contracts import (
    IOT_DEVICES,
    IOT_TELEMETRY,
    SOCIAL_POSTS,
    EntityContract,
    contracts_for,
)

# What a clock's job selects: the assets of every source tagged pull=<clock>.
PULL_TAG = "pull"
HOURLY = "hourly"
# File sources land when files arrive (a sensor per entity), never on a clock.
ON_ARRIVAL = "on_arrival"


@dataclass(frozen=True)
class Pull:
    """A source pulled incrementally on a clock (an API, a database)."""

    resource: str  # the resource key the pull goes through
    connect: Callable[[Any], Any]  # resource -> client or engine, opened once per run
    land: Callable[..., Any]  # (paths, client, contract, vault=) -> LandingReport
    description: str  # what one run does
    describe: str  # each entity asset's description; {entity} is filled in
    summary: Callable[[Any], str] | None = None  # a log line about the client after the pull


@dataclass(frozen=True)
class Files:
    """Where one entity's file drops arrive and how to read them; each file lands once."""

    folder: tuple[str, ...]  # below the landing zone
    pattern: str
    reader: Reader


@dataclass(frozen=True)
class Source:
    name: str
    contracts: tuple[EntityContract, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    pull: Pull | None = None
    files: Mapping[str, Files] = field(default_factory=dict)  # contract name -> its drops

    def __post_init__(self) -> None:
        if (self.pull is None) == (not self.files):
            raise ValueError(f"source {self.name}: declare either a pull or files")
        if self.files and set(self.files) != {c.name for c in self.contracts}:
            raise ValueError(f"source {self.name}: files must name every contract, and only those")
        if any(c.source != self.name for c in self.contracts):
            raise ValueError(f"source {self.name}: a contract of another source")


SOURCES: list[Source] = [
    Source(
        "crm",
        contracts=tuple(contracts_for("crm")),
        tags={PULL_TAG: HOURLY},
        pull=Pull(
            "crm", CrmApi.client, pull_crm,
            description="Pull new and changed CRM records (paginated, rate-limit aware) into bronze.",
            describe="CRM {entity}, pulled from the REST API by updated_at cursor.",
            summary=lambda client: f"CRM requests retried: {client.retries}",
        ),
    ),
    Source(
        "erp",
        contracts=tuple(contracts_for("erp")),
        tags={PULL_TAG: HOURLY},
        pull=Pull(
            "erp", ErpDatabase.engine, pull_erp,
            description="Extract new and changed ERP rows into bronze.",
            describe="ERP {entity}, extracted by (updated_at, key) watermark.",
        ),
    ),
    Source(
        "social",
        contracts=(SOCIAL_POSTS,),
        tags={PULL_TAG: ON_ARRIVAL},
        files={SOCIAL_POSTS.name: Files(("social",), "*.jsonl", read_jsonl)},
    ),
    Source(
        "iot",
        contracts=(IOT_DEVICES, IOT_TELEMETRY),
        tags={PULL_TAG: ON_ARRIVAL},
        files={
            IOT_DEVICES.name: Files(("iot", "registry"), "*.csv", read_csv),
            IOT_TELEMETRY.name: Files(("iot", "telemetry"), "*.jsonl", read_jsonl),
        },
    ),
]


def file_drops() -> list[tuple[Source, EntityContract, Files]]:
    """Every entity that arrives as files, with its source and where its files land."""
    return [(s, c, s.files[c.name]) for s in SOURCES for c in s.contracts if s.files]
