"""Place records that nothing links: a name is strong evidence when only one customer has it.

A social profile often shows nothing but a display name ("Mike Mitchell", "Gloria H.",
林辉). Pair scoring cannot link it: a name is weak evidence while other people may share
it, and the model cannot know who else does. The cluster graph can. After clustering,
a record left alone joins customer C when

- its name is compatible with a record of C (same name in Latin, pinyin or characters,
  swapped, nickname, one typo, an initial for a first or last name), and
- C is the only customer that is, or the only one whose name-compatible record lives in
  the record's city (a profile's "Living in Leeds"): any other second candidate makes
  the name ambiguous and the record stays alone, and
- nothing disagrees: for each identifier the record has (email, phone, birth date,
  national ID), C either has no value or has a matching one; a record with only a name
  has nothing that could disagree.

Bare records never count as candidates for each other: two bare "Jennifer Jones" profiles
do not make that name ambiguous, and both join the one customer called Jennifer Jones.
The pass is a pure function of the clustering and the features, so rerunning it after
an incremental run gives what a full run gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from identity.comparison_columns import PLACEMENT_KEYS
from identity.settings import swapped_letters_sql

RICH = ("email", "phone", "dob", "street", "postcode", "national_id")

# Tier 1: the same name (in any script, or swapped). Tier 2: a nickname, one typo, an
# initial. An exact candidate beats fuzzy ones: a lone record is placed on the best tier
# that has any candidate, and only if that tier has one.
_EXACT = """(
    s.name_hanzi = x.name_hanzi
    or (s.first_name = x.first_name and s.last_name = x.last_name
        and (s.name_hanzi is null or x.name_hanzi is null))
    or (s.first_name = x.last_name and s.last_name = x.first_name)
)"""
# Tier 2: each join key already implies part of the match; the condition checks the rest.
_DL1 = ("{a} <> {b} and abs(length({a}) - length({b})) <= 1 "
        "and damerau_levenshtein({a}, {b}) <= 1")


@dataclass(frozen=True)
class Join:
    """A lone record ``s`` meets candidate ``x`` where ``s_key = x.<x_key>`` and ``s_where``
    holds; ``check`` decides the pair. Declared as data so that incremental runs can index
    both sides (identity/keyindex.py) and ask only about records that meet."""

    s_key: str           # SQL over s (and f.form: each nickname form of s's first name)
    x_key: str           # the column of x it equals
    s_where: str = "true"
    check: str = "true"
    # A column whose lengths differ by at most one in every pair ``check`` accepts: the key
    # index stores its length with the key, so look-ups bring fewer pairs to check.
    near: str | None = None

    @property
    def forms(self) -> bool:
        return "f.form" in self.s_key

    @property
    def sql(self) -> list[str]:
        """Join conditions whose union is this join: with ``near``, one per length
        difference, so each is an equi-join on the key and the length (typo keys are
        coarse, and most pairs they join differ in length by more than one)."""
        where = "" if self.s_where == "true" else f" and {self.s_where}"
        on = f"{self.s_key} = x.{self.x_key}"
        if self.near is None:
            return [on + where]
        return [f"{on} and length(s.{self.near}) + ({d}) = length(x.{self.near}){where}"
                for d in (-1, 0, 1)]


EXACT_JOINS = (Join("s.nk", "nk", check=_EXACT), Join("s.nk_swapped", "nk", check=_EXACT),
                Join("s.name_hanzi", "name_hanzi", check=_EXACT))
CLOSE_JOINS = (
    # nickname: the record's first name stands for the candidate's (Bob -> Robert)
    Join("f.form || '|' || s.last_name", "fk"),
    # swapped, with a nickname in the part that moved
    Join("s.last_name || '|' || f.form", "nk"),
    # one typo in the first name (same surname, same first and last letter); not for names
    # written in characters: 柳谭 is not a typo of 柳帆, though liutan is one edit from liufan
    Join("s.typo_first", "typo_first", "length(s.first_name) >= 4 and s.name_hanzi is null",
         _DL1.format(a="s.first_name", b="x.first_name"), near="first_name"),
    # one typo in the surname
    Join("s.typo_last", "typo_last", "length(s.last_name) >= 4 and s.name_hanzi is null",
         _DL1.format(a="s.last_name", b="x.last_name"), near="last_name"),
    # two neighbouring letters swapped, where typo keys miss it: at either end ("iMa Eimer")
    Join("s.swap_first", "swap_first", "length(s.first_name) >= 3 and s.name_hanzi is null",
         swapped_letters_sql("s.first_name", "x.first_name")),
    Join("s.swap_last", "swap_last", "length(s.last_name) >= 3 and s.name_hanzi is null",
         swapped_letters_sql("s.last_name", "x.last_name")),
    # an initial for the surname ("Gloria H.") or the first name ("J. Smith")
    Join("s.initial_last", "initial_last", "length(s.last_name) = 1"),
    Join("s.initial_first", "initial_first", "length(s.first_name) = 1"),
)
JOINS = EXACT_JOINS + CLOSE_JOINS
# Who can be placed at all (place_on's ``s``); an index of lone records needs only these.
LONE_SQL = "s.first_name is not null and (s.last_name is not null or s.name_hanzi is not null)"


# What a candidate's side of the joins reads (_candidates): copying the others (lists of
# name forms, contact data) into the candidate table of a million records cost more than
# the joins.
CANDIDATE_COLUMNS = ("uid", "cluster", "city", "first_name", "last_name", "name_hanzi",
                     *PLACEMENT_KEYS)
COLUMNS = ("uid", "first_name", "last_name", "first_name_forms", "name_hanzi", "email",
           "email_work", "phone",
           "phone_last8", "dob", "national_id", "city", *PLACEMENT_KEYS)


def place(features: pl.DataFrame, assignment: pl.DataFrame,
          cannot: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(assignment with lone records merged into their only name match, placements).

    ``features`` are merge-protected; ``assignment`` is (uid, cluster); placements are
    (uid, target) with target a cluster label.
    """
    rich = pl.any_horizontal(pl.col(c).is_not_null() for c in RICH)
    df = features.select(*COLUMNS, rich.alias("rich")).join(assignment, on="uid")
    df = df.with_columns(pl.len().over("cluster").alias("size"))
    con = duckdb.connect()
    con.register("f", df)
    placed = place_on(con, "f", None)
    if cannot is not None and not cannot.is_empty():
        placed = respect_cannot_links(placed, assignment, cannot)
    return join(assignment, placed), placed


def place_on(con: duckdb.DuckDBPyConnection, view: str, lone: str | None) -> pl.DataFrame:
    """(uid, target) placements for lone records of ``view`` (only uids in table ``lone``).

    ``view`` has COLUMNS plus cluster, size and rich (computed after merge protection).
    """
    only = f"and uid in (select uid from {lone})" if lone else ""
    con.execute(f"""create or replace temp table s as select * from {view} s where size = 1
                    and {LONE_SQL} {only}""")
    con.execute(f"create or replace temp table x as select {', '.join(CANDIDATE_COLUMNS)} "
                f"from {view} where rich or size > 1")
    # Tier 1 first; tier 2 only for records with no exact candidate (most have one).
    exact_candidates(con, "s", "x")
    close_candidates(con, "s", "x")
    unique_candidates(con)
    placed = agreeing(con, view)
    return pl.concat([placed, through_placed(con, placed)])


# The steps of place_on, for callers that bring candidates tier by tier (an increment
# looks up only what each tier needs). Each step leaves a table for the next.

def exact_candidates(con: duckdb.DuckDBPyConnection, s: str, x: str) -> None:
    """Table ``c1`` (uid, target, same_city): lone records of ``s`` and customers of ``x``
    (records that are rich or in a customer of several) with the same name."""
    con.execute(f"create or replace temp table c1 as {_candidates(EXACT_JOINS, s, x)}")


def close_candidates(con: duckdb.DuckDBPyConnection, s: str, x: str) -> None:
    """Tables ``s2`` (lone records without an exact candidate) and ``c2`` (their close ones)."""
    con.execute(f"create or replace temp table s2 as select * from {s} "
                "where uid not in (select uid from c1)")
    con.execute(f"create or replace temp table c2 as {_candidates(CLOSE_JOINS, 's2', x)}")


def unique_candidates(con: duckdb.DuckDBPyConnection) -> pl.Series:
    """Table ``c``: records whose candidates are one customer; returns those customers.

    Every name-compatible customer counts, even one that disagrees: a common name stays
    ambiguous. Among several, the one whose matching record is in the record's city wins
    when it is the only such one: two "Maja B." customers, one of them in Passau, and a
    profile living in Passau. Whether the one candidate agrees is decided next
    (``agreeing``)."""
    con.execute("""create or replace temp table c as
        with cand as (select * from c1 union all select * from c2),
        one as (select uid, min(target) as target from cand group by uid
                having count(distinct target) = 1)
        select * from one
        union all
        select uid, min(target) from cand where same_city and uid not in (select uid from one)
        group by uid having count(distinct target) = 1""")
    return con.sql("select distinct target from c").pl()["target"]


def agreeing(con: duckdb.DuckDBPyConnection, view: str) -> pl.DataFrame:
    """Placements of ``c`` whose customer does not disagree; ``view`` holds the lone records
    and every member of their candidate customers."""
    return con.sql(f"select uid, target from ({_AGREEING.format(view=view)}) order by uid").pl()


def through_placed(con: duckdb.DuckDBPyConnection, links: pl.DataFrame) -> pl.DataFrame:
    """(uid, target) for bare lone records left ambiguous only by lone records that are
    themselves placed together: an ERP customer and a company-contact record of one
    "Alexa Miller" (private and work email) are two candidates for her bare profile until
    placement joins them. ``links`` (uid, target) are the placements of lone records;
    candidates are joined along those that touch them. Bare records have nothing that
    could disagree, so no agreement check follows."""
    amb = con.sql("""
        select c.uid, c.target from (select * from c1 union all select * from c2) c
        join s on s.uid = c.uid
        where not s.rich and c.uid not in (select uid from c)""").pl()
    empty = pl.DataFrame(schema={"uid": pl.Int64, "target": pl.Int64})
    if amb.is_empty() or links.is_empty():
        return empty
    targets = amb["target"].unique().implode()
    near = links.filter(pl.col("uid").is_in(targets) | pl.col("target").is_in(targets))
    nodes = pl.concat([amb["target"], near["uid"], near["target"]]).unique().sort()
    from identity.clustering import components

    comp = pl.DataFrame({"target": nodes, "root": components(
        nodes.to_numpy(), near.select(pl.col("uid").alias("uid_l"), pl.col("target").alias("uid_r")))})
    one = amb.join(comp, on="target").group_by("uid").agg(
        pl.col("root").n_unique().alias("n"), pl.col("target").min())
    return one.filter(pl.col("n") == 1).select(pl.col("uid").cast(pl.Int64),
                                               pl.col("target").cast(pl.Int64)).sort("uid")


def join(assignment: pl.DataFrame, placed: pl.DataFrame) -> pl.DataFrame:
    """Merge each placed record with its target; two lone records may pick each other."""
    if placed.is_empty():
        return assignment
    from identity.clustering import components

    # Each record links to its cluster's label (a uid), each placed record to its target.
    links = pl.concat([
        assignment.select(pl.col("uid").alias("uid_l"), pl.col("cluster").alias("uid_r")),
        placed.select(pl.col("uid").alias("uid_l"), pl.col("target").alias("uid_r")),
    ])
    uids = assignment["uid"].to_numpy()
    return assignment.with_columns(pl.Series("cluster", components(uids, links), dtype=pl.Int64))


# A candidate customer disagrees with a lone record when, for an identifier both have,
# none of the customer's values matches the record's (an email, a phone, a birth date
# within a swap or one digit, a national ID). Addresses are not checked: people move.
_AGREEING = """
    select c.uid, c.target from c join {view} s on s.uid = c.uid where not s.rich
    union all
    select c.uid, c.target
    from c join {view} s on s.uid = c.uid join {view} m on m.cluster = c.target
    where s.rich
    group by c.uid, c.target, s.email, s.phone, s.dob, s.national_id
    having not (
        (s.email is not null and bool_or(m.email is not null and m.email_work = s.email_work)
         and not bool_or(m.email = s.email))
        or (s.phone is not null and bool_or(m.phone is not null)
            and not bool_or(m.phone = s.phone or m.phone_last8 = s.phone_last8))
        or (s.dob is not null and bool_or(m.dob is not null) and not bool_or(
            m.dob = s.dob
            or (year(m.dob) = year(s.dob) and month(m.dob) = day(s.dob) and day(m.dob) = month(s.dob))
            or damerau_levenshtein(cast(m.dob as varchar), cast(s.dob as varchar)) <= 1))
        or (s.national_id is not null and bool_or(m.national_id is not null)
            and not bool_or(m.national_id = s.national_id))
    )
"""


def _candidates(joins: tuple[Join, ...], lone: str, x: str) -> str:
    """(uid, target, same_city): each lone record, the customers of records compatible by
    name, and whether such a record is in the lone record's city."""
    forms = "cross join unnest(s.first_name_forms) as f(form)"
    parts = [f"""
        select s.uid, x.cluster as target, coalesce(s.city = x.city, false) as same_city
        from {lone} s {forms if j.forms else ""} join {x} x on {on}
        where s.uid <> x.uid and {j.check}""" for j in joins for on in j.sql]
    return (f"select uid, target, bool_or(same_city) as same_city "
            f"from ({' union all '.join(parts)}) group by uid, target")


def respect_cannot_links(unique: pl.DataFrame, assignment: pl.DataFrame, cannot: pl.DataFrame) -> pl.DataFrame:
    """Drop placements that would put a steward's cannot-link pair together."""
    both = pl.concat([cannot.select("uid_l", "uid_r"),
                      cannot.select(pl.col("uid_r").alias("uid_l"), pl.col("uid_l").alias("uid_r"))])
    clash = (unique.join(both, left_on="uid", right_on="uid_l")
             .join(assignment.rename({"uid": "uid_r", "cluster": "c_r"}), on="uid_r")
             .filter(pl.col("c_r") == pl.col("target"))["uid"].unique())
    return unique.filter(~pl.col("uid").is_in(clash.implode()))
