"""Which record pairs the blocking rules compare at all (a pair no rule compares is never
scored, whatever the model would say)."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from identity import canonical, comparison_columns, keyindex
from identity.workspace import DEFAULT_MODEL


def _compared(rules: list[str], a: dict[str, str], b: dict[str, str]) -> bool:
    raw = pl.DataFrame([{"source": "crm", "source_record_id": "1", **a},
                        {"source": "erp", "source_record_id": "2", **b}])
    feats = comparison_columns.build(canonical.to_canonical(raw)[0])
    con = duckdb.connect()
    con.register("f", feats)
    either = " or ".join(f"coalesce(({r}), false)" for r in rules)
    return con.sql(f"select bool_or({either}) from f l join f r on l.uid < r.uid").fetchall()[0][0]


HOME = {"birth_date": "1971-03-09", "street": "12 Mill Lane", "postcode": "LS6 2AB",
        "city": "Leeds", "country": "GB"}


@pytest.mark.parametrize("rules", ["bundled", "untrained"])
def test_a_duplicate_with_both_names_corrupted_meets_its_person_by_birth_date_and_postcode(
        rules: str) -> None:
    from identity.settings import blocking_rule, blocking_rules

    sql = (keyindex.model_rules(json.loads(DEFAULT_MODEL.read_text())) if rules == "bundled"
           else [r if isinstance(r, str) else blocking_rule(r).get_blocking_rule("duckdb")
                 .blocking_rule_sql for r in blocking_rules()])
    # A typo in each name, no email or phone: only the birth date and the address agree.
    assert _compared(sql, {"first_name": "Katharine", "last_name": "Pemberton", **HOME},
                     {"first_name": "Katharina", "last_name": "Pembertin", **HOME})
    # Elsewhere, or born another day: not compared (the rule is no catch-all).
    assert not _compared(sql, {"first_name": "Katharine", "last_name": "Pemberton", **HOME},
                         {"first_name": "Katharina", "last_name": "Pembertin",
                          **HOME, "birth_date": "1971-03-19"})
