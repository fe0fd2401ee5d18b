"""Presidio's analyzer on blank spaCy pipelines (no model download), built once per process."""

from __future__ import annotations

import spacy
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    UsSsnRecognizer,
)
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from privacy.names import NameIndex
from privacy.recognizers import address, china, documents
from privacy.recognizers.person import PersonRecognizer
from privacy.recognizers.phones import PhoneNumberRecognizer

LANGUAGES = ("en", "zh")
# What Presidio's own recognizers find; in Chinese text they run on a copy whose Chinese
# characters are blanked (language.mask_cjk), since `\b` sees no boundary next to them.
GENERIC_ENTITIES = ("EMAIL_ADDRESS", "IP_ADDRESS", "IBAN_CODE", "US_SSN")
HUB_ENTITIES = ("CN_RESIDENT_ID", "CN_USCC", "PASSPORT", "LOCATION", "PERSON", "PHONE_NUMBER",
                "CREDIT_CARD", "US_SSN")


class OwnContext(ContextAwareEnhancer):
    """No second context pass: the hub's recognizers weigh their own context words (in
    Chinese too, where Presidio's token window sees single characters), and the lemma
    enhancer walks the whole document for every finding, which makes batches slow."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0, min_score_with_context_similarity=0,
                         context_prefix_count=0, context_suffix_count=0)

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers,
                              context=None):  # type: ignore[no-untyped-def]
        return raw_results


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """Tokenisation only. No recognizer of the hub reads tokens or lemmas (each weighs its
    own context, see OwnContext), so the artifacts skip the per-token lists that a
    batch of joined texts would make expensive."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"}
                                 for lang in languages])
        self._languages = languages

    def load(self) -> None:
        self.nlp = {}
        for lang in self._languages:
            nlp = spacy.blank(lang)
            # Whitespace splitting: the default rules (and Chinese per-character segmenting)
            # cost half of a batch and feed nothing.
            nlp.tokenizer = Tokenizer(nlp.vocab)
            self.nlp[lang] = nlp

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[], lemmas=[],
                            nlp_engine=self, language=language, scores=[])


def offline_suffix_list() -> None:
    """Make tldextract (Presidio's email recognizer) use the public-suffix list in its wheel.

    Its shared extractor would fetch the list from the internet at first use; with no URLs it
    falls back to the bundled snapshot. Set on the extractor itself, so that no caller's
    environment has to carry ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS``.
    """
    from tldextract import tldextract

    tldextract.TLD_EXTRACTOR.suffix_list_urls = ()


def registry(known_names: NameIndex | None = None) -> RecognizerRegistry:
    offline_suffix_list()
    reg = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for lang in LANGUAGES:
        if lang == "en":
            # Cards are the hub's own recognizer (Luhn, UnionPay, not after a "+"): Presidio's
            # takes +49 mobile numbers that happen to pass Luhn for cards.
            for rec in (EmailRecognizer(), IpRecognizer(), IbanRecognizer(), UsSsnRecognizer()):
                reg.add_recognizer(rec)
            reg.add_recognizer(address.street_en(lang))
        else:
            reg.add_recognizer(address.street_zh(lang))
            reg.add_recognizer(address.street_en(lang))
        for make in (PhoneNumberRecognizer, china.resident_id, china.mobile, china.landline, china.social_credit_code,
                     documents.bank_card, documents.passport, documents.us_ssn):
            reg.add_recognizer(make(lang))
        reg.add_recognizer(PersonRecognizer(lang, known_names))
    return reg


def analyzer(known_names: NameIndex | None = None) -> AnalyzerEngine:
    """A new analyzer; build it once per process (detect.Detector does) and reuse it."""
    return AnalyzerEngine(registry=registry(known_names), nlp_engine=BlankSpacyNlpEngine(),
                          supported_languages=list(LANGUAGES), context_aware_enhancer=OwnContext())


def batch_analyzer(engine: AnalyzerEngine) -> BatchAnalyzerEngine:
    return BatchAnalyzerEngine(analyzer_engine=engine)
