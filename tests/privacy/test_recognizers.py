"""Every recognizer on generated valid values in context, and on invalid look-alikes."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from privacy.detect import Detector
from privacy.recognizers import china
from tests.privacy.conftest import (
    card,
    cn_mobile,
    iban_de,
    made_up_name,
    resident_id,
    social_credit_code,
    us_ssn,
)


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start:e.end]) for e in detector.detect_one(text)]


def assert_found(detector: Detector, text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(detector, text), (kind, found(detector, text))


def assert_not_found(detector: Detector, text: str, kind: str) -> None:
    assert kind not in {k for k, _ in found(detector, text)}, found(detector, text)


def test_chinese_resident_id(detector: Detector, rng: random.Random) -> None:
    value = resident_id(rng)
    assert_found(detector, f"客户身份证号{value}，已核实。", "CN_RESIDENT_ID", value)
    assert_found(detector, f"Resident ID {value} on file.", "CN_RESIDENT_ID", value)
    wrong_check = value[:17] + ("0" if value[17] != "0" else "1")
    assert_not_found(detector, f"身份证号{wrong_check}", "CN_RESIDENT_ID")
    assert_not_found(detector, f"身份证号{resident_id(rng, birth='19851332')}", "CN_RESIDENT_ID")


@pytest.mark.parametrize("style", ["plain", "spaced", "dashed", "+86", "0086"])
def test_chinese_mobile(detector: Detector, rng: random.Random, style: str) -> None:
    n = cn_mobile(rng)
    value = {"plain": n, "spaced": f"{n[:3]} {n[3:7]} {n[7:]}", "dashed": f"{n[:3]}-{n[3:7]}-{n[7:]}",
             "+86": f"+86 {n}", "0086": f"0086{n}"}[style]
    assert_found(detector, f"联系方式{value}。", "PHONE_NUMBER", value)


def test_chinese_mobile_prefix_must_be_13_to_19(rng: random.Random) -> None:
    # The recognizer alone: 1 + ten digits is also a NANP number, which the general
    # phone recognizer rightly finds.
    recognizer = china.mobile("zh")
    assert recognizer.analyze(f"编号{cn_mobile(rng)}号", ["PHONE_NUMBER"])
    assert not recognizer.analyze(f"编号12{rng.randrange(10**9):09d}号", ["PHONE_NUMBER"])
    assert not recognizer.analyze(f"编号{cn_mobile(rng)}7号", ["PHONE_NUMBER"])


def test_chinese_landline(detector: Detector, rng: random.Random) -> None:
    beijing = f"010-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
    assert_found(detector, f"座机{beijing}，工作日可打。", "PHONE_NUMBER", beijing)
    shanghai = f"+86 21 {rng.randrange(5, 7)}{rng.randrange(10**3):03d} {rng.randrange(10**4):04d}"
    assert_found(detector, f"电话：{shanghai}", "PHONE_NUMBER", shanghai)
    assert_not_found(detector, "订单号0001234", "PHONE_NUMBER")


@pytest.mark.parametrize("prefix,length", [("62", 16), ("62", 19), ("4", 16), ("51", 16)])
def test_bank_cards_by_luhn(detector: Detector, rng: random.Random, prefix: str, length: int) -> None:
    value = card(rng, prefix, length)
    grouped = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    assert_found(detector, f"客户提供的银行卡号{value}。", "CREDIT_CARD", value)
    assert_found(detector, f"Card on file: {grouped}.", "CREDIT_CARD", grouped)
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    assert_not_found(detector, f"银行卡号{wrong}", "CREDIT_CARD")


def test_social_credit_code(detector: Detector, rng: random.Random) -> None:
    value = social_credit_code(rng)
    assert_found(detector, f"统一社会信用代码{value}", "CN_USCC", value)
    assert_not_found(detector, f"统一社会信用代码{value[:17]}{'0' if value[17] != '0' else '1'}",
                     "CN_USCC")


def test_passport_needs_context(detector: Detector, rng: random.Random) -> None:
    value = f"E{rng.randrange(10**8):08d}"
    assert_found(detector, f"护照号码{value}，有效期至明年。", "PASSPORT", value)
    assert_found(detector, f"Her passport number is {value}.", "PASSPORT", value)
    assert_not_found(detector, f"Order {value} shipped.", "PASSPORT")


def test_iban_email_ip_ssn_credit_card(detector: Detector, rng: random.Random) -> None:
    iban = iban_de(rng)
    email = f"{made_up_name(rng)[0].lower()}@example.org"
    ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    ssn = us_ssn(rng)
    visa = card(rng, "4", 16)
    text = f"IBAN {iban}, mail {email}, from {ip}, SSN {ssn}, card {visa}."
    for kind, value in (("IBAN_CODE", iban), ("EMAIL_ADDRESS", email), ("IP_ADDRESS", ip),
                        ("US_SSN", ssn), ("CREDIT_CARD", visa)):
        assert_found(detector, text, kind, value)
    assert_found(detector, f"联系我：{email}", "EMAIL_ADDRESS", email)
    bad_iban = iban[:2] + f"{(int(iban[2:4]) + 1) % 100:02d}" + iban[4:]
    assert_not_found(detector, f"IBAN {bad_iban}", "IBAN_CODE")
    assert_not_found(detector, "mail someone at example dot org", "EMAIL_ADDRESS")
    assert_not_found(detector, "version 999.300.1.2", "IP_ADDRESS")


def _valid_number(rng: random.Random, region: str, national_prefix: str, digits: int) -> str:
    while True:
        nsn = national_prefix + "".join(str(rng.randrange(10)) for _ in range(digits))
        number = phonenumbers.parse(nsn, region)
        if phonenumbers.is_valid_number(number):
            return nsn


@pytest.mark.parametrize("region,prefix,digits", [("GB", "07", 9), ("DE", "0151", 8), ("US", "", 10)])
def test_phones_validated_by_phonenumbers(detector: Detector, rng: random.Random, region: str,
                                          prefix: str, digits: int) -> None:
    nsn = _valid_number(rng, region, prefix, digits)
    parsed = phonenumbers.parse(nsn, region)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert_found(detector, f"Call me on {international} after six.", "PHONE_NUMBER", international)
    assert_found(detector, f"Reach them at {national}.", "PHONE_NUMBER", national)
    assert_not_found(detector, "Ticket 12345 was closed", "PHONE_NUMBER")
    assert_not_found(detector, "Delivered on 2024-07-01 at 10:30", "PHONE_NUMBER")


def test_street_addresses_en_and_zh(detector: Detector, rng: random.Random) -> None:
    number = rng.randrange(1, 300)
    en = f"{number} Larkfield Road"
    assert_found(detector, f"Please ship to {en}, Leeds.", "LOCATION", en)
    de = f"Lindenstraße {number}"
    assert_found(detector, f"Meine Adresse: {de}", "LOCATION", de)
    zh = f"上海市浦东新区世纪大道{number}号"
    assert_found(detector, f"我住在{zh}，请送货上门。", "LOCATION", zh)
    assert_not_found(detector, "The road to recovery is long.", "LOCATION")


def test_person_from_english_context(detector: Detector, rng: random.Random) -> None:
    first, last = made_up_name(rng)
    assert_found(detector, f"Hello, my name is {first} {last} and I need help.", "PERSON",
                 f"{first} {last}")
    assert_found(detector, f"Dear {first},", "PERSON", first)
    # Without a cue, and in no name list: not a name the detector can know.
    assert_not_found(detector, f"{first} {last} wrote in about a refund.", "PERSON")


def test_person_from_name_lists(bare_detector: Detector) -> None:
    # Faker's lists ship these as a first name and a surname.
    assert_found(bare_detector, "Robert Miller wrote in about a refund.", "PERSON", "Robert Miller")
    assert_not_found(bare_detector, "The ThermoSense Mini works well.", "PERSON")


def test_person_from_chinese_cues(detector: Detector) -> None:
    assert_found(detector, "您好，我叫王小明，想咨询续订。", "PERSON", "王小明")
    assert_found(detector, "李娜女士来电询问发票。", "PERSON", "李娜")
    assert_found(detector, "客户张伟投诉：设备频繁过热。", "PERSON", "张伟")
    assert_not_found(detector, "设备频繁过热，应用无法连接设备。", "PERSON")


def test_person_from_the_hubs_own_customers(detector: Detector, bare_detector: Detector,
                                            known_names: list[tuple[str, str]]) -> None:
    first, last = known_names[2]
    text = f"{first} {last} wrote in about a refund."
    assert_found(detector, text, "PERSON", f"{first} {last}")
    assert_found(detector, f"{first.upper()} {last.upper()} again.", "PERSON",
                 f"{first.upper()} {last.upper()}")
    assert_not_found(bare_detector, text, "PERSON")
    assert_found(detector, "欧阳娜娜娜来信询问账单问题", "PERSON", "欧阳娜娜娜")
    # A known name inside a longer word is no match.
    assert_not_found(detector, f"x{first.lower()}{last.lower()}y is a handle", "PERSON")
