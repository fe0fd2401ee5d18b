"""Free text with its PII replaced by typed placeholders (<EMAIL_ADDRESS>, <PERSON>, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from privacy.detect import Detector, Entity, counts_by_type


@cache
def _anonymizer() -> AnonymizerEngine:
    return AnonymizerEngine()


def placeholder(entity_type: str) -> str:
    return f"<{entity_type}>"


def redact_text(text: str, entities: Sequence[Entity]) -> str:
    if not entities:
        return text
    results = [RecognizerResult(e.type, e.start, e.end, e.score) for e in entities]
    operators = {e.type: OperatorConfig("replace", {"new_value": placeholder(e.type)})
                 for e in entities}
    return _anonymizer().anonymize(text=text, analyzer_results=results, operators=operators).text


@dataclass(frozen=True)
class Redaction:
    texts: list[str | None]
    # Entities found, by type: what asset metadata may show (never the values).
    counts: dict[str, int]


def redact(texts: Sequence[str | None], detector: Detector) -> Redaction:
    found = detector.detect(texts)
    out = [redact_text(t, e) if t else t for t, e in zip(texts, found, strict=True)]
    return Redaction(out, counts_by_type(found))
