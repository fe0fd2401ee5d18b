"""`hub events`: derive customer events from the warehouse and deliver them to subscribers."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipelines.environment import hub_paths

events_app = typer.Typer(no_args_is_help=True)

SubscriptionsOption = Annotated[
    Path | None, typer.Option(help="The subscriptions file (default: pipelines/events/subscriptions.yaml).")
]


@events_app.callback()
def _events() -> None:
    """Outbound customer events: only the allow-listed fields, to each subscriber."""


def _subscriptions(path: Path | None) -> list:
    from pipelines.events.subscriptions import DEFAULT_FILE, SubscriptionError, load

    try:
        return load(path or DEFAULT_FILE)
    except (SubscriptionError, OSError) as exc:
        typer.echo(f"hub events: {exc}", err=True)
        raise typer.Exit(2) from None


@events_app.command("check")
def check(subscriptions: SubscriptionsOption = None) -> None:
    """Validate the subscriptions file and print who receives what."""
    for sub in _subscriptions(subscriptions):
        for topic, fields in sub.topics.items():
            typer.echo(f"{sub.subscriber}\t{sub.delivery_topic(topic)}\t{', '.join(fields)}")


@events_app.command("publish")
def publish(
    broker: Annotated[str, typer.Option(help="The MQTT broker, mqtt://HOST:PORT.")],
    subscriptions: SubscriptionsOption = None,
    follow: Annotated[
        float | None, typer.Option(help="Keep going: deliver what is waiting every this many seconds.")
    ] = None,
) -> None:
    """Deliver the events waiting in the outbox to their subscribers, at least once."""
    from demo.stream import broker_address
    from pipelines.events.derive import outbox_path
    from pipelines.events.outbox import Outbox
    from pipelines.events.publisher import DeliveryError, deliver

    try:
        host, port = broker_address(broker)
    except ValueError as exc:
        typer.echo(f"hub events publish: --broker: {exc}", err=True)
        raise typer.Exit(2) from None
    subs = _subscriptions(subscriptions)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    with Outbox(outbox_path(hub_paths().state)) as outbox:
        while True:
            try:
                sent = deliver(outbox, subs, host, port)
                typer.echo(f"events: delivered {sent}; {outbox.size()} waiting")
            except (DeliveryError, OSError) as exc:  # nothing acknowledged moved a cursor
                typer.echo(f"events: {exc}", err=True)
                if follow is None:
                    raise typer.Exit(1) from None
            if follow is None:
                return
            time.sleep(follow)
