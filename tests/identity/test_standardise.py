"""Standardisation used by staging (as DuckDB UDFs) and by identity resolution."""

import datetime as dt

import duckdb
import pytest

from identity import standardise
from warehouse.dbt_plugin import UDFS, register_udfs


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020-7946-0958", "GB", "+442079460958"),
        ("00442079460958", None, "+442079460958"),
        ("13800138000", "CN", "+8613800138000"),
        ("+86 138 0013 8000", "DE", "+8613800138000"),
        ("12", "GB", None),
        ("not a phone", "GB", None),
        ("", "GB", None),
    ],
)
def test_phone_e164(raw: str, country: str | None, e164: str | None) -> None:
    assert standardise.phone_e164(raw, country) == e164


def test_email_is_lowercased_and_validated() -> None:
    assert standardise.email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    assert standardise.email("team@acme-corp.example") == "team@acme-corp.example"
    assert standardise.email("jane@@example.com") is None
    assert standardise.email("jane") is None


def test_names_are_nfkc_and_chinese_names_get_pinyin() -> None:
    assert standardise.clean_name("  Ａｎｎａ   Maria ") == "Anna Maria"
    assert standardise.pinyin("王伟") == "wang wei"
    assert standardise.pinyin("Wang Wei") is None


def test_udfs_in_duckdb_handle_nulls_and_batches() -> None:
    con = duckdb.connect()
    register_udfs(con)
    rows = con.execute(
        "select hub_email(e), hub_phone_e164(p, c), hub_birth_date(d, c), hub_birth_date_issue(d, c), "
        "hub_national_id(n) from (values "
        "('A@B.example', '07700 900123', 'GB', '03/04/1990', 'ab 12 34'), "
        "(null, null, null, '03/04/1990', null), (null, null, null, null, null)) t(e, p, c, d, n)"
    ).fetchall()
    assert rows == [("a@b.example", "+447700900123", dt.date(1990, 4, 3), None, "AB1234"),
                    (None, None, None, "ambiguous", None), (None, None, None, None, None)]


def test_staging_no_longer_computes_pinyin() -> None:
    # Identity resolution computes pinyin from the names (features.latin_key); a staging
    # copy was read by nothing.
    assert not any("pinyin" in name for name in UDFS)
