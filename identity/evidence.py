"""Deterministic evidence and merge protection.

An exact match on an email, phone or national ID is strong evidence, but only while the
identifier belongs to one person. A ``team@`` mailbox, a shop's phone, a family address or
a household's landline is carried by several people; used as evidence it would chain them
into one customer. So before matching, every identifier is checked:

- against the blocklist (``config/identity.yaml``), and
- for cardinality: more than ``max_records_per_identifier`` records, or records that
  plainly belong to more than ``max_people_per_identifier`` people (first names or birth
  dates that conflict, not merely differ by a typo, nickname or swap).

Shared identifiers are removed from the matching input (they never score and never block)
and are listed, with the reason, for ``explain`` and the quality report.

Stewards can also state facts: ``must_link`` and ``cannot_link`` pairs, kept as CSV files
(or a Delta table) in the overrides folder and honoured on every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from identity.settings import IdentityConfig, dates_off_by_one_sql, given_name_alone_sql

IDENTIFIERS = ("email", "phone", "national_id", "social_handle")
# Columns derived from an identifier are removed with it.
DERIVED = {"email": ("email_local",), "phone": ("phone_last8",), "national_id": (),
           "social_handle": ()}
OVERRIDE_COLUMNS = ("rule", "source_l", "source_record_id_l", "source_r", "source_record_id_r")
RULES = ("must_link", "cannot_link")


def _similar(x: str, y: str) -> str:
    return (f"({x} = {y} or jaro_winkler_similarity({x}, {y}) >= 0.85 "
            f"or damerau_levenshtein({x}, {y}) <= 1 "
            f"or (length({x}) = 1 and starts_with({y}, {x})) "
            f"or (length({y}) = 1 and starts_with({x}, {y})))")


def name_conflict_sql(a: str, b: str) -> str:
    """True when two records' first names cannot be the same person's.

    Names are first aligned: when one record has first and last name swapped (its first
    name is the other's surname), its surname is compared with the other's first name.
    """
    straight = (f"(len(list_intersect({a}.first_name_forms, {b}.first_name_forms)) > 0 "
                f"or {_similar(f'{a}.first_name', f'{b}.first_name')})")
    swapped_ab = (f"({a}.first_name = {b}.last_name and ({_similar(f'{a}.last_name', f'{b}.first_name')}"
                  f" or list_contains({b}.first_name_forms, {a}.last_name)))")
    swapped_ba = (f"({b}.first_name = {a}.last_name and ({_similar(f'{b}.last_name', f'{a}.first_name')}"
                  f" or list_contains({a}.first_name_forms, {b}.last_name)))")
    # The same letters split differently ("chengtang jun" / "juncheng tang": a Chinese name
    # written surname-last, then split) are one name.
    regrouped = f"({_letters(a)} = {_letters(b)})"
    given_alone = f"({given_name_alone_sql(a + '.{}', b + '.{}')})"
    return f"""(
        {a}.first_name is not null and {b}.first_name is not null
        and not {straight} and not coalesce({swapped_ab}, false)
        and not coalesce({swapped_ba}, false) and not coalesce({regrouped}, false)
        and not coalesce({given_alone}, false)
    )"""


def _letters(t: str) -> str:
    return (f"array_to_string(list_sort(string_split({t}.first_name || "
            f"coalesce({t}.last_name, ''), '')), '')")


def dob_conflict_sql(a: str, b: str) -> str:
    """True when two birth dates differ by more than a day/month swap, one typed digit,
    one day or one year (the errors of one person's birth date, not two people's)."""
    return f"""(
        {a}.dob is not null and {b}.dob is not null and {a}.dob <> {b}.dob
        and not (year({a}.dob) = year({b}.dob) and month({a}.dob) = day({b}.dob)
                 and day({a}.dob) = month({b}.dob))
        and damerau_levenshtein(cast({a}.dob as varchar), cast({b}.dob as varchar)) > 1
        and not {dates_off_by_one_sql(f"{a}.dob", f"{b}.dob")}
    )"""


def find_shared(features: pl.DataFrame, config: IdentityConfig) -> pl.DataFrame:
    """One row per shared identifier: kind, value, n_records, n_people, reason."""
    con = duckdb.connect()
    con.register("f", features.select(
        "uid", "first_name", "last_name", "first_name_forms", "dob", *IDENTIFIERS))
    # Identifier values alone first: the names and birth dates are joined only to the
    # groups that can be shared (most values are one record's).
    ids = " union all ".join(
        f"select '{k}' as kind, {k} as value, uid from f where {k} is not null"
        for k in IDENTIFIERS)
    limit = config.max_records_per_identifier
    rows = con.sql(f"""
        with ids as ({ids}),
        sizes as (select kind, value, count(*) as n_records from ids group by all),
        grouped as (
            select ids.kind, ids.value, f.uid, f.first_name, f.last_name, f.first_name_forms,
                   f.dob
            from ids join sizes using (kind, value) join f using (uid)
            where n_records between 2 and {limit}
        ),
        -- Two records with the same first name (or none) and the same birth date (or none)
        -- cannot conflict: the conditions are evaluated only on the others.
        raw_conflicts as (
            select kind, value, uid_a, uid_b, coalesce(dob_conflict, false) as by_dob
            from (
                select a.kind, a.value, a.uid as uid_a, b.uid as uid_b,
                       {dob_conflict_sql("a", "b")} as dob_conflict
                from grouped a join grouped b
                  on a.kind = b.kind and a.value = b.value and a.uid < b.uid
                where (a.first_name <> b.first_name or a.dob <> b.dob)
                  and (coalesce({dob_conflict_sql("a", "b")}, false)
                       or coalesce({name_conflict_sql("a", "b")}, false))
            )
        ),
        -- Two typos of one name ("Mry", "Maly") conflict with each other but not with the
        -- "Mary" beside them: a third record (a name, not an initial, which would bridge
        -- John and Jane) agreeing with both explains a name conflict. Birth dates are not
        -- explained away.
        bridged as (
            select distinct r.kind, r.value, r.uid_a, r.uid_b
            from raw_conflicts r
            join grouped a on a.kind = r.kind and a.value = r.value and a.uid = r.uid_a
            join grouped b on b.kind = r.kind and b.value = r.value and b.uid = r.uid_b
            join grouped m on m.kind = r.kind and m.value = r.value
             and m.uid <> r.uid_a and m.uid <> r.uid_b
            where not r.by_dob and length(m.first_name) > 1
              and not {name_conflict_sql("a", "m")} and not {name_conflict_sql("b", "m")}
              and not coalesce({dob_conflict_sql("a", "m")}, false)
              and not coalesce({dob_conflict_sql("b", "m")}, false)
        ),
        conflicts as (
            select kind, value, uid_a, uid_b from raw_conflicts
            anti join bridged using (kind, value, uid_a, uid_b)
        ),
        involved as (
            select kind, value, uid_a as uid from conflicts
            union select kind, value, uid_b from conflicts
        ),
        -- People behind a shared identifier: distinct first names among the records that
        -- conflict (at least two, since a conflict needs two people).
        people as (
            select i.kind, i.value,
                   greatest(2, count(distinct coalesce(g.first_name, cast(g.uid as varchar))))
                   as n_people
            from involved i join grouped g using (kind, value, uid)
            group by all
        )
        select s.kind, s.value, s.n_records, coalesce(p.n_people, 1) as n_people
        from sizes s left join people p using (kind, value)
        where s.n_records > {limit} or p.n_people is not null
    """).pl()
    con.close()
    rows = rows.with_columns(
        pl.when(pl.col("n_records") > limit).then(pl.lit("cardinality"))
        .when(pl.col("n_people") > config.max_people_per_identifier).then(pl.lit("people"))
        .otherwise(None).alias("reason"))
    rows = rows.filter(pl.col("reason").is_not_null())
    blocked = pl.concat([_blocklisted(features, kind, config.blocklist.get(kind, ()))
                         for kind in IDENTIFIERS])
    blocked = blocked.with_columns(pl.lit(None, pl.Int64).alias("n_people"),
                                   pl.lit("blocklist").alias("reason"))
    out = pl.concat([rows.with_columns(pl.col("n_records").cast(pl.Int64),
                                       pl.col("n_people").cast(pl.Int64)), blocked])
    return out.unique(subset=["kind", "value"], keep="last").sort("kind", "value")


def _blocklisted(features: pl.DataFrame, kind: str, patterns: Iterable[str]) -> pl.DataFrame:
    """(kind, value, n_records) of the ``kind`` values a blocklist pattern finds.

    A pattern is searched on the whole column at once where Polars' regex engine takes it,
    else (a back-reference, say) with Python's ``re`` on each distinct value.
    """
    counts = features.select(pl.col(kind).alias("value")).drop_nulls().group_by("value").len(
        "n_records")
    hit = pl.repeat(False, counts.height, eager=True)
    for pattern in patterns:
        try:
            hit = hit | counts["value"].str.contains(pattern)
        except pl.exceptions.ComputeError:
            compiled = re.compile(pattern)
            hit = hit | pl.Series([compiled.search(v) is not None
                                   for v in counts["value"].to_list()], dtype=pl.Boolean)
    return counts.filter(hit).select(pl.lit(kind).alias("kind"), "value",
                                     pl.col("n_records").cast(pl.Int64))


def without_shared(features: pl.DataFrame, shared: pl.DataFrame) -> pl.DataFrame:
    """The features with every shared identifier (and what derives from it) set to null."""
    out = features
    for kind in IDENTIFIERS:
        values = shared.filter(pl.col("kind") == kind)["value"]
        if values.is_empty():
            continue
        hit = pl.col(kind).is_in(values.implode())
        out = out.with_columns(
            [pl.when(hit).then(None).otherwise(pl.col(c)).alias(c) for c in (kind, *DERIVED[kind])])
    return out


def load_overrides(folder: Path | None) -> pl.DataFrame:
    """Steward overrides from ``*.csv`` files (or a Delta table) in ``folder``."""
    empty = pl.DataFrame(schema={c: pl.String for c in OVERRIDE_COLUMNS})
    if folder is None or not folder.exists():
        return empty
    frames = []
    if (folder / "_delta_log").is_dir():
        from deltalake import DeltaTable

        frames.append(pl.from_arrow(DeltaTable(str(folder)).to_pyarrow_table()))
    for path in sorted(folder.glob("*.csv")):
        frames.append(pl.read_csv(path, infer_schema=False))
    if not frames:
        return empty
    frames = [f for f in frames if isinstance(f, pl.DataFrame)]
    for f in frames:
        missing = [c for c in OVERRIDE_COLUMNS if c not in f.columns]
        if missing:
            raise ValueError(f"overrides in {folder} lack column(s): {', '.join(missing)}")
    df = pl.concat([f.select(OVERRIDE_COLUMNS) for f in frames])
    df = df.with_columns(pl.col(c).str.strip_chars() for c in OVERRIDE_COLUMNS)
    bad = df.filter(~pl.col("rule").is_in(RULES))
    if bad.height:
        raise ValueError(f"overrides in {folder}: unknown rule(s) {bad['rule'].unique().to_list()}"
                         f"; use {' or '.join(RULES)}")
    return df.unique(maintain_order=True)


def override_pairs(overrides: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Overrides as (rule, uid_l, uid_r); pairs naming unknown records are dropped."""
    lookup = keys.select("source", "source_record_id", "uid")
    out = (overrides
           .join(lookup.rename({"source": "source_l", "source_record_id": "source_record_id_l",
                                "uid": "uid_l"}), on=["source_l", "source_record_id_l"])
           .join(lookup.rename({"source": "source_r", "source_record_id": "source_record_id_r",
                                "uid": "uid_r"}), on=["source_r", "source_record_id_r"]))
    return out.select("rule", pl.min_horizontal("uid_l", "uid_r").alias("uid_l"),
                      pl.max_horizontal("uid_l", "uid_r").alias("uid_r")).filter(
        pl.col("uid_l") != pl.col("uid_r")).unique(maintain_order=True)
