"""advance(): the world moves on, and a running CRM server sees it."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from demo import world
from demo.crm_server import CrmServer
from tests.demo.helpers import delivered_rows, records, truth


def _links(root: Path) -> dict[str, str | None]:
    crm = {r["id"]: r["social_profile"] for r in records(root, "crm", "contacts")}
    return crm | {r["customer_no"]: r["social_login"] for r in records(root, "erp", "customers")}


def test_advance_adds_rows_and_bumps_crm_updated_at(world_copy: Path, manifest: dict) -> None:
    p = world.paths(world_copy)
    before_truth = truth(world_copy).height
    before_links = _links(world_copy)
    with CrmServer(p.crm_db, "demo-key") as server:
        after = world.advance(world_copy, days=1)
        response = requests.get(f"{server.url}/v1/contacts",
                                params={"updated_since": manifest["now"] + "Z", "limit": 1000},
                                headers={"Authorization": "Bearer demo-key"}, timeout=10)
    assert after["now"] == "2026-07-01T00:00:00"
    assert after["counts"] == delivered_rows(world_copy, after)
    # Even one day in a tiny world changes something everywhere.
    for key in ("crm/contacts", "crm/activities", "erp/sales_orders", "erp/order_lines", "erp/invoices",
                "social/posts", "iot/telemetry"):
        assert after["counts"][key] > manifest["counts"][key], key
    assert (p.social_landing / "social_20260701.jsonl").exists()
    assert (p.iot_telemetry_landing / "telemetry_20260701.jsonl").exists()
    assert after["planted"] == manifest["planted"]

    # Contacts changed in the new window are visible through the running server.
    changed = response.json()["results"]
    assert changed and all(r["updated_at"] > manifest["now"] for r in changed)
    updated_old = [r for r in changed if r["created_at"] <= manifest["now"] + "Z"]
    assert updated_old, "an existing contact should have been updated (moved or new phone)"
    assert truth(world_copy).height > before_truth  # the new contact has a true person
    # advance adds no links (demo/links.py) and keeps the ones there are.
    after_links = _links(world_copy)
    assert {k: after_links[k] for k in before_links} == before_links
    assert all(after_links[k] is None for k in after_links.keys() - before_links.keys())


def test_advance_is_deterministic(world_root: Path, tmp_path: Path) -> None:
    import shutil

    outs = []
    for name in ("x", "y"):
        shutil.copytree(world_root, tmp_path / name)
        outs.append(world.advance(tmp_path / name, days=2, seed=7))
    assert outs[0] == outs[1]
    assert json.loads((tmp_path / "x" / "manifest.json").read_text()) == outs[0]
    for rel in ("landing/social/social_20260702.jsonl", "truth/truth.parquet",
                "truth/people.parquet"):
        assert (tmp_path / "x" / rel).read_bytes() == (tmp_path / "y" / rel).read_bytes()


def test_advance_moves_open_deals_through_stages(world_copy: Path, manifest: dict) -> None:
    before = {r["id"]: r for r in records(world_copy, "crm", "opportunities")}
    world.advance(world_copy, days=60)
    after = {r["id"]: r for r in records(world_copy, "crm", "opportunities")}
    order = ["prospecting", "qualification", "proposal", "negotiation"]
    moved = [i for i in before if after[i]["stage"] != before[i]["stage"]]
    assert moved, "sixty days should move some open deal"
    for i in moved:
        old, new = before[i], after[i]
        # Only open deals move, forward or to a close, with updated_at inside the new window.
        assert old["stage"] in order
        assert new["stage"] in {"closed_won", "closed_lost"} or order.index(new["stage"]) > order.index(old["stage"])
        assert manifest["now"] + "Z" < new["updated_at"] <= "2026-08-29T00:00:00Z"
        if new["stage"].startswith("closed_"):
            assert new["close_date"] == new["updated_at"][:10]
    assert all(after[i] == before[i] for i in before if before[i]["stage"] not in order)
