"""Chinese identifiers: resident ID, mobile and landline numbers, social credit code."""

from __future__ import annotations

import phonenumbers

from privacy.checksums import cn_resident_id_valid, uscc_valid
from privacy.recognizers.rule import RuleRecognizer, digits_only

# Latin letters and digits bound a value; Chinese characters do not, since `\b` treats
# them as word characters and would miss 身份证号110101....
B, E = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"

ID_CONTEXT = ("身份证", "证件号", "resident id", "national id", "id card", "id no", "id number")
PHONE_CONTEXT = ("手机", "电话", "联系", "致电", "回电", "mobile", "phone", "tel", "call",
                 "reach", "whatsapp", "wechat", "微信")
LANDLINE_CONTEXT = ("座机", "固话", *PHONE_CONTEXT)
USCC_CONTEXT = ("信用代码", "统一社会信用", "税号", "纳税人识别号", "uscc", "credit code", "tax id")


def resident_id(language: str) -> RuleRecognizer:
    pattern = (B + r"(?P<v>[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
               r"\d{3}[\dXx])" + E)
    return RuleRecognizer("CN_RESIDENT_ID", pattern, language=language, name="CnResidentId",
                          score=0.9, context=ID_CONTEXT, context_score=1.0,
                          validate=cn_resident_id_valid)


def mobile(language: str) -> RuleRecognizer:
    pattern = B + r"(?P<v>(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2})" + E
    return RuleRecognizer("PHONE_NUMBER", pattern, language=language, name="CnMobile",
                          score=0.75, context=PHONE_CONTEXT, context_score=0.95)


def _valid_cn_landline(value: str) -> bool:
    try:
        number = phonenumbers.parse(digits_only(value), "CN")
    except phonenumbers.NumberParseException:
        return False
    return (number.country_code == 86 and phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE)


def landline(language: str) -> RuleRecognizer:
    # Area codes 10 and 2x are two digits, the rest three; subscriber numbers 7 or 8 digits.
    pattern = (B + r"(?P<v>(?:(?:\+|00)86[\s-]?0?|0)(?:10|2\d|[3-9]\d{2})[\s-]?\d{3,4}[\s-]?\d{4})"
               + E)
    return RuleRecognizer("PHONE_NUMBER", pattern, language=language, name="CnLandline",
                          score=0.6, context=LANDLINE_CONTEXT, context_score=0.9,
                          validate=_valid_cn_landline)


def social_credit_code(language: str) -> RuleRecognizer:
    pattern = B + r"(?P<v>[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})" + E
    return RuleRecognizer("CN_USCC", pattern, language=language, name="CnSocialCreditCode",
                          score=0.85, context=USCC_CONTEXT, context_score=1.0,
                          validate=uscc_valid)
