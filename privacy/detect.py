"""Find PII in many texts at once: each text's language, a cheap gate, Presidio in batches.

Throughput comes from doing less, not from skipping recognizers on the texts that need them:
identical texts are analysed once (bios repeat on every post of a profile), and each text
is sent only to the recognizers its characters make possible (no digits, no phone number;
no '@', no email address). The rest is Presidio's BatchAnalyzerEngine, one batch per
language and recognizer set, on one analyzer built once per process.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from presidio_analyzer import RecognizerResult

from privacy import engine
from privacy.language import detect_language, mask_cjk
from privacy.names import NameIndex
from privacy.recognizers import rule

DEFAULT_THRESHOLD = 0.5
# Texts travel to Presidio joined into chunks: one analyze call per chunk instead of per
# text. No recognizer's pattern spans the separator ("|" between line breaks), and the
# hub's context windows stop at it (recognizers.rule.SEPARATOR).
SEPARATOR = rule.SEPARATOR
CHUNK_TEXTS = 128
_DIGITS = re.compile(r"\d")
_NAME_SHAPE = re.compile(r"[A-Z\u4e00-\u9fff]")
NUMERIC = ("PHONE_NUMBER", "CREDIT_CARD", "CN_RESIDENT_ID", "US_SSN", "IBAN_CODE", "PASSPORT",
           "CN_USCC", "IP_ADDRESS", "LOCATION")


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    score: float

    def as_json(self) -> dict[str, object]:
        return {"type": self.type, "start": self.start, "end": self.end,
                "score": round(self.score, 4)}


def candidate_entities(text: str) -> frozenset[str]:
    """The entity types the text's characters allow at all."""
    out = set()
    if len(_DIGITS.findall(text)) >= 6:
        out.update(NUMERIC)
    if "@" in text:
        out.add("EMAIL_ADDRESS")
    if _NAME_SHAPE.search(text):
        out.add("PERSON")
        if "LOCATION" not in out and any(c.isdigit() for c in text):
            out.add("LOCATION")
    return frozenset(out)


def resolve_overlaps(results: Iterable[RecognizerResult | Entity]) -> list[Entity]:
    """Non-overlapping entities: the higher score wins a conflict, then the longer span."""
    ordered = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    kept: list[Entity] = []
    for r in ordered:
        if all(r.end <= k.start or r.start >= k.end for k in kept):
            kept.append(Entity(r.entity_type if isinstance(r, RecognizerResult) else r.type,
                               r.start, r.end, float(r.score)))
    return sorted(kept, key=lambda e: (e.start, e.end))


class _Chunk:
    """Texts joined for one analyze call, and the way back from its offsets to each text."""

    def __init__(self, inputs: list[str], originals: list[str]) -> None:
        self.originals = originals
        self.starts = []
        at = 0
        for text in inputs:
            self.starts.append(at)
            at += len(text) + len(SEPARATOR)
        self.joined = SEPARATOR.join(inputs)
        self.lengths = [len(t) for t in inputs]

    def split(self, results: list[RecognizerResult]) -> Iterable[tuple[str, RecognizerResult]]:
        for r in results:
            i = bisect.bisect_right(self.starts, r.start) - 1
            offset = self.starts[i]
            if r.end - offset > self.lengths[i]:
                continue  # reaches into the separator: not a finding of one text
            yield self.originals[i], RecognizerResult(r.entity_type, r.start - offset,
                                                      r.end - offset, r.score)


class Detector:
    """One analyzer and its batch engine, built once; ``detect`` many times."""

    def __init__(self, known_names: NameIndex | None = None,
                 score_threshold: float = DEFAULT_THRESHOLD) -> None:
        self.analyzer = engine.analyzer(known_names)
        self.batch = engine.batch_analyzer(self.analyzer)
        self.score_threshold = score_threshold

    def detect_one(self, text: str) -> list[Entity]:
        return self.detect([text])[0]

    def detect(self, texts: Sequence[str | None], batch_size: int = 256) -> list[list[Entity]]:
        unique = list(dict.fromkeys(t for t in texts if t))
        found: dict[str, list[RecognizerResult]] = {t: [] for t in unique}
        # (language the analyzer runs, entities, whether to blank Chinese) -> texts
        groups: dict[tuple[str, tuple[str, ...], bool], list[str]] = defaultdict(list)
        for text in unique:
            wanted = candidate_entities(text)
            if not wanted:
                continue
            if detect_language(text) == "zh":
                generic = tuple(sorted(wanted & set(engine.GENERIC_ENTITIES)))
                if generic:
                    groups["en", generic, True].append(text)
                groups["zh", tuple(sorted(wanted & set(engine.HUB_ENTITIES))), False].append(text)
            else:
                groups["en", tuple(sorted(wanted)), False].append(text)
        for (language, entities, masked), members in groups.items():
            if not entities:
                continue
            inputs = [mask_cjk(t) for t in members] if masked else members
            chunks = [_Chunk(inputs[i:i + CHUNK_TEXTS], members[i:i + CHUNK_TEXTS])
                      for i in range(0, len(inputs), CHUNK_TEXTS)]
            results = self.batch.analyze_iterator(
                [c.joined for c in chunks], language=language, entities=list(entities),
                batch_size=batch_size, score_threshold=self.score_threshold)
            for chunk, result in zip(chunks, results, strict=True):
                for text, r in chunk.split(result):
                    found[text].append(r)
        resolved = {t: resolve_overlaps(r) for t, r in found.items()}
        return [resolved.get(t, []) if t else [] for t in texts]


def counts_by_type(entities: Iterable[Iterable[Entity]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for text_entities in entities:
        for e in text_entities:
            out[e.type] += 1
    return dict(sorted(out.items()))
