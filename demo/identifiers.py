"""Identifiers with real structure: phone numbers, CN resident IDs, credit codes, cards.

Checksums are real (ISO 7064 for resident IDs, GB 32100 for credit codes, Luhn for
cards) so that PII recognisers that validate them fire on the simulated text.
"""

from __future__ import annotations

import numpy as np

# --- phone numbers: national significant numbers (NSN), formatted per source -------

# First digits that make a number a mobile (by country); landlines use the capital.
_MOBILE_PREFIX = {"CN": ("13", "15", "18", "17", "19"), "GB": ("74", "75", "77", "78", "79"),
                  "DE": ("151", "152", "160", "170", "176"), "US": ("",)}
_LANDLINE_PREFIX = {"CN": "10", "GB": "20", "DE": "30", "US": ""}
_NSN_LEN = {"CN": 11, "GB": 10, "DE": 11, "US": 10}
CALLING_CODE = {"CN": "86", "GB": "44", "DE": "49", "US": "1"}
PHONE_STYLES = ("e164", "intl", "national", "idd", "digits")


def _digits(rng: np.random.Generator, n: int, width: int) -> list[str]:
    return [f"{v:0{width}d}" for v in rng.integers(0, 10**width, size=n)] if width else [""] * n


def mobile_numbers(rng: np.random.Generator, country: str, n: int) -> list[str]:
    if country == "US":  # NANP: area and exchange codes never start with 0 or 1
        area = rng.integers(201, 990, size=n)
        exch = rng.integers(200, 1000, size=n)
        return [f"{a}{e}{r}" for a, e, r in zip(area, exch, _digits(rng, n, 4), strict=True)]
    prefixes = _MOBILE_PREFIX[country]  # all of one length per country
    picks = rng.integers(0, len(prefixes), size=n)
    rest = _digits(rng, n, _NSN_LEN[country] - len(prefixes[0]))
    return [prefixes[p] + r for p, r in zip(picks, rest, strict=True)]


def landline_numbers(rng: np.random.Generator, country: str, n: int) -> list[str]:
    if country == "US":
        return mobile_numbers(rng, country, n)
    prefix = _LANDLINE_PREFIX[country]  # capital-city numbers: 2-digit area + 8 digits
    return [prefix + d for d in _digits(rng, n, 8)]


def _is_mobile(country: str, nsn: str) -> bool:
    return {"CN": len(nsn) == 11, "DE": nsn[0] == "1", "GB": nsn[0] == "7"}.get(country, False)


def _groups(country: str, nsn: str) -> list[str]:
    if country == "US":
        return [nsn[:3], nsn[3:6], nsn[6:]]
    if country == "GB" and _is_mobile(country, nsn):
        return [nsn[:4], nsn[4:]]
    head = 3 if _is_mobile(country, nsn) else 2
    return [nsn[:head], nsn[head:head + 4], nsn[head + 4:]]


def format_phone(country: str, nsn: str, style: str) -> str:
    """One number written the ways people and systems write it."""
    cc = CALLING_CODE[country]
    groups = _groups(country, nsn)
    if style == "e164":
        return f"+{cc}{nsn}"
    if style == "intl":
        return f"+{cc} " + " ".join(groups)
    if style == "idd":
        return f"00{cc}{nsn}"
    # China dials mobiles without the trunk 0; NANP has no trunk 0 at all.
    trunk = "" if country == "US" or (country == "CN" and _is_mobile(country, nsn)) else "0"
    if style == "digits":
        return trunk + nsn
    if country == "US":
        return f"({groups[0]}) {groups[1]}-{groups[2]}"
    return trunk + "-".join(groups)


# --- Chinese resident identity number (GB 11643) -------------------------------------

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
CN_AREAS = np.array([110101, 110105, 310104, 310115, 440103, 440305, 330106, 320102,
                     510104, 420106, 610113, 120101, 500103, 370102, 210102, 350203])


def cn_resident_ids(rng: np.random.Generator, birth: np.ndarray) -> list[str]:
    """18-digit IDs whose birth-date part matches ``birth`` (datetime64[D])."""
    n = len(birth)
    area = CN_AREAS[rng.integers(0, len(CN_AREAS), size=n)]
    ymd = np.array([d.replace("-", "") for d in birth.astype("datetime64[D]").astype(str)])
    seq = rng.integers(0, 1000, size=n)
    body = [f"{a}{d}{s:03d}" for a, d, s in zip(area, ymd, seq, strict=True)]
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(n, 17) - 48
    checks = (digits.astype(np.int64) @ _ID_WEIGHTS) % 11
    return [b + _ID_CHECK[c] for b, c in zip(body, checks, strict=True)]


def cn_resident_id_valid(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


# --- unified social credit code for Chinese companies (GB 32100) --------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(rng: np.random.Generator) -> str:
    area = str(CN_AREAS[rng.integers(0, len(CN_AREAS))])
    org = "".join(_USCC_CHARS[i] for i in rng.integers(0, 31, size=9))
    body = "91" + area + org
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def tax_id(rng: np.random.Generator, country: str) -> str:
    if country == "CN":
        return uscc(rng)
    if country == "US":  # EIN
        return f"{rng.integers(10, 99)}-{rng.integers(1_000_000, 9_999_999)}"
    return f"{country}{rng.integers(100_000_000, 999_999_999)}"  # EU / UK VAT style


# --- others -------------------------------------------------------------------------

def luhn_card(rng: np.random.Generator) -> str:
    """A Luhn-valid 16-digit Visa-style card number, grouped as printed."""
    body = [4, *rng.integers(0, 10, size=14).tolist()]
    total = 0
    for i, d in enumerate(reversed(body)):
        d2 = d * 2 if i % 2 == 0 else d
        total += d2 - 9 if d2 > 9 else d2
    digits = "".join(map(str, body)) + str((10 - total % 10) % 10)
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def western_national_ids(rng: np.random.Generator, country: str, n: int) -> list[str | None]:
    if country == "US":  # 9xx area numbers are never issued as SSNs
        return [f"9{a:02d}-{b:02d}-{c:04d}" for a, b, c in zip(
            rng.integers(0, 100, n), rng.integers(1, 100, n), rng.integers(1, 10000, n),
            strict=True)]
    if country == "GB":  # QQ is the documented example prefix for NI numbers
        return [f"QQ {a:02d} {b:02d} {c:02d} {s}" for a, b, c, s in zip(
            rng.integers(0, 100, n), rng.integers(0, 100, n), rng.integers(0, 100, n),
            rng.choice(list("ABCD"), n), strict=True)]
    return [None] * n
