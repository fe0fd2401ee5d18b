"""The catalog on generated tables: declared, contradicted, undeclared, _extra keys, unknown."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from privacy.catalog import Declared, classify_table, findings
from privacy.detect import Detector
from privacy.sample import UnreadableTable, sample_columns
from tests.privacy.conftest import cn_mobile, made_up_name, resident_id


def _people(rng: random.Random, n: int = 60) -> dict[str, list[object]]:
    names = [made_up_name(rng) for _ in range(n)]
    return {
        "id": [f"C{i:05d}" for i in range(n)],
        "contact": [f"{f.lower()}.{la.lower()}@example.com" for f, la in names],
        "mobile_no": [cn_mobile(rng) for _ in range(n)],
        "ref": [resident_id(rng) for _ in range(n)],
        "notes": [f"Called {f} {la} about the renewal of the service plan, all fine." for f, la in names],
        "score": [rng.random() for _ in range(n)],
        "_batch_id": ["b1"] * n,
        "_extra": [json.dumps({"home_phone": f"+86 {cn_mobile(rng)}", "shoe_size": 40 + i % 5})
                   for i in range(n)],
    }


def test_classify_table(detector: Detector, rng: random.Random) -> None:
    declared = {"id": Declared("NONE", "L2"), "contact": Declared("EMAIL_ADDRESS", "L3"),
                "ref": Declared("NONE", "L2"), "notes": Declared("FREE_TEXT", "L3")}
    rows = {r.column: r for r in classify_table("t", _people(rng), detector, declared)}
    assert (rows["id"].status, rows["id"].level) == ("declared", "L2")
    assert (rows["contact"].status, rows["contact"].discovered_type) == ("declared", "EMAIL_ADDRESS")
    assert rows["contact"].matched == rows["contact"].sampled == 60
    # Declared as nothing, but the values are Chinese resident IDs.
    ref = rows["ref"]
    assert (ref.status, ref.pii_type, ref.level) == ("contradicted", "CN_RESIDENT_ID", "L4")
    assert (rows["mobile_no"].status, rows["mobile_no"].pii_type) == ("undeclared_pii", "PHONE_NUMBER")
    assert rows["notes"].status == "declared" and rows["notes"].matched > 0
    # Unknown means protected: nothing found, nobody declared it.
    assert (rows["score"].status, rows["score"].level) == ("unclassified", "L3")
    assert rows["_batch_id"].status == "not_pii"
    assert (rows["_extra.home_phone"].status, rows["_extra.home_phone"].pii_type) == \
        ("undeclared_pii", "PHONE_NUMBER")
    assert rows["_extra.shoe_size"].status == "unclassified"
    assert {r.column for r in findings(rows.values())} == {"ref", "mobile_no", "_extra.home_phone"}


def test_column_names_alone_classify_an_empty_sample(detector: Detector) -> None:
    rows = {r.column: r for r in classify_table("t", {"birth_date": [None], "email": []}, detector)}
    assert rows["birth_date"].pii_type == "DATE_OF_BIRTH" and rows["birth_date"].sampled == 0
    assert rows["email"].status == "undeclared_pii"


def test_sample_reads_csv_parquet_and_delta(tmp_path, rng: random.Random) -> None:
    table = pa.table({"id": [f"{i:04d}" for i in range(500)], "v": list(range(500))})
    pacsv.write_csv(table, tmp_path / "t.csv")
    pq.write_table(table, tmp_path / "t.parquet")
    write_deltalake(str(tmp_path / "delta"), table)
    write_deltalake(str(tmp_path / "delta"), table, mode="overwrite")  # the log drops old files
    for path in (tmp_path / "t.csv", tmp_path / "t.parquet", tmp_path / "delta"):
        sample = sample_columns(path, size=100)
        assert len(sample["id"]) == 100 and len(set(sample["id"])) == 100, path
        assert sample == sample_columns(path, size=100)  # the same rows for the same seed
    assert sample_columns(tmp_path / "t.csv", size=100)["id"][0].startswith("0")  # kept as text
    with pytest.raises(UnreadableTable, match="not a CSV file"):
        (tmp_path / "x.txt").write_text("hello")
        sample_columns(tmp_path / "x.txt")
