"""The Customer Hub code location. Everything under ``pipelines/defs`` is discovered, not listed."""

from pathlib import Path

import dagster as dg

from pipelines.environment import apply_env_defaults

apply_env_defaults()

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
