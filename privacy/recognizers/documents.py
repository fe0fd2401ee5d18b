"""Payment cards (Luhn, UnionPay 62 included) and passport numbers (only with context)."""

from __future__ import annotations

import re

from privacy.checksums import luhn_valid
from privacy.recognizers.china import B, E
from privacy.recognizers.rule import RuleRecognizer, digits_only

CARD_CONTEXT = ("卡号", "银行卡", "信用卡", "借记卡", "card", "visa", "mastercard", "unionpay", "银联")
PASSPORT_CONTEXT = ("passport", "护照", "reisepass", "passeport")
# Issuer prefixes of the card schemes customers quote: Visa, Mastercard (51-55, 2221-2720),
# Amex, Diners, JCB, Discover and UnionPay (62, 81).
_IIN = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|35|6011|64|65|62|81")


def _card(value: str) -> bool:
    digits = digits_only(value)
    return 13 <= len(digits) <= 19 and bool(_IIN.match(digits)) and luhn_valid(digits)


def bank_card(language: str) -> RuleRecognizer:
    # Groups of digits as printed (4-4-4-4, 6-13 for UnionPay, or unbroken).
    # Not after "+": that is a phone number's country code.
    pattern = r"(?<![A-Za-z0-9+])(?P<v>\d(?:[\s-]?\d){12,18})" + E
    return RuleRecognizer("CREDIT_CARD", pattern, language=language, name="BankCard",
                          score=0.8, context=CARD_CONTEXT, context_score=1.0, validate=_card)


def passport(language: str) -> RuleRecognizer:
    # China (E/G + 8 digits, E + letter + 7), most of Europe (1-2 letters + 6-8), the US (9
    # digits): each looks like many other numbers, so only context makes it a passport.
    pattern = B + r"(?P<v>(?:[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z]{1,2}[0-9A-Z]?\d{6,8}|\d{9}))" + E
    return RuleRecognizer("PASSPORT", pattern, language=language, name="Passport",
                          score=0.0, context=PASSPORT_CONTEXT, context_score=0.9, window=24)


SSN_CONTEXT = ("ssn", "social security", "soc sec")


def _ssn(value: str) -> bool:
    area, group, serial = value.split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def us_ssn(language: str) -> RuleRecognizer:
    """Presidio's own SSN recognizer scores 3-2-4 digits 0.5 and relies on its lemma
    context enhancer, which the hub does not run; this one reads "SSN" itself."""
    return RuleRecognizer("US_SSN", B + r"(?P<v>\d{3}-\d{2}-\d{4})" + E, language=language,
                          name="UsSsnWithContext", score=0.0, context=SSN_CONTEXT,
                          context_score=0.95, validate=_ssn)
