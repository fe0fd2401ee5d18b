"""Gold suites as asset checks on the published marts. Error-level ones block: a failing mart
does not reach the gold Delta copies, the analysts' database or the role databases."""

import dagster as dg

from pipelines.defs.quality.suite_checks import suite_asset_check
from quality.suites import load_suites

GOLD_CHECKS = [
    suite_asset_check(suite, dg.AssetKey(suite.table.split(".")), blocking=True)
    for suite in load_suites("gold")
]
