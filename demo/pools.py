"""Pools of names, streets, cities and companies, built once from Faker and then sampled.

Calling Faker per person is far too slow at a million people; sampling indices into
pools keeps generation vectorised. Pools drawn by repeated Faker calls keep Faker's
own frequency weights (common surnames appear more often).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from faker import Faker
from pypinyin import lazy_pinyin

from demo.nicknames import FORMAL_NAMES

# (faker locale, ISO country, share of people, calling code)
LOCALES: tuple[tuple[str, str, float, str], ...] = (
    ("zh_CN", "CN", 0.20, "86"),
    ("en_US", "US", 0.30, "1"),
    ("en_GB", "GB", 0.25, "44"),
    ("de_DE", "DE", 0.25, "49"),
)
ZH = 0  # index of zh_CN in LOCALES
EMAIL_DOMAINS = {"CN": ("mail.example.cn",), "US": ("example.com", "example.org"),
                 "GB": ("example.com", "example.org"), "DE": ("example.org", "example.com")}
CURRENCY = {"CN": "CNY", "US": "USD", "GB": "GBP", "DE": "EUR"}
# Faker's English name lists are short and steeply weighted: surnames had a sum of
# squared shares of 0.004-0.005 (real US/UK ~0.0005-0.0008), which made one English-speaking
# customer in ten a full-name namesake of another, about ten times the real rate. Names
# of each country's main origins, drawn with each list's own weights, bring Smith to
# 1.1% (US) and 1.5% (GB), close to the censuses. ((locale, kind) -> (origin, draws)).
NAME_ORIGINS: dict[tuple[str, str], tuple[tuple[str, int], ...]] = {
    ("en_US", "first_name"): (("en_US", 3000), ("es_MX", 600)),
    ("en_US", "last_name"): (("en_US", 3000), ("en_IE", 2000), ("es_MX", 900),
                             ("de_DE", 500), ("it_IT", 500), ("pl_PL", 300)),
    ("en_GB", "first_name"): (("en_GB", 3000), ("en_IE", 1500)),
    ("en_GB", "last_name"): (("en_GB", 2000), ("en_IE", 2000), ("en_US", 1000),
                             ("en_IN", 500), ("pl_PL", 200)),
}

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                         "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def ascii_slug(text: str) -> str:
    """Lower-case ASCII form of a latin name for handles and email local parts."""
    return re.sub(r"[^a-z0-9]", "", plain_latin(text).lower())


def plain_latin(text: str) -> str:
    """Without diacritics, as immigrant surnames are usually written in the US and UK."""
    return unicodedata.normalize("NFKD", text.translate(_GERMAN)).encode("ascii", "ignore").decode()


def pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text)).capitalize()


@dataclass(frozen=True)
class LocalePool:
    locale: str
    country: str
    calling_code: str
    first: np.ndarray        # as people write it (characters for zh)
    first_latin: np.ndarray  # pinyin for zh, same as first otherwise
    last: np.ndarray
    last_latin: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    postcodes: np.ndarray


def _draw(fake: Faker, method: str, n: int) -> list[str]:
    return [getattr(fake, method)() for _ in range(n)]


def _zh_given_names(fake: Faker, seed: int) -> list[str]:
    # Faker's zh_CN list has ~130 given names; composing characters gives realistic
    # variety without making every second person a namesake.
    names = _draw(fake, "first_name", 600)
    chars = list(dict.fromkeys(c for name in names for c in name))
    rng = np.random.default_rng(seed)
    pairs = rng.choice(len(chars), size=(3000, 2))
    return names + [chars[a] + chars[b] for a, b in pairs]


def _names(fake: Faker, locale: str, kind: str, seed: int) -> list[str]:
    origins = NAME_ORIGINS.get((locale, kind))
    if origins is None:
        return _draw(fake, kind, 3000)
    out: list[str] = []
    for i, (origin, n) in enumerate(origins):
        other = Faker(origin)
        other.seed_instance(seed * 31 + i)
        out += [plain_latin(name) for name in _draw(other, kind, n)]
    return out


def _locale_pool(locale: str, country: str, code: str, seed: int) -> LocalePool:
    fake = Faker(locale)
    fake.seed_instance(seed)
    if locale == "zh_CN":
        first = _zh_given_names(fake, seed)
        last = _draw(fake, "last_name", 2000)
        cache = {s: pinyin(s) for s in dict.fromkeys(first + last)}
        first_latin = [cache[s] for s in first]
        last_latin = [cache[s] for s in last]
    else:
        first = _names(fake, locale, "first_name", seed)
        if locale.startswith("en"):
            first += list(FORMAL_NAMES) * 8
        elif locale == "de_DE":
            first += ["Johannes", "Wolfgang", "Friedrich", "Josef", "Stefanie", "Andreas"] * 6
        last = _names(fake, locale, "last_name", seed)
        first_latin, last_latin = first, last
    return LocalePool(
        locale=locale, country=country, calling_code=code,
        first=np.array(first, dtype=object), first_latin=np.array(first_latin, dtype=object),
        last=np.array(last, dtype=object), last_latin=np.array(last_latin, dtype=object),
        streets=np.array(list(dict.fromkeys(_draw(fake, "street_name", 1500))), dtype=object),
        cities=np.array(list(dict.fromkeys(_draw(fake, "city", 600))), dtype=object),
        postcodes=np.array(_draw(fake, "postcode", 3000), dtype=object),
    )


def build_pools(seed: int) -> list[LocalePool]:
    return [_locale_pool(loc, country, code, seed + i)
            for i, (loc, country, _, code) in enumerate(LOCALES)]


_COMPANY_NOISE = re.compile(
    r"\b(ltd|llc|inc|plc|gmbh|ag|kg|ohg|e\.?g|mbh|co|and|und|group|sons|partner)\b", re.I)


def company_domain(name: str, locale: str) -> str:
    if locale == "zh_CN":
        base = ascii_slug(pinyin(name[:4]))
    else:
        words = [ascii_slug(w) for w in _COMPANY_NOISE.sub(" ", name).replace("-", " ").split()]
        base = "-".join(w for w in words if w)[:40]
    return base or "company"


@dataclass(frozen=True)
class Companies:
    name: np.ndarray
    domain: np.ndarray   # "<slug>.example", unique
    country: np.ndarray
    locale_idx: np.ndarray


def build_companies(n: int, seed: int, rng: np.random.Generator) -> Companies:
    shares = np.array([s for _, _, s, _ in LOCALES])
    locale_idx = rng.choice(len(LOCALES), size=n, p=shares / shares.sum())
    fakes = []
    for i, (loc, *_rest) in enumerate(LOCALES):
        fake = Faker(loc)
        fake.seed_instance(seed * 31 + i)
        fakes.append(fake)
    names, domains, seen = [], [], dict[str, int]()
    for li in locale_idx:
        name = fakes[li].company()
        domain = company_domain(name, LOCALES[li][0])
        count = seen.get(domain, 0)
        seen[domain] = count + 1
        if count:  # two firms with the same slug get distinct domains and names
            domain = f"{domain}{count + 1}"
            name = f"{name} ({count + 1})"
        names.append(name)
        domains.append(f"{domain}.example")
    return Companies(
        name=np.array(names, dtype=object), domain=np.array(domains, dtype=object),
        country=np.array([LOCALES[i][1] for i in locale_idx], dtype=object),
        locale_idx=locale_idx.astype(np.int8),
    )
