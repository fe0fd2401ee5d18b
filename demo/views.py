"""How one source system sees a person: the same truth with that system's noise.

Each source has a ``SourceStyle``: how often its staff or users mistype names, use
nicknames, swap first and last name, write Chinese names in characters or pinyin,
leave fields empty, keep an old address, or format phones and dates their own way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo.identifiers import format_phone
from demo.nicknames import NICKNAMES
from demo.population import People

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class SourceStyle:
    hanzi: float = 0.5           # Chinese names kept in characters (else pinyin)
    pinyin_swap: float = 0.0     # pinyin surname put in first_name ("Wang", "Wei")
    swap: float = 0.01           # first and last name swapped by mistake
    typo: float = 0.02           # one-character edit in a latin name
    nickname: float = 0.05
    missing_email: float = 0.05
    missing_phone: float = 0.05
    birth_date: float = 0.5      # share that has a birth date at all
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    day_month_swap: float = 0.0
    phone_styles: tuple[str, ...] = ("intl",)
    email_case: float = 0.05     # upper-case or capitalised addresses
    stale_address: float = 0.3   # movers still shown at their old address
    landline: float = 0.5        # household members who give the shared landline
    family_email: float = 0.5    # household members who give the family address
    national_id: float = 0.0


def typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(0, 4))
    c = _LETTERS[int(rng.integers(0, 26))]
    if op == 0:
        return word[:i] + c + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + c + word[i:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


def _case_variant(email: str, k: int) -> str:
    if k == 0:
        return email.upper()
    local, domain = email.split("@", 1)
    parts = ".".join(p.capitalize() for p in local.split("."))
    return f"{parts}@{domain.capitalize() if k == 2 else domain}"


def _where(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    return np.flatnonzero(rng.random(n) < p) if p > 0 else np.empty(0, dtype=np.int64)


@dataclass
class PersonView:
    first_name: np.ndarray
    last_name: np.ndarray
    hanzi: np.ndarray            # bool: name kept in Chinese characters
    email: np.ndarray
    phone: np.ndarray
    street: np.ndarray
    city: np.ndarray
    postcode: np.ndarray
    country: np.ndarray
    birth_date: np.ndarray       # text in the source's format, or None
    national_id: np.ndarray

    def full_name(self, rng: np.random.Generator, styles: tuple[str, ...] = ("fl",)) -> np.ndarray:
        """One name field: 'First Last', 'LAST First', 'Last, First'; characters unspaced."""
        pick = rng.integers(0, len(styles), len(self.first_name))
        out = []
        for f, la, hz, k in zip(self.first_name, self.last_name, self.hanzi, pick, strict=True):
            s = styles[k]
            if hz:
                out.append(f"{la}{f}")
            elif s == "LF":
                out.append(f"{la.upper()} {f}")
            elif s == "l,f":
                out.append(f"{la}, {f}")
            else:
                out.append(f"{f} {la}")
        return np.array(out, dtype=object)


def render(people: People, idx: np.ndarray, style: SourceStyle,
           rng: np.random.Generator) -> PersonView:
    """The fields a source holds for people ``idx``, with the source's noise applied."""
    n = len(idx)
    zh = people.is_zh()[idx]
    hanzi = zh & (rng.random(n) < style.hanzi)
    first = np.where(hanzi, people.first[idx], people.first_latin[idx])
    last = np.where(hanzi, people.last[idx], people.last_latin[idx])

    for i in _where(rng, n, style.nickname):
        names = NICKNAMES.get(first[i])
        if names:
            first[i] = names[int(rng.integers(0, len(names)))]
    for i in _where(rng, n, style.typo):
        if not hanzi[i]:
            if rng.random() < 0.6:
                first[i] = typo(first[i], rng)
            else:
                last[i] = typo(last[i], rng)
    swapped = np.zeros(n, dtype=bool)
    swapped[_where(rng, n, style.swap)] = True
    swapped |= zh & ~hanzi & (rng.random(n) < style.pinyin_swap)
    first, last = np.where(swapped, last, first), np.where(swapped, first, last)

    household = people.household_id[idx] != None  # noqa: E711
    email = people.email[idx].copy()
    fam = people.family_email[idx]
    use_fam = household & (fam != None) & (rng.random(n) < style.family_email)  # noqa: E711
    email[use_fam] = fam[use_fam]
    for i in _where(rng, n, style.email_case):
        email[i] = _case_variant(email[i], int(rng.integers(0, 3)))
    email[_where(rng, n, style.missing_email)] = None

    nsn = people.mobile[idx].copy()
    use_line = household & (rng.random(n) < style.landline)
    nsn[use_line] = people.landline[idx][use_line]
    country = people.country[idx]
    pstyle = rng.integers(0, len(style.phone_styles), n)
    phone = np.array([format_phone(c, p, style.phone_styles[k])
                      for c, p, k in zip(country, nsn, pstyle, strict=True)], dtype=object)
    phone[_where(rng, n, style.missing_phone)] = None

    stale = (people.old_street[idx] != None) & (rng.random(n) < style.stale_address)  # noqa: E711
    street = np.where(stale, people.old_street[idx], people.street[idx])
    city = np.where(stale, people.old_city[idx], people.city[idx])
    postcode = np.where(stale, people.old_postcode[idx], people.postcode[idx])

    national_id = np.where(rng.random(n) < style.national_id, people.national_id[idx], None)
    return PersonView(
        first_name=first, last_name=last, hanzi=hanzi, email=email, phone=phone,
        street=street, city=city, postcode=postcode, country=country.copy(),
        birth_date=_birth_dates(people.birth[idx], style, rng), national_id=national_id,
    )


def _birth_dates(birth: np.ndarray, style: SourceStyle, rng: np.random.Generator) -> np.ndarray:
    n = len(birth)
    out = np.full(n, None, dtype=object)
    keep = np.flatnonzero(rng.random(n) < style.birth_date)
    if len(keep) == 0:
        return out
    ymd = birth[keep].astype("datetime64[D]").astype(str)
    fmt = rng.integers(0, len(style.date_formats), len(keep))
    swap = rng.random(len(keep)) < style.day_month_swap
    texts = []
    for d, k, s in zip(ymd, fmt, swap, strict=True):
        y, m, dd = d[:4], d[5:7], d[8:10]
        if s and int(dd) <= 12 and dd != m:  # a clerk swapping day and month
            m, dd = dd, m
        texts.append(style.date_formats[k].replace("%Y", y).replace("%m", m).replace("%d", dd))
    out[keep] = texts
    return out
