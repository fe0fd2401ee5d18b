"""A landing folder is written by partners: whatever lies in it, nothing is lost, nothing outside it is read,
nothing is ignored in silence, and a reason names the real cause."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.connectors.landing_files import LandingFileRefused, read_csv, read_jsonl, survey
from pipelines.connectors.pull import pull_files
from quality.contracts import IOT_DEVICES, SOCIAL_POSTS
from warehouse import delta_store
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_quarantine_opened
from warehouse.layout import HubPaths


def _post(i: int) -> str:
    return json.dumps({"post_id": f"p{i}", "platform": "weibo", "handle": f"h{i}", "text": "你好",
                       "created_at": "2026-05-01T10:00:00", "reactions": i}, ensure_ascii=False)


def _quarantine(hub_paths: HubPaths, source: str) -> dict[int, dict]:
    table = read_quarantine_opened(hub_paths, source, development_vault(hub_paths))
    return {} if table is None else {q["_row_number"]: q for q in table.to_pylist()}


def test_every_rejected_csv_row_keeps_its_bytes_line_and_own_hash(hub_paths: HubPaths, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    (registry / "devices_1.csv").write_bytes(
        b"serial,model,firmware\n"
        b"D1,M,1.0\n"                     # 2: accepted
        b"D2,K\xfchlschrank,1.0\n"        # 3: latin-1, not UTF-8
        b"D3,M,1.0,surplus\n"             # 4: a cell too many
        b"D4,Gr\xfcn,1.0\n"               # 5: latin-1 again, other bytes
        b"D5,M,1.0,x,y\n"                 # 6: two cells too many
        b"\n"                             # 7: blank, not a row
        b'D6,"M\nX",1.0,surplus\n'        # 8-9: one record over two lines, a cell too many
        b'D7,"\xff\nN",1.0\n'             # 10-11: the bad byte is on the record's first line
    )
    report = pull_files(hub_paths, IOT_DEVICES, registry, "*.csv", read_csv)
    assert (report.rows_in, report.accepted, report.quarantined, report.already_loaded) == (7, 1, 6, 0)
    assert report.reconciles

    rows = _quarantine(hub_paths, "iot")
    assert set(rows) == {3, 4, 5, 6, 8, 10}
    assert rows[3]["_raw"] == "D2,K\\xfchlschrank,1.0" and rows[3]["_rule"] == "encoding"
    assert rows[4]["_raw"] == "D3,M,1.0,surplus" and rows[4]["_rule"] == "malformed_csv"
    assert rows[5]["_raw"] == "D4,Gr\\xfcn,1.0"
    assert rows[8]["_raw"] == 'D6,"M\nX",1.0,surplus'
    assert rows[10]["_raw"] == 'D7,"\\xff\nN",1.0' and rows[10]["_rule"] == "encoding"
    assert all(f"row {n}:" in q["_error"] for n, q in rows.items())
    assert len({q["_record_hash"] for q in rows.values()}) == 6

    # Only the exact bytes of a row already quarantined count as already loaded; one byte apart is a new row.
    (registry / "devices_2.csv").write_bytes(b"serial,model,firmware\nD2,K\xfchlschrank,1.0\nD2,K\xfchlschrank,1.1\n")
    again = pull_files(hub_paths, IOT_DEVICES, registry, "*.csv", read_csv)
    assert (again.rows_in, again.quarantined, again.already_loaded) == (2, 1, 1)
    assert again.reconciles

    # A row the CSV parser gives up on (a cell over its size limit) is quarantined too, and the rows after it land.
    (registry / "devices_3.csv").write_bytes(b"serial,model,firmware\nD8,M,1.0\nD9,\"" + b"x" * 200_000 + b"\",1.0\nD10,M,1.0\n")
    third = pull_files(hub_paths, IOT_DEVICES, registry, "*.csv", read_csv)
    assert (third.rows_in, third.accepted, third.quarantined) == (3, 2, 1)
    quarantine = read_quarantine_opened(hub_paths, "iot", development_vault(hub_paths)).to_pylist()
    [big] = [q for q in quarantine if q["_source_uri"].endswith("devices_3.csv")]
    assert big["_row_number"] == 3 and big["_rule"] == "malformed_csv" and big["_raw"].startswith('D9,"xxx')
    assert "field limit" in big["_error"]


def test_links_and_anything_outside_the_folder_are_refused(hub_paths: HubPaths, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jsonl"
    secret.write_text(_post(666) + "\n{not json, a secret line\n", encoding="utf-8")
    folder = tmp_path / "landing" / "social"
    folder.mkdir(parents=True)
    (folder / "ok.jsonl").write_text(_post(1) + "\n", encoding="utf-8")
    (folder / "leak.jsonl").symlink_to(secret)
    (folder / "alias.jsonl").symlink_to(folder / "ok.jsonl")
    (folder / "escape").symlink_to(outside, target_is_directory=True)
    os.mkfifo(folder / "pipe.jsonl")

    found = survey(folder, "*.jsonl")
    assert [p.name for p in found.files] == ["ok.jsonl"]
    refused = "\n".join(found.refused)
    assert "leak.jsonl" in refused and "alias.jsonl" in refused and "escape" in refused and "pipe.jsonl" in refused
    assert "symbolic link" in refused

    report = pull_files(hub_paths, SOCIAL_POSTS, folder, "*.jsonl", read_jsonl)
    assert (report.rows_in, report.accepted, report.quarantined) == (1, 1, 0)
    assert delta_store.read(hub_paths.bronze_table("social", "posts")).column("post_id").to_pylist() == ["p1"]
    assert _quarantine(hub_paths, "social") == {}

    # A file swapped for a link after the folder was listed is refused when it is opened.
    with pytest.raises(LandingFileRefused, match=r"leak\.jsonl"):
        list(read_jsonl(folder / "leak.jsonl"))


def _social_asset() -> dg.AssetsDefinition:
    from pipelines.defs.ingest.assets import BRONZE_ASSETS

    key = dg.AssetKey(["bronze", "social", "posts"])
    return next(a for a in BRONZE_ASSETS if key in a.keys)


def test_unexpected_files_are_reported_and_extensions_match_in_any_case(hub_paths: HubPaths, tmp_path: Path) -> None:
    from pipelines.defs.resources import HubStorage, LandingZone

    landing = tmp_path / "landing"
    folder = landing / "social"
    folder.mkdir(parents=True)
    (folder / "social_2026W29.jsonl").write_text(_post(1) + "\n", encoding="utf-8")
    (folder / "social_2026W31.JSONL").write_text(_post(2) + "\n", encoding="utf-8")
    (folder / "social_2026W30.json").write_text(_post(3) + "\n", encoding="utf-8")
    (folder / "readme.txt").write_text("for the social team\n", encoding="utf-8")
    (folder / ".social_2026W32.jsonl").write_text(_post(4) + "\n", encoding="utf-8")
    (folder / "old").mkdir()
    (folder / "link.jsonl").symlink_to(folder / "social_2026W29.jsonl")

    result = dg.materialize(
        [_social_asset()],
        resources={"storage": HubStorage(data_dir=str(hub_paths.root)), "landing": LandingZone(root=str(landing))},
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("social_posts_bronze")
    metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    assert (metadata["rows_in"], metadata["accepted"]) == (2, 2)
    posts = delta_store.read(hub_paths.bronze_table("social", "posts")).column("post_id").to_pylist()
    assert sorted(posts) == ["p1", "p2"]
    assert (metadata["unexpected_files"], metadata["refused_files"]) == (4, 1)
    warnings = metadata["landing_warnings"]
    for name in ("social_2026W30.json", "readme.txt", ".social_2026W32.jsonl", "old", "link.jsonl"):
        assert name in warnings
    assert "social_2026W31.JSONL" not in warnings and "for the social team" not in warnings
    assert "你好" not in warnings and "h3" not in warnings


def test_a_file_in_another_encoding_is_quarantined_naming_it(hub_paths: HubPaths, tmp_path: Path) -> None:
    folder = tmp_path / "social"
    folder.mkdir()
    text = "".join(_post(i) + "\n" for i in (1, 2, 3))
    (folder / "posts_bom.jsonl").write_bytes(text.encode("utf-16"))  # with its byte-order mark
    (folder / "posts_be.jsonl").write_bytes(text.replace("p", "q").encode("utf-16-be"))  # none
    report = pull_files(hub_paths, SOCIAL_POSTS, folder, "*.jsonl", read_jsonl)
    assert (report.rows_in, report.accepted, report.quarantined, report.already_loaded) == (6, 0, 6, 0)
    rows = read_quarantine_opened(hub_paths, "social", development_vault(hub_paths)).to_pylist()
    by_file = {(Path(q["_source_uri"]).name, q["_row_number"]): q for q in rows}
    assert set(by_file) == {(f, n) for f in ("posts_bom.jsonl", "posts_be.jsonl") for n in (1, 2, 3)}
    assert all(q["_rule"] == "encoding" for q in rows)
    bom = by_file[("posts_bom.jsonl", 2)]
    assert "UTF-16LE" in bom["_error"] and "byte-order mark" in bom["_error"]
    assert f"{folder / 'posts_bom.jsonl'} row 2:" in bom["_error"]
    assert bom["_raw"] == _post(2)
    assert "UTF-16BE" in by_file[("posts_be.jsonl", 1)]["_error"]

    registry = tmp_path / "registry"
    registry.mkdir()
    (registry / "devices.csv").write_bytes("serial,model\nD1,Kühlschrank\nD2,M\n".encode("utf-16"))
    report = pull_files(hub_paths, IOT_DEVICES, registry, "*.csv", read_csv)
    assert (report.rows_in, report.quarantined) == (2, 2)
    rows = _quarantine(hub_paths, "iot")
    assert set(rows) == {2, 3}
    assert rows[2]["_raw"] == "D1,Kühlschrank" and rows[2]["_rule"] == "encoding"
    assert all("UTF-16LE" in q["_error"] and "devices.csv row" in q["_error"] for q in rows.values())
