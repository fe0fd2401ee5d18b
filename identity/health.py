"""How healthy the identity graph is, from the state of the last run (no ground truth).

- cluster-size distribution: a long tail of big customers means over-merging;
- suspected over-merges: customers above the size limit, or holding two national IDs or
  two birth dates that cannot be one person's (only a steward's must-link can make them);
- churn: records whose customer ID changed in the last run, and whether the input had
  changed at all (churn on unchanged input is a bug, not a finding).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from identity.evidence import dob_conflict_sql
from identity.run_state import State
from identity.settings import IdentityConfig

BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 9), (10, 49), (50, None))


@dataclass
class Quality:
    records: int
    customers: int
    size_distribution: dict[str, int]
    largest: int
    over_limit: int
    suspects: pl.DataFrame = field(default_factory=pl.DataFrame)
    shared_identifiers: dict[str, int] = field(default_factory=dict)

    def metadata(self) -> dict[str, object]:
        return {
            "records": self.records, "customers": self.customers,
            "largest_customer": self.largest, "customers_over_size_limit": self.over_limit,
            "suspected_over_merges": self.suspects.height,
            "records_per_customer": round(self.records / max(1, self.customers), 3),
            **{f"customers_of_size_{k}": v for k, v in self.size_distribution.items()},
            **{f"shared_{k}s": v for k, v in self.shared_identifiers.items()},
        }


def _bucket(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


def assess(state: State, config: IdentityConfig) -> Quality:
    sizes = state.assignment.group_by("customer_id").len("size")
    dist = {}
    for lo, hi in BUCKETS:
        keep = pl.col("size") >= lo if hi is None else pl.col("size").is_between(lo, hi)
        dist[_bucket(lo, hi)] = sizes.filter(keep).height
    con = duckdb.connect()
    con.register("a", state.assignment.select("uid", "customer_id"))
    con.register("f", state.features.select("uid", "dob", "national_id"))
    con.register("s", sizes)
    suspects = con.sql(f"""
        with m as (select a.customer_id, f.* from a join f using (uid)),
        nid as (select customer_id, count(distinct national_id) as n from m group by all
                having count(distinct national_id) > 1),
        dob as (select distinct a.customer_id from m a join m b
                  on a.customer_id = b.customer_id and a.uid < b.uid
                where {dob_conflict_sql("a", "b")}),
        big as (select customer_id from s where size > {config.max_cluster_size})
        select s.customer_id, s.size,
               s.size > {config.max_cluster_size} as over_size_limit,
               nid.customer_id is not null as several_national_ids,
               dob.customer_id is not null as conflicting_birth_dates
        from s left join nid using (customer_id) left join dob using (customer_id)
        where s.customer_id in (select customer_id from big)
           or nid.customer_id is not null or dob.customer_id is not null
        order by s.size desc, s.customer_id
    """).pl()
    shared = dict(state.shared.group_by("kind").len().iter_rows()) if state.shared.height else {}
    return Quality(
        records=state.assignment.height, customers=sizes.height, size_distribution=dist,
        largest=int(sizes["size"].max() or 0),
        over_limit=sizes.filter(pl.col("size") > config.max_cluster_size).height,
        suspects=suspects, shared_identifiers=shared)
