"""A noise grid: canonical person records with truth, each kind of corruption set on its own.

This generator shares nothing with the demo simulator or with ``bench/identity_data.py``:
other locales (US, UK, Germany, France, Spain, drawn from Faker's weighted name lists),
other email, phone and address shapes, and its own noise. Each kind of corruption is a rate
of its own, so a weakness of the resolver shows which corruption it comes from:

- ``typo``: a duplicate's first or last name with one letter replaced, dropped or added;
- ``transposition``: two neighbouring letters of a name swapped;
- ``name_swap``: first and last name swapped;
- ``missing``: a duplicate without email (at this rate), and without phone, birth date or
  address (each at a third of it);
- ``moved``: people who moved: each of their duplicates shows the new address at random;
- ``phone_format``: records whose phone is written nationally, with spaces, dots or 00;
- ``dob_error``: a duplicate's birth date with one digit wrong, day and month swapped, or
  one day or one year off;
- ``household``: people living with 1 to 3 others who share surname, address and a
  landline (distinct people, so a precision hazard);
- ``shared_email``: household members' records showing the household's one mailbox
  (needs ``household``).

A share ``duplicated`` of people (default 30%) gets 1 to 4 duplicate records; originals are
clean except for phone formats, noise hits duplicates. Truth maps every record to its
person. Seeded: the same arguments give the same files.

    .venv/bin/python -m bench.noise_grid --records 100000 --noise all --out /tmp/grid
"""

from __future__ import annotations

import argparse
import time
import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import polars as pl
from faker import Faker

LOCALES = (("en_US", "US", 0.35), ("en_GB", "GB", 0.2), ("de_DE", "DE", 0.2),
           ("fr_FR", "FR", 0.15), ("es_ES", "ES", 0.1))
# (country code, mobile prefix and digits after it, landline prefix and digits after it)
PHONE_PLAN = {"US": ("1", "", 10, "", 10), "GB": ("44", "7", 9, "20", 8),
              "DE": ("49", "15", 9, "30", 8), "FR": ("33", "6", 8, "1", 8),
              "ES": ("34", "6", 8, "91", 7)}
MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "gmx.de", "orange.fr", "web.de",
                "hotmail.co.uk", "icloud.com", "proton.me", "aol.com")
SOURCES = ("web", "store", "support")


@dataclass(frozen=True)
class Noise:
    typo: float = 0.0
    transposition: float = 0.0
    name_swap: float = 0.0
    missing: float = 0.0
    moved: float = 0.0
    phone_format: float = 0.0
    dob_error: float = 0.0
    household: float = 0.0
    shared_email: float = 0.0


# Every kind at once, at the rates of the world the issue describes (30% of people with
# duplicates, 30% of duplicates without email, 25% moved house, ...).
ALL = Noise(typo=0.15, transposition=0.05, name_swap=0.05, missing=0.30, moved=0.25,
            phone_format=0.5, dob_error=0.05, household=0.2, shared_email=0.3)
KINDS = tuple(f.name for f in fields(Noise))


def preset(name: str) -> Noise:
    """``clean``; ``all``; a kind alone at its ``all`` rate (``shared_email`` with the
    households it needs); or ``no_<kind>``: every kind but that one (without households,
    no shared mailboxes either).

    A kind alone is mostly harmless while every other field is clean: a typo hardly matters
    when the email agrees. What a kind costs shows against the others: ``all`` against
    ``no_<kind>``.
    """
    if name == "clean":
        return Noise()
    if name == "all":
        return ALL
    kind = name.removeprefix("no_")
    if kind not in KINDS:
        raise ValueError(f"unknown noise {name!r}; one of clean, all, {', '.join(KINDS)}, "
                         "or no_<kind>")
    if name.startswith("no_"):
        cell = replace(ALL, **{kind: 0.0})
        return replace(cell, shared_email=0.0) if kind == "household" else cell
    cell = Noise(**{kind: getattr(ALL, kind)})
    return replace(cell, household=ALL.household) if kind == "shared_email" else cell


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in plain.encode("ascii", "ignore").decode().lower() if c.isalpha())


@dataclass
class _Pool:
    first: np.ndarray
    last: np.ndarray
    street: np.ndarray
    city: np.ndarray
    postcode: np.ndarray


def _pool(locale: str, seed: int, size: int = 30_000) -> _Pool:
    """Draws from Faker's (weighted) lists: sampling from them keeps name frequencies."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    obj = lambda xs: np.array(xs, dtype=object)  # noqa: E731
    return _Pool(obj([fake.first_name() for _ in range(size)]),
                 obj([fake.last_name().split()[0] for _ in range(size)]),
                 obj(list(dict.fromkeys(fake.street_name() for _ in range(4000)))),
                 obj(list(dict.fromkeys(fake.city() for _ in range(2000)))),
                 obj([fake.postcode() for _ in range(4000)]))


def _digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    first = rng.integers(2, 10, n)  # no leading 0 or 1: a national trunk prefix is not a digit
    rest = rng.integers(0, 10, (n, k - 1))
    return np.array([f"{a}{''.join(map(str, r))}" for a, r in zip(first, rest, strict=True)],
                    dtype=object)


def _phones(rng: np.random.Generator, country: np.ndarray, landline: bool) -> np.ndarray:
    out = np.empty(len(country), dtype=object)
    for c, (cc, mob, mob_k, land, land_k) in PHONE_PLAN.items():
        idx = np.flatnonzero(country == c)
        prefix, k = (land, land_k) if landline else (mob, mob_k)
        out[idx] = [f"+{cc}{prefix}{d}" for d in _digits(rng, len(idx), k)]
    return out


def _reformat(phone: str, style: int) -> str:
    """A clerk's rendering of an E.164 number."""
    c = next((c for c, (cc, *_) in PHONE_PLAN.items() if phone.startswith("+" + cc)), None)
    if c is None:
        return phone
    cc = PHONE_PLAN[c][0]
    national = phone[1 + len(cc):]
    if c == "US":
        return (f"({national[:3]}) {national[3:6]}-{national[6:]}", f"{national[:3]}.{national[3:6]}."
                f"{national[6:]}", f"1-{national[:3]}-{national[3:6]}-{national[6:]}",
                f"+1 {national[:3]} {national[3:6]} {national[6:]}")[style]
    return (f"0{national[:3]} {national[3:]}", f"0{national[:2]}.{national[2:5]}.{national[5:]}",
            f"00{cc} {national}", f"+{cc} {national[:3]} {national[3:6]} {national[6:]}")[style]


def _edit(word: str, rng: np.random.Generator) -> str:
    """One letter replaced, dropped or added (never the first letter)."""
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word)))
    c = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    op = int(rng.integers(0, 3))
    if op == 0:
        return word[:i] + (c if c != word[i].lower() else "e") + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + c + word[i:]


def _transpose(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(0, len(word) - 1))
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return swapped[0].upper() + swapped[1:].lower() if word[0].isupper() else swapped


def _wrong_date(d: np.datetime64, rng: np.random.Generator) -> str:
    text = str(d)
    y, m, day = text[:4], text[5:7], text[8:10]
    kind = int(rng.integers(0, 4))
    if kind == 0 and int(day) <= 12 and day != m:
        return f"{y}-{day}-{m}"
    if kind == 1:
        return str(d + np.timedelta64(int(rng.choice([-1, 1])), "D"))
    if kind == 2:
        return f"{int(y) + int(rng.choice([-1, 1]))}-{m}-{day}"
    pos = int(rng.choice([3, 9]))  # the year's or the day's last digit
    digit = str((int(text[pos]) + int(rng.integers(1, 10))) % 10)
    out = text[:pos] + digit + text[pos + 1:]
    try:
        return str(np.datetime64(out))
    except ValueError:
        return text


def _email(first: str, last: str, style: int, number: int, domain: str) -> str:
    f, la = _ascii(first) or "x", _ascii(last) or "x"
    local = (f"{f}.{la}{number}", f"{f[0]}{la}{number}", f"{la}.{f}{number}",
             f"{f}{number}", f"{f}_{la}")[style]
    return f"{local}@{domain}"


def generate(records: int, noise: Noise, seed: int = 11, duplicated: float = 0.3
             ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical records, truth: source, source_record_id, person_id), about ``records``."""
    rng = np.random.default_rng(seed)
    dup_counts = np.array([1, 2, 3, 4])
    dup_weights = np.array([0.4, 0.3, 0.2, 0.1])
    n = max(10, int(records / (1 + duplicated * float(dup_counts @ dup_weights))))

    pools = [_pool(loc, seed * 10 + i) for i, (loc, _, _) in enumerate(LOCALES)]
    loc = rng.choice(len(LOCALES), size=n, p=[s for *_, s in LOCALES])
    obj = lambda: np.empty(n, dtype=object)  # noqa: E731
    first, last, street, city, postcode = obj(), obj(), obj(), obj(), obj()
    new_street, new_city, new_postcode = obj(), obj(), obj()
    for li, pool in enumerate(pools):
        idx = np.flatnonzero(loc == li)
        k = len(idx)
        first[idx] = pool.first[rng.integers(0, len(pool.first), k)]
        last[idx] = pool.last[rng.integers(0, len(pool.last), k)]
        for s_arr, c_arr, p_arr in ((street, city, postcode), (new_street, new_city, new_postcode)):
            names = pool.street[rng.integers(0, len(pool.street), k)]
            numbers = rng.integers(1, 250, k)
            s_arr[idx] = ([f"{x} {s}" for s, x in zip(names, numbers, strict=True)]
                          if LOCALES[li][1] in ("US", "GB")
                          else [f"{s} {x}" for s, x in zip(names, numbers, strict=True)])
            c_arr[idx] = pool.city[rng.integers(0, len(pool.city), k)]
            p_arr[idx] = pool.postcode[rng.integers(0, len(pool.postcode), k)]
    country = np.array([LOCALES[i][1] for i in loc], dtype=object)
    birth = (np.datetime64("1935-01-01") + rng.integers(0, 25_000, n)).astype("datetime64[D]")
    landline = np.full(n, None, dtype=object)
    mailbox = np.full(n, None, dtype=object)

    if noise.household:
        members = rng.permutation(n)[: int(n * noise.household)]
        sizes = rng.choice([2, 3, 4], p=[0.6, 0.3, 0.1], size=len(members) // 2 + 1)
        sizes = sizes[np.cumsum(sizes) <= len(members)]
        members = members[: sizes.sum()]
        head = members[np.repeat(np.cumsum(sizes) - sizes, sizes)]
        for arr in (last, street, city, postcode, new_street, new_city, new_postcode, country):
            arr[members] = arr[head]
        lines = _phones(rng, country[head], landline=True)
        landline[members] = lines[np.unique(head, return_inverse=True)[1]]
        # A household's mailbox: the surname and the house number, or the partners' initials.
        boxes = {h: (f"{_ascii(last[h])}{int(rng.integers(1, 99))}@"
                     f"{MAIL_DOMAINS[int(rng.integers(0, len(MAIL_DOMAINS)))]}")
                 for h in np.unique(head)}
        mailbox[members] = [boxes[h] for h in head]
        for i, h in zip(members, head, strict=True):  # members differ from the head
            if i != h and first[i] == first[h]:
                first[i] = first[(i + 1) % n]
    mobile = _phones(rng, country, landline=False)  # after households: their country
    email = np.array([_email(f, la, s, k, MAIL_DOMAINS[d]) for f, la, s, k, d in zip(
        first, last, rng.integers(0, 5, n), rng.integers(1, 999, n),
        rng.integers(0, len(MAIL_DOMAINS), n), strict=True)], dtype=object)
    _, first_seen = np.unique(email, return_index=True)
    taken = np.ones(n, dtype=bool)
    taken[first_seen] = False
    email[taken] = [e.replace("@", f"{i}@") for e, i in zip(email[taken], np.flatnonzero(taken),
                                                             strict=True)]

    copies = np.where(rng.random(n) < duplicated, rng.choice(dup_counts, size=n, p=dup_weights), 0)
    person = np.concatenate([np.arange(n), np.repeat(np.arange(n), copies)])
    is_dup = np.arange(len(person)) >= n
    m = len(person)
    r_first, r_last = first[person].copy(), last[person].copy()
    r_email, r_birth = email[person].copy(), birth[person].astype(str).astype(object)
    r_street, r_city, r_postcode = street[person].copy(), city[person].copy(), postcode[person].copy()
    use_line = (landline[person] != None) & (rng.random(m) < 0.4)  # noqa: E711
    r_phone = np.where(use_line, landline[person], mobile[person])

    def pick(rate: float) -> np.ndarray:
        return np.flatnonzero(is_dup & (rng.random(m) < rate))

    for i in pick(noise.typo):
        if rng.random() < 0.5:
            r_first[i] = _edit(r_first[i], rng)
        else:
            r_last[i] = _edit(r_last[i], rng)
    for i in pick(noise.transposition):
        if rng.random() < 0.5:
            r_first[i] = _transpose(r_first[i], rng)
        else:
            r_last[i] = _transpose(r_last[i], rng)
    swap = pick(noise.name_swap)
    r_first[swap], r_last[swap] = r_last[swap], r_first[swap].copy()
    moved = rng.random(n) < noise.moved
    at_new = np.flatnonzero(is_dup & moved[person] & (rng.random(m) < 0.6))
    r_street[at_new] = new_street[person[at_new]]
    r_city[at_new] = new_city[person[at_new]]
    r_postcode[at_new] = new_postcode[person[at_new]]
    for i in pick(noise.dob_error):
        r_birth[i] = _wrong_date(birth[person[i]], rng)
    shared = np.flatnonzero((mailbox[person] != None) & (rng.random(m) < noise.shared_email))  # noqa: E711
    r_email[shared] = mailbox[person[shared]]
    r_email[pick(noise.missing)] = None
    r_phone[pick(noise.missing / 3)] = None
    r_birth[pick(noise.missing / 3)] = None
    gone = pick(noise.missing / 3)
    r_street[gone] = r_city[gone] = r_postcode[gone] = None
    formatted = np.flatnonzero((r_phone != None) & (rng.random(m) < noise.phone_format))  # noqa: E711
    r_phone[formatted] = [_reformat(p, int(s)) for p, s in
                          zip(r_phone[formatted], rng.integers(0, 4, len(formatted)), strict=True)]

    source = np.array(SOURCES, dtype=object)[rng.integers(0, len(SOURCES), m)]
    order = rng.permutation(m)
    col = lambda a: pl.Series(a[order].tolist(), dtype=pl.String)  # noqa: E731
    ids = [f"R{x:09d}" for x in rng.permutation(m)]
    df = pl.DataFrame({
        "source": col(source), "source_record_id": pl.Series(ids, dtype=pl.String),
        "first_name": col(r_first), "last_name": col(r_last), "birth_date": col(r_birth),
        "email": col(r_email), "phone": col(r_phone), "street": col(r_street),
        "city": col(r_city), "postcode": col(r_postcode), "country": col(country[person]),
    })
    truth = df.select("source", "source_record_id").with_columns(
        pl.Series("person_id", [f"P{p:08d}" for p in person[order]], dtype=pl.String))
    return df, truth


def write(out: Path, records: int, noise: Noise, seed: int = 11) -> tuple[Path, Path]:
    """Write ``records.parquet`` and ``truth.parquet`` into ``out``; their paths."""
    df, truth = generate(records, noise, seed)
    out.mkdir(parents=True, exist_ok=True)
    df.write_parquet(out / "records.parquet")
    truth.write_parquet(out / "truth.parquet")
    return out / "records.parquet", out / "truth.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--noise", default="all",
                        help=f"clean, all, no_<kind>, or a kind: {', '.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    records, truth = write(args.out, args.records, preset(args.noise), args.seed)
    people = pl.read_parquet(truth)["person_id"].n_unique()
    print(f"{pl.scan_parquet(records).select(pl.len()).collect().item():,} records of "
          f"{people:,} people in {time.perf_counter() - started:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
