"""Shared fixtures: every test gets its own data root, so nothing leaks between tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from warehouse.database import DatabaseFile
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


@pytest.fixture
def engineer_copy(hub_paths: HubPaths) -> DatabaseFile:
    """The data engineers' published copy (published/warehouse.duckdb) with its real key, from
    the key store of the test's data root under its development master key."""
    from privacy.keys.keystore import KeyStore
    from privacy.keys.master_key import load_master_key
    from warehouse.database import database_key
    from warehouse.role_databases import ENGINEER_ROLE, role_database

    master = load_master_key(key_file=None, key_value=None, dev_key_path=hub_paths.dev_master_key)
    with KeyStore.open(hub_paths.key_store, master) as store:
        return role_database(hub_paths.published, ENGINEER_ROLE, None, lambda name: database_key(store, name))



# In parallel (pytest-xdist, `make test`), each worker builds its own session and module
# fixtures. Whole test modules go to one worker, so a module fixture is built once; so do whole
# folders whose modules share a costly session fixture: the e2e pipeline run, the trained
# identity model. (xdist's `loadgroup` marks do not reach the scheduler under pytest 9.)
SHARED_BY_FOLDER = ("tests/e2e/", "tests/identity/")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class ByModuleAndSharedFolder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return next((f for f in SHARED_BY_FOLDER if module.startswith(f)), module)

    config.option.loadscopereorder = False  # keep the order below: the longest work first
    return ByModuleAndSharedFolder(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # On xdist workers, the end-to-end tests (each module a whole pipeline run) come first, so
    # the first two go to different workers instead of ending one worker's queue.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
