"""Batch detection equals one-by-one detection; language per text; typed placeholders."""

from __future__ import annotations

import random

from privacy.detect import CHUNK_TEXTS, Detector
from privacy.language import detect_language, mask_cjk
from privacy.redact import redact
from tests.privacy.conftest import card, cn_mobile, made_up_name, resident_id


def _texts(rng: random.Random, known: list[tuple[str, str]], n: int) -> list[str]:
    out = []
    for i in range(n):
        first, last = known[i % len(known)]
        kind = i % 4
        if kind == 0:
            out.append(f"Called {first} {last} on +44 7700 9{rng.randrange(10**5):05d} about a refund.")
        elif kind == 1:
            out.append(f"客户{first}{last}投诉：设备频繁过热。联系方式{cn_mobile(rng)}。身份证号{resident_id(rng)}。")
        elif kind == 2:
            out.append(f"Card on file: {card(rng, '62', 16)}. Mail {first.lower()}@example.com")
        else:
            out.append("Just installed the SmartPlug Mini, setup took five minutes.")
    return out


def test_batch_equals_one_by_one(detector: Detector, rng: random.Random,
                                 known_names: list[tuple[str, str]]) -> None:
    texts = _texts(rng, known_names, 3 * CHUNK_TEXTS + 5)  # several chunks, the last partial
    texts = [*texts, *texts[:7], "", None]  # repeats and empties
    batch = detector.detect(texts)
    assert len(batch) == len(texts)
    assert batch[-1] == [] and batch[-2] == []
    for text, entities in zip(texts[:-2], batch[:-2], strict=True):
        assert entities == detector.detect_one(text), text
    assert sum(map(len, batch)) > len(texts)  # not a detector that finds nothing


def test_offsets_point_at_the_values(detector: Detector, rng: random.Random) -> None:
    mobile = cn_mobile(rng)
    text = f"私信或联系我：{mobile}"
    (entity,) = detector.detect_one(text)
    assert (entity.type, text[entity.start:entity.end]) == ("PHONE_NUMBER", mobile)


def test_language_per_text() -> None:
    assert detect_language("Really happy with my AirPure 300!") == "en"
    assert detect_language("刚装好SmartPlug Mini，五分钟就搞定了。") == "zh"
    assert detect_language("有人也在用吗？请联系someone@example.org") == "zh"
    assert detect_language("Thanks for the 红包 from the whole team") == "en"
    assert detect_language("") == "en"
    assert mask_cjk("联系a@b.cn") == "  a@b.cn"


def test_redaction_leaves_typed_placeholders_and_no_value(detector: Detector, rng: random.Random) -> None:
    first, last = made_up_name(rng)
    mobile, nid = cn_mobile(rng), resident_id(rng)
    email = f"{first.lower()}.{last.lower()}@example.com"
    texts = [f"My name is {first} {last}, mail {email}", f"致电客户，手机{mobile}，身份证号{nid}。", None]
    result = redact(texts, detector)
    assert result.texts[0] == "My name is <PERSON>, mail <EMAIL_ADDRESS>"
    assert result.texts[1] == "致电客户，手机<PHONE_NUMBER>，身份证号<CN_RESIDENT_ID>。"
    assert result.texts[2] is None
    assert result.counts == {"CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1, "PERSON": 1, "PHONE_NUMBER": 1}
    joined = " ".join(t for t in result.texts if t)
    for value in (first, last, email, mobile, nid):
        assert value not in joined
