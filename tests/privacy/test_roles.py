"""The role policy: parsed strictly, turned into SQL whose masks run on a real DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from privacy.roles import PolicyError, load_policy, parse_policy, table_query

POLICY = """
version: 1
roles:
  viewer:
    tables:
      people:
        from: marts.people
        rows: all
        columns: {id: keep, email: email_masked, phone: phone_last4, birth_date: birth_year,
                  name: initial, street: drop, note: redacted}
  rep:
    one_database_per_user: true
    users: select distinct owner from marts.people
    tables:
      people:
        from: marts.people
        rows: owner = {user}
        columns: {id: keep}
  nobody:
    tables:
      people: {from: marts.people, rows: none, columns: {id: keep}}
"""


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("attach ':memory:' as source")
    con.execute("create schema source.marts")
    con.execute("""create table source.marts.people as select * from (values
        (1, 'jane.roe@example.com', '+4915112345678', date '1984-03-09', 'Jane', '1 Main St', 'hi', 'rep_1'),
        (2, 'bo@example.org', '+8613812345678', date '1990-12-01', 'Bo', '2 Side Rd', null, 'rep_2'))
        t(id, email, phone, birth_date, name, street, note, owner)""")
    return con


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_catalog = 'source' and table_name = 'people'").fetchall()]


def test_masks_show_only_what_the_policy_says(con: duckdb.DuckDBPyConnection) -> None:
    policy = parse_policy(POLICY)
    query = table_query(policy.role("viewer").tables[0], _columns(con))
    result = con.execute(query.sql + " order by id")
    names = [d[0] for d in result.description]
    assert names == ["id", "email", "phone", "birth_year", "name", "note"]  # no street
    assert result.fetchall() == [
        (1, "j***@example.com", "***5678", 1984, "J.", "hi"),
        (2, "b***@example.org", "***5678", 1990, "B.", None),
    ]
    assert query.redact == ("note",)


def test_row_filters_per_user_and_the_empty_row_set(con: duckdb.DuckDBPyConnection) -> None:
    policy = parse_policy(POLICY)
    rep = table_query(policy.role("rep").tables[0], _columns(con), user="rep_2")
    assert con.execute(rep.sql).fetchall() == [(2,)]
    nobody = table_query(policy.role("nobody").tables[0], _columns(con))
    assert con.execute(nobody.sql).fetchall() == []
    with pytest.raises(PolicyError, match="not a valid user"):
        table_query(policy.role("rep").tables[0], _columns(con), user="x' or '1'='1")
    with pytest.raises(PolicyError, match="depend on the user"):
        table_query(policy.role("rep").tables[0], _columns(con))


def test_a_policy_naming_a_missing_column_or_an_unknown_mask_fails_by_name(con: duckdb.DuckDBPyConnection) -> None:
    bad_mask = POLICY.replace("email: email_masked", "email: hash_it")
    with pytest.raises(PolicyError, match="role viewer, table people, column email: unknown mask 'hash_it'"):
        parse_policy(bad_mask)
    missing = parse_policy(POLICY.replace("id: keep, email", "id: keep, ssn: keep, email"))
    with pytest.raises(PolicyError, match="has no column ssn"):
        table_query(missing.role("viewer").tables[0], _columns(con))


def test_the_shipped_policy_declares_every_role() -> None:
    policy = load_policy()
    assert set(policy.roles) == {"data_engineer", "analyst", "data_scientist", "sales_rep", "marketing"}
    assert policy.role("data_engineer").everything
    assert policy.role("sales_rep").per_user
    assert all(t.rows == "none" for t in policy.role("marketing").tables or ())
    assert len(policy.digest) == 64
