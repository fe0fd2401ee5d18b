"""Identity settings as data: the steward's YAML knobs and the Splink model definition.

``IdentityConfig`` holds thresholds, merge-protection limits, the blocklist and training
options (``config/identity.yaml``, overridable per run). ``splink_settings()`` declares the
comparisons and blocking rules, all of them or those a file's columns can feed
(identity/columns.py); ``identity/train.py`` estimates their parameters and the scheduled
runs only ever load a trained model.

Why these comparisons:

- ``name`` compares first and last name together, so that a swap, a nickname or a pinyin
  spelling of a Chinese name is a level of its own, and so that "same surname, different
  first name" (a household member, not a typo) is a level with its own, low weight instead
  of half a match.
- ``dob`` tolerates day/month swaps, one mistyped digit, and dates one day or one year
  apart.
- ``email`` and ``phone`` add fuzzy levels (local part; last 8 digits) to the exact ones.
- term-frequency adjustments on full name and surname: "Wang Wei" agreeing says far less
  than "Kunibert Wernecke" agreeing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from identity.columns import FEATURE_INPUT, ColumnUsage

CONFIG_FILE = Path(__file__).parent / "config" / "identity.yaml"


@dataclass(frozen=True)
class IdentityConfig:
    cluster_threshold: float = 0.95
    pairs_threshold: float = 0.50
    evidence_threshold: float = 0.005
    max_people_per_identifier: int = 1
    max_records_per_identifier: int = 25
    national_id_conflict_splits: bool = True
    birth_date_conflict_splits: bool = True
    max_cluster_size: int = 12
    blocklist: dict[str, tuple[str, ...]] = field(default_factory=dict)
    train_max_records: int = 300_000
    train_random_pairs: int = 1_000_000
    train_seed: int = 42
    em_blocks: tuple[tuple[str, ...] | str, ...] = (("email",), ("dob",))
    deterministic_recall: float = 0.7
    unused_when_empty: float = 0.95

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> IdentityConfig:
        return replace(_from_yaml(path or CONFIG_FILE), **overrides)

    def fingerprint(self) -> str:
        """Hash of everything that changes which records match (not training options)."""
        keys = ("cluster_threshold", "evidence_threshold",
                "max_people_per_identifier",
                "max_records_per_identifier", "national_id_conflict_splits",
                "birth_date_conflict_splits", "blocklist")
        data = {k: v for k, v in asdict(self).items() if k in keys}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()[:16]


@cache
def _from_yaml(path: Path) -> IdentityConfig:
    raw = yaml.safe_load(path.read_text()) or {}
    th, mp, tr = raw.get("thresholds", {}), raw.get("merge_protection", {}), raw.get("training", {})
    blocks = tuple(tuple(b) if isinstance(b, list) else str(b) for b in tr.get("em_blocks", []))
    return IdentityConfig(
        cluster_threshold=float(th.get("cluster", 0.95)),
        pairs_threshold=float(th.get("pairs", 0.5)),
        evidence_threshold=float(th.get("evidence", 0.005)),
        max_people_per_identifier=int(mp.get("max_people_per_identifier", 1)),
        max_records_per_identifier=int(mp.get("max_records_per_identifier", 25)),
        national_id_conflict_splits=bool(mp.get("national_id_conflict_splits", True)),
        birth_date_conflict_splits=bool(mp.get("birth_date_conflict_splits", True)),
        max_cluster_size=int(mp.get("max_cluster_size", 12)),
        blocklist={k: tuple(v or ()) for k, v in (raw.get("blocklist") or {}).items()},
        train_max_records=int(tr.get("max_records", 300_000)),
        train_random_pairs=int(tr.get("random_pairs", 1_000_000)),
        train_seed=int(tr.get("seed", 42)),
        em_blocks=blocks or (("email",), ("dob",)),
        deterministic_recall=float(tr.get("deterministic_recall", 0.7)),
        unused_when_empty=float((raw.get("columns") or {}).get(
            "unused_when_empty", IdentityConfig.unused_when_empty)),
    )


def given_name_alone_sql(a: str, b: str) -> str:
    """A Chinese given name shown alone (艳凯, read surname-first as Yan Kai) is the other
    side's first name (Yankai Wang). ``a`` and ``b`` place a column name: "{}_l", "a.{}".
    Used both as a comparison level and by merge protection (identity/evidence.py)."""
    first_a, last_a = a.format("first_name"), a.format("last_name")
    first_b, last_b = b.format("first_name"), b.format("last_name")
    return f"{last_a} || {first_a} = {first_b} or {last_b} || {first_b} = {first_a}"


def dates_off_by_one_sql(a: str, b: str) -> str:
    """Two birth dates one day apart (a date stored as a midnight timestamp and read back
    in another time zone) or one year apart on the same day (a year mistyped or
    remembered wrong: 1979 for 1980 differs in two digits). Used both as a comparison
    level and by merge protection and clustering (identity/evidence.py)."""
    return (f"(abs(date_diff('day', {a}, {b})) = 1 or (month({a}) = month({b}) and "
            f"day({a}) = day({b}) and abs(year({a}) - year({b})) = 1))")


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(sql: str) -> dict[str, Any]:
    return _level(sql, "null", is_null_level=True)


def swapped_letters_sql(a: str, b: str) -> str:
    """Two neighbouring letters swapped ("eBn" for Ben, "iMa" for Mia): Jaro-Winkler scores
    short names with a swap at the start low, yet few pairs of real names differ only so
    (Tim and Tom differ by a letter, which this does not accept). Used both as part of a
    comparison level and by placement (identity/placement.py)."""
    return f"(damerau_levenshtein({a}, {b}) = 1 and levenshtein({a}, {b}) = 2)"


ELSE = _level("ELSE", "all other")
JW = "jaro_winkler_similarity"
FORMS_MEET = "len(list_intersect(first_name_forms_l, first_name_forms_r)) > 0"
# tf adjustments on levels that are not a plain exact match use the level's own u.
TF_FULL = {"tf_adjustment_column": "full_name", "disable_tf_exact_match_detection": True,
           "tf_minimum_u_value": 1e-6}
TF_LAST = {"tf_adjustment_column": "last_name", "disable_tf_exact_match_detection": True,
           "tf_minimum_u_value": 1e-6}

NAME = {
    "output_column_name": "name",
    "comparison_description": "first and last name, with swaps, nicknames and pinyin",
    "comparison_levels": [
        _null("(first_name_l is null and last_name_l is null) "
              "or (first_name_r is null and last_name_r is null)"),
        # Characters equal, or Latin/pinyin equal where one side has no characters: one
        # level for every script, so its m does not depend on how many names are Chinese.
        _level("name_hanzi_l = name_hanzi_r or (first_name_l = first_name_r and "
               "last_name_l = last_name_r and (name_hanzi_l is null or name_hanzi_r is null))",
               "same name", **TF_FULL),
        # Both in characters, same pinyin, different characters: 王伟 and 汪伟 are homophones.
        _level("first_name_l = first_name_r and last_name_l = last_name_r",
               "same pinyin, different characters", **TF_FULL),
        _level("(first_name_l = last_name_r and last_name_l = first_name_r) "
               "or name_chars_l = name_chars_r",
               "first and last name swapped", **TF_FULL),
        _level(f"last_name_l = last_name_r and {FORMS_MEET}", "same surname, nickname"),
        _level(f"(last_name_l = first_name_r and {JW}(first_name_l, last_name_r) >= 0.75) or "
               f"(first_name_l = last_name_r and {JW}(last_name_l, first_name_r) >= 0.75)",
               "swapped, with a typo or short form"),
        # 凯志谭 read surname-first as Kai Zhitan, against Kaizhi Tan: the same letters.
        _level("(first_name_l || last_name_l in (first_name_r || last_name_r, "
               "last_name_r || first_name_r)) or (last_name_l || first_name_l in "
               "(first_name_r || last_name_r, last_name_r || first_name_r))",
               "same letters, split differently"),
        _level(given_name_alone_sql("{}_l", "{}_r"), "a given name alone"),
        _level(f"(last_name_l = last_name_r and ({JW}(first_name_l, first_name_r) >= 0.88 or "
               f"{swapped_letters_sql('first_name_l', 'first_name_r')})) or (first_name_l = "
               f"first_name_r and ({JW}(last_name_l, last_name_r) >= 0.88 or "
               f"{swapped_letters_sql('last_name_l', 'last_name_r')}))",
               "one name with a typo"),
        _level("(last_name_l = last_name_r and (length(first_name_l) = 1 or length(first_name_r) = 1)"
               " and left(first_name_l, 1) = left(first_name_r, 1)) or "
               f"({FORMS_MEET} and (length(last_name_l) = 1 or length(last_name_r) = 1)"
               " and left(last_name_l, 1) = left(last_name_r, 1))",
               "name and initial"),
        _level("last_name_l = last_name_r and (first_name_l is null or first_name_r is null)",
               "same surname, a first name missing", **TF_LAST),
        _level(f"{FORMS_MEET} and (last_name_l is null or last_name_r is null)",
               "same first name, a surname missing"),
        _level("last_name_l = last_name_r", "same surname, different first name", **TF_LAST),
        _level(FORMS_MEET, "same first name, different surname"),
        ELSE,
    ],
}

DOB = {
    "output_column_name": "dob",
    "comparison_description": "birth date, tolerating day/month swaps and one typed digit",
    "comparison_levels": [
        _null("dob_l is null or dob_r is null"),
        _level("dob_l = dob_r", "same birth date"),
        _level("year(dob_l) = year(dob_r) and month(dob_l) = day(dob_r) "
               "and day(dob_l) = month(dob_r)", "day and month swapped"),
        _level("damerau_levenshtein(cast(dob_l as varchar), cast(dob_r as varchar)) <= 1",
               "one digit apart"),
        _level(dates_off_by_one_sql("dob_l", "dob_r"), "one day or one year apart"),
        ELSE,
    ],
}

EMAIL = {
    "output_column_name": "email",
    "comparison_description": "email (shared mailboxes removed), exact or by local part",
    "comparison_levels": [
        _null("email_l is null or email_r is null"),
        _level("email_l = email_r", "same email"),
        # One edit at the same domain, not Jaro-Winkler nor "same local part, other domain":
        # local parts are built from names, so namesakes' addresses (anna.li88@ and
        # anna.li07@, anna.li@a.org and anna.li@b.com) look alike without being one person's.
        _level("split_part(email_l, '@', 2) = split_part(email_r, '@', 2) and "
               "damerau_levenshtein(email_local_l, email_local_r) <= 1",
               "local part one typo apart"),
        _level("email_work_l <> email_work_r", "a work and a private address"),
        ELSE,
    ],
}

PHONE = {
    "output_column_name": "phone",
    "comparison_description": "phone in E.164 (shared lines removed), exact or last 8 digits",
    "comparison_levels": [
        _null("phone_l is null or phone_r is null"),
        _level("phone_l = phone_r", "same phone"),
        _level("phone_last8_l = phone_last8_r", "same last 8 digits"),
        ELSE,
    ],
}

ADDRESS = {
    "output_column_name": "address",
    "comparison_description": "street, postcode and city",
    "comparison_levels": [
        _null("(street_l is null and postcode_l is null and city_l is null) "
              "or (street_r is null and postcode_r is null and city_r is null)"),
        _level("street_l = street_r and postcode_l = postcode_r", "same street and postcode"),
        _level(f"postcode_l = postcode_r and {JW}(street_l, street_r) >= 0.88",
               "same postcode, similar street"),
        _level("street_l = street_r and city_l = city_r", "same street and city"),
        _level("postcode_l = postcode_r", "same postcode"),
        _level("city_l = city_r", "same city"),
        ELSE,
    ],
}

NATIONAL_ID = {
    "output_column_name": "national_id",
    "comparison_description": "national ID (tax or resident number)",
    "comparison_levels": [
        _null("national_id_l is null or national_id_r is null"),
        _level("national_id_l = national_id_r", "same national ID"),
        ELSE,
    ],
}

COMPANY = {
    "output_column_name": "company",
    "comparison_description": "employer",
    "comparison_levels": [
        _null("company_l is null or company_r is null"),
        _level("company_l = company_r", "same company"),
        _level(f"{JW}(company_l, company_r) >= 0.9", "similar company"),
        ELSE,
    ],
}

SOCIAL = {
    "output_column_name": "social_handle",
    "comparison_description": "a social profile the source linked (service-desk attach, "
                              "social login) or is",
    "comparison_levels": [
        _null("social_handle_l is null or social_handle_r is null"),
        _level("social_handle_l = social_handle_r", "same social profile"),
        # Different handles are weak evidence against, not a conflict: one person has
        # profiles on several platforms and a contact records one. Training measures how
        # weak (u on random pairs; a "different" null level would leave u of a match at 1).
        ELSE,
    ],
}

COMPARISONS = (NAME, DOB, EMAIL, PHONE, ADDRESS, NATIONAL_ID, COMPANY, SOCIAL)

# Candidate pairs: each rule is cheap (an equi-join) and together they find every pair a
# person would consider, including records with typos in one field.
BLOCKING_RULES: tuple[tuple[str, ...] | str, ...] = (
    ("email",),
    ("phone",),
    ("national_id",),
    ("social_handle",),
    ("first_name_key", "last_name"),
    "l.first_name = r.last_name and l.last_name = r.first_name",
    ("name_chars",),
    ("last_name", "dob"),
    ("first_name_key", "dob"),
    ("phone_last8",),
    ("last_name", "postcode"),
    ("first_name_key", "postcode"),
    ("dob", "postcode"),
)
# Rules precise enough to estimate how many pairs match (the prior), on clean identifiers.
DETERMINISTIC_RULES: tuple[tuple[str, ...] | str, ...] = (
    ("email",), ("national_id",), ("full_name", "dob"),
)


# When no configured EM block or deterministic rule can run on the columns at hand, these
# are tried in order (a file of names and addresses has no email to block on).
FALLBACK_EM_BLOCKS: tuple[tuple[str, ...] | str, ...] = (
    ("email",), ("dob",), ("phone",), ("national_id",), ("social_handle",), ("postcode",),
    ("first_name_key", "last_name"),
)
FALLBACK_DETERMINISTIC_RULES: tuple[tuple[str, ...] | str, ...] = (
    ("phone",), ("social_handle",), ("full_name", "postcode"), ("full_name", "street"),
)
_RULE_COLUMN = re.compile(r'\b[lr]\."?(\w+)"?')
_LEVEL_COLUMN = re.compile(r"\b(\w+)_[lr]\b")


def blocking_rule(rule: tuple[str, ...] | str) -> Any:
    """A Splink blocking rule from a column tuple or an SQL condition."""
    from splink import block_on

    return block_on(*rule) if isinstance(rule, tuple) else rule


def rule_columns(rule: tuple[str, ...] | str | dict[str, Any]) -> tuple[str, ...]:
    """The feature columns a blocking rule reads (a tuple, SQL, or a saved model's rule)."""
    if isinstance(rule, tuple):
        return rule
    sql = rule["blocking_rule"] if isinstance(rule, dict) else rule
    return tuple(dict.fromkeys(_RULE_COLUMN.findall(sql)))


def comparison_columns(comparison: dict[str, Any]) -> tuple[str, ...]:
    """The feature columns a comparison's levels read."""
    found = (c for lv in comparison["comparison_levels"]
             for c in _LEVEL_COLUMN.findall(lv["sql_condition"]))
    return tuple(dict.fromkeys(c for c in found if c in FEATURE_INPUT))


def comparisons(usage: ColumnUsage | None = None) -> list[dict[str, Any]]:
    """The comparisons that read a usable column (all of them without ``usage``)."""
    return [dict(c) for c in COMPARISONS
            if usage is None or usage.uses_any(comparison_columns(c))]


def blocking_rules(usage: ColumnUsage | None = None) -> list[tuple[str, ...] | str]:
    """The prediction blocking rules whose every column is usable."""
    return [r for r in BLOCKING_RULES if usage is None or usage.uses_all(rule_columns(r))]


def em_blocks(usage: ColumnUsage | None, configured: tuple[tuple[str, ...] | str, ...]
              ) -> list[tuple[str, ...] | str]:
    """EM sessions that can run: the configured blocks whose columns are usable and that
    leave a comparison to estimate, else the first two such fallbacks."""
    if usage is None:
        return list(configured)
    compared = [set(comparison_columns(c)) for c in comparisons(usage)]

    def runs(block: tuple[str, ...] | str) -> bool:
        columns = rule_columns(block)
        inputs = {FEATURE_INPUT.get(c, c) for c in columns}
        return usage.uses_all(columns) and any(
            not inputs & {FEATURE_INPUT[c] for c in cols} for cols in compared)

    chosen = [b for b in configured if runs(b)]
    return chosen or [b for b in FALLBACK_EM_BLOCKS if runs(b)][:2]


def deterministic_rules(usage: ColumnUsage | None = None) -> list[tuple[str, ...] | str]:
    """Rules for the match prior on usable columns: the usual ones, else fallbacks, else
    none (the prior then stays Splink's default)."""
    if usage is None:
        return list(DETERMINISTIC_RULES)
    chosen = [r for r in DETERMINISTIC_RULES if usage.uses_all(rule_columns(r))]
    return chosen or [r for r in FALLBACK_DETERMINISTIC_RULES if usage.uses_all(rule_columns(r))]


def splink_settings(usage: ColumnUsage | None = None) -> Any:
    """The untrained Splink model: comparisons and prediction blocking rules, on the columns
    ``usage`` finds usable (all of them without it: the settings of a full column set)."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        comparisons=comparisons(usage),
        blocking_rules_to_generate_predictions=[blocking_rule(r) for r in blocking_rules(usage)],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
        em_convergence=0.001,
    )


def restrict(trained: dict[str, Any], usage: ColumnUsage) -> dict[str, Any]:
    """A trained model's settings without the comparisons and blocking rules that read no
    usable column (the bundled model applied to a file with fewer columns)."""
    return {
        **trained,
        "comparisons": [c for c in trained["comparisons"]
                        if usage.uses_any(comparison_columns(c))],
        "blocking_rules_to_generate_predictions": [
            r for r in trained["blocking_rules_to_generate_predictions"]
            if usage.uses_all(rule_columns(r))],
    }
