"""Row counts the e2e tests reconcile: bronze plus quarantine, per source."""

from quality.contracts import CONTRACTS
from warehouse import delta_store
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_quarantine_opened
from warehouse.layout import HubPaths


def bronze_and_quarantine_rows(paths: HubPaths) -> int:
    total = sum(delta_store.row_count(paths.bronze_table(c.source, c.entity)) for c in CONTRACTS.values())
    return total + sum(delta_store.row_count(paths.quarantine_table(s)) for s in ("crm", "erp", "social", "iot"))


def quarantine_rows(paths: HubPaths) -> list[dict]:
    """Every quarantined row, its payload opened with the run's (development) key."""
    rows: list[dict] = []
    with development_vault(paths) as vault:
        for source in ("crm", "erp", "social", "iot"):
            table = read_quarantine_opened(paths, source, vault)
            rows += [{**r, "source": source} for r in (table.to_pylist() if table is not None else [])]
    return rows
