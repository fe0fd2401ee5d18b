"""Person names without an NER model: context words, name lists, and the hub's customers.

Three signals, strongest first: a known customer's name (NameIndex), a capitalised name
after a cue such as "my name is", "Dear" or a title (or a Chinese name after 我叫, 客户, 致电
or before 先生/女士/经理), and a first name plus surname that both stand in the name lists.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from privacy.names import NameIndex, cn_surnames, first_names, last_names
from privacy.recognizers.rule import CJK

_EN_CUES = ("my name is", "my name's", "i'm", "i am", "this is", "call me", "dear", "hi", "hello",
            "mr", "mrs", "ms", "miss", "dr", "prof", "regards", "thanks", "cheers", "sincerely",
            "from", "called", "met", "with", "contact", "customer", "client", "spoke to",
            "spoke with", "signed", "cc", "attn", "by")
_CAP = r"[A-Z][a-z'’\-]+|[A-Z]{2,}"
EN_CANDIDATE = re.compile(rf"(?<![\w])(?:{_CAP})(?:,?\s+(?:{_CAP})){{0,2}}(?![\w])")
_CUE_BEFORE = re.compile(
    r"(?:^|[^\w])(?:" + "|".join(re.escape(c) for c in sorted(_EN_CUES, key=len, reverse=True))
    + r")\.?,?[ \t]*\n?[ \t]*$", re.IGNORECASE)
_ZH_PREFIX = ("我叫", "我是", "本人", "客户", "致电", "联系人", "姓名", "与", "和", "感谢", "尊敬的",
              "收件人", "签名", "经办人")
_ZH_SUFFIX = ("先生", "女士", "小姐", "经理", "老师", "总", "医生", "同学")
# Characters that end a name: the verbs and particles that follow one in customer notes.
_ZH_STOP = set("来投会说在的了和与是请已问电打发给向对把被，。、（）()：:；;！？!? ")
_ZH_NAME = re.compile(rf"[{CJK}]{{2,4}}")
_LEADING_CUE = re.compile(
    r"(?:" + "|".join(re.escape(c) for c in _EN_CUES if " " not in c and "'" not in c)
    + r")\.?,?\s+", re.IGNORECASE)
# Words that look like capitalised names but are not, at least in customer notes.
_NOT_NAMES = frozenset({"support", "ticket", "re", "meeting", "follow", "complaint", "next",
                        "thanks", "hello", "dear", "card", "the", "dm", "reach"})


def _en_score(tokens: list[str], cued: bool) -> float:
    words = [t.strip(",").casefold() for t in tokens]
    if words[0] in _NOT_NAMES:
        return 0.0
    first, last = words[0] in first_names(), words[-1] in last_names() or words[0] in last_names()
    if cued:
        return 0.85 if (first or last) else 0.6
    if len(words) >= 2 and first and (words[-1] in last_names()):
        return 0.7
    return 0.0


class PersonRecognizer(EntityRecognizer):
    """PERSON from known customers' names, cues and name lists, in English and Chinese text."""

    def __init__(self, language: str, known: NameIndex | None = None) -> None:
        self.known = known or NameIndex(())
        super().__init__(supported_entities=["PERSON"], supported_language=language,
                         name="PersonFromContextAndNames")

    def load(self) -> None:
        pass

    def _result(self, start: int, end: int, score: float, how: str) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: f"{self.name}:{how}",
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True})

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        out = [self._result(m.start, m.end, 0.9, "known") for m in self.known.find(text)]
        for m in EN_CANDIDATE.finditer(text):
            start, words = m.start(), m.group()
            cued = bool(_CUE_BEFORE.search(text[max(0, start - 16):start]))
            # A capitalised cue is caught with the name ("Dear Anna", "Mr Smith"): drop it.
            while (head := _LEADING_CUE.match(words)) and head.end() < len(words):
                start, words, cued = start + head.end(), words[head.end():], True
            tokens = words.replace(",", " ").split()
            score = _en_score(tokens, cued) if tokens else 0.0
            if score:
                out.append(self._result(start, m.end(), score, "cue" if cued else "lists"))
        if re.search(f"[{CJK}]", text):
            out.extend(self._chinese(text))
        return out

    def _chinese(self, text: str) -> list[RecognizerResult]:
        out = []
        surnames = cn_surnames()
        for cue in _ZH_PREFIX:
            for m in re.finditer(re.escape(cue), text):
                span = self._zh_name_at(text, m.end(), surnames)
                if span:
                    out.append(self._result(*span, 0.7, "cue"))
        for cue in _ZH_SUFFIX:
            for m in re.finditer(re.escape(cue), text):
                start = m.start()
                for length in (3, 2):  # 王小明先生, 王明先生
                    s = start - length
                    if s >= 0 and _ZH_NAME.fullmatch(text[s:start]) and (
                            text[s] in surnames or text[s:s + 2] in surnames):
                        out.append(self._result(s, start, 0.7, "cue"))
                        break
        return out

    @staticmethod
    def _zh_name_at(text: str, i: int, surnames: frozenset[str]) -> tuple[int, int] | None:
        if i >= len(text):
            return None
        head = 2 if text[i:i + 2] in surnames else 1 if text[i] in surnames else 0
        if not head:
            return None
        end = i + head
        while end < len(text) and end - i < 3 + (head == 2) and text[end] not in _ZH_STOP \
                and re.match(f"[{CJK}]", text[end]) \
                and not any(text.startswith(s, end) for s in _ZH_SUFFIX):
            end += 1
        return (i, end) if end - i >= 2 else None
