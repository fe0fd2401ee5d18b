"""Resolution on whatever columns a file has: the model compares and blocks on the columns
present and filled, says which it leaves out, and with every column keeps today's settings.

The subset files are written from the generated world (bench/identity_data.py) and
resolved through the real CLI; each must reach a pairwise F1 floor against the truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from identity import columns, evaluate
from identity import settings as settings_mod
from identity.settings import IdentityConfig
from identity.workspace import DEFAULT_MODEL
from tests.hub.identity_cli_runner import invoke
from tests.identity.conftest import with_person_values
from warehouse.layout import HubPaths

KEY = ["source", "source_record_id"]
# How empty the demo world's int_person_records columns are (20k people, 42,499 records):
# national ID and company each come from one source.
DEMO_EMPTY = {"name": 0.0, "birth_date": 0.6436, "email": 0.2338, "phone": 0.2907,
              "street": 0.3683, "postcode": 0.2053, "city": 0.3353, "national_id": 0.9287,
              "company": 0.9197, "social_handle": 0.7672}


@pytest.fixture(autouse=True)
def _data_root(hub_paths: HubPaths) -> None:  # every CLI call gets its own HUB_DATA_DIR
    return None


def _full_usage(empty: dict[str, float] | None = None) -> columns.ColumnUsage:
    return columns.ColumnUsage(empty or dict.fromkeys(columns.MEASURED, 0.0),
                               IdentityConfig().unused_when_empty, 1000)


def _settings_dict(usage: columns.ColumnUsage | None) -> dict:
    out = settings_mod.splink_settings(usage).get_settings("duckdb").as_dict()
    out.pop("linker_uid")
    return out


def _structure(settings: dict) -> tuple[list, list]:
    """Comparisons (levels' SQL and labels) and blocking rules, without parameters."""
    comparisons = [(c["output_column_name"],
                    [(lv["sql_condition"], lv.get("label_for_charts")) for lv in c["comparison_levels"]])
                   for c in settings["comparisons"]]
    return comparisons, settings["blocking_rules_to_generate_predictions"]


@pytest.mark.parametrize("empty", [None, DEMO_EMPTY], ids=["every column filled", "demo world"])
def test_a_full_column_set_keeps_todays_settings(empty: dict[str, float] | None) -> None:
    usage = _full_usage(empty)
    assert usage.unused == ()
    assert _settings_dict(usage) == _settings_dict(None)
    # The bundled model was trained with today's settings: same comparisons and rules.
    bundled = json.loads(DEFAULT_MODEL.read_text())
    assert _structure(_settings_dict(usage)) == _structure(bundled)
    assert settings_mod.restrict(bundled, usage) == bundled
    config = IdentityConfig.load()
    assert settings_mod.em_blocks(usage, config.em_blocks) == list(config.em_blocks)
    assert settings_mod.deterministic_rules(usage) == list(settings_mod.DETERMINISTIC_RULES)


def test_absent_and_nearly_empty_columns_drop_their_comparisons_and_rules() -> None:
    usage = _full_usage({**dict.fromkeys(columns.MEASURED, 0.0), "email": 1.0, "phone": 0.96,
                         "postcode": 0.95})
    assert usage.lines()[1:] == ["email: absent, not used", "phone: 96% empty, not used",
                                 "postcode: 95% empty, not used"]
    built = _settings_dict(usage)
    assert [c["output_column_name"] for c in built["comparisons"]] == [
        "name", "dob", "address", "national_id", "company", "social_handle"]
    rules = " ".join(r["blocking_rule"] for r in built["blocking_rules_to_generate_predictions"])
    assert "email" not in rules and "phone" not in rules and "postcode" not in rules
    assert settings_mod.em_blocks(usage, (("email",), ("dob",))) == [("dob",)]


def _truth(world: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    return evaluate.normalise_truth(world[1])


def _with_national_ids(world: tuple[pl.DataFrame, pl.DataFrame], share: int) -> pl.DataFrame:
    return with_person_values(world, "national_id", share,
                              pl.col("person_id").hash(3).cast(pl.String).str.slice(0, 11))


def _mostly_empty(records: pl.DataFrame, column: str, filled: float) -> pl.DataFrame:
    """``column`` kept on ``filled`` of the records (chosen by a seeded hash), empty on the rest."""
    keep = int(records.height * filled)
    rank = pl.when(pl.col(column).is_not_null()).then(pl.int_range(pl.len()).hash(5))
    return records.with_columns(
        pl.when(rank.rank("ordinal") <= keep).then(pl.col(column)).alias(column))


NAME = ("first_name", "last_name", "full_name")
SUBSETS = {
    # (columns besides the key, or a function of the world; file type; F1 floor; lines)
    "name, birth date, address": (
        lambda w: w[0].select(*KEY, *NAME, "birth_date", "street", "city", "postcode", "country"),
        "csv", 0.95, ["email: absent, not used", "phone: absent, not used"]),
    "name, national ID": (
        lambda w: _with_national_ids(w, 60).select(*KEY, *NAME, "national_id", "country"),
        "parquet", 0.93, ["birth_date: absent, not used", "email: absent, not used"]),
    "email only": (lambda w: w[0].select(*KEY, "email"), "csv", 0.79,
                   ["name: absent, not used", "phone: absent, not used"]),
    "phone only": (lambda w: w[0].select(*KEY, "phone", "country"), "parquet", 0.73,
                   ["name: absent, not used", "email: absent, not used"]),
    "phone 95% empty": (lambda w: _mostly_empty(w[0], "phone", 0.05), "csv", 0.99,
                        ["phone: 95% empty, not used"]),
}


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_a_file_with_some_columns_resolves_on_them(subset: str, world, tmp_path: Path) -> None:
    build, kind, floor, lines = SUBSETS[subset]
    records = build(world)
    src = tmp_path / f"in.{kind}"
    if kind == "csv":
        records.write_csv(src)
    else:
        records.write_parquet(src)
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert "trained on" in result.output  # enough records for a model of its own
    for line in lines:
        assert line in out
    assert any(line.startswith("columns used: ") for line in out)
    clusters = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    metrics = evaluate.evaluate(clusters, _truth(world))
    print(f"{subset}: pairwise F1 {metrics.pairwise_f1:.4f}, B-cubed F1 {metrics.bcubed_f1:.4f}")
    assert metrics.pairwise_f1 >= floor


def test_a_small_file_uses_the_bundled_model_on_its_columns(world, tmp_path: Path) -> None:
    src = tmp_path / "emails.csv"
    world[0].select(*KEY, "email").head(600).write_csv(src)
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "bundled model" in result.output and "columns used: email" in result.output
    state_models = tmp_path / "out" / ".identity" / "models"
    (version,) = [p for p in state_models.iterdir() if p.is_dir()]
    model = json.loads((version / "model.json").read_text())
    assert [c["output_column_name"] for c in model["comparisons"]] == ["email"]


@pytest.mark.parametrize("content", [
    "source,source_record_id,city,company,country\ncrm,1,Berlin,Acme,DE\ncrm,2,Berlin,Acme,DE\n",
    "source,source_record_id,email,city\n" + "".join(
        f"crm,{i},{'a@example.com' if i == 0 else ''},Berlin\n" for i in range(40)),
], ids=["no identifying column", "its only identifier nearly empty"])
def test_a_file_with_no_usable_identifying_column_fails_clearly(content: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    result = invoke("resolve", src, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "no usable identifying column" in result.output
    assert "first_name, last_name or full_name, email, phone, national_id, social_handle" in result.output
    assert not (tmp_path / "out" / "clusters.parquet").exists()
