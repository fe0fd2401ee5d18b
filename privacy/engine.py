"""Presidio's analyzer on blank spaCy pipelines (no model download), built once per process."""

from __future__ import annotations

import spacy
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)
from spacy.tokens import Doc

from privacy.names import NameIndex
from privacy.recognizers import address, china, documents
from privacy.recognizers.person import PersonRecognizer

LANGUAGES = ("en", "zh")
# Regions whose national formats phonenumbers tries; international formats match anywhere.
PHONE_REGIONS = ("US", "GB", "DE", "CN", "FR", "CA", "AU")
# What Presidio's own recognizers find; in Chinese text they run on a copy whose Chinese
# characters are blanked (language.mask_cjk), since `\b` sees no boundary next to them.
GENERIC_ENTITIES = ("EMAIL_ADDRESS", "IP_ADDRESS", "IBAN_CODE", "US_SSN", "CREDIT_CARD",
                    "PHONE_NUMBER")
HUB_ENTITIES = ("CN_RESIDENT_ID", "CN_USCC", "PASSPORT", "LOCATION", "PERSON", "PHONE_NUMBER",
                "CREDIT_CARD")


class ValidatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer, scored higher: a number that phonenumbers
    parses and validates for a real numbering plan is strong evidence on its own, and the
    blank pipeline's context words rarely fall inside Presidio's token window."""

    SCORE = 0.7


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """Tokenisation only. Lemmas are the lower-cased tokens, so that Presidio's context
    words ("phone", "ssn", "card") still lift the scores of its own English recognizers."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"}
                                 for lang in languages])
        self._languages = languages

    def load(self) -> None:
        self.nlp = {lang: spacy.blank(lang) for lang in self._languages}

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc],
                            lemmas=[t.lower_ for t in doc], nlp_engine=self, language=language,
                            scores=[])


def registry(known_names: NameIndex | None = None) -> RecognizerRegistry:
    reg = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for lang in LANGUAGES:
        if lang == "en":
            for rec in (EmailRecognizer(), IpRecognizer(), IbanRecognizer(),
                        UsSsnRecognizer(), CreditCardRecognizer(),
                        ValidatedPhoneRecognizer(supported_regions=PHONE_REGIONS)):
                reg.add_recognizer(rec)
            reg.add_recognizer(address.street_en(lang))
        else:
            reg.add_recognizer(address.street_zh(lang))
            reg.add_recognizer(address.street_en(lang))
        for make in (china.resident_id, china.mobile, china.landline, china.social_credit_code,
                     documents.bank_card, documents.passport):
            reg.add_recognizer(make(lang))
        reg.add_recognizer(PersonRecognizer(lang, known_names))
    return reg


def analyzer(known_names: NameIndex | None = None) -> AnalyzerEngine:
    """A new analyzer; build it once per process (detect.Detector does) and reuse it."""
    return AnalyzerEngine(registry=registry(known_names), nlp_engine=BlankSpacyNlpEngine(),
                          supported_languages=list(LANGUAGES))


def batch_analyzer(engine: AnalyzerEngine) -> BatchAnalyzerEngine:
    return BatchAnalyzerEngine(analyzer_engine=engine)
