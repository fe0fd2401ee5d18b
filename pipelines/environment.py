"""The environment the code location runs in: every setting's default, written once.

The code location fills in what is unset when it loads (so `dagster dev` and `dg` work on a bare
shell), and the CLI does the same before it runs anything; the resources then read the settings
through ``dg.EnvVar`` and the data root through :func:`hub_paths`, its one reader.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.layout import DATA_DIR_VAR, PROJECT_ROOT, HubPaths


def hub_paths() -> HubPaths:
    """The data root the environment names (``HUB_DATA_DIR``), laid out."""
    return HubPaths.at(os.environ.get(DATA_DIR_VAR))


def env_defaults(paths: HubPaths) -> dict[str, str]:
    """Defaults for every setting the code location reads through ``dg.EnvVar``."""
    world = paths.world
    return {
        "HUB_DATA_DIR": str(paths.root),
        "DAGSTER_HOME": str(paths.dagster_home),
        "HUB_CRM_URL": "http://127.0.0.1:8765",
        "HUB_CRM_API_KEY": "demo-key",
        "HUB_ERP_URL": f"sqlite:///{world / 'erp' / 'erp.sqlite'}",
        "HUB_LANDING_DIR": str(world / "landing"),
        "HUB_EXECUTOR": "in_process",
        # Telemetry off: this machine has no internet and users should opt in, not out.
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    }


def apply_env_defaults() -> HubPaths:
    """Fill unset settings with their defaults (explicit environment always wins)."""
    paths = hub_paths()
    for key, value in env_defaults(paths).items():
        os.environ.setdefault(key, value)
    if os.environ.get("HUB_MASTER_KEY"):
        # dbt's staging decrypts with it; under this prefix dbt keeps it out of logs and files.
        os.environ.setdefault("DBT_ENV_SECRET_HUB_MASTER_KEY", os.environ["HUB_MASTER_KEY"])
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.symlink_to(PROJECT_ROOT / "dagster.yaml")
    return paths
