"""File drops land exactly once: by content, whatever the file is called, however often it is run."""

import json
import shutil
from pathlib import Path

from pipelines.connectors.landing_files import read_csv, read_jsonl
from pipelines.connectors.pull import new_files, pull_files
from quality.contracts import IOT_DEVICES, SOCIAL_POSTS
from warehouse import delta_store
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_opened, read_quarantine_opened
from warehouse.layout import HubPaths


def _post(i: int, **extra: object) -> str:
    return json.dumps({"post_id": f"p{i}", "platform": "weibo", "handle": f"h{i}", "text": "你好", "created_at": "2026-05-01T10:00:00", "reactions": i, **extra}, ensure_ascii=False)


def _drop(folder: Path, name: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_file_lands_once_and_duplicates_are_reported(hub_paths: HubPaths, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = _drop(landing, "a.jsonl", [_post(i) for i in range(10)])
    report = pull_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl", read_jsonl)
    assert (report.rows_in, report.accepted, report.quarantined) == (10, 10, 0)

    shutil.copy(first, landing / "a_resent.jsonl")
    _drop(landing, "b.jsonl", [_post(i) for i in range(10, 15)])
    assert [f.path.name for f in new_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl")] == ["b.jsonl"]
    report = pull_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl", read_jsonl)
    assert report.accepted == 5
    assert report.duplicate_files == ["a_resent.jsonl = a.jsonl"]

    again = pull_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl", read_jsonl)
    assert (again.rows_in, again.accepted, again.duplicate_files) == (0, 0, [])
    assert delta_store.row_count(hub_paths.bronze_table("social", "posts")) == 15


def test_bad_lines_go_to_quarantine_with_reason_and_raw_payload(hub_paths: HubPaths, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    lines = [_post(1), "{broken json", _post(2, reactions="lots"), _post(3, text="x" * 6000), _post(4)]
    _drop(landing, "mixed.jsonl", lines)
    report = pull_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl", read_jsonl)
    assert (report.rows_in, report.accepted, report.quarantined) == (5, 2, 3)
    assert report.reconciles

    quarantine = read_quarantine_opened(hub_paths, "social", development_vault(hub_paths)).to_pylist()
    by_row = {q["_row_number"]: q for q in quarantine}
    assert set(by_row) == {2, 3, 4}
    assert by_row[2]["_rule"] == "malformed_json" and by_row[2]["_raw"] == "{broken json"
    assert by_row[3]["_field"] == "reactions" and "'lots'" in by_row[3]["_error"]
    assert by_row[4]["_rule"] == "max_length" and "limit 5000" in by_row[4]["_error"]
    assert all(str(landing / "mixed.jsonl") in q["_error"] for q in quarantine)

    bronze = delta_store.read(hub_paths.bronze_table("social", "posts"))
    assert bronze.column("_row_number").to_pylist() == [1, 5]
    assert set(bronze.column("_batch_id").to_pylist()) == {quarantine[0]["_batch_id"]}


def test_renamed_csv_column_is_drift_not_loss(hub_paths: HubPaths, tmp_path: Path) -> None:
    landing = tmp_path / "registry"
    landing.mkdir()
    (landing / "devices_1.csv").write_text("serial,model,owner_phone\nD1,M,+4915112345678\n", encoding="utf-8")
    (landing / "devices_2.csv").write_text("serial,model,owner_mobile\nD2,M,+4915187654321\n", encoding="utf-8")
    report = pull_files(hub_paths, IOT_DEVICES, landing, "*.csv", read_csv)
    assert (report.accepted, report.quarantined) == (2, 0)
    assert report.drift.new_fields == {"owner_mobile": 1}
    rows = {r["serial"]: r for r in read_opened(hub_paths, IOT_DEVICES, development_vault(hub_paths)).to_pylist()}
    assert json.loads(rows["D2"]["_extra"]) == {"owner_mobile": "+4915187654321"}
    assert rows["D2"]["_row_number"] == 2


def test_invalid_utf8_lines_are_quarantined_not_altered(hub_paths: HubPaths, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "enc.jsonl").write_bytes(_post(1).encode() + b"\n" + b'{"post_id": "p2", "text": "caf\xe9"}\n')
    report = pull_files(hub_paths, SOCIAL_POSTS, landing, "*.jsonl", read_jsonl)
    assert (report.accepted, report.quarantined) == (1, 1)
    [row] = read_quarantine_opened(hub_paths, "social", development_vault(hub_paths)).to_pylist()
    assert row["_rule"] == "encoding" and row["_row_number"] == 2
    assert "caf\\xe9" in row["_raw"] and "not valid UTF-8" in row["_error"]

    registry = tmp_path / "registry"
    registry.mkdir()
    (registry / "d.csv").write_bytes(b"serial,model\nD1,M\nD2,Gr\xfcn\n")
    report = pull_files(hub_paths, IOT_DEVICES, registry, "*.csv", read_csv)
    assert (report.accepted, report.quarantined) == (1, 1)
