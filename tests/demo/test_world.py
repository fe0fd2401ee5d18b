"""The generated world: deterministic, counted, realistic noise, planted defects."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import polars as pl

from demo import world
from demo.identifiers import cn_resident_id_valid
from quality.contracts import CONTRACTS
from tests.demo.conftest import PEOPLE
from tests.demo.helpers import delivered_rows, lines, people, records, sql, truth

HAN = re.compile(r"[\u4e00-\u9fff]")
EMAIL_DOMAIN = re.compile(r"@(example\.(com|org)|mail\.example\.cn|[a-z0-9-]+\.example)$")


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}  # SQLite's transient files


def test_same_seed_gives_byte_identical_world(world_root: Path, tmp_path: Path) -> None:
    again = world.generate(tmp_path / "b", people=PEOPLE, seed=42)
    assert again == json.loads(world.paths(world_root).manifest.read_text())
    assert _digests(tmp_path / "b") == _digests(world_root)


def test_manifest_counts_equal_delivered_rows(world_root: Path, manifest: dict) -> None:
    assert manifest["counts"] == delivered_rows(world_root, manifest)
    assert set(manifest["counts"]) == set(CONTRACTS)
    assert manifest["now"] == "2026-06-30T00:00:00"


def test_records_carry_exactly_the_contract_fields(world_root: Path) -> None:
    for name, contract in CONTRACTS.items():
        source, entity = name.split("/")
        rows = records(world_root, source, entity)
        assert rows, name
        expected = set(contract.fields)
        drifted = {"owner_mobile"} if name == "iot/devices" else {"location"}
        for row in rows:
            keys = set(row) - drifted
            if name == "iot/devices" and "owner_mobile" in row:
                keys.add("owner_phone")
            if name == "iot/telemetry" and "device_id" not in row:
                keys.add("device_id")  # the planted missing_required rows
            if name == "iot/telemetry":
                keys.add("message_id")  # set by the MQTT stream only; telemetry files carry none
            assert keys == expected, (name, sorted(keys ^ expected))


def test_every_planted_record_is_where_the_manifest_says(world_root: Path,
                                                         manifest: dict) -> None:
    p = world.paths(world_root)
    kinds = {(e["source"], e["entity"], e["kind"], e["field"]) for e in manifest["planted"]}
    assert kinds == {
        ("social", "posts", "malformed_json", None), ("iot", "telemetry", "malformed_json", None),
        ("social", "posts", "wrong_type", "reactions"), ("erp", "invoices", "wrong_type", "amount"),
        ("crm", "opportunities", "wrong_type", "amount"),
        ("social", "posts", "overlong_field", "text"),
        ("crm", "contacts", "overlong_field", "first_name"),
        ("iot", "telemetry", "missing_required", "device_id"),
    }
    for e in manifest["planted"]:
        if e["file"] == "crm.sqlite":
            (payload,) = sql(p.crm_db, f"SELECT payload FROM {e['entity']} WHERE id = ?",
                             e["record_id"])[0]
            value = json.loads(payload)[e["field"]]
            assert isinstance(value, str)
            if e["kind"] == "overlong_field":
                assert len(value) > 200
            else:
                assert value.endswith("k") and value[:-1].isdigit()
            continue
        if e["file"] == "erp.sqlite":
            assert sql(p.erp_db, "SELECT typeof(amount), amount FROM invoices WHERE "
                       "invoice_no = ?", e["record_id"]) == [("text", "N/A")]
            continue
        line = lines(world_root / e["file"])[e["line"] - 1]
        assert e["record_id"] in line
        if e["kind"] == "malformed_json":
            try:
                json.loads(line)
                raise AssertionError(f"line parses: {e}")
            except json.JSONDecodeError:
                pass
            continue
        row = json.loads(line)
        if e["kind"] == "wrong_type":
            assert isinstance(row["reactions"], str) and not row["reactions"].isdigit()
        elif e["kind"] == "overlong_field":
            assert len(row["text"]) > 5000
        else:
            assert "device_id" not in row


def test_bad_rows_are_few(manifest: dict) -> None:
    per_entity: dict[str, int] = {}
    for e in manifest["planted"]:
        key = f"{e['source']}/{e['entity']}"
        per_entity[key] = per_entity.get(key, 0) + 1
    for key, n in per_entity.items():
        assert n <= max(3, 0.01 * manifest["counts"][key]), key


def test_duplicate_delivery_and_drift(world_root: Path, manifest: dict) -> None:
    (dup,) = manifest["duplicate_files"]
    assert (world_root / dup["file"]).read_bytes() == (world_root / dup["duplicate_of"]).read_bytes()
    renamed = [d for d in manifest["drift"] if d["renamed_to"] == "owner_mobile"]
    assert renamed
    registry = sorted(world.paths(world_root).iot_registry_landing.glob("*.csv"))
    for f in registry:
        header = lines(f)[0].split(",")
        is_drifted = world.paths(world_root).rel(f) in {d["file"] for d in renamed}
        assert ("owner_mobile" in header) == is_drifted and ("owner_phone" in header) != is_drifted
    (added,) = [d for d in manifest["drift"] if d.get("added_field") == "location"]
    assert any("location" in json.loads(x) for x in lines(world_root / added["file"]))


def test_households_share_surname_address_and_landline(world_root: Path) -> None:
    hh = people(world_root).filter(pl.col("household_id").is_not_null())
    groups = hh.group_by("household_id").agg(
        pl.len().alias("n"), pl.col("last_name").n_unique().alias("surnames"),
        pl.col("street").n_unique().alias("streets"),
        pl.col("landline").n_unique().alias("landlines"),
        pl.col("first_name").n_unique().alias("first_names"))
    assert groups.height >= 5
    assert groups["n"].min() >= 2 and groups["n"].max() <= 4
    assert (groups["surnames"] == 1).all() and (groups["streets"] == 1).all()
    assert (groups["landlines"] == 1).all()
    assert (groups["first_names"] > 1).mean() > 0.9


def test_chinese_names_in_characters_in_crm_and_pinyin_in_erp(world_root: Path) -> None:
    t = truth(world_root)
    crm = pl.DataFrame(records(world_root, "crm", "contacts")).select(
        pl.col("id").alias("source_record_id"), pl.col("last_name").alias("crm_last"))
    erp = pl.DataFrame(records(world_root, "erp", "customers"), infer_schema_length=None).select(
        pl.col("customer_no").alias("source_record_id"), pl.col("last_name").alias("erp_last"),
        pl.col("first_name").alias("erp_first"))
    joined = (t.join(crm, on="source_record_id").select("person_id", "crm_last")
              .join(t.join(erp, on="source_record_id").select("person_id", "erp_last", "erp_first"),
                    on="person_id"))
    both = joined.filter(pl.col("crm_last").str.contains(HAN.pattern)
                         & ~pl.col("erp_last").str.contains(HAN.pattern))
    assert both.height >= 3
    person = people(world_root).join(both, on="person_id")
    # The pinyin in the ERP is the person's true name (possibly first/last swapped).
    latin = set(zip(person["first_name_latin"], person["last_name_latin"], strict=True))
    shown = set(zip(person["erp_first"], person["erp_last"], strict=True))
    assert latin & (shown | {(b, a) for a, b in shown})


def test_cn_resident_ids_have_valid_checksums(world_root: Path) -> None:
    ids = people(world_root).filter(pl.col("country") == "CN")["national_id"].to_list()
    assert ids and all(cn_resident_id_valid(i) for i in ids)
    erp_ids = [r["national_id"] for r in records(world_root, "erp", "customers")
               if r["country"] == "CN" and r["national_id"]]
    assert erp_ids and all(cn_resident_id_valid(i) for i in erp_ids)


def test_only_example_email_domains(world_root: Path) -> None:
    emails = [r["email"] for r in records(world_root, "crm", "contacts")]
    emails += [r["email"] for r in records(world_root, "erp", "customers")]
    emails += [r["owner_email"] for r in records(world_root, "iot", "devices")]
    emails += people(world_root)["email"].to_list()
    emails = [e for e in emails if e]
    assert emails and all(EMAIL_DOMAIN.search(e.lower()) for e in emails)


def test_truth_covers_every_identity_record(world_root: Path) -> None:
    t = truth(world_root)
    assert t.columns == ["source", "entity", "source_record_id", "person_id"]
    assert t.select("source", "source_record_id").is_unique().all()
    crm_ids = {r["id"] for r in records(world_root, "crm", "contacts")}
    assert set(t.filter(pl.col("entity") == "contacts")["source_record_id"]) == crm_ids
    persons = {r["customer_no"] for r in records(world_root, "erp", "customers")
               if r["kind"] == "person"}
    assert set(t.filter(pl.col("entity") == "customers")["source_record_id"]) == persons
    profiles = {f"{r['platform']}:{r['handle']}" for r in records(world_root, "social", "posts")}
    assert set(t.filter(pl.col("source") == "social")["source_record_id"]) == profiles
    serials = {r["serial"] for r in records(world_root, "iot", "devices")}
    assert set(t.filter(pl.col("source") == "iot")["source_record_id"]) == serials


def test_churners_complain_before_they_leave(world_root: Path) -> None:
    ppl = people(world_root).with_row_index("idx")
    t = truth(world_root).filter(pl.col("entity") == "contacts")
    acts = pl.DataFrame(records(world_root, "crm", "activities")).join(
        t.select(pl.col("source_record_id").alias("contact_id"), "person_id"), on="contact_id")
    acts = acts.join(ppl.select("person_id", "churned_at"), on="person_id").with_columns(
        pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").dt.date().alias("day"))
    assert acts.filter(pl.col("day") > pl.col("churned_at")).height == 0
    tickets = acts.filter(pl.col("type") == "ticket")
    before = tickets.filter((pl.col("churned_at") - pl.col("day")).dt.total_days() <= 60).height
    churners = ppl.filter(pl.col("churned_at").is_not_null()).height
    # About two complaints per churner in their last 60 days, far above the base rate.
    assert before / churners > 1.0
