"""What each outbound topic can carry, field by field, with the field's PII level.

A subscription may allow-list only fields named here, and only those at or below its
``max_level``; the levels of personal attributes come from the data contracts, so an event never
ranks a field lower than the contract that declared it. ``event_id``, ``topic`` and
``occurred_at`` make the envelope every delivery carries.
"""

from __future__ import annotations

from quality.contracts import BIRTH_DATE, CITY, COMPANY, EMAIL, NAME, PHONE, POSTCODE, STREET

ENVELOPE = ("event_id", "topic", "occurred_at")
LEVELS = ("L1", "L2", "L3", "L4")

# customer_360 columns that customer.updated watches, and their levels.
CUSTOMER_ATTRIBUTES: dict[str, str] = {
    "full_name": NAME.level, "email": EMAIL.level, "phone": PHONE.level, "street": STREET.level,
    "postcode": POSTCODE.level, "birth_date": BIRTH_DATE.level, "city": CITY.level,
    "country": "L2", "company": COMPANY.level, "open_opportunity_stage": "L2",
    "devices": "L2", "device_status": "L2",
}

TOPICS: dict[str, dict[str, str]] = {
    "device.alert": {
        "customer_id": "L2", "device_id": "L2", "model": "L2", "ts": "L2", "alerts": "L2",
        "temp_c": "L2", "power_w": "L2", "usage_min": "L2",
    },
    "customer.merged": {
        "customer_id": "L2", "merged_customer_id": "L2", "records_moved": "L2", "identity_run_id": "L2",
    },
    "customer.split": {
        "customer_id": "L2", "split_from_customer_id": "L2", "records_moved": "L2", "identity_run_id": "L2",
    },
    "opportunity.stage_changed": {
        "customer_id": "L2", "opportunity_id": "L2", "from_stage": "L2", "to_stage": "L2",
        "amount": "L2", "currency": "L2",
    },
    # `changed` names the attributes that changed; each changed attribute comes with its new value.
    "customer.updated": {"customer_id": "L2", "changed": "L2", **CUSTOMER_ATTRIBUTES},
}


def level_rank(level: str) -> int:
    return LEVELS.index(level)
