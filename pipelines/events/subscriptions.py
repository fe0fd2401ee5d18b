"""Subscriptions, declared per subscriber in YAML: the topics it receives and, per topic, the
fields it may see. Nothing outside an allow-list leaves the hub.

Each delivery passes through a :class:`Masking` step after the allow-list. The default masks
nothing more (the allow-list and the level cap are the policy); a privacy policy plugs in here
to mask or drop values per subscriber, for example by consent, without touching the topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from pipelines.events.topics import ENVELOPE, LEVELS, TOPICS, level_rank

DEFAULT_FILE = Path(__file__).with_name("subscriptions.yaml")
DELIVERY_PREFIX = "hub/events"


class SubscriptionError(ValueError):
    """A subscriptions file that names an unknown topic or field, or a field above its level."""


@dataclass(frozen=True)
class Subscription:
    subscriber: str
    topics: Mapping[str, tuple[str, ...]]  # topic -> allow-listed fields
    max_level: str = "L2"

    def delivery_topic(self, topic: str) -> str:
        """The MQTT topic this subscriber reads ``topic`` on (a broker ACL can pin it there)."""
        return f"{DELIVERY_PREFIX}/{self.subscriber}/{topic}"

    def project(self, topic: str, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The event as this subscriber may see it, or None when it does not receive it.

        For customer.updated, only the changed attributes on its allow-list count: an update of
        attributes it may not see is not sent to it at all."""
        allowed = self.topics.get(topic)
        if allowed is None:
            return None
        fields = {k: event[k] for k in allowed if k in event}
        if topic == "customer.updated":
            changed = [a for a in event.get("changed", []) if a in allowed]
            if not changed:
                return None
            fields = {k: v for k, v in fields.items() if k not in TOPICS[topic] or k in changed
                      or k in ("customer_id", "changed")}
            if "changed" in allowed:
                fields["changed"] = changed
        return {**{k: event[k] for k in ENVELOPE}, **fields}


class Masking(Protocol):
    def __call__(self, subscription: Subscription, topic: str, payload: dict[str, Any]) -> dict[str, Any]: ...


def no_masking(_subscription: Subscription, _topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    return payload


def load(path: Path = DEFAULT_FILE) -> list[Subscription]:
    """The subscriptions of ``path``; a clear error naming the file, subscriber, topic and field."""
    raw = yaml.safe_load(path.read_text()) or {}
    subscribers = raw.get("subscribers")
    if not isinstance(subscribers, dict) or not subscribers:
        raise SubscriptionError(f"{path}: expected a non-empty 'subscribers' mapping")
    out = []
    for name, spec in subscribers.items():
        where = f"{path}: subscriber {name!r}"
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise SubscriptionError(f"{where}: a name of letters, digits, '-' and '_' only")
        spec = spec or {}
        unknown = set(spec) - {"description", "max_level", "topics"}
        if unknown:
            raise SubscriptionError(f"{where}: unknown keys {sorted(unknown)}")
        max_level = spec.get("max_level", "L2")
        if max_level not in LEVELS:
            raise SubscriptionError(f"{where}: max_level {max_level!r} is not one of {', '.join(LEVELS)}")
        topics: dict[str, tuple[str, ...]] = {}
        for topic, fields in (spec.get("topics") or {}).items():
            if topic not in TOPICS:
                raise SubscriptionError(f"{where}: unknown topic {topic!r} (known: {', '.join(TOPICS)})")
            if not isinstance(fields, list) or not fields:
                raise SubscriptionError(f"{where}, topic {topic}: list the allowed fields")
            for field in fields:
                if field not in TOPICS[topic]:
                    raise SubscriptionError(f"{where}, topic {topic}: unknown field {field!r}")
                if level_rank(TOPICS[topic][field]) > level_rank(max_level):
                    raise SubscriptionError(
                        f"{where}, topic {topic}: field {field!r} is {TOPICS[topic][field]}, "
                        f"above the subscriber's max_level {max_level}")
            topics[topic] = tuple(fields)
        if not topics:
            raise SubscriptionError(f"{where}: subscribes to no topic")
        out.append(Subscription(name, topics, max_level))
    return out
