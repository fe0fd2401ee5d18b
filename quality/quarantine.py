"""Row-level quarantine: which rows of a table failed which quarantining rules.

Counts reconcile by construction: every row of the table is either in ``rejections`` (with at
least one rule) or passes; ``reconcile`` proves it for a table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

from quality.gx_runner import SuiteResult

REJECTIONS_SCHEMA = pa.schema([
    ("layer", pa.string()), ("table_name", pa.string()), ("record_key", pa.string()), ("rules", pa.string()),
])


def rejections(results: list[SuiteResult]) -> pa.Table:
    """One row per quarantined row: its table, business key and the failed rule names (sorted, ';')."""
    rows: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for result in results:
        for outcome in result.results:
            if outcome.quarantine and not outcome.success:
                for key in outcome.failing_keys:
                    rows[(result.suite.layer, result.suite.table_name, key)].add(outcome.name)
    ordered = sorted(rows)
    return pa.table({
        "layer": [k[0] for k in ordered], "table_name": [k[1] for k in ordered],
        "record_key": [k[2] for k in ordered], "rules": [";".join(sorted(rows[k])) for k in ordered],
    }, schema=REJECTIONS_SCHEMA)


@dataclass(frozen=True)
class Reconciliation:
    table: str
    rows_in: int
    passed: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.passed + self.quarantined
