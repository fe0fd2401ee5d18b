"""Shared fixtures: every test gets its own data root, so nothing leaks between tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from warehouse.layout import HubPaths


@pytest.fixture
def hub_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubPaths:
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HUB_DATA_DIR", str(root))
    return HubPaths(root)


@pytest.fixture
def warehouse(hub_paths: HubPaths) -> Callable[[str], duckdb.DuckDBPyConnection]:
    """Open (and create) the test's warehouse.duckdb."""

    def connect(mode: str = "rw") -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(hub_paths.warehouse_db), read_only=mode == "ro")

    return connect


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded 300-person world, generated once per session; tests must not modify it."""
    from demo import world

    root = tmp_path_factory.mktemp("world") / "world"
    world.generate(root, people=300, seed=7)
    return root


# Run in parallel (pytest-xdist, `--dist loadgroup`), each worker builds its own session and
# module fixtures. The costly ones are built once: every test that uses one runs on the same
# worker. A test that uses a module-scoped fixture stays with its module.
SHARED_ON_ONE_WORKER = {
    "pipeline_run": "e2e-world",
    "model": "identity-model",
    "model_with_handles": "identity-model",
}


def _group(item: pytest.Item) -> str | None:
    names = getattr(item, "fixturenames", ())
    for name in names:
        if name in SHARED_ON_ONE_WORKER:
            return SHARED_ON_ONE_WORKER[name]
    return None


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    module_group: dict[str, str] = {}
    for item in items:
        group = _group(item)
        if group:
            module_group.setdefault(item.nodeid.split("::")[0], group)
    for item in items:
        module = item.nodeid.split("::")[0]
        group = _group(item) or (module_group.get(module, module) if _uses_a_module_fixture(item) else None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
