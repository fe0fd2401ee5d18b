"""Phone numbers in international and national formats, checked with phonenumbers."""

from __future__ import annotations

import re

import phonenumbers
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from privacy.recognizers.china import PHONE_CONTEXT
from privacy.recognizers.rule import SEPARATOR

# Regions whose national formats are tried, in order; international formats need none.
REGIONS = ("US", "GB", "DE", "CN", "FR", "CA", "AU")
CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9+])(?:(?:\+|00)\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]?\d{2,5}){1,4}"
    r"(?![A-Za-z0-9])")
# Shapes that are something else: dates, US social security numbers (3-2-4), IPv4.
_NOT_PHONES = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}|\d{3}-\d{2}-\d{4}|\d{1,3}(?:\.\d{1,3}){3}")
_CONTEXT = re.compile("|".join(map(re.escape, PHONE_CONTEXT)), re.IGNORECASE)


def _parse(candidate: str) -> phonenumbers.PhoneNumber | None:
    text = "+" + candidate[2:] if candidate.startswith("00") else candidate
    regions = (None,) if text.startswith("+") else REGIONS
    best = None
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
        if best is None and phonenumbers.is_possible_number(number):
            best = number
    return best


class PhoneNumberRecognizer(EntityRecognizer):
    """A number that phonenumbers validates for its numbering plan scores 0.8; one that is
    only possible (right length, unassigned range) counts when written the way phones are:
    with a country prefix, an area code in parentheses, or a phone word nearby."""

    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=language,
                         name="PhoneNumbersValidated")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        out = []
        for m in CANDIDATE.finditer(text):
            value = m.group()
            digits = sum(c.isdigit() for c in value)
            if not 7 <= digits <= 15 or _NOT_PHONES.fullmatch(value):
                continue
            number = _parse(value)
            if number is None:
                continue
            if phonenumbers.is_valid_number(number):
                score = 0.8
            else:
                before = text[max(0, m.start() - 24):m.start()].rpartition(SEPARATOR)[2]
                shaped = value[0] in "+(" or value.startswith("00")
                score = 0.6 if shaped or _CONTEXT.search(before) else 0.0
            if score:
                out.append(RecognizerResult("PHONE_NUMBER", m.start(), m.end(), score,
                                            recognition_metadata={
                                                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True}))
        return out
