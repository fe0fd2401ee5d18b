"""Check digits on generated identifiers: valid ones pass, one changed character fails."""

from __future__ import annotations

import random

from privacy.checksums import cn_resident_id_valid, luhn_valid, uscc_valid
from tests.privacy.conftest import card, resident_id, social_credit_code


def _flip(value: str, at: int = -1) -> str:
    chars = list(value)
    chars[at] = "0" if chars[at] != "0" else "1"
    return "".join(chars)


def test_resident_id_check_digit_and_birth_date(rng: random.Random) -> None:
    for _ in range(50):
        value = resident_id(rng)
        assert cn_resident_id_valid(value)
        assert not cn_resident_id_valid(_flip(value))
    assert not cn_resident_id_valid(resident_id(rng, birth="19850230"))  # no 30 February
    assert not cn_resident_id_valid(resident_id(rng, birth="20991231"))  # born in the future
    assert not cn_resident_id_valid(resident_id(rng)[:17])


def test_luhn_on_cards_including_unionpay(rng: random.Random) -> None:
    for prefix, length in (("4", 16), ("51", 16), ("62", 16), ("62", 19), ("37", 15)):
        value = card(rng, prefix, length)
        assert luhn_valid(value), (prefix, length)
        assert not luhn_valid(_flip(value))


def test_social_credit_code_check_character(rng: random.Random) -> None:
    for _ in range(50):
        value = social_credit_code(rng)
        assert uscc_valid(value)
        wrong = value[:17] + ("0" if value[17] != "0" else "1")
        assert not uscc_valid(wrong)
    assert not uscc_valid("I" * 18)  # I, O, S, V, Z are not in the code's alphabet
