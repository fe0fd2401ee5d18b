"""Which stored records share a key with these? Answered from an index, not by scanning.

An increment touches about 1% of the records, but each of its questions is about all of
them: which stored records share a blocking key with a new one (the candidates to score),
which carry an identifier it carries (merge protection), and which a lone record's name
could be placed with, or could place onto. Joining the stored features answers each in
0.3–1.5 s at 1M records, because every join reads and hashes every stored string again.

The index keeps, per record, a 32-bit hash of every key value it can be found by, sorted,
beside the record's uid (``state/.../index/*.npy``, two rows of ``uint32``, memory-mapped),
so one binary search per probed value finds every record holding it. A hit is a *candidate*: 32 bits collide now and then, and entries of records
that changed or left are not removed, so callers either verify hits on the records'
current features or pass them to something that applies the real rule (Splink's
blocking). What the index must never do is miss a record, and it does not: every
record's keys are added whenever its features are written.

Keys come in *spaces* (the blocking rule, identifier kind or placement join they belong
to, hashed in with the value); see ``stored_specs`` and the ``*_probes`` functions.

A full run writes one sorted segment; each increment appends a small one. Segments are
merged once there are many, which keeps every probe a handful of binary searches. The
list of live segments is stored in the state's ``meta`` table, inside the run's
transaction, so a failed run leaves files that nothing refers to, removed by the next one.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from identity import placement
from identity.evidence import IDENTIFIERS

FOLDER = "index"
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
# More segments than this and the increments' segments are merged into one; once they hold
# more than half as many entries as the base, everything is merged into a new base.
MAX_SEGMENTS = 8


@dataclass(frozen=True)
class Spec:
    """Key values of records in table alias ``s`` (``f.form``: each nickname form)."""

    space: str
    values: tuple[str, ...]
    where: str = "true"

    @property
    def forms(self) -> bool:
        return any("f.form" in v for v in self.values)


_TERM = re.compile(r'\(?\s*l\."?(\w+)"?\s*=\s*r\."?(\w+)"?\s*\)?')


def model_rules(settings: dict[str, Any]) -> list[str]:
    """The blocking rules a model scores with, as SQL (what its Splink settings hold)."""
    out = []
    for rule in settings.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            extra = set(rule) - {"blocking_rule", "sql_dialect"}
            # Salted or exploding rules are not plain equalities: never index them.
            out.append(rule["blocking_rule"] if not extra else f"/* {sorted(extra)} */ false")
        else:
            out.append(str(rule))
    return out


def rule_sides(rule: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(columns of l, columns of r) for a rule that is a conjunction of ``l.a = r.b``;
    None for anything else (those are answered by a join, see incremental.py)."""
    terms = [_TERM.fullmatch(t.strip()) for t in re.split(r"\band\b", rule, flags=re.IGNORECASE)]
    if not terms or any(t is None for t in terms):
        return None
    pairs = [(t.group(1), t.group(2)) for t in terms if t is not None]
    return tuple(a for a, _ in pairs), tuple(b for _, b in pairs)


def _rule_space(left: tuple[str, ...], right: tuple[str, ...], side: str) -> str:
    return f"block {side}:{','.join(left)}={','.join(right)}"


def _symmetric(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    return sorted(zip(left, right, strict=True)) == sorted(zip(right, left, strict=True))


def _blocking(rules: Sequence[str], probing: bool) -> list[Spec]:
    """Stored: a record's values as ``l`` (and as ``r`` unless the rule is symmetric).
    Probing: the values that meet them, i.e. the probing record as the other side."""
    specs = []
    for rule in rules:
        sides = rule_sides(rule)
        if sides is None:
            continue
        left, right = sides
        specs.append(Spec(_rule_space(left, right, "l"),
                          tuple(f"s.{c}" for c in (right if probing else left))))
        if not _symmetric(left, right):
            specs.append(Spec(_rule_space(left, right, "r"),
                              tuple(f"s.{c}" for c in (left if probing else right))))
    return specs


def _identifier_spec(kind: str, rules: Sequence[str]) -> Spec:
    # A blocking rule on the identifier alone indexes the same values: share its entries.
    if any(rule_sides(r) == ((kind,), (kind,)) for r in rules):
        return Spec(_rule_space((kind,), (kind,), "l"), (f"s.{kind}",))
    return Spec(f"identifier:{kind}", (f"s.{kind}",))


def _near(x_key: str) -> str | None:
    """The column whose length is indexed with ``x_key`` (see placement.Join.near)."""
    nears = {j.near for j in placement.JOINS if j.x_key == x_key}
    if len(nears) > 1:
        raise ValueError(f"placement joins on {x_key} disagree on the column near it")
    return nears.pop()


def _keyed(space: str, value: str, near: str | None, where: str = "true",
           offsets: Sequence[int] = (0,)) -> list[Spec]:
    """A key, with the length of ``near`` (a probe asks for each of ``offsets`` from it)."""
    if near is None:
        return [Spec(space, (value,), where)]
    return [Spec(space, (value, f"length(s.{near}) + ({d})"), where) for d in offsets]


def _x_specs() -> list[Spec]:
    """Placement candidates (``x``): every record, by each column a join meets."""
    columns = dict.fromkeys(j.x_key for j in placement.JOINS)
    return [spec for c in columns for spec in _keyed(f"place x:{c}", f"s.{c}", _near(c))]


def _s_specs() -> list[Spec]:
    """Lone records (``s``): by the value each join compares with a candidate's column;
    with ``near``, at each length a candidate's may have, so that the region's records
    (thousands, each run) probe once, not three times."""
    return [spec for j in placement.JOINS for spec in _keyed(
        f"place s:{j.x_key}", j.s_key, j.near, f"{placement.LONE_SQL} and {j.s_where}",
        offsets=(-1, 0, 1))]


def stored_specs(rules: Sequence[str], lone: bool) -> list[Spec]:
    """What is indexed for a record (``lone``: also as a record placement may move)."""
    specs = _blocking(rules, probing=False) + [_identifier_spec(k, rules) for k in IDENTIFIERS]
    return list(dict.fromkeys(specs + _x_specs() + (_s_specs() if lone else [])))


def blocking_probes(rules: Sequence[str]) -> list[Spec]:
    """Keys of a record that find the stored records a blocking rule pairs it with."""
    return _blocking(rules, probing=True)


def identifier_probe(kind: str, rules: Sequence[str]) -> Spec:
    """For a frame with one column named ``kind`` holding identifier values."""
    return _identifier_spec(kind, rules)


def lone_probes() -> list[Spec]:
    """Keys of a candidate record that find lone records a placement join links it to."""
    columns = dict.fromkeys(j.x_key for j in placement.JOINS)
    return [spec for c in columns for spec in _keyed(f"place s:{c}", f"s.{c}", _near(c))]


def candidate_probes(joins: Sequence[placement.Join] = placement.JOINS) -> list[Spec]:
    """Keys of a lone record that find the candidates ``joins`` link it to."""
    return [spec for j in joins for spec in _keyed(
        f"place x:{j.x_key}", j.s_key, j.near, f"{placement.LONE_SQL} and {j.s_where}",
        offsets=(-1, 0, 1))]


def _columns(specs: Iterable[Spec]) -> list[str]:
    """The columns of ``s`` that ``specs`` read (nickname forms included where used)."""
    used = set()
    for spec in specs:
        used.update(re.findall(r"\bs\.(\w+)", " ".join((*spec.values, spec.where))))
        if spec.forms:
            used.add("first_name_forms")
    return sorted(used)


def _select(spec: Spec, table: str, packed: bool) -> str:
    # Only the columns the key reads, and nickname forms unnested in the select list: a
    # lateral ``cross join unnest`` with this filter is 20 times slower at 1M records.
    used = sorted({*(("uid",) if packed else ()), *_columns([spec])} - {"first_name_forms"})
    forms = ", unnest(first_name_forms) as form" if spec.forms else ""
    source = f"(select {', '.join(used)}{forms} from {table}) s"
    values = [v.replace("f.form", "s.form") for v in spec.values]
    present = " and ".join(f"({v}) is not null" for v in values)
    h = f"hash('{spec.space}', {', '.join(values)}) >> 32"
    value = f"(({h}) << 32) | s.uid::ubigint" if packed else h
    return f"select {value} as e from {source} where {present} and ({spec.where})"


def entries(con: duckdb.DuckDBPyConnection, parts: Sequence[tuple[str, Sequence[Spec]]]
            ) -> np.ndarray:
    """Packed (hash << 32 | uid) entries, sorted, of the records of each (table, specs)."""
    selects = [_select(s, table, packed=True) for table, specs in parts for s in specs]
    if not selects:
        return _split(np.empty(0, dtype=np.uint64))
    out = np.asarray(con.sql(" union all ".join(selects)).fetchnumpy()["e"], dtype=np.uint64)
    out.sort()
    return _split(out)


def _split(packed: np.ndarray) -> np.ndarray:
    """Sorted packed entries as a (2, n) uint32 array: hashes, then uids. A binary search
    over the hashes alone touches half the memory of one over the packed values."""
    return np.stack([(packed >> _SHIFT).astype(np.uint32), (packed & _LOW).astype(np.uint32)])


def _pack(entries: np.ndarray) -> np.ndarray:
    return (entries[0].astype(np.uint64) << _SHIFT) | entries[1].astype(np.uint64)


def merge(*parts: np.ndarray) -> np.ndarray:
    """One sorted array of the entries of several (as ``entries`` returns them)."""
    return _split(np.sort(np.concatenate([_pack(p) for p in parts])))


def build(con: duckdb.DuckDBPyConnection, features: str, lone: str, rules: Sequence[str]
          ) -> np.ndarray:
    """Every entry for the records of table ``features``; lone ones are those whose uid is
    in table ``lone``."""
    common = stored_specs(rules, lone=False)
    extra = [s for s in stored_specs(rules, lone=True) if s not in common]
    # Lone records once, not once per key.
    con.execute(f"""create or replace temp table _lone_features as
        select {", ".join(["uid", *_columns(extra)])} from {features}
        where uid in (select uid from {lone})""")
    try:
        return entries(con, [(features, common), ("_lone_features", extra)])
    finally:
        con.execute("drop table _lone_features")


def probe(con: duckdb.DuckDBPyConnection, table: str, specs: Sequence[Spec]) -> np.ndarray:
    """Distinct hashes (upper 32 bits) of the keys of the records in ``table``."""
    if not specs:
        return np.empty(0, dtype=np.uint64)
    sql = " union ".join(_select(s, table, packed=False) for s in specs)
    return np.unique(np.asarray(con.sql(sql).fetchnumpy()["e"], dtype=np.uint64))


def check_uids(uids: pl.Series) -> None:
    if uids.len() and (uids.min() < 0 or uids.max() >= 2**32):  # type: ignore[operator]
        raise ValueError("the key index packs uids into 32 bits")


def signature(rules: Sequence[str]) -> str:
    """Digest of every key the index holds for these rules: a change to a placement join or
    to what is indexed makes an existing index stale, and the next run rebuilds it."""
    specs = stored_specs(rules, lone=True)
    return hashlib.sha256(repr(specs).encode()).hexdigest()[:16]


class Index:
    """The segments of one state folder, as listed in its meta."""

    def __init__(self, state_dir: Path, meta: dict[str, Any] | None) -> None:
        self.folder = state_dir / FOLDER
        info = (meta or {}).get("index") or {}
        self.segments: list[str] = list(info.get("segments", []))
        self.sizes: list[int] = list(info.get("sizes", []))
        self.rules: list[str] = list(info.get("rules", []))  # the blocking rules indexed
        self.signature: str | None = info.get("signature")
        self._added: list[str] = []
        self._mapped: list[np.ndarray] | None = None
        self._staged: list[np.ndarray] = []  # entries look-ups see before they are written
        self._lock = threading.Lock()

    def usable(self, rules: Sequence[str]) -> bool:
        """Whether the segments exist and hold the keys these rules and this code index."""
        return (bool(self.segments) and self.rules == list(rules)
                and self.signature == signature(rules)
                and all((self.folder / s).exists() for s in self.segments))

    def meta(self) -> dict[str, Any]:
        return {"segments": self.segments, "sizes": self.sizes, "rules": self.rules,
                "signature": self.signature}

    def lookup(self, hashes: np.ndarray) -> pl.Series:
        """uids of every entry (written or staged) whose hash is one of ``hashes`` (sorted,
        distinct)."""
        found = [np.empty(0, dtype=np.uint32)]
        needles = hashes.astype(np.uint32)
        if len(needles):
            for seg in self._arrays() + self._staged:
                keys, uids = seg[0], seg[1]
                lo = np.searchsorted(keys, needles, side="left")
                hi = np.searchsorted(keys, needles, side="right")
                n = hi - lo
                total = int(n.sum())
                if total:
                    # Positions lo..hi-1 of every hit range, without a Python loop.
                    starts = np.repeat(lo - (np.cumsum(n) - n), n)
                    found.append(np.asarray(uids[np.arange(total) + starts]))
        hits = np.concatenate(found)
        # Distinct uids through a bitmap: uids are dense, and sorting a million hits (what
        # np.unique does) took longer than every binary search together.
        seen = np.zeros(int(hits.max()) + 1 if len(hits) else 0, dtype=bool)
        seen[hits] = True
        return pl.Series("uid", np.flatnonzero(seen), dtype=pl.Int64)

    def _arrays(self) -> list[np.ndarray]:
        # Mapped once per run: each new mapping faults every page it touches in again.
        with self._lock:  # look-ups may come from two threads
            if self._mapped is None:
                self._mapped = [np.load(self.folder / n, mmap_mode="r") for n in self.segments]
            return self._mapped

    def stage(self, values: np.ndarray) -> None:
        """Let look-ups see ``values`` (as ``entries`` returns them) from now on; they are
        written only by ``append`` or ``replace``."""
        self._staged.append(values)

    def _write(self, values: np.ndarray) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"keys-{uuid.uuid4().hex[:12]}.npy"
        np.save(self.folder / name, values)
        self._added.append(name)
        return name

    def replace(self, values: np.ndarray, rules: Sequence[str]) -> None:
        """A new base segment (a full run or a compaction)."""
        self._mapped = None
        self.segments, self.sizes = [self._write(values)], [values.shape[1]]
        self.rules, self.signature = list(rules), signature(rules)

    def append(self, values: np.ndarray) -> None:
        """An increment's entries; merges segments once there are many (see module doc)."""
        if not values.shape[1]:
            return
        self._mapped = None
        self.segments.append(self._write(values))
        self.sizes.append(values.shape[1])
        if len(self.segments) <= MAX_SEGMENTS:
            return
        base = self.sizes[0]
        if sum(self.sizes[1:]) * 2 > base:
            merged = self._merge(self.segments)
            self.segments, self.sizes = [self._write(merged)], [merged.shape[1]]
        else:
            merged = self._merge(self.segments[1:])
            self.segments = [self.segments[0], self._write(merged)]
            self.sizes = [base, merged.shape[1]]

    def _merge(self, names: Iterable[str]) -> np.ndarray:
        return _split(np.unique(np.concatenate([_pack(np.load(self.folder / n)) for n in names])))

    def discard_unlisted(self) -> None:
        """Remove segment files the committed list does not name (merged, or left by a
        run that failed)."""
        if not self.folder.exists():
            return
        keep = set(self.segments)
        for path in self.folder.glob("keys-*.npy"):
            if path.name not in keep:
                path.unlink(missing_ok=True)

    def forget_added(self) -> None:
        """After a rollback: the files this run wrote are nobody's."""
        for name in self._added:
            (self.folder / name).unlink(missing_ok=True)
        self._added = []


def rebuild(con: duckdb.DuckDBPyConnection, index: Index, rules: Sequence[str]) -> None:
    """Index every record of a state connection's ``features`` (lone: alone in its base
    cluster), e.g. after a compaction removed erased records."""
    con.execute("""create or replace temp table _lone_now as select uid from assignment
                   qualify count(*) over (partition by base) = 1""")
    index.replace(build(con, "features", "_lone_now", rules), rules)
    con.execute("drop table _lone_now")
