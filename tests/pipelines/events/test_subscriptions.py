"""Subscriptions: only declared topics and fields, never above the subscriber's level."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.events.subscriptions import Subscription, SubscriptionError, load
from pipelines.events.topics import ENVELOPE


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(text)
    return path


def test_the_shipped_subscriptions_load() -> None:
    names = {s.subscriber for s in load()}
    assert {"field_service", "account_management"} <= names


@pytest.mark.parametrize(("text", "message"), [
    ("subscribers:\n  s:\n    topics:\n      device.crashed: [customer_id]\n", "unknown topic 'device.crashed'"),
    ("subscribers:\n  s:\n    topics:\n      device.alert: [customer_id, serial]\n", "unknown field 'serial'"),
    ("subscribers:\n  s:\n    topics:\n      customer.updated: [customer_id, email]\n",
     "field 'email' is L3, above the subscriber's max_level L2"),
    ("subscribers:\n  s:\n    max_level: L9\n    topics:\n      device.alert: [customer_id]\n", "max_level 'L9'"),
    ("subscribers:\n  s:\n    topic:\n      device.alert: [customer_id]\n", "unknown keys ['topic']"),
    ("subscribers: {}\n", "non-empty 'subscribers'"),
])
def test_a_bad_subscription_is_refused_with_its_place(tmp_path: Path, text: str, message: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(SubscriptionError) as err:
        load(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_an_l3_field_needs_a_subscriber_cleared_for_it(tmp_path: Path) -> None:
    path = _file(tmp_path, "subscribers:\n  crm_sync:\n    max_level: L3\n    topics:\n"
                           "      customer.updated: [customer_id, changed, email]\n")
    assert load(path)[0].topics["customer.updated"] == ("customer_id", "changed", "email")


def test_only_allow_listed_fields_leave() -> None:
    sub = Subscription("scene", {"device.alert": ("customer_id", "alerts")})
    event = {"event_id": "e1", "topic": "device.alert", "occurred_at": "2026-12-04T00:00:00",
             "customer_id": "C1", "device_id": "D1", "alerts": ["overheat"], "temp_c": 40.0}
    assert sub.project("device.alert", event) == {
        "event_id": "e1", "topic": "device.alert", "occurred_at": "2026-12-04T00:00:00",
        "customer_id": "C1", "alerts": ["overheat"]}
    assert sub.project("customer.merged", {**event, "topic": "customer.merged"}) is None


def test_an_update_of_attributes_a_subscriber_may_not_see_is_not_sent() -> None:
    sub = Subscription("scene", {"customer.updated": ("customer_id", "changed", "city")})
    envelope = {k: k for k in ENVELOPE}
    moved = {**envelope, "customer_id": "C1", "changed": ["city", "email"], "city": "Lyon", "email": "x"}
    assert sub.project("customer.updated", moved) == {**envelope, "customer_id": "C1", "changed": ["city"],
                                                      "city": "Lyon"}
    renamed = {**envelope, "customer_id": "C1", "changed": ["email"], "email": "x"}
    assert sub.project("customer.updated", renamed) is None
