"""A regex, a validator and context words: the shape of every structured recognizer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

CJK = "\u4e00-\u9fff"
# What privacy.detect joins texts with: context never reaches across it.
SEPARATOR = "\n|\n"


class RuleRecognizer(EntityRecognizer):
    """Finds ``pattern``; keeps matches ``validate`` accepts; scores by nearby context words.

    ``score`` applies without context and ``context_score`` when a context word occurs in
    the ``window`` characters before (or just after) the match. A ``score`` of 0 means the
    entity is only reported with context.
    """

    def __init__(self, entity: str, pattern: str, *, language: str, name: str,
                 score: float, context: Iterable[str] = (), context_score: float = 0.95,
                 validate: Callable[[str], bool] | None = None, window: int = 32,
                 flags: int = 0, trim: str | None = None) -> None:
        self.entity = entity
        self.regex = re.compile(pattern, flags)
        self.score = score
        words = sorted(context, key=len, reverse=True)
        self.context_words = re.compile("|".join(map(re.escape, words)), re.IGNORECASE) if words else None
        self.context_score = context_score
        self.validate = validate
        self.window = window
        # A prefix the pattern may swallow that is context, not the value (住在, 地址是).
        self.trim = re.compile(trim) if trim else None
        super().__init__(supported_entities=[entity], supported_language=language, name=name)

    def load(self) -> None:
        pass

    def in_context(self, text: str, start: int, end: int) -> bool:
        if self.context_words is None:
            return False
        before = text[max(0, start - self.window):start].rpartition(SEPARATOR)[2]
        after = text[end:end + 8].partition(SEPARATOR)[0]
        return bool(self.context_words.search(before) or self.context_words.search(after))

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        out = []
        for m in self.regex.finditer(text):
            group = "v" if "v" in self.regex.groupindex else 0
            start, end = m.span(group)
            value = m.group(group)
            if self.trim is not None and (cut := self.trim.match(value)):
                start, value = start + cut.end(), value[cut.end():]
            if self.validate is not None and not self.validate(value):
                continue
            score = self.context_score if self.in_context(text, start, end) else self.score
            if score <= 0:
                continue
            out.append(RecognizerResult(
                self.entity, start, end, score,
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                      RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True}))
        return out


def digits_only(value: str) -> str:
    return re.sub(r"[\s\-.]", "", value)
