"""Canonical loading and matching features: names, scripts, nicknames, identifiers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from identity import canonical, comparison_columns, evaluate, evidence
from identity.settings import IdentityConfig


def load(**columns: list) -> tuple[pl.DataFrame, canonical.LoadReport]:
    n = len(next(iter(columns.values())))
    base = {"source": ["crm"] * n, "source_record_id": [str(i) for i in range(n)]}
    return canonical.to_canonical(pl.DataFrame({**base, **columns}))


def test_dates_in_common_formats_and_implausible_ones() -> None:
    df, report = load(birth_date=["1980-02-01", "01.02.1980", "1980/02/01", "19800201",
                                  "1980-02-01T00:00:00", "1850-01-01", "31-31-1980", None])
    assert df["birth_date"].to_list()[:5] == [dt.date(1980, 2, 1)] * 5
    assert df["birth_date"].to_list()[5:] == [None, None, None]
    assert report.warnings["birth_date: unparseable values set to null"] == 1
    assert report.warnings["birth_date: implausible dates (before 1900 or in the future) set to null"] == 1


def test_emails_phones_countries_and_national_ids() -> None:
    df, report = load(email=[" Ann.Lee@Example.COM ", "bad@", None],
                      phone=["0151 2345 6789", "+4915123456789", "12"],
                      country=["DE", "Germany", "Atlantis"],
                      national_id=["ab 123 456 c", "x", None])
    assert df["email"].to_list() == ["ann.lee@example.com", None, None]
    assert df["phone"].to_list() == ["+4915123456789", "+4915123456789", None]
    assert df["country"].to_list() == ["DE", "DE", None]
    assert df["national_id"].to_list() == ["AB123456C", None, None]
    assert set(report.warnings) == {
        "email: invalid addresses set to null", "phone: unparseable numbers set to null",
        "country: not an ISO-3166 code, set to null", "national_id: invalid values set to null"}


def test_social_handles_are_platform_and_handle_in_lower_case() -> None:
    df, report = load(social_profile=[" X:Bob_W77 ", "weibo:李娜_88", "just a name", None])
    assert df["social_handle"].to_list() == ["x:bob_w77", "weibo:李娜_88", None, None]
    assert report.warnings["social_handle: not platform:handle, set to null"] == 1


@pytest.mark.parametrize(("full", "first", "last"), [
    ("Smith, John", "John", "Smith"),
    ("SMITH John", "John", "SMITH"),
    ("GREIN GROTH Francisco", "Francisco", "GREIN GROTH"),
    ("John Smith", "John", "Smith"),
    ("Bob S.", "Bob", "S"),
    ("张建军", "建军", "张"),
    ("欧阳娜娜", "娜娜", "欧阳"),
    ("Cher", "Cher", None),
    ("John Michael Smith", "John", "Smith"),          # a middle name is dropped
    ("Juan Carlos Griego", "Juan Carlos", "Griego"),  # a two-word given name is not
    ("Castro Ana María", "Ana María", "Castro"),
    ("Hans Peter Müller", "Hans Peter", "Müller"),
    ("Ryan de la Torre", "Ryan", "de la Torre"),      # particles begin the surname
    ("Ada van der Dussen", "Ada", "van der Dussen"),
    ("de la Cruz Hermelinda", "Hermelinda", "de la Cruz"),
    ("Anatoli Dussen van", "Anatoli", "Dussen van"),
    ("Anthony Mac Breen", "Anthony", "Mac Breen"),
])
def test_full_names_split(full: str, first: str, last: str | None) -> None:
    assert comparison_columns.split_full_name(full) == (first, last)


def test_latin_keys_pinyin_and_nicknames() -> None:
    assert comparison_columns.latin_key("Müller-Lüdenscheidt") == "muellerluedenscheidt"
    assert comparison_columns.latin_key("王伟") == "wangwei"
    assert comparison_columns.latin_key("José") == "jose"
    df, _ = load(first_name=["Bob", "Robert", "Chris", "伟"], last_name=["Ng", "Ng", "Ng", "王"])
    f = comparison_columns.build(df)
    assert f["first_name_key"].to_list() == ["robert", "robert", "chris", "wei"]
    assert "christopher" in f["first_name_forms"][2].to_list()
    assert f["name_hanzi"].to_list() == [None, None, None, "王伟"]
    assert f["full_name"][3] == "wei wang"


def test_evaluate_pairwise_and_bcubed() -> None:
    clusters = pl.DataFrame({"source": ["s"] * 4, "source_record_id": ["a", "b", "c", "d"],
                             "customer_id": ["X", "X", "X", "Y"]})
    truth = pl.DataFrame({"source": ["s"] * 4, "source_record_id": ["a", "b", "c", "d"],
                          "person_id": ["1", "1", "2", "2"]})
    m = evaluate.evaluate(clusters, truth)
    assert (m.predicted_pairs, m.true_pairs, m.correct_pairs) == (3, 2, 1)
    assert m.pairwise_precision == pytest.approx(1 / 3) and m.pairwise_recall == 0.5
    # B-cubed precision: a,b 2/3 each, c 1/3, d 1 -> 2/3; recall: a,b 1, c,d 1/2 -> 3/4.
    assert m.bcubed_precision == pytest.approx(2 / 3) and m.bcubed_recall == pytest.approx(0.75)


def test_truth_from_the_simulator_maps_entities_to_sources() -> None:
    truth = pl.DataFrame({"source": ["erp", "erp", "crm"], "entity": ["customers", "customer_contacts", "contacts"],
                          "source_record_id": ["K1", "KC1", "CT1"], "person_id": ["P1", "P1", "P1"]})
    mapped = evaluate.normalise_truth(truth).sort("source_record_id")
    assert mapped["source"].to_list() == ["crm", "erp", "erp_contacts"]


def _shared_emails(names: list[str], dobs: list[str | None] | None = None) -> set[str]:
    n = len(names)
    df, _ = load(full_name=names, email=["fam@example.com"] * n,
                 birth_date=dobs or [None] * n)
    return set(evidence.find_shared(comparison_columns.build(df), IdentityConfig())["value"].to_list())


@pytest.mark.parametrize(("names", "dobs", "shared"), [
    # One person's address under spellings of one name: not shared.
    (["Mary Melton", "Mry Melton", "Maly Melton"], None, False),
    (["GREIN GROTH Francisco", "Francisco Grein Groth"], None, False),
    (["Danny Wallace", "Daniel, Wallace"], None, False),  # swapped into the wrong fields
    (["建军", "王建军"], None, False),
    # A family mailbox: two first names, and an initial that would bridge them does not.
    (["John Smith", "Jane Smith"], None, True),
    (["John Smith", "Jane Smith", "J Smith"], None, True),
    # Typos are bridged, birth dates are not.
    (["Mary Melton", "Mry Melton", "Maly Melton"], ["1950-01-01", "1950-01-01", "1990-07-07"], True),
])
def test_shared_identifiers_count_people_not_spellings(names: list[str], dobs: list[str | None] | None,
                                                        shared: bool) -> None:
    assert (_shared_emails(names, dobs) == {"fam@example.com"}) is shared


@pytest.mark.parametrize(("email", "household"), [
    ("mueller.family@example.org", True),
    ("smithfamily2@example.com", True),
    ("familie.weber@example.de", True),
    ("xie.family2@mail.example.cn", True),
    ("familyguy@example.com", False),      # a word that starts like one
    ("anna.mueller@example.org", False),
])
def test_household_mailboxes_are_on_the_shipped_blocklist(email: str, household: bool) -> None:
    df, _ = load(full_name=["Anna Mueller"], email=[email])
    shared = evidence.find_shared(comparison_columns.build(df), IdentityConfig.load())
    assert (shared.filter(pl.col("reason") == "blocklist")["value"].to_list() == [email]) is household


@pytest.mark.parametrize(("email", "company", "work"), [
    ("ines.m@acme-tools.example", "ACME Tools GmbH", True),
    ("wolfgang.ullrich@mies-kgaa.example", "Mies GmbH & Co. KGaA", True),  # first word leads
    ("shuhua.niu@lixindianzi.example", "立信电子信息有限公司", True),
    ("wolfgang.ullrich@example.org", "Mies GmbH & Co. KGaA", False),
    ("bob@gmx.example", "Bobcat Logistics", False),
])
def test_work_addresses_are_at_the_employers_domain(email: str, company: str, work: bool) -> None:
    assert comparison_columns.is_work_email(email, company) is work


@pytest.mark.parametrize(("phone", "blocked"), [
    ("+4930000000000", True),     # a digit seven times over: a back-reference in the pattern
    ("+491234567890", True),
    ("+4930123455789", False),
])
def test_phone_blocklist_patterns_polars_cannot_read_still_apply(phone: str, blocked: bool) -> None:
    df, _ = load(full_name=["Anna Mueller", "Ben Mueller"], phone=[phone, phone], country=["DE", "DE"])
    shared = evidence.find_shared(comparison_columns.build(df), IdentityConfig.load())
    hits = shared.filter(pl.col("reason") == "blocklist")
    assert (hits.select("kind", "value", "n_records").rows() == [("phone", phone, 2)]) is blocked
