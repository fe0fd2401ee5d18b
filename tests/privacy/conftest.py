"""One detector per test session (building Presidio's engine takes seconds), and makers
of valid identifiers: tests generate every value, none is written out."""

from __future__ import annotations

import random
import string

import pytest

from privacy.checksums import USCC_CHARS, cn_resident_id_check, luhn_check_digit, uscc_check
from privacy.detect import Detector
from privacy.names import NameIndex


@pytest.fixture(scope="session")
def rng() -> random.Random:
    return random.Random(20261204)


def made_up_name(rng: random.Random) -> tuple[str, str]:
    """A first and last name in no name list: syllables drawn at random."""
    syllables = ["zor", "vek", "thal", "quin", "mox", "drel", "yab", "kesh", "plur", "wint"]
    return (rng.choice(syllables) + rng.choice(syllables)).title(), \
        (rng.choice(syllables) + rng.choice(syllables) + "ov").title()


KNOWN = [made_up_name(random.Random(i)) for i in range(5)]


@pytest.fixture(scope="session")
def known_names() -> list[tuple[str, str]]:
    return KNOWN


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector(NameIndex([f"{f} {la}" for f, la in KNOWN] + ["欧阳娜娜娜"]))


@pytest.fixture(scope="session")
def bare_detector() -> Detector:
    return Detector()


def resident_id(rng: random.Random, birth: str = "19850614") -> str:
    body = rng.choice(["110101", "310104", "440305"]) + birth + f"{rng.randrange(1000):03d}"
    return body + cn_resident_id_check(body)


def card(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def social_credit_code(rng: random.Random) -> str:
    body = "91" + rng.choice(["110101", "310104"]) + "".join(
        rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc_check(body)


def iban_de(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    # ISO 13616: the check digits make (BBAN + country as digits + check) mod 97 == 1.
    number = int(bban + "1314" + "00")  # D=13, E=14
    return f"DE{98 - number % 97:02d}{bban}"


def us_ssn(rng: random.Random) -> str:
    return f"{rng.randrange(100, 665)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"


def cn_mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
