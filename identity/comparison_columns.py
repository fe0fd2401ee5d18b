"""Matching features from canonical records: the columns Splink compares and blocks on.

Names become Latin keys (German umlauts transliterated, accents dropped, Chinese
characters turned into toneless pinyin), so 王伟, "Wang Wei" and "WANG Wei" share keys,
while ``name_hanzi`` keeps the characters so that an exact match in characters still
counts for more than a pinyin match (homophones share pinyin). A full name alone is
split into first and last name ("Last, First", "LAST First", "First Last", 张建军),
keeping two-word given names whole (``config/compound_given_names.yaml``).
Nicknames map to their formal names through ``config/nicknames.yaml``.

Everything is vectorised in Polars except what needs a dictionary or pypinyin, which
runs once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import polars as pl
import yaml

from identity import standardise

CONFIG_DIR = Path(__file__).parent / "config"
# Splink compares these; ``uid`` is the integer key Splink joins on (faster than strings).
MATCH_COLUMNS = (
    "uid", "first_name", "last_name", "first_name_key", "first_name_forms", "name_hanzi",
    "name_chars", "full_name", "dob", "email", "email_local", "email_work", "phone", "phone_last8",
    "street", "postcode", "city", "national_id", "company", "social_handle",
)
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容",
                      "长孙", "令狐", "夏侯", "宇文", "司徒", "端木")
_STREET_WORDS = {"street": "st", "road": "rd", "avenue": "ave", "drive": "dr", "lane": "ln",
                 "strasse": "str", "place": "pl", "court": "ct", "boulevard": "blvd"}
_COMPANY_NOISE = (r"\b(ltd|llc|inc|plc|gmbh|ag|kg|ohg|eg|mbh|co|corp|corporation|company|"
                  r"limited|group|and|und|sons|partner|partners)\b")


@cache
def nickname_forms() -> dict[str, tuple[str, ...]]:
    """Lower-case name -> the formal names it may stand for (itself excluded)."""
    table = yaml.safe_load((CONFIG_DIR / "nicknames.yaml").read_text())
    forms: dict[str, set[str]] = {}
    for formal, nicks in table.items():
        for nick in nicks:
            forms.setdefault(nick, set()).add(formal)
    return {k: tuple(sorted(v)) for k, v in forms.items()}


@lru_cache(maxsize=500_000)
def latin_key(text: str | None) -> str | None:
    """'Müller-Lüdenscheidt' -> 'muellerluedenscheidt'; '王伟' -> 'wangwei'."""
    if not text:
        return None
    if standardise.has_cjk(text):
        text = standardise.pinyin(text) or text
    text = "".join(_GERMAN.get(c, c) for c in text)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z]", "", plain)
    return key or None


@lru_cache(maxsize=500_000)
def split_full_name(full: str | None) -> tuple[str | None, str | None]:
    """(first, last) as written, from one name field."""
    if not full:
        return None, None
    full = full.strip()
    if standardise.has_cjk(full) and " " not in full:
        surname_len = 2 if full[:2] in _COMPOUND_SURNAMES and len(full) > 2 else 1
        if len(full) == 1:
            return full, None
        return full[surname_len:], full[:surname_len]
    if "," in full:
        last, _, rest = full.partition(",")
        tokens = rest.split()
        return (tokens[0] if tokens else None), (last.strip() or None)
    tokens = [t.strip(".") for t in full.split() if t.strip(".")]
    if not tokens:
        return None, None
    if len(tokens) == 1:
        return tokens[0], None
    if len(tokens[0]) > 1 and tokens[0].isupper() and not all(t.isupper() for t in tokens):
        # "GREIN GROTH Francisco": the capitalised run is the surname, however many words.
        caps = next(i for i, t in enumerate(tokens) if not t.isupper())
        return tokens[caps], " ".join(tokens[:caps])
    if len(tokens) >= 3:
        # Surname particles ("de la", "van", "auch"; Irish "Mac") stay with the surname.
        particle = [t.islower() or t == "Mac" for t in tokens]
        if particle[0] and not particle[-1]:   # "de la Cruz Hermelinda": surname first
            return tokens[-1], " ".join(tokens[:-1])
        if particle[-1] and not particle[0]:   # "Anatoli Dussen van", as sorted lists write it
            return tokens[0], " ".join(tokens[1:])
        inner = next((i for i in range(1, len(tokens) - 1) if particle[i]), None)
        if inner is not None:                  # "Ryan de la Torre", "Anthony Mac Breen"
            return " ".join(tokens[:inner]), " ".join(tokens[inner:])
    return _compound_split(tokens) or (tokens[0], tokens[-1])


@cache
def compound_given_names() -> frozenset[str]:
    """Latin keys of two-word given names ("juancarlos", "hanspeter")."""
    table = yaml.safe_load((CONFIG_DIR / "compound_given_names.yaml").read_text())
    return frozenset(k for names in table.values() for n in names if (k := latin_key(n)))


def _compound_split(tokens: list[str]) -> tuple[str, str] | None:
    """(given, surname) when a two-word given name leads or, swapped, trails."""
    if len(tokens) < 3:
        return None
    if latin_key(" ".join(tokens[:2])) in compound_given_names():
        return " ".join(tokens[:2]), " ".join(tokens[2:])
    if latin_key(" ".join(tokens[-2:])) in compound_given_names():
        return " ".join(tokens[-2:]), " ".join(tokens[:-2])
    return None


def _forms(first: str | None) -> list[str] | None:
    if first is None:
        return None
    return [first, *nickname_forms().get(first, ())]


def _first_key(first: str | None) -> str | None:
    formal = nickname_forms().get(first or "", ())
    return formal[0] if len(formal) == 1 else first


def _fold(col: str) -> pl.Expr:
    """Lower-case ASCII form of Latin text (CJK text passes through unchanged)."""
    expr = pl.col(col).str.replace_many(list(_GERMAN), list(_GERMAN.values()))
    expr = expr.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase()
    return expr


def _lookup(df: pl.DataFrame, col: str, outputs: dict[str, pl.DataType], fn) -> pl.DataFrame:
    """``fn`` applied once per distinct value of ``col``, as a frame to join back.

    Joining is much faster than ``replace_strict`` with a dict when values are lists.
    """
    values = df[col].drop_nulls().unique()
    results = [fn(v) for v in values.to_list()]
    if len(outputs) == 1:
        results = [(r,) for r in results]
    columns = {name: pl.Series(name, [r[i] for r in results], dtype=dtype)
               for i, (name, dtype) in enumerate(outputs.items())}
    return pl.DataFrame({col: values, **columns})


@lru_cache(maxsize=200_000)
def is_work_email(email: str | None, company: str | None) -> bool:
    """An address at the employer's domain (ines.m@acme-tools.example for "ACME Tools GmbH").

    A work and a private address of one person differ by nature, so their disagreeing is
    no evidence against a match; only two work or two private addresses are compared.
    """
    if not email or not company or "@" not in email:
        return False
    domain = re.sub(r"[^a-z]", "", email.split("@", 1)[1].split(".")[0])
    firm = latin_key(company) or ""
    # The first distinctive word often leads the domain: mies-kgaa for "Mies GmbH & Co. KGaA".
    first = next((k for w in re.sub(_COMPANY_NOISE, " ", company.lower()).split()
                  if (k := latin_key(w))), "")
    return len(domain) >= 4 and (domain in firm or (len(firm) >= 6 and firm[:6] in domain)
                                 or (len(first) >= 4 and domain.startswith(first)))


def build(canonical: pl.DataFrame, uids: pl.Series | None = None) -> pl.DataFrame:
    """Features for every canonical record: ``source``, ``source_record_id`` and MATCH_COLUMNS."""
    df = canonical.with_row_index("uid") if uids is None else canonical.with_columns(uids.alias("uid"))
    df = df.with_columns(pl.col("uid").cast(pl.Int64))
    # Records with only a full name: split it.
    need_split = pl.col("first_name").is_null() & pl.col("last_name").is_null()
    df = df.with_columns(pl.when(need_split).then(pl.col("full_name")).alias("_to_split"))
    df = df.join(_lookup(df, "_to_split", {"_split_first": pl.String, "_split_last": pl.String},
                         split_full_name), on="_to_split", how="left")
    df = df.with_columns(pl.coalesce("first_name", "_split_first").alias("_first"),
                         pl.coalesce("last_name", "_split_last").alias("_last"))
    df = df.join(_lookup(df, "_first", {"first_name_l": pl.String}, latin_key), on="_first",
                 how="left")
    df = df.join(_lookup(df, "_last", {"last_name_l": pl.String}, latin_key), on="_last",
                 how="left")
    df = df.with_columns(
        pl.when(pl.col("_first").str.contains(r"[\u3400-\u9fff]")
                & pl.col("_last").str.contains(r"[\u3400-\u9fff]"))
        .then(pl.col("_last") + pl.col("_first")).otherwise(None).alias("name_hanzi"))
    df = df.join(_lookup(df, "first_name_l", {"first_name_key": pl.String,
                                              "first_name_forms": pl.List(pl.String)},
                         lambda v: (_first_key(v), _forms(v))), on="first_name_l", how="left")
    df = df.with_columns(
        pl.concat_str([pl.col("first_name_l"), pl.col("last_name_l")], separator=" ")
        .alias("full_name_key"))
    pairs = df.filter(pl.col("email").is_not_null() & pl.col("company").is_not_null())
    work = {(e, c) for e, c in pairs.select("email", "company").unique().iter_rows()
            if is_work_email(e, c)}
    df = df.with_columns(pl.struct("email", "company").is_in(
        pl.Series([{"email": e, "company": c} for e, c in work],
                  dtype=pl.Struct({"email": pl.String, "company": pl.String})).implode()
    ).fill_null(False).alias("email_work") if work else pl.lit(False).alias("email_work"))
    street = _fold("street").str.replace_all(r"strasse\b", "str")
    street = street.str.replace_all(r"[^\p{L}\p{N}]+", " ")
    for word, short in _STREET_WORDS.items():
        street = street.str.replace_all(rf"\b{word}\b", short)
    street = street.str.replace_all(r"(\p{L})str\b", "${1} str").str.strip_chars()
    company = _fold("company").str.replace_all(r"[^\p{L}\p{N}]+", " ").str.replace_all(
        _COMPANY_NOISE, " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return df.select(
        "source", "source_record_id", "uid",
        pl.col("first_name_l").alias("first_name"), pl.col("last_name_l").alias("last_name"),
        "first_name_key", "first_name_forms", "name_hanzi",
        # The characters of a Chinese name in code-point order: equal when a name was
        # written surname-last (敏宁刘 for 刘敏宁), which pinyin splitting cannot undo.
        pl.col("name_hanzi").str.split("").list.sort().list.join("").alias("name_chars"),
        pl.col("full_name_key").alias("full_name"),
        pl.col("birth_date").alias("dob"),
        "email", "email_work", pl.col("email").str.split("@").list.first().str.replace(r"\+.*$", "")
        .alias("email_local"),
        "phone", pl.col("phone").str.slice(-8).alias("phone_last8"),
        pl.when(street == "").then(None).otherwise(street).alias("street"),
        pl.col("postcode").str.to_uppercase().str.replace_all(r"[\s\-]", "").alias("postcode"),
        _fold("city").str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars().alias("city"),
        "national_id",
        pl.when(company == "").then(None).otherwise(company).alias("company"),
        "social_handle",
    ).with_columns(placement_keys()).sort("uid")


PLACEMENT_KEYS = ("nk", "nk_swapped", "fk", "typo_first", "typo_last", "swap_first",
                  "swap_last", "initial_last", "initial_first")


def placement_keys() -> list[pl.Expr]:
    """Join keys for identity/placement.py, stored so incremental runs need not recompute them.

    Typos keep the first and last letter (clerks slip in the middle); two swapped letters
    keep the letters, in another order (``swap_*``: the letters sorted); an initial keeps one.
    """
    first, last, key = pl.col("first_name"), pl.col("last_name"), pl.col("first_name_key")

    def cat(*parts: pl.Expr) -> pl.Expr:
        return pl.concat_str(list(parts))

    bar = pl.lit("|")
    return [
        cat(first, bar, last).alias("nk"),
        cat(last, bar, first).alias("nk_swapped"),
        cat(key, bar, last).alias("fk"),
        cat(last, bar, first.str.head(1), first.str.tail(1)).alias("typo_first"),
        cat(key, bar, last.str.head(1), last.str.tail(1)).alias("typo_last"),
        cat(last, bar, _sorted_letters(first)).alias("swap_first"),
        cat(key, bar, _sorted_letters(last)).alias("swap_last"),
        cat(key, bar, last.str.head(1)).alias("initial_last"),
        cat(last, bar, first.str.head(1)).alias("initial_first"),
    ]


def _sorted_letters(name: pl.Expr) -> pl.Expr:
    return name.str.split("").list.sort().list.join("")
