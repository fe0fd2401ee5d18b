"""Street addresses: house number and street type in English and German, 路/街 + 号 in Chinese."""

from __future__ import annotations

from privacy.recognizers.rule import CJK, RuleRecognizer

ADDRESS_CONTEXT = ("address", "live at", "lives at", "living at", "ship to", "deliver to",
                   "located at", "moved to", "地址", "住在", "住址", "寄到", "送到", "收货", "位于")
_STREET_TYPES = (r"(?i:street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|boulevard"
                 r"|blvd\.?|way|close|court|ct\.?|place|pl\.?|square|terrace|crescent|row|hill"
                 r"|gardens|parkway|mews|walk)")
EN_PATTERN = (
    r"(?P<v>(?:(?:flat|apt\.?|apartment|suite|unit)\s*\d+[a-z]?,?\s+)?"
    r"\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'’.-]*\s+){0,3}" + _STREET_TYPES + r"\b"
    r"|[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm)\s+\d{1,4}[a-z]?)"
)
ZH_PATTERN = (
    rf"(?P<v>(?:[{CJK}]{{2,3}}省)?(?:[{CJK}]{{2,3}}市)?(?:[{CJK}]{{1,3}}[区县])?"
    rf"[{CJK}]{{1,6}}(?:路|街|大道|巷|胡同)\d{{1,5}}号(?:\d{{1,4}}[室楼])?)"
)
# What the Chinese pattern swallows before the place name: the words that announce it.
ZH_TRIM = r"(?:我家|我|他|她|客户)?(?:住在|地址是|地址|住址|位于|寄到|送到|在)[：:]?"


def street_en(language: str) -> RuleRecognizer:
    return RuleRecognizer("LOCATION", EN_PATTERN, language=language, name="StreetAddressEn",
                          score=0.6, context=ADDRESS_CONTEXT, context_score=0.9)


def street_zh(language: str) -> RuleRecognizer:
    return RuleRecognizer("LOCATION", ZH_PATTERN, language=language, name="StreetAddressZh",
                          score=0.7, context=ADDRESS_CONTEXT, context_score=0.9, trim=ZH_TRIM)
