"""Carry-forward rules for customer IDs: merge, split, move, create, erase (no Splink)."""

from __future__ import annotations

import polars as pl

from identity import stable_ids


def keys(n: int) -> pl.DataFrame:
    return pl.DataFrame({"uid": list(range(n)), "source": ["crm"] * n,
                         "source_record_id": [f"R{i}" for i in range(n)]})


def clusters(mapping: dict[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"uid": list(mapping), "cluster": list(mapping.values())},
                        schema={"uid": pl.Int64, "cluster": pl.Int64})


def first_run(mapping: dict[int, int]) -> stable_ids.Carried:
    return stable_ids.carry_forward(clusters(mapping), keys(len(mapping)), None,
                                    stable_ids.empty_customers(), "run1")


def ids(carried: stable_ids.Carried) -> dict[int, str]:
    return dict(carried.assignment.select("uid", "customer_id").iter_rows())


def events(carried: stable_ids.Carried) -> list[tuple[str, int]]:
    return sorted(carried.events.select("event", "uid").iter_rows())


def again(prev: stable_ids.Carried, mapping: dict[int, int], n: int | None = None) -> stable_ids.Carried:
    previous = prev.assignment.select("uid", "customer_id")
    return stable_ids.carry_forward(clusters(mapping), keys(n or len(mapping)), previous,
                                    prev.customers, "run2")


def test_unchanged_clusters_keep_ids_and_log_nothing() -> None:
    one = first_run({0: 0, 1: 0, 2: 2})
    two = again(one, {0: 0, 1: 0, 2: 2})
    assert ids(two) == ids(one)
    assert two.events.is_empty()


def test_first_run_creates_one_id_per_cluster_deterministically() -> None:
    one = first_run({0: 0, 1: 0, 2: 2})
    assert len(set(ids(one).values())) == 2
    assert ids(first_run({0: 0, 1: 0, 2: 2})) == ids(one)  # same input, same IDs
    assert events(one) == [("created", 0), ("created", 1), ("created", 2)]


def test_merge_keeps_the_older_id_and_records_the_other_as_merged() -> None:
    one = first_run({0: 0, 1: 0, 2: 2, 3: 2})
    older, younger = ids(one)[0], ids(one)[2]
    seq = dict(one.customers.select("customer_id", "created_seq").iter_rows())
    if seq[older] > seq[younger]:
        older, younger = younger, older
    two = again(one, {0: 0, 1: 0, 2: 0, 3: 0})
    assert set(ids(two).values()) == {older}
    merged = two.events.filter(pl.col("event") == "merged")
    assert set(merged["other_customer_id"]) == {younger}
    assert set(merged["customer_id"]) == {older}
    status = dict(two.customers.select("customer_id", "status").iter_rows())
    assert status[younger] == "merged" and status[older] == "active"
    into = dict(two.customers.select("customer_id", "merged_into").iter_rows())
    assert into[younger] == older


def test_split_leaves_the_id_with_the_largest_part() -> None:
    one = first_run({0: 0, 1: 0, 2: 0, 3: 0})
    cid = ids(one)[0]
    two = again(one, {0: 0, 1: 0, 2: 0, 3: 3})
    assert [ids(two)[u] for u in (0, 1, 2)] == [cid] * 3
    assert ids(two)[3] != cid
    assert events(two) == [("split", 3)]
    row = two.events.row(0, named=True)
    assert row["other_customer_id"] == cid and row["customer_id"] == ids(two)[3]


def test_move_between_two_existing_customers() -> None:
    one = first_run({0: 0, 1: 0, 2: 0, 3: 3, 4: 3})
    a, b = ids(one)[0], ids(one)[3]
    two = again(one, {0: 0, 1: 0, 2: 3, 3: 3, 4: 3})
    assert ids(two)[2] == b and ids(two)[0] == a
    assert events(two) == [("moved", 2)]
    assert two.events.row(0, named=True)["other_customer_id"] == a


def test_new_and_removed_records_are_created_and_erased() -> None:
    one = first_run({0: 0, 1: 0, 2: 2})
    two = again(one, {0: 0, 1: 0, 3: 0}, n=4)  # record 2 gone, record 3 new and joins 0
    assert ids(two)[3] == ids(one)[0]
    assert events(two) == [("created", 3), ("erased", 2)]
    erased = two.events.filter(pl.col("event") == "erased").row(0, named=True)
    assert erased["customer_id"] == ids(one)[2]
    status = dict(two.customers.select("customer_id", "status").iter_rows())
    assert status[ids(one)[2]] == "retired"


def test_ids_are_never_reissued() -> None:
    one = first_run({0: 0, 1: 1})
    two = again(one, {0: 0, 1: 0})           # 1's ID is merged away
    three = again(two, {0: 0, 1: 1})         # split again: 1 needs a fresh ID
    merged_away = set(ids(one).values()) - set(ids(two).values())
    assert not merged_away & set(ids(three).values())
