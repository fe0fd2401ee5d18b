"""The links sources record between social profiles and customers (demo/links.py), checked
against the landing files and the ground truth: who DM'd when, and who owns which profile."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from demo import links, world
from tests.demo.helpers import people, records, truth

LINK_PEOPLE = 5000  # enough linked records to test the rates; generated in about 3 s


@pytest.fixture(scope="module")
def link_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("links") / "world"
    world.generate(root, people=LINK_PEOPLE, seed=42)
    return root


def _owners(root: Path) -> pl.DataFrame:
    return truth(root).filter(pl.col("source") == "social").select(
        pl.col("source_record_id").alias("profile_id"), "person_id")


def _person_of(root: Path, key: str) -> pl.DataFrame:
    return truth(root).select(pl.col("source_record_id").alias(key), "person_id")


def _contacts(root: Path) -> pl.DataFrame:
    return (pl.DataFrame(records(root, "crm", "contacts"), infer_schema_length=None)
            .join(_person_of(root, "id"), on="id"))


def _dms(root: Path) -> pl.DataFrame:
    """Every DM delivered to the landing folder, with its profile's true owner."""
    rows = [(f"{r['platform']}:{r['handle']}", r["created_at"])
            for r in records(root, "social", "posts") if r.get("kind") == "dm"]
    return (pl.DataFrame(rows, schema=["profile_id", "dm_at"], orient="row").unique()
            .join(_owners(root), on="profile_id"))


def _person_customers(root: Path) -> pl.DataFrame:
    return (pl.DataFrame(records(root, "erp", "customers"), infer_schema_length=None)
            .filter(pl.col("kind") == "person")
            .join(_person_of(root, "customer_no"), on="customer_no")
            .join(people(root).select("person_id", "locale"), on="person_id"))


def _near(share: float, expected: float, n: int) -> bool:
    """Within 3.5 binomial standard deviations of ``expected``."""
    return n > 0 and abs(share - expected) <= 3.5 * math.sqrt(expected * (1 - expected) / n)


def test_links_point_to_a_profile_of_the_same_person(link_world: Path) -> None:
    owners = _owners(link_world)
    crm = _contacts(link_world).filter(pl.col("social_profile").is_not_null())
    erp = _person_customers(link_world).filter(pl.col("social_login").is_not_null())
    assert crm.height > 100 and erp.height > 100
    for linked, column in ((crm, "social_profile"), (erp, "social_login")):
        owned = linked.join(owners, left_on=column, right_on="profile_id", suffix="_owner")
        assert owned.height == linked.height, f"{column} names a profile that does not exist"
        assert (owned["person_id"] == owned["person_id_owner"]).all(), column


def test_crm_links_only_dm_senders_on_their_first_dm(link_world: Path) -> None:
    contacts = _contacts(link_world)
    dms = _dms(link_world)
    # The primary contact is the person's first; a DM counts once the contact exists.
    primary = contacts.sort("created_at", "id").unique("person_id", keep="first")
    after = primary.join(dms, on="person_id").filter(pl.col("dm_at") >= pl.col("created_at"))
    first = after.sort("dm_at", "profile_id").unique("person_id", keep="first")
    linked = contacts.filter(pl.col("social_profile").is_not_null())

    assert set(linked["id"]) <= set(first["id"]), "a contact without a DM got a profile"
    assert linked["person_id"].is_unique().all(), "one link per person, on one contact"
    checked = first.filter(pl.col("social_profile").is_not_null())
    assert (checked["social_profile"] == checked["profile_id"]).all(), "not the first DM'd profile"
    assert (checked["updated_at"] >= checked["dm_at"]).all(), "updated_at before the DM"
    assert (checked["updated_at"] >= checked["created_at"]).all()

    share = checked.height / first.height
    assert _near(share, links.ATTACH, first.height), (share, first.height)


def test_erp_social_logins_by_platform_and_country(link_world: Path) -> None:
    customers = _person_customers(link_world)
    capable = _owners(link_world).filter(
        pl.col("profile_id").str.split(":").list.first().is_in(links.LOGIN_PLATFORMS))
    logins = customers.filter(pl.col("social_login").is_not_null())
    assert not logins["social_login"].str.starts_with("instagram:").any()
    assert set(logins["person_id"]) <= set(capable["person_id"])

    eligible = customers.filter(pl.col("person_id").is_in(capable["person_id"].implode()))
    for zh, expected in ((True, links.LOGIN_ZH), (False, links.LOGIN_OTHER)):
        group = eligible.filter((pl.col("locale") == "zh_CN") == zh)
        share = group["social_login"].is_not_null().mean()
        assert _near(share, expected, group.height), (zh, share, group.height)

    companies = [r for r in records(link_world, "erp", "customers") if r["kind"] == "company"]
    assert companies and all(r["social_login"] is None for r in companies)


def test_the_small_world_has_links(world_root: Path) -> None:
    """So that the byte-for-byte reproducibility test covers them."""
    assert any(r["social_profile"] for r in records(world_root, "crm", "contacts"))
    assert any(r["social_login"] for r in records(world_root, "erp", "customers"))
