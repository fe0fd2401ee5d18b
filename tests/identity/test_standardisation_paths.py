"""One standardisation, two paths: dbt staging (the UDFs) and `hub identity resolve` (canonical).

The cases are the dbt unit tests in dbt/models/staging/_standardisation__unit_tests.yml:
dbt checks staging against their expected rows, and this test runs the same given rows
through ``identity.canonical`` and checks it against the same expected rows.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml

from identity import canonical, standardise
from identity.standardise import dates
from warehouse.layout import PROJECT_ROOT

UNIT_TESTS = PROJECT_ROOT / "dbt" / "models" / "staging" / "_standardisation__unit_tests.yml"
PERSON_TEST = "person_values_are_standardised_as_identity_resolution_does"
DBT = Path(sys.executable).parent / "dbt"
# staging column -> canonical column
COLUMNS = {"first_name": "first_name", "birth_date": "birth_date", "national_id": "national_id",
           "email": "email", "phone_e164": "phone", "social_handle": "social_handle",
           "country": "country"}


def unit_test(name: str) -> dict[str, Any]:
    tests = yaml.safe_load(UNIT_TESTS.read_text())["unit_tests"]
    return next(t for t in tests if t["name"] == name)


def expected(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value[:2] == "19" else value


def test_canonical_gives_what_the_dbt_unit_test_expects() -> None:
    case = unit_test(PERSON_TEST)
    given = duckdb.sql(case["given"][0]["rows"]).pl()
    raw = given.select(pl.lit("erp").alias("source"), pl.col("customer_no").alias("source_record_id"),
                       "first_name", "last_name", "birth_date", "national_id", "email", "phone",
                       "social_login", "country")
    records, report = canonical.to_canonical(raw)
    got = {r["source_record_id"]: r for r in records.iter_rows(named=True)}
    for row in case["expect"]["rows"]:
        for staged, col in COLUMNS.items():
            assert got[row["customer_no"]][col] == expected(row[staged]), (row["customer_no"], col)
    issues = Counter(r["birth_date_issue"] for r in case["expect"]["rows"] if r["birth_date_issue"])
    assert issues == {"ambiguous": 2, "implausible": 1, "unparseable": 1}
    for issue, n in issues.items():
        assert report.warnings[canonical.DATE_WARNINGS[issue]] == n


def test_dbt_staging_passes_the_same_unit_tests(tmp_path: Path) -> None:
    root = tmp_path / "hub"
    root.mkdir()
    cmd = [str(DBT), "test", "--select", f"{PERSON_TEST} a_social_profile_is_named_as_sources_link_it",
           "--project-dir", str(PROJECT_ROOT / "dbt"), "--profiles-dir", str(PROJECT_ROOT / "dbt"),
           "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    done = subprocess.run(cmd, env={**os.environ, "HUB_DATA_DIR": str(root), "DO_NOT_TRACK": "1"},
                          capture_output=True, text=True, cwd=PROJECT_ROOT / "dbt", check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "PASS=2" in done.stdout


@pytest.mark.parametrize(("value", "country", "date", "issue"), [
    ("03/04/1990", "DE", dt.date(1990, 4, 3), None),
    ("03/04/1990", "Germany", dt.date(1990, 4, 3), None),
    ("03-04-1990", "US", dt.date(1990, 3, 4), None),
    ("03/04/1990", "PH", dt.date(1990, 3, 4), None),
    ("03/04/1990", None, None, "ambiguous"),
    ("03/04/1990", "CA", None, "ambiguous"),
    ("25/03/1990", "US", dt.date(1990, 3, 25), None),
    ("03/25/1990", "DE", dt.date(1990, 3, 25), None),
    ("05/05/1990", None, dt.date(1990, 5, 5), None),
    ("1990-04-03T10:00:00Z", None, dt.date(1990, 4, 3), None),
    ("1990/04/03", "US", dt.date(1990, 4, 3), None),
    ("03.04.1990", "US", dt.date(1990, 4, 3), None),
    ("Apr 3, 1990", None, dt.date(1990, 4, 3), None),
    ("3rd April 1990", None, dt.date(1990, 4, 3), None),
    ("1990-02-30", None, None, "unparseable"),
    ("03/04/90", "DE", None, "unparseable"),
    ("1899-12-31", None, None, "implausible"),
    (" ", None, None, None),
])
def test_birth_dates_by_the_documented_rule(value: str, country: str | None,
                                            date: dt.date | None, issue: str | None) -> None:
    assert dates.parse_birth_date(value, country) == (date, issue)


MESSY = {
    "email": [" Ann.Lee@Example.COM ", "a..b@example.com", "x@-bad.com", "Zoë@example.com",
              "jane@localhost", "bob@mail.example.org", "ＡＢ@example.com", "a@b.c"],
    "phone": ["+4915123456789", "0151 2345 6789", "+1234567", "0044 20 7946 0958", "12", "abc"],
    "country": ["DE", "de", "Germany", "Atlantis", "中国", "usa"],
    "national_id": ["ab 123.456-c", "x", "110101199004031234", "Ab/12-34", "ß12345", "１２３４５"],
    "social_handle": [" X:Bob_W77 ", "weibo:李娜_88", "x:a:b", "just a name", "X : Bob", ":bob"],
    "birth_date": ["1990-04-03", "03/04/1990", "3 April 1990", "31-31-1980", "1850-01-01", "19900403",
                   "1990-02-30", "2990-01-01"],
}


@pytest.mark.parametrize("column", sorted(MESSY))
def test_canonical_columns_equal_the_python_rule_value_by_value(column: str) -> None:
    values = MESSY[column]
    countries = ["DE", "US", None, "CN", "GB", "DE", "US", "CA"][: len(values)]
    frame = {"source": ["t"] * len(values), "source_record_id": [str(i) for i in range(len(values))],
             column: values}
    if column != "country":
        frame["country"] = countries
    records, report = canonical.to_canonical(pl.DataFrame(frame))
    rule = {"email": standardise.email, "national_id": standardise.national_id,
            "social_handle": standardise.social_handle, "country": standardise.country}
    for value, country, got in zip(values, frame.get("country", values), records[column], strict=True):
        if column == "phone":
            want = standardise.phone_e164(value, standardise.country(country))
        elif column == "birth_date":
            want = standardise.birth_date(value, country)
        else:
            want = rule[column](value)
        assert got == want, (column, value)
        # Standardising twice changes nothing: staging's output is identity resolution's input.
        again = standardise.phone_e164(want, None) if column == "phone" else want
        assert again == want
    if column == "birth_date":
        issues = Counter(dates.birth_date_issue(v, c) for v, c in zip(values, countries, strict=True))
        for issue in dates.ISSUES:
            assert report.warnings[canonical.DATE_WARNINGS[issue]] == issues[issue], issue
