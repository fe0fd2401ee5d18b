"""The e2e world: the whole pipeline run twice on a seeded 500-person world, once per session, so
every e2e module reads the same data root."""

from collections.abc import Iterator

import pytest

from demo import world
from demo.crm_server import CrmServer
from pipelines.environment import apply_env_defaults
from tests.e2e.helpers import bronze_and_quarantine_rows
from tests.pipelines.stream.mosquitto import broker  # noqa: F401 (the fixture, for the stream e2e test)
from warehouse.layout import HubPaths


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubPaths, dict, list[int]]]:
    from hub.runner import run_pipeline

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("e2e") / "hub"
    paths = HubPaths(root)
    manifest = world.generate(paths.world, people=500, seed=11)
    with CrmServer(paths.world / "crm" / "crm.sqlite", "e2e-key", rate_limit=10_000) as server:
        for key, value in {
            "HUB_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dagster"),
            "HUB_CRM_URL": server.url, "HUB_CRM_API_KEY": "e2e-key",
            "HUB_ERP_URL": f"sqlite:///{paths.world / 'erp' / 'erp.sqlite'}",
            "HUB_LANDING_DIR": str(paths.world / "landing"),
        }.items():
            mp.setenv(key, value)
        apply_env_defaults()
        assert run_pipeline("*")
        first = bronze_and_quarantine_rows(paths)
        assert run_pipeline("*")
        second = bronze_and_quarantine_rows(paths)
    yield paths, manifest, [first, second]
    mp.undo()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The session's two whole pipeline runs count against the first test's timeout; on a loaded
    # two-core machine, beside a second xdist worker, they take longer than the default 600 s.
    for item in items:
        if "pipeline_run" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(1500))
