"""`hub identity ...` on good and bad input: clear errors or warning counts, never a traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.hub.identity_cli_runner import invoke
from warehouse.layout import HubPaths

BAD = """\
Source,ID,First Name,surname,dob,email,phone,country,loyalty_tier
crm,1,John,Smith,1980-02-31,JOHN.SMITH@EXAMPLE.COM,(415) 555-0134,US,gold
crm,2,Jon,Smith,31/01/1980,john.smith@example.com,+14155550134,US,
erp,7,约翰,史密斯,not a date,not-an-email,12,ZZ,silver
erp,8,伟,王,1975-13-01,wang.wei@example.cn,138-1234-5678,CN,
social,x:1,,,,,,,
,9,Orphan,Row,,,,,
crm,1,Dup,Row,,,,,
"""


@pytest.fixture(autouse=True)
def _data_root(hub_paths: HubPaths) -> None:  # every CLI test gets its own HUB_DATA_DIR
    return None


def test_resolve_bad_values_become_warnings(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(BAD, encoding="utf-8")
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "7 rows read, 5 records kept" in out
    assert "birth_date: unparseable values set to null: 3" in out
    assert "email: invalid addresses set to null: 1" in out
    assert "phone: unparseable numbers set to null: 1" in out
    assert "rows without source or source_record_id dropped: 1" in out
    assert "duplicate (source, source_record_id) rows dropped: 1" in out
    assert "columns ignored (not canonical): loyalty_tier" in out
    clusters = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    assert clusters.columns == ["source", "source_record_id", "customer_id"]
    assert clusters.height == 5
    ids = dict(zip(clusters["source_record_id"], clusters["customer_id"], strict=True))
    assert ids["1"] == ids["2"]  # same person, phone and email written two ways
    pairs = pl.read_parquet(tmp_path / "out" / "pairs.parquet")
    assert pairs.columns == ["source_l", "source_record_id_l", "source_r", "source_record_id_r",
                             "match_probability"]


def test_rerun_on_the_same_folder_keeps_ids(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(BAD, encoding="utf-8")
    invoke("resolve", src, "--out", tmp_path / "out")
    first = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    again = invoke("resolve", src, "--out", tmp_path / "out")
    assert "ID events: none" in again.output
    assert pl.read_parquet(tmp_path / "out" / "clusters.parquet").equals(first)


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("first_name,last_name\nAda,Lovelace\n", "required column 'source' is missing"),
    ("source,source_record_id\n\"unclosed,1\n", None),
])
def test_resolve_unusable_files_fail_clearly(tmp_path: Path, content: str, message: str | None) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    result = invoke("resolve", src, "--out", tmp_path / "out")
    if message is None:  # malformed but readable: either a clear error or a clean run
        assert result.exit_code in (0, 2)
        return
    assert result.exit_code == 2
    assert message in result.output


def test_resolve_missing_file_and_wrong_type(tmp_path: Path) -> None:
    result = invoke("resolve", tmp_path / "nope.csv", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "no such file" in result.output
    (tmp_path / "x.json").write_text("{}")
    result = invoke("resolve", tmp_path / "x.json", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "unsupported file type" in result.output
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    result = invoke("resolve", tmp_path / "broken.parquet", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "cannot read as PARQUET" in result.output


def test_header_only_file_gives_empty_outputs(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("source,source_record_id,first_name\n")
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 0 and "0 records kept" in result.output
    assert pl.read_parquet(tmp_path / "out" / "clusters.parquet").is_empty()


def test_non_latin_text_and_typed_parquet(tmp_path: Path) -> None:
    df = pl.DataFrame({
        "source": ["crm", "erp", "social", "iot"],
        "source_record_id": [1, 2, 3, 4],                      # integers, not strings
        "full_name": ["محمد عبد الله", "Мария Иванова", "🙂 Emoji Person", "欧阳娜娜"],
        "birth_date": [dt.date(1980, 1, 1), dt.date(1990, 5, 6), None, dt.date(1985, 2, 3)],
        "phone": [4915112345678, None, None, 8613812345678],  # a number column
        "country": ["DE", "RU", None, "CN"],
    })
    src = tmp_path / "in.parquet"
    df.write_parquet(src)
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(tmp_path / "out" / "clusters.parquet").height == 4


def test_explain_and_evaluate(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(BAD, encoding="utf-8")
    invoke("resolve", src, "--out", tmp_path / "out")
    clusters = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    cid = clusters.filter(pl.col("source_record_id") == "1")["customer_id"][0]
    html = tmp_path / "c.html"
    result = invoke("explain", cid, "--state", tmp_path / "out", "--html", html)
    assert result.exit_code == 0, result.output
    assert "crm:1 ~ crm:2" in result.output and "same email" in result.output
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")
    missing = invoke("explain", "CNOTACUSTOMER", "--state", tmp_path / "out")
    assert missing.exit_code == 1 and "no customer CNOTACUSTOMER" in missing.output
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_record_id,person_id\ncrm,1,A\ncrm,2,A\nerp,7,B\nerp,8,C\n"
                     "social,x:1,D\n")
    result = invoke("evaluate", "--truth", truth, "--state", tmp_path / "out")
    assert result.exit_code == 0 and "pairwise  precision 1.0000  recall 1.0000" in result.output
    result = invoke("evaluate", "--truth", truth, "--clusters", tmp_path / "out" / "clusters.parquet",
                    "--json")
    assert '"pairwise_f1": 1.0' in result.output
    bad = invoke("evaluate", "--truth", tmp_path / "none.csv", "--state", tmp_path / "out")
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_explain_without_any_run(tmp_path: Path) -> None:
    result = invoke("explain", "C123", "--state", tmp_path / "empty")
    assert result.exit_code == 1 and "no identity run found" in result.output
