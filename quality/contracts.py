"""Data contracts for every source entity that lands in bronze.

A contract names the fields a source promises, their types and limits. Row
validation (``quality.row_validation``) checks raw records against it; rows that
break it go to quarantine with a reason naming the field and the rule. Fields a
source sends that the contract does not name are kept in ``_extra`` and reported
as schema drift rather than dropped.

A ``timestamp`` field must hold an ISO 8601 date or date-time (a naive one is read as
UTC); bronze keeps the text as sent. A timestamp of something that has happened (a
creation, an update, an event) may lie at most ``FUTURE_TOLERANCE`` past the start of
the pull that brings it, which covers clock skew and sources that store local time
without an offset; a later one is impossible and is quarantined. Planned dates (an
expected close date) set no ``max_ahead``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["string", "int", "float", "bool", "json", "timestamp"]
# L1 public, L2 internal, L3 personal, L4 special or identifying (national ID, card,
# precise location). docs/privacy.md says what each level means for a reader.
Level = Literal["L1", "L2", "L3", "L4"]

FUTURE_TOLERANCE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Field:
    type: FieldType = "string"
    required: bool = False
    max_len: int | None = None
    # For a timestamp: how far past the pull's start a value may lie; None means no limit.
    max_ahead: dt.timedelta | None = None
    # What personal data the field holds (Presidio's entity names where one fits, NONE for
    # none) and how sensitive it is. The PII catalog checks these against the values.
    pii: str = "NONE"
    level: Level = "L2"


@dataclass(frozen=True)
class EntityContract:
    source: str
    entity: str
    key: tuple[str, ...]
    fields: dict[str, Field] = field(default_factory=dict)
    # The column an incremental pull orders and resumes on.
    cursor_field: str | None = None

    @property
    def name(self) -> str:
        return f"{self.source}/{self.entity}"


def _s(max_len: int = 200, required: bool = False, pii: str = "NONE", level: Level = "L2") -> Field:
    return Field("string", required, max_len, pii=pii, level=level)


def _text(max_len: int) -> Field:
    """Free text people write: it may carry any PII, so it is personal until redacted."""
    return _s(max_len, pii="FREE_TEXT", level="L3")


NAME = _s(200, pii="PERSON", level="L3")
EMAIL = _s(320, pii="EMAIL_ADDRESS", level="L3")
PHONE = _s(40, pii="PHONE_NUMBER", level="L3")
# Birth dates arrive in each source's own format; identity standardisation reads them.
BIRTH_DATE = _s(40, pii="DATE_OF_BIRTH", level="L3")
STREET = _s(200, pii="LOCATION", level="L3")
POSTCODE = _s(20, pii="POSTCODE", level="L3")
CITY = _s(200, pii="CITY", level="L2")
COMPANY = _s(200, pii="ORGANIZATION", level="L2")
LABEL = _s(200)  # product and deal names
TS_REQ = Field("timestamp", True, 40, FUTURE_TOLERANCE)
TS = Field("timestamp", False, 40, FUTURE_TOLERANCE)
PLANNED_DATE = Field("timestamp", False, 40)
# platform:handle of a social profile a source linked to the record (demo/links.py).
SOCIAL_ID = _s(120, pii="SOCIAL_HANDLE", level="L3")

CRM_CONTACTS = EntityContract(
    "crm", "contacts", ("id",),
    {
        "id": _s(64, True), "first_name": NAME, "last_name": NAME, "email": EMAIL,
        "phone": PHONE, "company_name": COMPANY, "account_id": _s(64), "street": STREET,
        "city": CITY, "postcode": POSTCODE, "country": _s(2), "birth_date": BIRTH_DATE,
        "owner": _s(64), "lifecycle_stage": _s(40), "email_opt_in": Field("bool"),
        "social_profile": SOCIAL_ID, "created_at": TS_REQ, "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
CRM_ACCOUNTS = EntityContract(
    "crm", "accounts", ("id",),
    {
        "id": _s(64, True), "name": COMPANY, "domain": _s(253), "industry": _s(80),
        "country": _s(2), "owner": _s(64), "created_at": TS_REQ, "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
CRM_OPPORTUNITIES = EntityContract(
    "crm", "opportunities", ("id",),
    {
        "id": _s(64, True), "account_id": _s(64), "contact_id": _s(64), "name": LABEL,
        "stage": _s(40), "amount": Field("float"), "currency": _s(3), "close_date": PLANNED_DATE,
        "created_at": TS_REQ, "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
CRM_ACTIVITIES = EntityContract(
    "crm", "activities", ("id",),
    {
        "id": _s(64, True), "contact_id": _s(64), "type": _s(20, True), "subject": _text(300),
        "body": _text(5000), "occurred_at": TS_REQ, "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)

ERP_CUSTOMERS = EntityContract(
    "erp", "customers", ("customer_no",),
    {
        "customer_no": _s(32, True), "kind": _s(10, True), "name": NAME, "first_name": NAME,
        "last_name": NAME, "birth_date": BIRTH_DATE,
        "national_id": _s(32, pii="NATIONAL_ID", level="L4"), "tax_id": _s(32, pii="TAX_ID"),
        "email": EMAIL, "phone": PHONE, "street": STREET, "city": CITY, "postcode": POSTCODE,
        "country": _s(2), "social_login": SOCIAL_ID, "created_at": TS_REQ,
        "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
ERP_CUSTOMER_CONTACTS = EntityContract(
    "erp", "customer_contacts", ("contact_id",),
    {
        "contact_id": _s(32, True), "customer_no": _s(32, True), "first_name": NAME,
        "last_name": NAME, "email": EMAIL, "phone": PHONE, "role": _s(80),
        "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
ERP_PRODUCTS = EntityContract(
    "erp", "products", ("sku",),
    {
        "sku": _s(32, True), "name": LABEL, "category": _s(80), "list_price": Field("float"),
        "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
ERP_SALES_ORDERS = EntityContract(
    "erp", "sales_orders", ("order_no",),
    {
        "order_no": _s(32, True), "customer_no": _s(32, True), "order_date": TS_REQ,
        "status": _s(20), "currency": _s(3), "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
ERP_ORDER_LINES = EntityContract(
    "erp", "order_lines", ("order_no", "line_no"),
    {
        "order_no": _s(32, True), "line_no": Field("int", True), "sku": _s(32),
        "quantity": Field("int"), "unit_price": Field("float"), "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)
ERP_INVOICES = EntityContract(
    "erp", "invoices", ("invoice_no",),
    {
        "invoice_no": _s(32, True), "order_no": _s(32), "customer_no": _s(32, True),
        "invoice_date": TS_REQ, "amount": Field("float", True), "currency": _s(3),
        "paid_at": TS, "updated_at": TS_REQ,
    },
    cursor_field="updated_at",
)

SOCIAL_POSTS = EntityContract(
    "social", "posts", ("post_id",),
    {
        "post_id": _s(64, True), "platform": _s(20, True), "kind": _s(10), "parent_id": _s(64),
        "handle": _s(100, True, pii="SOCIAL_HANDLE", level="L3"), "display_name": NAME,
        "bio": _text(1000), "lang": _s(8), "text": _text(5000), "created_at": TS_REQ, "reactions": Field("int"),
    },
)

IOT_DEVICES = EntityContract(
    "iot", "devices", ("serial",),
    {
        "serial": _s(64, True), "model": _s(80), "owner_name": NAME, "owner_email": EMAIL,
        "owner_phone": PHONE, "owner_postcode": POSTCODE, "owner_country": _s(2),
        "registered_at": TS, "firmware": _s(40),
    },
)
IOT_TELEMETRY = EntityContract(
    "iot", "telemetry", ("event_id",),
    {
        "event_id": _s(64, True), "device_id": _s(64, True), "ts": TS_REQ,
        "metrics": Field("json"), "alerts": Field("json"),
        # Set by the MQTT stream (one per message, what exactly-once is keyed on); files have none.
        "message_id": _s(64),
    },
)

CONTRACTS: dict[str, EntityContract] = {
    c.name: c
    for c in (
        CRM_CONTACTS, CRM_ACCOUNTS, CRM_OPPORTUNITIES, CRM_ACTIVITIES,
        ERP_CUSTOMERS, ERP_CUSTOMER_CONTACTS, ERP_PRODUCTS, ERP_SALES_ORDERS,
        ERP_ORDER_LINES, ERP_INVOICES, SOCIAL_POSTS, IOT_DEVICES, IOT_TELEMETRY,
    )
}


def contracts_for(source: str) -> list[EntityContract]:
    return [c for c in CONTRACTS.values() if c.source == source]
