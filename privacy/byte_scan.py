"""A byte scan of a data root: does any file hold a known person's identifier in clear?

It proves the aim of encryption at rest, that a copy of the data root taken without keys
reveals nothing about a person. Given the identifiers to look for (emails, phones in the
formats people write them, national IDs), it reads every file the way someone holding a copy
could:

- Parquet files (Delta data files, old versions included, and checkpoints) decoded, every
  column as text, because compression and dictionary pages hide values from a raw search;
- SQLite files (Dagster's run and event storage, the key store) cell by cell;
- DuckDB files opened without a key: an encrypted one does not open and counts as sealed,
  an unencrypted one is read table by table;
- every other file (Delta logs, JSON state, logs, ``.npy`` arrays) as raw bytes, and the
  same bytes decoded as UTF-8.

Matching is one Aho-Corasick automaton over case-folded text, so the cost follows the size of
the data, not the number of people. A finding names the file, the part of it (a column, a
table) and the kind of identifier, never the identifier itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
import pyarrow as pa
import pyarrow.parquet as pq

DUCKDB_MAGIC = b"DUCK"
SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"
_DIGITS = re.compile(r"\D+")
# Separators people write inside a phone number: "0151 2345-6789", "(212) 555.0143".
_PHONE_SEPARATORS = re.compile(r"(?<=\d)[ ()./-]{1,3}(?=[\d(])")
MIN_NEEDLE = 6


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the scanned root
    part: str  # column, table or "bytes"
    kind: str  # email | phone | national_id


@dataclass
class ScanReport:
    files: int = 0
    by_format: Counter[str] = field(default_factory=Counter)
    sealed_duckdb: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    hits: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def summary(self) -> str:
        if not self.findings:
            return f"no identifier in clear in {self.files} files ({dict(self.by_format)})"
        lines = [f"{len(self.findings)} places hold identifiers in clear:"]
        lines += [f"  {f.path} [{f.part}]: {self.hits[(f.path, f.part, f.kind)]} {f.kind}" for f in self.findings]
        return "\n".join(lines)


def phone_variants(e164: str, national_prefix: str = "0") -> set[str]:
    """The ways a phone number is written: E.164, without the plus, with 00, and national."""
    digits = _DIGITS.sub("", e164)
    out = {"+" + digits, "00" + digits, digits}
    # A national form drops the country code (1-3 digits) for the trunk prefix.
    for cc in (1, 2, 3):
        national = digits[cc:]
        if len(national) >= 8:
            out |= {national_prefix + national, national}
    return out


class Needles:
    """The identifiers to look for, by kind, in one automaton."""

    def __init__(self, emails: Iterable[str] = (), phones: Iterable[str] = (),
                 national_ids: Iterable[str] = (), raw_phones: Iterable[str] = ()) -> None:
        self._automaton = ahocorasick.Automaton()
        self.count = Counter[str]()
        for kind, values in (("email", emails), ("national_id", national_ids), ("phone", raw_phones)):
            for value in values:
                self._add(kind, value)
        for phone in phones:
            for variant in phone_variants(phone):
                self._add("phone", variant)
        if self.count:
            self._automaton.make_automaton()

    def _add(self, kind: str, value: str | None) -> None:
        if not value or len(value.strip()) < MIN_NEEDLE:
            return
        key = value.strip().casefold()
        if key not in self._automaton:
            self._automaton.add_word(key, kind)
            self.count[kind] += 1

    def kinds_in(self, text: str) -> Counter[str]:
        """How many needles of each kind ``text`` holds; phones also with their separators removed."""
        if not self.count or not text:
            return Counter()
        folded = text.casefold()
        found = Counter(kind for _, kind in self._automaton.iter(folded))
        collapsed = _PHONE_SEPARATORS.sub("", folded)
        if collapsed != folded:
            phones = sum(1 for _, kind in self._automaton.iter(collapsed) if kind == "phone")
            found["phone"] = max(found["phone"], phones)
        return +found


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


def _table_texts(table: pa.Table) -> Iterator[tuple[str, str]]:
    for name in table.column_names:
        column = table.column(name)
        try:
            values = column.cast(pa.string()).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = [str(v) for v in column.to_pylist()]
        yield name, "\n".join(v for v in values if v)


def _parquet_texts(path: Path) -> Iterator[tuple[str, str]]:
    yield from _table_texts(pq.read_table(path))


def _sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            cells = []
            for row in con.execute(f'select * from "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        cells.append(value.decode("utf-8", errors="ignore"))
                    elif value is not None:
                        cells.append(str(value))
            yield table, "\n".join(cells)
    finally:
        con.close()


def _duckdb_texts(path: Path, report: ScanReport, rel: str) -> Iterator[tuple[str, str]]:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        if "encrypt" in str(error).lower():
            report.sealed_duckdb.append(rel)
            return
        raise
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, name in tables:
            yield f"{schema}.{name}", "\n".join(
                _table_text_rows(con.sql(f'select * from "{schema}"."{name}"').to_arrow_table()))
    finally:
        con.close()


def _table_text_rows(table: pa.Table) -> Iterator[str]:
    for _, text in _table_texts(table):
        yield text


def _file_texts(path: Path, report: ScanReport, rel: str) -> Iterator[tuple[str, str]]:
    magic = _magic(path)
    if magic.startswith(PARQUET_MAGIC) or path.suffix == ".parquet":
        report.by_format["parquet"] += 1
        yield from _parquet_texts(path)
    elif magic.startswith(SQLITE_MAGIC):
        report.by_format["sqlite"] += 1
        yield from _sqlite_texts(path)
    elif magic[8:12] == DUCKDB_MAGIC or path.suffix == ".duckdb":
        report.by_format["duckdb"] += 1
        yield from _duckdb_texts(path, report, rel)
    else:
        report.by_format["bytes"] += 1
    # Every file is also searched as bytes: a format reader may miss what a raw search sees.
    yield "bytes", path.read_bytes().decode("utf-8", errors="ignore")


def scan(root: Path, needles: Needles, exclude: Iterable[str] = ("world",)) -> ScanReport:
    """Every file under ``root`` except the top-level folders ``exclude``, searched for ``needles``."""
    report = ScanReport()
    skipped = set(exclude)
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if not path.is_file() or path.is_symlink() or (rel_parts and rel_parts[0] in skipped):
            continue
        rel = "/".join(rel_parts)
        report.files += 1
        for part, text in _file_texts(path, report, rel):
            for kind, hits in needles.kinds_in(text).items():
                if (rel, part, kind) not in report.hits:
                    report.findings.append(Finding(rel, part, kind))
                report.hits[(rel, part, kind)] += hits
    return report
