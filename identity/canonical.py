"""Canonical person records (DESIGN §4): read any CSV, Parquet or DuckDB table, validate, standardise.

Bad input never raises a traceback at the user. Problems that make the input unusable
(no file, unreadable file, no ``source``/``source_record_id`` column) raise
``CanonicalInputError`` with a sentence saying what is wrong. Problems in single values
(an unparseable date, an invalid email) turn the value into null and are counted in the
``LoadReport``, so a run says "birth_date: 12 unparseable values set to null" and goes on.

Every rule is ``identity.standardise``'s, the one that dbt staging applies as UDFs: values
already in a rule's standard form (its regular expressions, read alike by Python and
Polars) are handled on whole columns at once, and the rest (an email with odd characters,
a phone not in E.164, any birth date) go through the Python functions once per distinct
value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from identity import standardise
from identity.standardise import contact, dates, identifiers

CANONICAL_COLUMNS = (
    "source", "source_record_id", "first_name", "last_name", "full_name", "birth_date",
    "email", "phone", "street", "city", "postcode", "country", "national_id", "company",
    "social_handle",
)
REQUIRED = ("source", "source_record_id")
DEFAULT_DUCKDB_TABLE = "intermediate.int_person_records"
# Headers people commonly use for canonical columns; matched after lower-casing.
ALIASES = {
    "dob": "birth_date", "date_of_birth": "birth_date", "birthdate": "birth_date",
    "surname": "last_name", "family_name": "last_name", "given_name": "first_name",
    "forename": "first_name", "name": "full_name", "zip": "postcode", "zip_code": "postcode",
    "postal_code": "postcode", "mobile": "phone", "phone_number": "phone", "e_mail": "email",
    "id": "source_record_id", "record_id": "source_record_id", "social_profile": "social_handle",
    "social_login": "social_handle",
}
DATE_WARNINGS = {
    "unparseable": "birth_date: unparseable values set to null",
    "ambiguous": "birth_date: day and month ambiguous (no country decides), set to null",
    "implausible": "birth_date: implausible dates (before 1900 or in the future) set to null",
}


class CanonicalInputError(ValueError):
    """The input cannot be used at all; the message says why in one sentence."""


@dataclass
class LoadReport:
    rows_read: int = 0
    rows_kept: int = 0
    warnings: Counter[str] = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    def warn(self, message: str, count: int) -> None:
        if count:
            self.warnings[message] += int(count)

    @property
    def warning_count(self) -> int:
        return sum(self.warnings.values())

    def lines(self) -> list[str]:
        out = [f"{self.rows_read:,} rows read, {self.rows_kept:,} records kept"]
        if self.missing_columns:
            out.append(f"columns not present (treated as empty): {', '.join(self.missing_columns)}")
        if self.ignored_columns:
            out.append(f"columns ignored (not canonical): {', '.join(self.ignored_columns)}")
        out += [f"warning: {msg}: {n:,}" for msg, n in sorted(self.warnings.items())]
        return out


def read_input(path: Path | str, table: str | None = None) -> pl.DataFrame:
    """The raw rows of a CSV, Parquet or DuckDB file, all columns as given."""
    path = Path(path)
    if not path.exists():
        raise CanonicalInputError(f"{path}: no such file")
    if path.is_dir():
        raise CanonicalInputError(f"{path}: is a folder; give a CSV, Parquet or DuckDB file")
    if path.stat().st_size == 0:
        raise CanonicalInputError(f"{path}: the file is empty (not even a header row)")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy",
                               separator="\t" if suffix == ".tsv" else ",",
                               truncate_ragged_lines=True, quote_char='"')
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if suffix in (".duckdb", ".db"):
            return _read_duckdb(path, table or DEFAULT_DUCKDB_TABLE)
    except CanonicalInputError:
        raise
    except Exception as exc:  # any reader error becomes one clear sentence
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CanonicalInputError(f"{path}: cannot read as {suffix[1:].upper()}: {first}") from exc
    raise CanonicalInputError(
        f"{path}: unsupported file type '{suffix}'; use .csv, .parquet or .duckdb")


def _read_duckdb(path: Path, table: str) -> pl.DataFrame:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        try:
            return con.sql(f"select * from {table}").pl()
        except duckdb.CatalogException as exc:
            raise CanonicalInputError(f"{path}: no table {table}") from exc


def to_canonical(raw: pl.DataFrame, report: LoadReport | None = None) -> tuple[pl.DataFrame, LoadReport]:
    """Canonical columns, standardised values, one row per (source, source_record_id)."""
    report = report or LoadReport()
    report.rows_read = raw.height
    df = _rename(raw, report)
    for col in REQUIRED:
        if col not in df.columns:
            raise CanonicalInputError(
                f"required column '{col}' is missing (found: {', '.join(raw.columns) or 'none'})")
    df = df.select([_as_text(df, c) if c in df.columns else pl.lit(None, pl.String).alias(c)
                    for c in CANONICAL_COLUMNS])
    df = df.with_columns([_clean(df[c]) for c in CANONICAL_COLUMNS])
    missing_key = df.filter(pl.col("source").is_null() | pl.col("source_record_id").is_null())
    report.warn("rows without source or source_record_id dropped", missing_key.height)
    df = df.filter(pl.col("source").is_not_null() & pl.col("source_record_id").is_not_null())
    before = df.height
    df = df.unique(subset=list(REQUIRED), keep="first", maintain_order=True)
    report.warn("duplicate (source, source_record_id) rows dropped", before - df.height)
    df = _standardise(df, report)
    report.rows_kept = df.height
    return df, report


def load(path: Path | str, table: str | None = None) -> tuple[pl.DataFrame, LoadReport]:
    return to_canonical(read_input(path, table))


def _rename(raw: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    mapping: dict[str, str] = {}
    for col in raw.columns:
        key = col.strip().lower().replace(" ", "_").replace("-", "_")
        key = key if key in CANONICAL_COLUMNS else ALIASES.get(key, key)
        if key in CANONICAL_COLUMNS and key not in mapping.values():
            mapping[col] = key
        else:
            report.ignored_columns.append(col)
    report.missing_columns = [c for c in CANONICAL_COLUMNS
                              if c not in mapping.values() and c not in REQUIRED]
    return raw.select(list(mapping)).rename(mapping)


def _as_text(df: pl.DataFrame, col: str) -> pl.Expr:
    dtype = df.schema[col]
    if dtype == pl.String:
        return pl.col(col)
    if dtype.is_temporal():
        return pl.col(col).cast(pl.Date, strict=False).cast(pl.String).alias(col)
    if dtype.is_float():  # a phone read as float would print as 4.9e12
        return pl.col(col).cast(pl.Int64, strict=False).cast(pl.String).alias(col)
    if dtype.is_nested() or dtype == pl.Object:
        return pl.lit(None, pl.String).alias(col)
    return pl.col(col).cast(pl.String, strict=False).alias(col)


def _clean(values: pl.Series) -> pl.Series:
    """NFKC (full-width to ASCII), single spaces, trimmed; blanks become null.

    Printable ASCII with no run of spaces is its own NFKC form and has no spaces to fold:
    only the other values (a few in most files) are normalised, which is 7x faster on a
    million records than normalising every value.
    """
    odd = values.str.contains(r"[^\x20-\x7e]|\s\s").fill_null(False).arg_true()
    if len(odd):
        values = values.scatter(
            odd, values.gather(odd).str.normalize("NFKC").str.replace_all(r"\s+", " "))
    text = values.str.strip_chars()
    return text.set(text == "", None)


def _standardise(df: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    df = _countries(df, report)
    df = _dates(df, report)
    df = _emails(df, report)
    df = _phones(df, report)
    nid = (pl.col("national_id").str.to_uppercase()
           .str.replace_all(identifiers.NATIONAL_ID_SEPARATORS, ""))
    handle = (pl.col("social_handle").str.to_lowercase()
              .str.replace_all(identifiers.SOCIAL_HANDLE_SEPARATORS, ""))
    return df.with_columns(
        _valid_or_null(df, report, "national_id", nid, identifiers.NATIONAL_ID_FORM,
                       "national_id: invalid values set to null"),
        _valid_or_null(df, report, "social_handle", handle, identifiers.SOCIAL_HANDLE_FORM,
                       "social_handle: not platform:handle, set to null"))


def _valid_or_null(df: pl.DataFrame, report: LoadReport, col: str, value: pl.Expr,
                   pattern: str, warning: str) -> pl.Expr:
    """``value`` where it matches ``pattern``, else null; the nulled ones are counted."""
    ok = value.str.contains(pattern)
    report.warn(warning, df.select((pl.col(col).is_not_null() & ~ok).sum()).item())
    return pl.when(ok).then(value).otherwise(None).alias(col)


def _by_distinct(df: pl.DataFrame, keys: list[str], out: dict[str, pl.DataType],
                 fn: Callable[..., tuple[Any, ...]]) -> pl.DataFrame:
    """``df`` with the columns ``out``, computed by ``fn`` once per distinct ``keys``."""
    distinct = df.select(keys).unique().filter(pl.col(keys[0]).is_not_null())
    results = [fn(*row) for row in distinct.iter_rows()]
    distinct = distinct.with_columns([
        pl.Series(name, [r[i] for r in results], dtype=dtype)
        for i, (name, dtype) in enumerate(out.items())])
    return df.join(distinct, on=keys, how="left", nulls_equal=True, maintain_order="left")


def _dates(df: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    # ISO dates (all of them when the input comes from the warehouse) are read on the whole
    # column; the others go through the rule once per distinct value, with the country
    # handed over only where it can decide, so distinct values stay few.
    iso = pl.col("birth_date").str.contains(dates.ISO_FORM).fill_null(False)
    df = df.with_columns(
        pl.when(iso).then(None).otherwise(pl.col("birth_date")).alias("_other"),
        pl.when(pl.col("birth_date").str.contains(dates.COUNTRY_DECIDES))
        .then(pl.col("country")).otherwise(None).alias("_country"))
    df = _by_distinct(df, ["_other", "_country"], {"_dob": pl.Date, "_issue": pl.String},
                      dates.parse_birth_date)
    parsed = pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False)
    plausible = parsed.is_between(dates.EARLIEST_BIRTH_DATE, dates.latest_birth_date())
    df = df.with_columns(
        pl.when(iso & plausible).then(parsed).otherwise(pl.col("_dob")).alias("_dob"),
        pl.when(~iso).then(pl.col("_issue")).when(parsed.is_null()).then(pl.lit("unparseable"))
        .when(~plausible).then(pl.lit("implausible")).otherwise(None).alias("_issue"))
    counts = dict(df.group_by("_issue").len().drop_nulls().iter_rows())
    for issue in dates.ISSUES:
        report.warn(DATE_WARNINGS[issue], counts.get(issue, 0))
    return df.with_columns(pl.col("_dob").alias("birth_date")).drop("_dob", "_issue", "_country", "_other")


def _emails(df: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    lowered = pl.col("email").str.to_lowercase()
    standard = (lowered.str.contains(contact.EMAIL_FORM)
                & (lowered.str.len_chars() <= contact.EMAIL_MAX_LENGTH))
    df = df.with_columns(pl.when(standard).then(lowered).otherwise(None).alias("_email"))
    odd = df.filter(pl.col("email").is_not_null() & pl.col("_email").is_null())["email"].unique()
    fixed = {v: standardise.email(v) for v in odd.to_list()}
    if fixed:
        df = df.with_columns(pl.coalesce(
            "_email", pl.col("email").replace_strict(fixed, default=None, return_dtype=pl.String)
        ).alias("_email"))
    report.warn("email: invalid addresses set to null", df.select(
        (pl.col("email").is_not_null() & pl.col("_email").is_null()).sum()).item())
    return df.with_columns(pl.col("_email").alias("email")).drop("_email")


def _countries(df: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    upper = pl.col("country").str.to_uppercase()
    iso = pl.when(upper.str.contains(identifiers.COUNTRY_FORM)).then(upper).otherwise(
        upper.replace_strict(identifiers.COUNTRY_NAMES, default=None, return_dtype=pl.String))
    bad = df.select((pl.col("country").is_not_null() & iso.is_null()).sum()).item()
    report.warn("country: not an ISO-3166 code, set to null", bad)
    return df.with_columns(iso.alias("country"))


def _phones(df: pl.DataFrame, report: LoadReport) -> pl.DataFrame:
    ok = pl.col("phone").str.contains(contact.E164_FORM)
    odd = (df.filter(pl.col("phone").is_not_null() & ~ok)
           .select("phone", "country").unique())
    if odd.height:
        odd = odd.with_columns(pl.Series("_e164", [
            standardise.phone_e164(p, c) for p, c in odd.iter_rows()], dtype=pl.String))
        df = df.join(odd, on=["phone", "country"], how="left", nulls_equal=True)
    else:
        df = df.with_columns(pl.lit(None, pl.String).alias("_e164"))
    df = df.with_columns(pl.when(ok).then(pl.col("phone")).otherwise(pl.col("_e164")).alias("_e164"))
    report.warn("phone: unparseable numbers set to null", df.select(
        (pl.col("phone").is_not_null() & pl.col("_e164").is_null()).sum()).item())
    return df.with_columns(pl.col("_e164").alias("phone")).drop("_e164")
