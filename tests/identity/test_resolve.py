"""End-to-end resolution with real Splink: stability, increments, merge protection, overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from identity import (
    canonical,
    comparison_columns,
    evaluate,
    graph_history,
    model_store,
    placement,
    resolve,
    train,
    workspace,
)
from identity.model_store import Model
from identity.settings import IdentityConfig
from tests.identity.conftest import customers_of, frame, person


def _run(records: pl.DataFrame, state: Path, model: Model, config: IdentityConfig,
         **kw: object) -> resolve.RunResult:
    canon, _ = canonical.to_canonical(records)
    return resolve.run(canon, state, model, config, **kw)  # type: ignore[arg-type]


def test_world_resolves_accurately(world, model, config, state_dir) -> None:
    records, truth = world
    result = _run(records, state_dir, model, config)
    metrics = evaluate.evaluate(result.assignment, evaluate.normalise_truth(truth))
    assert metrics.pairwise_f1 > 0.97 and metrics.bcubed_f1 > 0.98


def test_unchanged_input_changes_no_ids(world, model, config, state_dir) -> None:
    first = _run(world[0], state_dir, model, config)
    second = _run(world[0], state_dir, model, config)
    assert second.mode == "incremental" and second.input_unchanged
    assert second.events == {} and second.id_changes == 0 and not second.graph_changed
    assert first.assignment.sort("source", "source_record_id").equals(
        second.assignment.sort("source", "source_record_id"))


def test_one_percent_increment_touches_only_affected_customers(world, model, config,
                                                               tmp_path: Path) -> None:
    records = world[0]
    held = records.sample(fraction=0.01, seed=5)
    base = records.join(held, on=["source", "source_record_id"], how="anti")
    before = _run(base, tmp_path / "inc", model, config).assignment
    after_run = _run(records, tmp_path / "inc", model, config)
    assert after_run.mode == "incremental" and after_run.new == held.height
    assert after_run.rescored < records.height * 0.05
    after = after_run.assignment
    key = ["source", "source_record_id"]
    # Same partition as a full run on the same input.
    full = _run(records, tmp_path / "full", model, config).assignment
    pairs = after.join(full, on=key, suffix="_full")
    assert pairs.group_by("customer_id").agg(pl.col("customer_id_full").n_unique()).filter(
        pl.col("customer_id_full") > 1).is_empty()
    assert pairs.group_by("customer_id_full").agg(pl.col("customer_id").n_unique()).filter(
        pl.col("customer_id") > 1).is_empty()
    # Every record that changed customer is in (or came from) a customer that a new record
    # reaches: by joining it, by sharing an identifier with one of its records (merge
    # protection re-decides shared values), or by sharing a name (placement of lone records).
    changed = before.join(after, on=key, suffix="_after").filter(
        pl.col("customer_id") != pl.col("customer_id_after"))
    feats = comparison_columns.build(canonical.to_canonical(records)[0]).select(
        *key, "email", "phone", "national_id", "first_name_key", "last_name")
    new_feats = feats.join(held.select(key), on=key)
    near = pl.concat([
        after.join(after.join(held.select(key), on=key).select("customer_id"), on="customer_id")
        .select(key),
        *[feats.join(new_feats.select(c).drop_nulls(), on=c).select(key)
          for c in ("email", "phone", "national_id")],
        feats.join(new_feats.select("first_name_key", "last_name").drop_nulls(),
                   on=["first_name_key", "last_name"]).select(key),
    ]).unique()
    reach = pl.concat([before.join(near, on=key)["customer_id"],
                       after.join(near, on=key)["customer_id"]]).unique().implode()
    assert changed.filter(~pl.col("customer_id").is_in(reach)
                          & ~pl.col("customer_id_after").is_in(reach)).is_empty()
    assert changed.height <= held.height  # a 1% increment moves at most a handful of IDs


def household() -> pl.DataFrame:
    home = {"street": "12 Elm Road", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}
    return frame(
        person("crm", "h1", first_name="Harold", last_name="Pemberton", birth_date="1961-03-14",
               email="harold.pemberton@example.co.uk", phone="+441132460001", **home),
        person("erp", "h1b", first_name="Harold", last_name="Pemberton", birth_date="1961-03-14",
               email="pemberton.family@example.co.uk", phone="+441132460001", **home),
        person("crm", "h2", first_name="Margaret", last_name="Pemberton", birth_date="1963-11-02",
               email="pemberton.family@example.co.uk", phone="+441132460001", **home),
        person("iot", "h3", full_name="Oliver Pemberton", email="pemberton.family@example.co.uk",
               phone="+441132460001", postcode="LS1 4AB", country="GB"),
        person("erp", "h4", first_name="Sophie", last_name="Pemberton", birth_date="1994-07-21",
               phone="+441132460001", **home),
    )


def test_household_members_stay_apart(model, config, state_dir) -> None:
    result = _run(household(), state_dir, model, config)
    ids = customers_of(result, ("crm", "h1"), ("erp", "h1b"), ("crm", "h2"), ("iot", "h3"),
                       ("erp", "h4"))
    assert ids[0] == ids[1], "Harold's two records are one customer"
    assert len(set(ids[1:])) == 4, "Harold, Margaret, Oliver and Sophie are four customers"
    shared = set(result.shared.select("kind", "value").iter_rows())
    assert ("phone", "+441132460001") in shared
    assert ("email", "pemberton.family@example.co.uk") in shared


def test_blocklisted_and_crowded_identifiers_do_not_merge_people(model, config, state_dir) -> None:
    records = frame(
        person("crm", "t1", first_name="Ava", last_name="Lindqvist", email="team@acme.example",
               birth_date="1980-01-01"),
        person("crm", "t2", first_name="Björn", last_name="Okafor", email="team@acme.example",
               birth_date="1975-05-05"),
        person("erp", "s1", first_name="Carla", last_name="Nguyen", phone="+493012345678"),
        person("erp", "s2", first_name="Dmitri", last_name="Haas", phone="+493012345678"),
        person("erp", "s3", first_name="Emeka", last_name="Rossi", phone="+493012345678"),
    )
    result = _run(records, state_dir, model, config)
    a, b, c, d, e = customers_of(result, ("crm", "t1"), ("crm", "t2"), ("erp", "s1"),
                                 ("erp", "s2"), ("erp", "s3"))
    assert a != b and len({c, d, e}) == 3
    reasons = dict(((k, v), r) for k, v, r in result.shared.select("kind", "value", "reason").iter_rows())
    assert reasons[("email", "team@acme.example")] == "blocklist"
    assert reasons[("phone", "+493012345678")] == "people"


def test_a_household_mailbox_is_not_evidence_for_or_against(model, config, state_dir) -> None:
    records = frame(
        # Mareen's own address in the ERP, the family's in the CRM: one person.
        person("erp", "k1", first_name="Mareen", last_name="Kuhl", email="kuhl.mareen@example.org",
               birth_date="1948-05-19", postcode="74076", street="Pauline-Gude-Gasse 46"),
        person("crm", "k2", first_name="Mareen", last_name="Kuhl", email="kuhl.family@example.org",
               postcode="74076", street="Pauline-Gude-Gasse 46"),
        # Her son registered a device with the family address: not Mareen.
        person("iot", "k3", full_name="Kuhl, Jonas", email="kuhl.family@example.org",
               postcode="74076"),
    )
    result = _run(records, state_dir, model, config)
    own, family, son = customers_of(result, ("erp", "k1"), ("crm", "k2"), ("iot", "k3"))
    assert own == family != son
    reasons = dict(((k, v), r) for k, v, r in result.shared.select("kind", "value", "reason").iter_rows())
    assert reasons[("email", "kuhl.family@example.org")] == "blocklist"
    assert ("email", "kuhl.mareen@example.org") not in reasons


def test_chinese_characters_match_pinyin_and_swaps(model, config, state_dir) -> None:
    records = frame(
        person("crm", "c1", first_name="娜娜", last_name="欧阳", birth_date="1990-04-12",
               phone="+8613812345678", country="CN"),
        person("erp", "c2", first_name="Ouyang", last_name="Nana", birth_date="12.04.1990",
               phone="138 1234 5678", country="CN"),           # pinyin, surname first
        person("iot", "c3", full_name="欧阳娜娜", phone="+8613812345678", country="CN"),
        person("crm", "c4", first_name="伟", last_name="汪", birth_date="1985-01-01",
               phone="+8613900000001", country="CN"),           # a different Wang Wei
        person("crm", "c5", first_name="伟", last_name="王", birth_date="1972-09-30",
               phone="+8613900000002", country="CN"),
    )
    result = _run(records, state_dir, model, config)
    ids = customers_of(result, ("crm", "c1"), ("erp", "c2"), ("iot", "c3"), ("crm", "c4"),
                       ("crm", "c5"))
    assert ids[0] == ids[1] == ids[2]
    assert ids[3] != ids[4] and ids[3] != ids[0]


def test_nicknames_typos_and_day_month_swaps_match(model, config, state_dir) -> None:
    records = frame(
        person("crm", "n1", first_name="Robert", last_name="Whitfield", birth_date="1979-05-07",
               postcode="M1 2AB", email="rob.whitfield@example.com"),
        person("erp", "n2", first_name="Bob", last_name="Whitfeild", birth_date="07.05.1979",
               postcode="M1 2AB", email="ROB.WHITFIELD@EXAMPLE.COM"),
        person("social", "n3", full_name="WHITFIELD Bob", email="rob.whitfield@example.com"),
    )
    result = _run(records, state_dir, model, config)
    assert len(set(customers_of(result, ("crm", "n1"), ("erp", "n2"), ("social", "n3")))) == 1


def test_steward_overrides_win(model, config, state_dir) -> None:
    records = frame(
        person("crm", "o1", first_name="Ines", last_name="Marquardt", email="ines.m@example.de",
               birth_date="1988-08-08"),
        person("erp", "o2", first_name="Ines", last_name="Marquardt", email="ines.m@example.de",
               birth_date="1988-08-08"),
        person("crm", "o3", first_name="Jo", last_name="Quist", email="jq@example.de"),
        person("iot", "o4", full_name="J. Q.", phone="+4915112345678"),
    )
    overrides = pl.DataFrame({
        "rule": ["cannot_link", "must_link"], "source_l": ["crm", "crm"],
        "source_record_id_l": ["o1", "o3"], "source_r": ["erp", "iot"],
        "source_record_id_r": ["o2", "o4"]})
    plain = _run(records, state_dir.with_name("plain"), model, config)
    a, b = customers_of(plain, ("crm", "o1"), ("erp", "o2"))
    assert a == b, "without overrides the two Ines records match"
    result = _run(records, state_dir, model, config, overrides=overrides)
    a, b, c, d = customers_of(result, ("crm", "o1"), ("erp", "o2"), ("crm", "o3"), ("iot", "o4"))
    assert a != b and c == d
    # Removing the cannot-link on the next run merges them again, older ID kept.
    again = _run(records, state_dir, model, config, overrides=overrides.tail(1))
    a2, b2 = customers_of(again, ("crm", "o1"), ("erp", "o2"))
    assert a2 == b2 and a2 in (a, b) and again.events["merged"] == 1


def test_graph_keeps_history(model, config, state_dir) -> None:
    records = household()
    t1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = _run(records, state_dir, model, config, ts=t1)
    # Harold's ERP record gets someone else's details: it leaves Harold.
    changed = records.with_columns(
        pl.when(pl.col("source_record_id") == "h1b").then(pl.lit("Zoltan")).otherwise(
            pl.col("first_name")).alias("first_name"),
        pl.when(pl.col("source_record_id") == "h1b").then(pl.lit("1999-09-09")).otherwise(
            pl.col("birth_date")).alias("birth_date"))
    t2 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    second = _run(changed, state_dir, model, config, ts=t2)
    assert second.events["split"] == 1
    history = second.state.graph
    assert history.height == records.height + 1
    then = graph_history.as_of(history, dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    old = first.assignment.select("source", "source_record_id", "customer_id")
    assert then.select(old.columns).sort("source", "source_record_id").equals(
        old.sort("source", "source_record_id"))
    log = second.state.changes
    assert set(log["event"]) == {"created", "split"}


def test_full_rerun_over_existing_state_keeps_ids(world, model, config, state_dir) -> None:
    """A new model or settings force a full run; IDs still carry forward through it."""
    first = _run(world[0], state_dir, model, config)
    again = _run(world[0], state_dir, model, config, full=True)
    assert again.mode == "full" and again.id_changes == 0 and again.events == {}
    assert first.assignment.sort("source", "source_record_id").equals(
        again.assignment.sort("source", "source_record_id"))
    third = _run(world[0], state_dir, model, config)  # and incremental runs continue from it
    assert third.mode == "incremental" and third.events == {}
    assert again.state.changes.height == world[0].height  # the log still holds run one


def _placed_together(records: pl.DataFrame) -> list[int]:
    """Cluster of each record when every record starts alone and placement runs."""
    feats = comparison_columns.build(canonical.to_canonical(records)[0])
    alone = feats.select("uid", pl.col("uid").alias("cluster"))
    final, _ = placement.place(feats, alone)
    return final.sort("uid")["cluster"].to_list()


def test_bare_profile_joins_the_customer_placement_assembles() -> None:
    # Her ERP record and her company-contact record (private vs work email) are joined only
    # by placement; until then they looked like two candidates for her bare profile.
    alexa = frame(
        person("erp", "a1", first_name="Alexa", last_name="Quimby", birth_date="1985-08-03",
               email="alexa.quimby@example.com", phone="+14053296478"),
        person("erp_contacts", "a2", first_name="Alexa", last_name="Quimby",
               email="alexa.quimby@quimby-tools.example", company="Quimby Tools"),
        person("social", "x:the_alexa690", full_name="Alexa Quimby"),
    )
    assert len(set(_placed_together(alexa))) == 1
    # A second Alexa Quimby, born another year, makes the profile ambiguous again.
    namesake = pl.concat([alexa, frame(person("crm", "c9", first_name="Alexa",
                                              last_name="Quimby", birth_date="1990-02-11",
                                              phone="+14055550123"))])
    clusters = _placed_together(namesake)
    assert clusters[2] == 2 and clusters.count(2) == 1


def test_a_profile_city_decides_between_namesakes() -> None:
    two_majas = [
        person("crm", "m1", first_name="Maja", last_name="Bloch", email="maja.bloch@example.de",
               city="Passau"),
        person("erp", "m2", first_name="Maja", last_name="Brandt", email="mbrandt@example.de",
               city="Köln"),
    ]
    # "Maja B." is either; the profile lives in Passau, where only Maja Bloch does.
    local = _placed_together(frame(*two_majas, person("social", "x:the_maja474",
                                                      full_name="Maja B.", city="Passau")))
    assert local[2] == local[0] != local[1]
    # Without a city, or in a third one, the name stays ambiguous.
    for city in (None, "Berlin"):
        alone = _placed_together(frame(*two_majas, person("social", "x:the_maja474",
                                                          full_name="Maja B.", city=city)))
        assert alone.count(alone[2]) == 1


def test_two_swapped_letters_at_either_end_still_place() -> None:
    # A typo key keeps a name's first and last letter; "iMa" for Mia keeps neither in place.
    clusters = _placed_together(frame(
        person("crm", "e1", first_name="Mia", last_name="Eimer", email="eimer.mia@example.org"),
        person("iot", "e2", full_name="Eimer, Ima", postcode="28944"),
        person("social", "x:the_mia12", full_name="Mia Emier"),
    ))
    assert len(set(clusters)) == 1


def test_swapped_letters_are_a_typo_but_another_letter_is_another_name(model) -> None:
    from identity.explain import _level_labels, _score_pairs

    labels = _level_labels(model)["name"]

    def level(a: str, b: str) -> str:
        records = frame(person("crm", "a", full_name=a), person("erp", "b", full_name=b))
        scored = _score_pairs(comparison_columns.build(canonical.to_canonical(records)[0]), model)
        return labels[scored["gamma_name"][0]]

    assert level("Ben Lamb", "Ebn Lamb") == "one name with a typo"
    assert level("Ben Lamb", "Ben Lmab") == "one name with a typo"
    # Tim and Tom of one family are two people, not a typo.
    assert level("Tim Lamb", "Tom Lamb") == "same surname, different first name"


def test_a_linked_social_profile_joins_its_contact_and_a_misattached_one_does_not(
        model_with_handles, config, state_dir) -> None:
    records = frame(
        # The service desk attached Robert's X profile to his contact; the profile shows
        # only a first name, which no other evidence could place.
        person("crm", "l1", first_name="Robert", last_name="Whitfield", birth_date="1979-05-07",
               email="rob.whitfield@example.com", social_handle="X:Bob_W77"),
        person("social", "x:bob_w77", full_name="Bob", social_handle="x:bob_w77"),
        # One handle on two different people's records (a wrong attach): not evidence.
        person("crm", "l2", first_name="Margaret", last_name="Oyelaran", birth_date="1950-01-02",
               social_handle="instagram:pemberton_h"),
        person("erp", "l3", first_name="Harold", last_name="Pemberton", birth_date="1961-03-14",
               social_handle="instagram:pemberton_h"),
    )
    result = _run(records, state_dir, model_with_handles, config)
    rob, profile, margaret, harold = customers_of(
        result, ("crm", "l1"), ("social", "x:bob_w77"), ("crm", "l2"), ("erp", "l3"))
    assert rob == profile
    assert margaret != harold
    shared = set(result.shared.select("kind", "value").iter_rows())
    assert ("social_handle", "instagram:pemberton_h") in shared


def test_a_column_the_training_data_never_fills_is_left_out(model) -> None:
    # The fixture world has no social handles: the model neither compares nor blocks on them.
    assert "social_handle" not in {c["output_column_name"] for c in model.settings["comparisons"]}
    assert not any("social_handle" in r["blocking_rule"]
                   for r in model.settings["blocking_rules_to_generate_predictions"])
    assert "social_handle" not in model.meta["columns"]["used"]
    # A level random pairs never show stays strong evidence: a national ID lives in one
    # source here, so no random pair shares one.
    (nid,) = [c for c in model.settings["comparisons"] if c["output_column_name"] == "national_id"]
    same = next(lv for lv in nid["comparison_levels"] if not lv.get("is_null_level"))
    assert same["u_probability"] <= 1e-6


def test_retraining_unchanged_records_gives_the_current_model_back(world, config,
                                                                   tmp_path: Path) -> None:
    # A warehouse table has no row order; the records arrive shuffled on every read.
    def retrain(order: int) -> Model:
        canon, _ = canonical.to_canonical(world[0].sample(fraction=1.0, shuffle=True, seed=order))
        return train.train_on_records(canon, config, tmp_path)

    first, second = retrain(1), retrain(2)
    assert first.settings == second.settings
    assert second.version == first.version and model_store.versions(tmp_path) == [first.version]


def test_characters_written_surname_last_meet_their_pinyin(model) -> None:
    # 桂英李 read surname-first is Gui Yingli: only the letters, regrouped, say Li Guiying.
    # Both pair orders, since Splink puts the smaller uid on the left.
    from identity.explain import _level_labels, _score_pairs

    labels = _level_labels(model)["name"]
    for rows in ([("social", "s", None, None, "桂英李"), ("crm", "c", "Guiying", "Li", None)],
                 [("crm", "c", "Guiying", "Li", None), ("social", "s", None, None, "桂英李")]):
        records = frame(*[person(src, rid, first_name=f, last_name=la, full_name=full)
                          for src, rid, f, la, full in rows])
        scored = _score_pairs(comparison_columns.build(canonical.to_canonical(records)[0]), model)
        assert labels[scored["gamma_name"][0]] == "same letters, split differently"


def test_a_first_resolve_trains_inside_the_run_the_model_a_separate_training_gives(
        world, model, config, tmp_path: Path) -> None:
    # Rows in another order: the training sample follows the record keys, not the rows.
    records, _ = canonical.to_canonical(world[0].reverse())
    result, trained, how = workspace.resolve(records, workspace.Workspace(tmp_path), config)
    assert how == f"model {trained.version}, trained on {records.height:,} records"
    assert trained.settings == model.settings
    assert trained.tf_tables.keys() == model.tf_tables.keys()
    assert all(trained.tf_tables[c].equals(model.tf_tables[c]) for c in model.tf_tables)
    assert result.mode == "full" and result.records == records.height
