"""From scored pairs to clusters, honouring steward overrides and hard conflicts.

Plain connected components over pairs above the threshold are what Splink does; one weak
link can then chain two people together. Here components are only the starting point:

- steward ``must_link`` pairs are links with probability 1;
- ``cannot_link`` pairs, and pairs of records that cannot be one person (different
  national IDs; or a clearly different first name *and* birth date), are constraints;
- a component holding a constraint is rebuilt greedily, strongest link first, skipping any
  link that would join two records that must stay apart. Must-links go first, so a steward
  always wins over the automatic conflicts (but not over another steward's cannot-link).

The result is deterministic: ties are broken by uid, and a cluster is labelled by its
smallest uid.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from identity.evidence import dob_conflict_sql, name_conflict_sql


def components(uids: np.ndarray, links: pl.DataFrame) -> np.ndarray:
    """Component label (smallest uid in it) for each of ``uids``."""
    n = len(uids)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    index = pl.DataFrame({"uid": uids, "i": np.arange(n)})
    pairs = (links.select("uid_l", "uid_r")
             .join(index.rename({"uid": "uid_l", "i": "a"}), on="uid_l")
             .join(index.rename({"uid": "uid_r", "i": "b"}), on="uid_r"))
    graph = coo_matrix((np.ones(pairs.height), (pairs["a"].to_numpy(), pairs["b"].to_numpy())),
                       shape=(n, n))
    _, label = connected_components(graph, directed=False)
    smallest = pl.DataFrame({"label": label, "uid": uids}).group_by("label").agg(
        pl.col("uid").min().alias("root"))
    return (pl.DataFrame({"label": label}).join(smallest, on="label", how="left",
                                                maintain_order="left")["root"].to_numpy())


def conflicts(features: pl.DataFrame, comp: pl.DataFrame, national_id: bool = True,
              birth_date: bool = True) -> pl.DataFrame:
    """Pairs (uid_l, uid_r) within one component that cannot be the same person."""
    con = duckdb.connect()
    con.register("c", comp)
    con.register("f", features.select("uid", "first_name", "last_name", "first_name_forms",
                                      "dob", "national_id"))
    nid = "(a.national_id is not null and b.national_id is not null " \
          "and a.national_id <> b.national_id)" if national_id else "false"
    dob = dob_conflict_sql("a", "b") if birth_date else "false"
    return con.sql(f"""
        with m as (select f.*, c.component from f join c using (uid)),
        suspects as (
            select component from m group by component
            having count(distinct national_id) > 1 or count(distinct dob) > 1
        ),
        s as (select m.* from m join suspects using (component))
        select a.uid as uid_l, b.uid as uid_r
        from s a join s b on a.component = b.component and a.uid < b.uid
        where {nid} or {dob} or ({name_conflict_sql("a", "b")} and {dob_conflict_sql("a", "b")})
    """).pl()


def _greedy(members: Iterable[int], links: list[tuple[int, int, float, bool]],
            steward_no: set[tuple[int, int]], auto_no: set[tuple[int, int]]) -> dict[int, int]:
    parent = {u: u for u in members}
    group = {u: {u} for u in parent}

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    def blocked(a: set[int], b: set[int], forbidden: set[tuple[int, int]]) -> bool:
        small, large = (a, b) if len(a) <= len(b) else (b, a)
        return any((min(x, y), max(x, y)) in forbidden for x in small for y in large)

    # Steward links first, then strongest first; uid order breaks ties.
    for u, v, _p, must in sorted(links, key=lambda e: (not e[3], -e[2], e[0], e[1])):
        ru, rv = find(u), find(v)
        if ru == rv:
            continue
        forbidden = steward_no if must else steward_no | auto_no
        if blocked(group[ru], group[rv], forbidden):
            continue
        if len(group[ru]) < len(group[rv]):
            ru, rv = rv, ru
        parent[rv] = ru
        group[ru] |= group.pop(rv)
    return {u: min(group[find(u)]) for u in parent}


def cluster(features: pl.DataFrame, edges: pl.DataFrame, threshold: float,
            overrides: pl.DataFrame | None = None, national_id_conflicts: bool = True,
            birth_date_conflicts: bool = True) -> pl.DataFrame:
    """(uid, cluster) for every record in ``features``; cluster = smallest uid in it."""
    overrides = overrides if overrides is not None else pl.DataFrame(
        schema={"rule": pl.String, "uid_l": pl.Int64, "uid_r": pl.Int64})
    links = edges.filter(pl.col("match_probability") >= threshold).select(
        "uid_l", "uid_r", "match_probability", pl.lit(False).alias("must"))
    must = overrides.filter(pl.col("rule") == "must_link").select(
        "uid_l", "uid_r", pl.lit(1.0).alias("match_probability"), pl.lit(True).alias("must"))
    links = pl.concat([links, must])
    uids = features["uid"].to_numpy()
    comp = pl.DataFrame({"uid": uids, "component": components(uids, links)})
    sizes = comp.group_by("component").len()
    multi = comp.join(sizes.filter(pl.col("len") > 1), on="component").select("uid", "component")
    auto = conflicts(features.join(multi.select("uid"), on="uid"), multi, national_id_conflicts,
                     birth_date_conflicts)
    steward = overrides.filter(pl.col("rule") == "cannot_link").select("uid_l", "uid_r")
    cannot = pl.concat([auto.with_columns(pl.lit(False).alias("steward")),
                        steward.with_columns(pl.lit(True).alias("steward"))])
    cannot = cannot.join(comp.rename({"uid": "uid_l", "component": "c_l"}), on="uid_l").join(
        comp.rename({"uid": "uid_r", "component": "c_r"}), on="uid_r").filter(
        pl.col("c_l") == pl.col("c_r"))
    if cannot.is_empty():
        return comp.rename({"component": "cluster"}).sort("uid")
    result = dict(zip(comp["uid"].to_list(), comp["component"].to_list(), strict=True))
    constrained = cannot["c_l"].unique()
    link_parts = (links.join(comp.rename({"uid": "uid_l"}), on="uid_l")
                  .filter(pl.col("component").is_in(constrained.implode()))
                  .partition_by("component", as_dict=True))
    member_parts = multi.filter(pl.col("component").is_in(constrained.implode())).partition_by(
        "component", as_dict=True)
    for (component,), mine in cannot.partition_by("c_l", as_dict=True).items():
        steward_no = set(mine.filter("steward").select("uid_l", "uid_r").iter_rows())
        auto_no = set(mine.filter(~pl.col("steward")).select("uid_l", "uid_r").iter_rows())
        comp_links = link_parts[(component,)].select(
            "uid_l", "uid_r", "match_probability", "must").rows()
        members = member_parts[(component,)]["uid"].to_list()
        result.update(_greedy(members, comp_links, steward_no, auto_no))
    return pl.DataFrame({"uid": list(result), "cluster": list(result.values())},
                        schema={"uid": pl.Int64, "cluster": pl.Int64}).sort("uid")

