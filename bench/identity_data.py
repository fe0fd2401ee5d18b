"""Canonical person records with ground truth, for identity benchmarks and tests.

The world is built to be hard in the ways real customer data is hard:

- households: 10% of people live with 1-3 others who share their surname, street,
  postcode and landline (and sometimes a family mailbox), but not first name or birth date;
- nicknames, one-letter typos, first/last swaps, Chinese names in characters or pinyin
  (and pinyin surnames put first), missing fields, stale addresses after a move,
  day/month swaps in birth dates, national phone formats;
- shared identifiers: company ``team@`` mailboxes and family addresses.

Every record is rendered from one true person, so the truth is exact. Generation is
vectorised over pools drawn once from Faker, so a million records take seconds.

    uv run python -m bench.identity_data --records 100000 --out /tmp/bench100k
"""

from __future__ import annotations

import argparse
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from faker import Faker
from pypinyin import lazy_pinyin

LOCALES = (("zh_CN", "CN", 0.20), ("en_US", "US", 0.30), ("en_GB", "GB", 0.25),
           ("de_DE", "DE", 0.25))
CALLING = {"CN": "86", "US": "1", "GB": "44", "DE": "49"}
DOMAINS = {"CN": ("mail.example.cn", "qq.example.cn"), "US": ("example.com", "mail.example"),
           "GB": ("example.co.uk", "example.com"), "DE": ("example.de", "example.com")}
# Nicknames the simulated clerks use (the matcher keeps its own, larger list).
NICKNAMES = {
    "Robert": ("Bob", "Rob"), "William": ("Bill", "Will"), "Elizabeth": ("Liz", "Beth"),
    "Katherine": ("Kate", "Kathy"), "Margaret": ("Maggie", "Peggy"), "Richard": ("Rick", "Dick"),
    "James": ("Jim", "Jimmy"), "John": ("Johnny", "Jack"), "Michael": ("Mike",),
    "Thomas": ("Tom",), "Christopher": ("Chris",), "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",), "Anthony": ("Tony",), "Joseph": ("Joe",), "Jennifer": ("Jen", "Jenny"),
    "Patricia": ("Pat", "Trish"), "Susan": ("Sue",), "Alexander": ("Alex",),
    "Benjamin": ("Ben",), "Samuel": ("Sam",), "Andrew": ("Andy",), "Nicholas": ("Nick",),
    "Steven": ("Steve",), "Edward": ("Ed", "Ted"), "Timothy": ("Tim",), "Victoria": ("Vicky",),
    "Johannes": ("Hannes",), "Friedrich": ("Fritz",), "Stefanie": ("Steffi",),
}
HOUSEHOLD_SHARE, MOVED_SHARE, FAMILY_MAIL = 0.10, 0.15, 0.3


@dataclass(frozen=True)
class SourceStyle:
    coverage: float
    hanzi: float = 0.5
    nickname: float = 0.05
    typo: float = 0.02
    swap: float = 0.01
    pinyin_swap: float = 0.0
    full_name_only: bool = False
    birth_date: float = 0.5
    dm_swap: float = 0.005
    date_format: str = "%Y-%m-%d"
    email: float = 0.95
    email_case: float = 0.05
    phone: float = 0.9
    national_phone: float = 0.05
    landline: float = 0.5
    family_email: float = 0.4
    stale_address: float = 0.3
    address: bool = True
    national_id: float = 0.0
    company: float = 0.0
    team_mailbox: float = 0.0
    contact_required: bool = False  # every record keeps an email or a phone


SOURCES = {
    "crm": SourceStyle(coverage=0.70, hanzi=0.85, nickname=0.08, birth_date=0.45, email=0.96,
                       phone=0.9, company=0.6, team_mailbox=0.02),
    "erp": SourceStyle(coverage=0.55, hanzi=0.15, pinyin_swap=0.25, swap=0.03, typo=0.03,
                       birth_date=0.7, date_format="%d.%m.%Y", dm_swap=0.01, email=0.85,
                       email_case=0.2, national_phone=0.3, stale_address=0.6, national_id=0.6),
    "iot": SourceStyle(coverage=0.30, hanzi=0.4, nickname=0.1, typo=0.04, swap=0.05,
                       full_name_only=True, birth_date=0.0, email=0.9, phone=0.8,
                       national_phone=0.2, stale_address=0.2, family_email=0.5),
    # Profiles that reached the CDP through a login or a lead form: an email or a phone
    # always comes with them. (Bare display names are in the demo world; no method can
    # place an ambiguous one, so here they would only measure the world, not the method.)
    "social": SourceStyle(coverage=0.30, hanzi=0.7, nickname=0.3, full_name_only=True,
                          birth_date=0.0, email=0.6, phone=0.3, address=False,
                          landline=0.2, family_email=0.2, contact_required=True),
}
# A second CRM record typed in later by another rep: sloppier and older.
CRM_DUPLICATE = SourceStyle(coverage=0.06, hanzi=0.5, nickname=0.3, typo=0.12, swap=0.03,
                            birth_date=0.25, email=0.7, email_case=0.3, phone=0.7,
                            national_phone=0.5, stale_address=0.6, landline=0.5)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in plain.encode("ascii", "ignore").decode().lower() if c.isalnum())


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text)).capitalize()


@dataclass
class Pool:
    first: np.ndarray
    first_latin: np.ndarray
    last: np.ndarray
    last_latin: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    postcodes: np.ndarray
    companies: np.ndarray


def _pool(locale: str, seed: int) -> Pool:
    fake = Faker(locale)
    fake.seed_instance(seed)
    draw = lambda method, n: [getattr(fake, method)() for _ in range(n)]  # noqa: E731
    if locale == "zh_CN":
        names = draw("first_name", 600)
        chars = list(dict.fromkeys(c for name in names for c in name))
        pairs = np.random.default_rng(seed).choice(len(chars), size=(4000, 2))
        first = names + [chars[a] + chars[b] for a, b in pairs]
        last = draw("last_name", 3000)  # Faker's draw keeps real surname frequencies
        first_latin, last_latin = [_pinyin(s) for s in first], [_pinyin(s) for s in last]
    else:
        first = draw("first_name", 4000)
        if locale.startswith("en"):
            first += list(NICKNAMES) * 6  # formal names common enough for nicknames to occur
        last = draw("last_name", 4000)
        first_latin, last_latin = first, last
    arr = lambda x: np.array(x, dtype=object)  # noqa: E731
    return Pool(arr(first), arr(first_latin), arr(last), arr(last_latin),
                arr(list(dict.fromkeys(draw("street_name", 3000)))),
                arr(list(dict.fromkeys(draw("city", 1500)))), arr(draw("postcode", 6000)),
                arr(list(dict.fromkeys(draw("company", 800)))))


def _digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.array(["".join(map(str, row)) for row in rng.integers(0, 10, (n, k))], dtype=object)


def _mobile(rng: np.random.Generator, country: str, n: int) -> np.ndarray:
    prefix = {"CN": "13", "US": "", "GB": "7", "DE": "15"}[country]
    k = {"CN": 9, "US": 10, "GB": 9, "DE": 9}[country]
    body = _digits(rng, n, k)
    if country == "US":  # area and exchange codes never start with 0 or 1
        body = np.array([f"{2 + int(b[0]) % 8}{b[1:3]}{2 + int(b[3]) % 8}{b[4:]}" for b in body],
                        dtype=object)
    return np.array([f"+{CALLING[country]}{prefix}{b}" for b in body], dtype=object)


def _landline(rng: np.random.Generator, country: str, n: int) -> np.ndarray:
    prefix = {"CN": "10", "US": "", "GB": "20", "DE": "30"}[country]
    k = {"CN": 8, "US": 10, "GB": 8, "DE": 8}[country]
    body = _digits(rng, n, k)
    if country == "US":
        body = np.array([f"{2 + int(b[0]) % 8}{b[1:3]}{2 + int(b[3]) % 8}{b[4:]}" for b in body],
                        dtype=object)
    return np.array([f"+{CALLING[country]}{prefix}{b}" for b in body], dtype=object)


def _national(phone: str) -> str:
    """A national rendering of an E.164 number, as a clerk would type it."""
    if phone.startswith("+1"):
        d = phone[2:]
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    if phone.startswith("+86"):
        d = phone[3:]
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    d = phone[3:]
    return f"0{d[:4]} {d[4:]}"


def _email(first: str, last: str, style: int, number: int, domain: str) -> str:
    f, la = _slug(first) or "x", _slug(last) or "x"
    local = (f"{f}.{la}", f"{f}_{la}{number}", f"{f}{la}{number}", f"{f[0]}{la}{number}")[style]
    return f"{local}@{domain}"


def _unique(emails: list[str]) -> list[str]:
    """A provider never hands one address to two people: namesakes get a number."""
    seen: dict[str, int] = {}
    out = []
    for e in emails:
        k = seen.get(e, 0)
        seen[e] = k + 1
        if k:
            local, domain = e.split("@")
            e = f"{local}{k + 1}@{domain}"
        out.append(e)
    return out


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    c = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    op = int(rng.integers(0, 4))
    if op == 0:
        return word[:i] + c + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + c + word[i:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


@dataclass
class People:
    country: np.ndarray
    zh: np.ndarray
    first: np.ndarray
    first_latin: np.ndarray
    last: np.ndarray
    last_latin: np.ndarray
    birth: np.ndarray
    email: np.ndarray
    mobile: np.ndarray
    landline: np.ndarray
    family_email: np.ndarray
    street: np.ndarray
    city: np.ndarray
    postcode: np.ndarray
    old_street: np.ndarray
    old_city: np.ndarray
    old_postcode: np.ndarray
    national_id: np.ndarray
    company: np.ndarray
    company_domain: np.ndarray


def build_people(n: int, rng: np.random.Generator, seed: int) -> People:
    pools = [_pool(loc, seed + i) for i, (loc, _, _) in enumerate(LOCALES)]
    shares = np.array([s for *_, s in LOCALES])
    loc = rng.choice(len(LOCALES), size=n, p=shares)
    members = rng.permutation(n)[: int(n * HOUSEHOLD_SHARE)]
    sizes = rng.choice([2, 3, 4], p=[0.55, 0.3, 0.15], size=len(members) // 2 + 1)
    sizes = sizes[np.cumsum(sizes) <= len(members)]
    members = members[: sizes.sum()]
    hh = np.repeat(np.arange(len(sizes)), sizes)
    heads = members[(np.cumsum(sizes) - sizes)[hh]]
    loc[members] = loc[heads]

    obj = lambda: np.empty(n, dtype=object)  # noqa: E731
    f, fl, la, ll = obj(), obj(), obj(), obj()
    street, city, pc, ost, oci, opc = obj(), obj(), obj(), obj(), obj(), obj()
    mobile, landline, nid, comp, dom = obj(), obj(), obj(), obj(), obj()
    country = np.array([LOCALES[i][1] for i in loc], dtype=object)
    for li, pool in enumerate(pools):
        idx = np.flatnonzero(loc == li)
        k = len(idx)
        fi, lai = rng.integers(0, len(pool.first), k), rng.integers(0, len(pool.last), k)
        f[idx], fl[idx], la[idx], ll[idx] = (pool.first[fi], pool.first_latin[fi],
                                             pool.last[lai], pool.last_latin[lai])
        num = rng.integers(1, 400, (2, k))
        for which, (s_arr, c_arr, p_arr) in enumerate(((street, city, pc), (ost, oci, opc))):
            names = pool.streets[rng.integers(0, len(pool.streets), k)]
            if LOCALES[li][0] == "zh_CN":
                s_arr[idx] = [f"{s}{x}号" for s, x in zip(names, num[which], strict=True)]
            elif LOCALES[li][0] == "de_DE":
                s_arr[idx] = [f"{s} {x}" for s, x in zip(names, num[which], strict=True)]
            else:
                s_arr[idx] = [f"{x} {s}" for s, x in zip(names, num[which], strict=True)]
            c_arr[idx] = pool.cities[rng.integers(0, len(pool.cities), k)]
            p_arr[idx] = pool.postcodes[rng.integers(0, len(pool.postcodes), k)]
        c = LOCALES[li][1]
        mobile[idx] = _mobile(rng, c, k)
        landline[idx] = _landline(rng, c, k)
        employed = rng.random(k) < 0.3
        ci = rng.integers(0, len(pool.companies), k)
        comp[idx] = np.where(employed, pool.companies[ci], None)
        slugs = [_slug(_pinyin(x) if li == 0 else x)[:20] or "firm" for x in pool.companies]
        dom[idx] = np.where(employed, [f"{slugs[i]}{i}.example" for i in ci], None)
    birth = (np.datetime64("1940-01-01") + rng.integers(0, 23_000, n)).astype("datetime64[D]")
    # Households share surname, address and landline; everyone else keeps their own line
    # private (landline None), so a shared line always means a shared home.
    for arr in (la, ll, street, city, pc, ost, oci, opc, landline):
        arr[members] = arr[heads]
    in_hh = np.zeros(n, dtype=bool)
    in_hh[members] = True
    landline[~in_hh] = None
    moved = rng.random(n) < MOVED_SHARE
    moved[members] = moved[heads]
    for arr in (ost, oci, opc):
        arr[~moved] = None
    fam = obj()
    head_set = np.unique(heads)
    with_fam = head_set[rng.random(len(head_set)) < FAMILY_MAIL]
    fam_of_head = {h: f"{_slug(ll[h])}.family{h}@{DOMAINS[country[h]][0]}" for h in with_fam}
    fam[members] = [fam_of_head.get(h) for h in heads]

    email = np.array(_unique([_email(a, b, s, k, DOMAINS[c][d]) for a, b, s, k, c, d in zip(
        fl, ll, rng.integers(0, 4, n), rng.integers(1, 9999, n), country,
        rng.integers(0, 2, n), strict=True)]), dtype=object)
    nid[:] = None
    for c in ("CN", "US", "GB"):
        sel = np.flatnonzero(country == c)
        if c == "CN":
            ymd = birth[sel].astype(str)
            nid[sel] = [f"{r}{d.replace('-', '')}{s}" for r, d, s in
                        zip(_digits(rng, len(sel), 6), ymd, _digits(rng, len(sel), 4), strict=True)]
        elif c == "US":
            nid[sel] = [f"{d[:3]}-{d[3:5]}-{d[5:]}" for d in _digits(rng, len(sel), 9)]
        else:
            letters = rng.integers(0, 26, (len(sel), 3))
            nid[sel] = [f"{chr(65 + a)}{chr(65 + b)}{d}{chr(65 + e % 4)}" for (a, b, e), d in
                        zip(letters, _digits(rng, len(sel), 6), strict=True)]
    return People(country, loc == 0, f, fl, la, ll, birth, email, mobile, landline, fam,
                  street, city, pc, ost, oci, opc, nid, comp, dom)


def render(p: People, idx: np.ndarray, s: SourceStyle, rng: np.random.Generator,
           raw_phones: bool = False) -> dict:
    """The canonical fields one source holds for people ``idx``, with that source's noise."""
    n = len(idx)
    zh = p.zh[idx]
    hz = zh & (rng.random(n) < s.hanzi)
    first = np.where(hz, p.first[idx], p.first_latin[idx])
    last = np.where(hz, p.last[idx], p.last_latin[idx])
    for i in np.flatnonzero(rng.random(n) < s.nickname):
        nick = NICKNAMES.get(first[i])
        if nick:
            first[i] = nick[int(rng.integers(0, len(nick)))]
    for i in np.flatnonzero((rng.random(n) < s.typo) & ~hz):
        if rng.random() < 0.6:
            first[i] = _typo(first[i], rng)
        else:
            last[i] = _typo(last[i], rng)
    swap = (rng.random(n) < s.swap) | (zh & ~hz & (rng.random(n) < s.pinyin_swap))
    first, last = np.where(swap, last, first), np.where(swap, first, last)

    hh = p.landline[idx] != None  # noqa: E711
    email = p.email[idx].copy()
    fam = p.family_email[idx]
    use_fam = (fam != None) & (rng.random(n) < s.family_email)  # noqa: E711
    email[use_fam] = fam[use_fam]
    team = (p.company_domain[idx] != None) & (rng.random(n) < s.team_mailbox)  # noqa: E711
    email[team] = ["team@" + d for d in p.company_domain[idx][team]]
    for i in np.flatnonzero(rng.random(n) < s.email_case):
        email[i] = email[i].upper() if rng.random() < 0.5 else email[i].capitalize()
    email[rng.random(n) >= s.email] = None

    phone = np.where(hh & (rng.random(n) < s.landline), p.landline[idx], p.mobile[idx])
    nat = np.flatnonzero(rng.random(n) < s.national_phone)
    if raw_phones:  # as clerks typed them; the pipeline delivers E.164 (dbt staging)
        phone[nat] = [_national(x) for x in phone[nat]]
    no_phone = rng.random(n) >= s.phone
    if s.contact_required:
        no_phone &= email != None  # noqa: E711
    phone[no_phone] = None

    stale = (p.old_street[idx] != None) & (rng.random(n) < s.stale_address)  # noqa: E711
    street = np.where(stale, p.old_street[idx], p.street[idx])
    city = np.where(stale, p.old_city[idx], p.city[idx])
    postcode = np.where(stale, p.old_postcode[idx], p.postcode[idx])

    birth = np.full(n, None, dtype=object)
    keep = np.flatnonzero(rng.random(n) < s.birth_date)
    ymd = p.birth[idx][keep].astype(str)
    swap_dm = rng.random(len(keep)) < s.dm_swap
    texts = []
    for d, sw in zip(ymd, swap_dm, strict=True):
        y, m, dd = d[:4], d[5:7], d[8:10]
        if sw and int(dd) <= 12 and dd != m:
            m, dd = dd, m
        texts.append(s.date_format.replace("%Y", y).replace("%m", m).replace("%d", dd))
    birth[keep] = texts

    rec: dict = {"first_name": first, "last_name": last, "full_name": np.full(n, None, object)}
    if s.full_name_only:
        style = rng.integers(0, 3, n)
        rec["full_name"] = np.array([
            f"{la}{fi}" if h else (f"{fi} {la}", f"{la.upper()} {fi}", f"{la}, {fi}")[k]
            for fi, la, h, k in zip(first, last, hz, style, strict=True)], dtype=object)
        rec["first_name"] = rec["last_name"] = np.full(n, None, object)
    none = np.full(n, None, object)
    rec.update(
        birth_date=birth, email=email, phone=phone,
        street=street if s.address and not s.full_name_only else none,
        city=city if s.address and not s.full_name_only else none,
        postcode=postcode if s.address else none,
        country=p.country[idx].copy(),
        national_id=np.where(rng.random(n) < s.national_id, p.national_id[idx], None),
        company=np.where(rng.random(n) < s.company, p.company[idx], None),
    )
    return rec


COLUMNS = ("source", "source_record_id", "first_name", "last_name", "full_name", "birth_date",
           "email", "phone", "street", "city", "postcode", "country", "national_id", "company")


def generate(records: int, seed: int = 1, raw_phones: bool = False
             ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical records, truth) with about ``records`` rows; truth maps record -> person.

    Phones are E.164, as ``int_person_records`` delivers them, unless ``raw_phones`` asks
    for the national formats clerks type (to exercise the CLI's standardisation).
    """
    rng = np.random.default_rng(seed)
    per_person = sum(s.coverage for s in SOURCES.values()) + CRM_DUPLICATE.coverage
    n_people = max(10, int(records / per_person))
    people = build_people(n_people, rng, seed)
    frames, truth = [], []
    for name, style in [*SOURCES.items(), ("crm_dup", CRM_DUPLICATE)]:
        idx = np.flatnonzero(rng.random(n_people) < style.coverage)
        source = "crm" if name == "crm_dup" else name
        rec = render(people, idx, style, rng, raw_phones)
        prefix = {"crm": "CT", "crm_dup": "CD", "erp": "K", "iot": "DEV", "social": "x:"}[name]
        ids = np.array([f"{prefix}{i:08d}" for i in range(len(idx))], dtype=object)
        frames.append(pl.DataFrame({"source": [source] * len(idx), "source_record_id": ids,
                                    **{k: pl.Series(k, v.tolist(), dtype=pl.String)
                                       for k, v in rec.items()}}))
        truth.append(pl.DataFrame({"source": [source] * len(idx), "source_record_id": ids,
                                   "person_id": [f"P{i:08d}" for i in idx]}))
    df = pl.concat(frames).select(COLUMNS)
    tr = pl.concat(truth)
    order = np.random.default_rng(seed + 1).permutation(df.height)[:records]
    return df[order], tr.join(df[order].select("source", "source_record_id"),
                              on=["source", "source_record_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    df, truth = generate(args.records, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    df.write_parquet(args.out / "records.parquet")
    truth.write_parquet(args.out / "truth.parquet")
    print(f"{df.height:,} records of {truth['person_id'].n_unique():,} people "
          f"in {time.perf_counter() - started:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
