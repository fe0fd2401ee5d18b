"""`hub privacy detect`, `scan` and the key commands in a real `hub` process, on real files."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from tests.hub.conftest import run_hub
from tests.privacy.conftest import cn_mobile, made_up_name, resident_id
from warehouse.database import DatabaseFile, connect
from warehouse.layout import HubPaths


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_detect_writes_presidio_entities_per_line(hub_env: dict[str, str], hub_paths: HubPaths, engineer_copy: DatabaseFile,
                                                 tmp_path: Path) -> None:
    rng = random.Random(7)
    first, last = made_up_name(rng)
    mobile, nid = cn_mobile(rng), resident_id(rng)
    email = f"{first.lower()}@example.com"
    texts = {"a": f"{first} {last} wrote in; replied to {email}.",
             "b": f"客户投诉：设备过热。联系方式{mobile}，身份证号{nid}。",
             "c": "Just installed the SmartPlug Mini."}
    # The hub's own customers: a published warehouse whose customer_360 holds the name.
    hub_paths.published_db.parent.mkdir(parents=True)
    with connect(engineer_copy, read_only=False) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_360 (full_name varchar, first_name varchar, "
                    "last_name varchar)")
        con.execute("insert into marts.customer_360 values (?, ?, ?)", [f"{first} {last}", first, last])
    _write_jsonl(tmp_path / "in.jsonl", [{"id": k, "text": v} for k, v in texts.items()])
    result = run_hub(hub_env, "privacy", "detect", "--in", str(tmp_path / "in.jsonl"),
                     "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 0, result.stderr
    assert "the names of 1 known customers" in result.stderr
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    for line in lines:
        assert set(line) == {"id", "entities"}
        for e in line["entities"]:
            assert set(e) == {"type", "start", "end", "score"} and 0 < e["score"] <= 1
    spans = {line["id"]: {(e["type"], texts[line["id"]][e["start"]:e["end"]]) for e in line["entities"]}
             for line in lines}
    assert spans["a"] == {("PERSON", f"{first} {last}"), ("EMAIL_ADDRESS", email)}
    assert spans["b"] == {("PHONE_NUMBER", mobile), ("CN_RESIDENT_ID", nid)}
    assert spans["c"] == set()
    # Without the customers' names, a made-up name without a cue is not found.
    again = run_hub(hub_env, "privacy", "detect", "--in", str(tmp_path / "in.jsonl"),
                    "--out", str(tmp_path / "out2.jsonl"), "--no-customers")
    assert again.returncode == 0, again.stderr
    first_line = json.loads((tmp_path / "out2.jsonl").read_text().splitlines()[0])
    assert "PERSON" not in {e["type"] for e in first_line["entities"]}


def test_detect_names_the_bad_line(hub_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "fine"}\n{"id": 2, "text": \n')
    result = run_hub(hub_env, "privacy", "detect", "--in", str(tmp_path / "in.jsonl"),
                     "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2
    assert f"{tmp_path / 'in.jsonl'}, line 2: not JSON" in result.stderr
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": 5}\n')
    result = run_hub(hub_env, "privacy", "detect", "--in", str(tmp_path / "in.jsonl"),
                     "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2 and "line 1, field text: a string expected" in result.stderr


def _catalog(stdout: str) -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(stdout)))
    return {r["column"]: r for r in rows}


def test_scan_a_csv_and_a_bronze_delta_table(hub_env: dict[str, str], hub_paths: HubPaths,
                                             tmp_path: Path) -> None:
    rng = random.Random(11)
    names = [made_up_name(rng) for _ in range(40)]
    emails = [f"{f.lower()}.{la.lower()}@example.org" for f, la in names]
    with (tmp_path / "leads.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead", "contact", "rank"])
        writer.writerows([f"L{i}", e, str(i * 10)] for i, e in enumerate(emails))
    result = run_hub(hub_env, "privacy", "scan", str(tmp_path / "leads.csv"))
    assert result.returncode == 0, result.stderr
    rows = _catalog(result.stdout)
    assert set(rows) == {"lead", "contact", "rank"}
    assert (rows["contact"]["status"], rows["contact"]["pii_type"]) == ("undeclared_pii", "EMAIL_ADDRESS")
    assert rows["contact"]["matched"] == "40"
    assert (rows["rank"]["status"], rows["rank"]["level"]) == ("unclassified", "L3")
    assert not any(e in result.stdout for e in emails)  # rows, never values

    contacts = hub_paths.bronze / "crm" / "contacts"
    write_deltalake(str(contacts), pa.table({
        "id": [f"CT{i}" for i in range(40)], "email": emails,
        "lifecycle_stage": [cn_mobile(rng) for _ in range(40)],  # declared NONE: contradicted
        "_extra": [json.dumps({"fax": f"+86 {cn_mobile(rng)}"}) for _ in range(40)]}))
    result = run_hub(hub_env, "privacy", "scan", str(contacts))
    assert result.returncode == 0, result.stderr
    rows = _catalog(result.stdout)
    assert {r["table"] for r in rows.values()} == {"bronze/crm/contacts"}
    assert (rows["email"]["status"], rows["email"]["declared_level"]) == ("declared", "L3")
    assert (rows["lifecycle_stage"]["status"], rows["lifecycle_stage"]["pii_type"]) == \
        ("contradicted", "PHONE_NUMBER")
    assert rows["_extra.fax"]["status"] == "undeclared_pii"


def test_scan_of_something_else_fails_clearly(hub_env: dict[str, str], tmp_path: Path) -> None:
    result = run_hub(hub_env, "privacy", "scan", str(tmp_path / "missing.parquet"))
    assert result.returncode == 2 and "no such file or directory" in result.stderr


def test_the_key_commands_are_reached_through_hub_privacy(hub_env: dict[str, str], hub_paths: HubPaths) -> None:
    status = run_hub(hub_env, "privacy", "keys-status")
    assert status.returncode == 0, status.stdout + status.stderr
    first_id = status.stdout.split("master key: ", 1)[1].split()[0]
    rotated = run_hub(hub_env, "privacy", "rotate-master-key")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    after = run_hub(hub_env, "privacy", "keys-status")
    assert f"retired master keys: {first_id}" in after.stdout
