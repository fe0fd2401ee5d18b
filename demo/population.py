"""The true people behind every source record, with households, moves and churn.

Everything a source shows about a person is derived from these arrays (see
``demo.views``), so the ground truth is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from demo import clock
from demo.identifiers import (
    CALLING_CODE,
    cn_resident_ids,
    landline_numbers,
    mobile_numbers,
    western_national_ids,
)
from demo.pools import EMAIL_DOMAINS, LOCALES, ZH, Companies, LocalePool, ascii_slug
from demo.tables import frame

HOUSEHOLD_SHARE = 0.10
CHURN_SHARE = 0.15
MOVED_SHARE = 0.15
EMPLOYED_SHARE = 0.30
FAMILY_EMAIL_SHARE = 0.30  # of households


@dataclass
class People:
    person_id: np.ndarray
    locale: np.ndarray       # index into LOCALES
    country: np.ndarray
    first: np.ndarray        # native script
    first_latin: np.ndarray  # pinyin for Chinese people
    last: np.ndarray
    last_latin: np.ndarray
    birth: np.ndarray        # datetime64[D]
    email: np.ndarray
    mobile: np.ndarray       # national significant number
    landline: np.ndarray     # shared by a household, else None
    household_id: np.ndarray
    family_email: np.ndarray
    street: np.ndarray
    city: np.ndarray
    postcode: np.ndarray
    old_street: np.ndarray   # address before moving, else None
    old_city: np.ndarray
    old_postcode: np.ndarray
    moved_at: np.ndarray     # epoch seconds, -1 if never moved
    national_id: np.ndarray
    company: np.ndarray      # index into Companies, -1 if none
    churned_at: np.ndarray   # epoch seconds at midnight, -1 if still a customer

    def __len__(self) -> int:
        return len(self.person_id)

    def active_until(self, now: int = clock.NOW) -> np.ndarray:
        """When each person stops producing events: churn date, else ``now``."""
        return np.where(self.churned_at >= 0, self.churned_at, now)

    def is_zh(self) -> np.ndarray:
        return self.locale == ZH

    def to_frame(self, companies: Companies) -> pl.DataFrame:
        comp = np.where(self.company >= 0, self.company, 0)
        company_name = np.where(self.company >= 0, companies.name[comp], None)
        cc = np.array([CALLING_CODE[c] for c in self.country], dtype=object)
        e164 = lambda nsn: [None if n is None else f"+{c}{n}"  # noqa: E731
                            for c, n in zip(cc, nsn, strict=True)]
        return frame({
            "person_id": self.person_id, "household_id": self.household_id,
            "churned_at": clock.fmt(self.churned_at, "%Y-%m-%d").str.to_date(),
            "first_name": self.first, "last_name": self.last,
            "first_name_latin": self.first_latin, "last_name_latin": self.last_latin,
            "birth_date": self.birth, "email": self.email, "phone": e164(self.mobile),
            "landline": e164(self.landline), "family_email": self.family_email,
            "street": self.street, "city": self.city, "postcode": self.postcode,
            "country": self.country, "locale": [LOCALES[i][0] for i in self.locale],
            "national_id": self.national_id, "company": company_name,
            "company_idx": self.company.astype(np.int32),
            "old_street": self.old_street, "old_city": self.old_city,
            "old_postcode": self.old_postcode,
            "moved_at": clock.fmt(self.moved_at, clock.DB_TS).str.to_datetime(),
        })

    @classmethod
    def from_frame(cls, df: pl.DataFrame) -> People:
        def arr(col: str) -> np.ndarray:
            return df[col].to_numpy().astype(object)

        def nsn(col: str) -> np.ndarray:
            return np.array([None if v is None else v[1 + len(CALLING_CODE[c]):]
                             for v, c in zip(df[col], df["country"], strict=True)], dtype=object)

        def secs(col: str) -> np.ndarray:
            # A copy: advance() edits these in place, and zero-copy views are read-only.
            return np.array(df[col].cast(pl.Datetime("ms")).dt.epoch("s").fill_null(-1))

        locale_of = {loc: i for i, (loc, *_rest) in enumerate(LOCALES)}
        return cls(
            person_id=arr("person_id"),
            locale=np.array([locale_of[v] for v in df["locale"]], dtype=np.int8),
            country=arr("country"), first=arr("first_name"), first_latin=arr("first_name_latin"),
            last=arr("last_name"), last_latin=arr("last_name_latin"),
            birth=df["birth_date"].to_numpy().astype("datetime64[D]"), email=arr("email"),
            mobile=nsn("phone"), landline=nsn("landline"), household_id=arr("household_id"),
            family_email=arr("family_email"), street=arr("street"), city=arr("city"),
            postcode=arr("postcode"), old_street=arr("old_street"), old_city=arr("old_city"),
            old_postcode=arr("old_postcode"), moved_at=secs("moved_at"),
            national_id=arr("national_id"), company=df["company_idx"].to_numpy().astype(np.int64),
            churned_at=secs("churned_at"),
        )

    def take(self, idx: np.ndarray) -> People:
        return People(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def street_address(rng: np.random.Generator, pool: LocalePool, n: int) -> tuple[list, list, list]:
    names = pool.streets[rng.integers(0, len(pool.streets), n)]
    numbers = rng.integers(1, 300, n)
    if pool.locale == "zh_CN":
        street = [f"{s}{k}号" for s, k in zip(names, numbers, strict=True)]
    elif pool.locale == "de_DE":
        street = [f"{s} {k}" for s, k in zip(names, numbers, strict=True)]
    else:
        street = [f"{k} {s}" for s, k in zip(names, numbers, strict=True)]
    city = pool.cities[rng.integers(0, len(pool.cities), n)].tolist()
    postcode = pool.postcodes[rng.integers(0, len(pool.postcodes), n)].tolist()
    return street, city, postcode


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(member person indices, index of their household's head) for ~10% of people."""
    members = rng.permutation(n)[: int(n * HOUSEHOLD_SHARE)]
    sizes = rng.choice([2, 3, 4], p=[0.55, 0.30, 0.15], size=len(members) // 2 + 1)
    ends = np.cumsum(sizes)
    sizes = sizes[ends <= len(members)]
    members = members[: sizes.sum()]
    hh_of_member = np.repeat(np.arange(len(sizes)), sizes)
    heads = members[(np.cumsum(sizes) - sizes)[hh_of_member]]
    return members, heads


def _dedupe_emails(emails: list[str | None]) -> list[str | None]:
    # Real providers never hand one address to two people; namesakes get a number.
    seen: dict[str, int] = {}
    out: list[str | None] = []
    for e in emails:
        if e is None:
            out.append(None)
            continue
        k = seen.get(e, 0)
        seen[e] = k + 1
        if k:
            local, domain = e.split("@")
            e = f"{local}{k + 1}@{domain}"
            seen[e] = seen.get(e, 0) + 1
        out.append(e)
    return out


def _personal_emails(rng: np.random.Generator, first: np.ndarray, last: np.ndarray,
                     country: np.ndarray, birth: np.ndarray) -> list[str]:
    fs = {v: ascii_slug(v) or "x" for v in dict.fromkeys(first.tolist())}
    ls = {v: ascii_slug(v) or "x" for v in dict.fromkeys(last.tolist())}
    years = birth.astype("datetime64[Y]").astype(int) % 100
    style = rng.integers(0, 5, len(first))
    nums = rng.integers(1, 999, len(first))
    pick = rng.random(len(first))
    out = []
    for f, la, c, y, s, k, p in zip(first, last, country, years, style, nums, pick, strict=True):
        f, la = fs[f], ls[la]
        local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}{la}{y:02d}", f"{f}_{la}{k}", f"{la}.{f}")[s]
        domains = EMAIL_DOMAINS[c]
        out.append(f"{local}@{domains[int(p * len(domains))]}")
    return out


def build_people(n: int, rng: np.random.Generator, pools: list[LocalePool],
                 companies: Companies) -> People:
    shares = np.array([s for _, _, s, _ in LOCALES])
    locale = rng.choice(len(LOCALES), size=n, p=shares / shares.sum())
    members, heads = _households(rng, n)
    locale[members] = locale[heads]

    obj = lambda: np.empty(n, dtype=object)  # noqa: E731
    first, first_latin, last, last_latin = obj(), obj(), obj(), obj()
    street, city, postcode = obj(), obj(), obj()
    old_street, old_city, old_postcode = obj(), obj(), obj()
    mobile, national_id = obj(), obj()
    for li, pool in enumerate(pools):
        idx = np.flatnonzero(locale == li)
        fi = rng.integers(0, len(pool.first), len(idx))
        la = rng.integers(0, len(pool.last), len(idx))
        first[idx], first_latin[idx] = pool.first[fi], pool.first_latin[fi]
        last[idx], last_latin[idx] = pool.last[la], pool.last_latin[la]
        street[idx], city[idx], postcode[idx] = street_address(rng, pool, len(idx))
        old = street_address(rng, pool, len(idx))
        old_street[idx], old_city[idx], old_postcode[idx] = old
        mobile[idx] = mobile_numbers(rng, pool.country, len(idx))

    birth = (np.datetime64("1945-01-01") + rng.integers(0, 22_645, n)).astype("datetime64[D]")
    country = np.array([LOCALES[i][1] for i in locale], dtype=object)

    moved = rng.random(n) < MOVED_SHARE
    moved_at = np.where(moved, clock.uniform(rng, clock.START + 30 * clock.DAY,
                                             clock.NOW - 30 * clock.DAY, n), -1)
    for arr in (old_street, old_city, old_postcode):
        arr[~moved] = None

    # Household members share surname, address (and its history) and a landline.
    for arr in (last, last_latin, street, city, postcode, old_street, old_city, old_postcode):
        arr[members] = arr[heads]
    moved_at[members] = moved_at[heads]
    household_id, landline, family_email = obj(), obj(), obj()
    head_ids, head_pos = np.unique(heads, return_inverse=True)
    household_id[members] = np.array([f"H{h:07d}" for h in range(1, len(head_ids) + 1)],
                                     dtype=object)[head_pos]
    for c in ("CN", "US", "GB", "DE"):
        sel = np.flatnonzero(country[head_ids] == c)
        lines = np.array(landline_numbers(rng, c, len(sel)), dtype=object)
        hh_line = obj()[: len(head_ids)]
        hh_line[sel] = lines
        on = np.isin(head_pos, sel)
        landline[members[on]] = hh_line[head_pos[on]]
    with_family = rng.random(len(head_ids)) < FAMILY_EMAIL_SHARE
    fam = [f"{ascii_slug(last_latin[h])}.family@{EMAIL_DOMAINS[country[h]][0]}" if w else None
           for h, w in zip(head_ids, with_family, strict=True)]

    emails = _dedupe_emails(
        _personal_emails(rng, first_latin, last_latin, country, birth)
        + [f for f in fam if f is not None])
    email = np.array(emails[:n], dtype=object)
    fam_iter = iter(emails[n:])
    fam_dedup = np.array([next(fam_iter) if f is not None else None for f in fam], dtype=object)
    family_email[members] = fam_dedup[head_pos]

    zh = locale == ZH
    national_id[zh] = cn_resident_ids(rng, birth[zh])
    for c in ("US", "GB"):
        sel = np.flatnonzero((country == c) & (rng.random(n) < 0.4))
        national_id[sel] = western_national_ids(rng, c, len(sel))

    company = np.full(n, -1, dtype=np.int64)
    employed = rng.random(n) < EMPLOYED_SHARE
    for c in ("CN", "US", "GB", "DE"):
        pool_c = np.flatnonzero(companies.country == c)
        if len(pool_c) == 0:
            pool_c = np.arange(len(companies.name))
        sel = np.flatnonzero(employed & (country == c))
        company[sel] = pool_c[rng.integers(0, len(pool_c), len(sel))]

    churned = rng.random(n) < CHURN_SHARE
    churn_day = rng.integers(120, (clock.NOW - clock.START) // clock.DAY - 3, n)
    churned_at = np.where(churned, clock.START + churn_day * clock.DAY, -1)

    return People(
        person_id=np.array([f"P{i:07d}" for i in range(1, n + 1)], dtype=object),
        locale=locale.astype(np.int8), country=country, first=first, first_latin=first_latin,
        last=last, last_latin=last_latin, birth=birth, email=email, mobile=mobile,
        landline=landline, household_id=household_id, family_email=family_email,
        street=street, city=city, postcode=postcode, old_street=old_street, old_city=old_city,
        old_postcode=old_postcode, moved_at=moved_at.astype(np.int64), national_id=national_id,
        company=company, churned_at=churned_at.astype(np.int64),
    )
