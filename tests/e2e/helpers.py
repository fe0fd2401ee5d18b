"""Row counts the e2e tests reconcile: bronze plus quarantine, per source."""

from quality.contracts import CONTRACTS
from warehouse import delta_store
from warehouse.layout import HubPaths


def bronze_and_quarantine_rows(paths: HubPaths) -> int:
    total = sum(delta_store.row_count(paths.bronze_table(c.source, c.entity)) for c in CONTRACTS.values())
    return total + sum(delta_store.row_count(paths.quarantine_table(s)) for s in ("crm", "erp", "social", "iot"))


def quarantine_rows(paths: HubPaths) -> list[dict]:
    rows: list[dict] = []
    for source in ("crm", "erp", "social", "iot"):
        table = delta_store.read(paths.quarantine_table(source))
        rows += [{**r, "source": source} for r in (table.to_pylist() if table is not None else [])]
    return rows
