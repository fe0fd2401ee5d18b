"""Free text in English and Chinese: CRM notes, tickets, social posts, bios.

Texts carry the PII real notes carry (emails, phone numbers, now and then a Chinese
resident ID or a card number) so the pipeline's redaction has something to find.
"""

from __future__ import annotations

import numpy as np

from demo.identifiers import luhn_card

PRODUCTS = ("ThermoSense T2", "AirPure 300", "SmartPlug Mini", "HeatPump HX", "SolarHub S1")
TOPICS_EN = ("renewal of the service plan", "a billing question", "the new ThermoSense T3",
             "a delayed delivery", "an installation appointment", "upgrade options",
             "the loyalty programme", "a warranty extension")
TOPICS_ZH = ("续订服务套餐", "账单问题", "新款温控器", "配送延迟", "上门安装预约", "升级方案",
             "会员积分", "延长保修")
PROBLEMS_EN = ("the device keeps overheating", "the app cannot connect to the device",
               "the invoice was charged twice", "the delivery arrived damaged",
               "the refund has still not arrived", "support never called back",
               "the device switches off at night")
PROBLEMS_ZH = ("设备频繁过热", "应用无法连接设备", "发票重复扣款", "收到的货物有损坏",
               "退款迟迟未到账", "客服一直没有回电", "设备夜里自动关机")
PRAISE_EN = ("Really happy with my {p}!", "The {p} saved us a lot on energy this winter.",
             "Just installed the {p}, setup took five minutes.", "Anyone else using the {p}? Love it.")
PRAISE_ZH = ("{p}真的很好用！", "今年冬天{p}帮我们省了不少电费。", "刚装好{p}，五分钟就搞定了。",
             "有人也在用{p}吗？推荐。")
COMPLAIN_EN = ("Third time this month: {x}. Not impressed.", "@support {x}, please fix this.",
               "Thinking about cancelling, {x}.", "Honestly, {x}. Any alternatives?")
COMPLAIN_ZH = ("这个月第三次了：{x}，太失望了。", "@客服 {x}，请尽快处理。", "考虑退订了，{x}。",
               "说实话，{x}，有别的推荐吗？")
BIO_EN = ("Coffee, cycling and smart homes.", "Dad of two. Tinkerer.", "Engineer by day, baker by night.",
          "Gardening | travel | tech", "Opinions are my own.", "Living in {c}.")
BIO_ZH = ("热爱生活，喜欢旅行。", "智能家居爱好者", "两个孩子的妈妈", "工程师，业余摄影。", "坐标{c}", "")


Span = tuple[str, int, int]  # (entity type, start, end) of planted PII, for the ground truth


def spans(text: str, planted: list[tuple[str, str]]) -> list[Span]:
    """Where each planted (type, value) stands in ``text``."""
    out = []
    for kind, value in planted:
        at = text.find(value) if value else -1
        if at >= 0:
            out.append((kind, at, at + len(value)))
    return out


def contact_type(contact: str) -> str:
    return "EMAIL_ADDRESS" if "@" in contact else "PHONE_NUMBER"


class TextMaker:
    """Draws random choices up front per batch; loops only assemble strings.

    ``spans`` holds, per text made by the last call, where its planted PII stands: the
    ground truth that redaction benchmarks score against.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.spans: list[list[Span]] = []

    def _pick(self, options: tuple[str, ...], n: int) -> list[str]:
        return [options[i] for i in self.rng.integers(0, len(options), n)]

    def activities(self, kind: np.ndarray, zh: np.ndarray, name: np.ndarray, email: np.ndarray,
                   phone: np.ndarray, national_id: np.ndarray) -> tuple[list[str], list[str]]:
        """(subjects, bodies) for activity kinds call/email/meeting/ticket."""
        n = len(kind)
        r = self.rng.random((n, 4))
        topic_en, topic_zh = self._pick(TOPICS_EN, n), self._pick(TOPICS_ZH, n)
        prob_en, prob_zh = self._pick(PROBLEMS_EN, n), self._pick(PROBLEMS_ZH, n)
        tickets = self.rng.integers(10_000, 99_999, n)
        subjects, bodies = [], []
        self.spans = []
        for i in range(n):
            k, z = kind[i], zh[i] and r[i, 0] < 0.75
            contact = email[i] if r[i, 1] < 0.5 and email[i] else phone[i] or "no contact given"
            planted = [("PERSON", name[i])]
            if contact != "no contact given":
                planted.append((contact_type(contact), contact))
            if k == "ticket":
                extra = ""
                if z and national_id[i] and r[i, 2] < 0.25:
                    extra = f"身份证号{national_id[i]}。"
                    planted.append(("CN_RESIDENT_ID", national_id[i]))
                elif r[i, 2] > 0.95:
                    card = luhn_card(self.rng)
                    extra = f"客户提供的银行卡号{card}。" if z else f" Card on file: {card}."
                    planted.append(("CREDIT_CARD", card))
                if z:
                    subjects.append(f"工单#{tickets[i]}：{prob_zh[i]}")
                    bodies.append(f"客户{name[i]}投诉：{prob_zh[i]}。联系方式{contact}。{extra}")
                else:
                    subjects.append(f"Ticket #{tickets[i]}: {prob_en[i]}")
                    bodies.append(f"Complaint from {name[i]}: {prob_en[i]}. "
                                  f"Reach them at {contact}.{extra}")
            elif k == "call":
                subjects.append("电话回访" if z else "Follow-up call")
                bodies.append(f"致电{name[i]}（{contact}），沟通{topic_zh[i]}。" if z else
                              f"Called {name[i]} on {contact} about {topic_en[i]}.")
            elif k == "email":
                subjects.append(f"关于{topic_zh[i]}" if z else f"Re: {topic_en[i]}")
                bodies.append(f"{name[i]}来信询问{topic_zh[i]}，已回复至{contact}。" if z else
                              f"{name[i]} wrote in about {topic_en[i]}; replied to {contact}.")
            else:
                subjects.append("客户会面" if z else "Meeting")
                bodies.append(f"与{name[i]}会面，讨论{topic_zh[i]}。" if z else
                              f"Met {name[i]} to discuss {topic_en[i]}. Next step agreed.")
            self.spans.append(spans(bodies[-1], planted))
        return subjects, bodies

    def posts(self, zh: np.ndarray, negative: np.ndarray, email: np.ndarray,
              phone: np.ndarray) -> list[str]:
        n = len(zh)
        r = self.rng.random((n, 2))
        prod = self._pick(PRODUCTS, n)
        praise_en, praise_zh = self._pick(PRAISE_EN, n), self._pick(PRAISE_ZH, n)
        comp_en, comp_zh = self._pick(COMPLAIN_EN, n), self._pick(COMPLAIN_ZH, n)
        prob_en, prob_zh = self._pick(PROBLEMS_EN, n), self._pick(PROBLEMS_ZH, n)
        out = []
        self.spans = []
        for i in range(n):
            planted = []
            if negative[i]:
                t = comp_zh[i].format(x=prob_zh[i]) if zh[i] else comp_en[i].format(x=prob_en[i])
            else:
                t = praise_zh[i].format(p=prod[i]) if zh[i] else praise_en[i].format(p=prod[i])
            if r[i, 0] < 0.08 and (email[i] or phone[i]):  # people do post contact details
                contact = email[i] if r[i, 1] < 0.5 and email[i] else phone[i] or email[i]
                t += f" 私信或联系我：{contact}" if zh[i] else f" DM me or reach me at {contact}"
                planted.append((contact_type(contact), contact))
            out.append(t)
            self.spans.append(spans(t, planted))
        return out

    def bios(self, zh: np.ndarray, city: np.ndarray, email: np.ndarray) -> list[str]:
        n = len(zh)
        en, zhs = self._pick(BIO_EN, n), self._pick(BIO_ZH, n)
        r = self.rng.random(n)
        out = []
        for i in range(n):
            b = (zhs[i] if zh[i] else en[i]).format(c=city[i])
            if r[i] < 0.1 and email[i]:
                b += f" 合作：{email[i]}" if zh[i] else f" Contact: {email[i]}"
            out.append(b)
        return out
