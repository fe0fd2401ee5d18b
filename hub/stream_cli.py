"""`hub stream iot` (the consumer) and `hub simulate --stream` (the fleet that feeds it)."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipelines.environment import hub_paths

stream_app = typer.Typer(no_args_is_help=True)


@stream_app.callback()
def _stream() -> None:
    """Long-running stream consumers (MQTT into bronze, exactly once)."""


def _address(broker: str, command: str) -> tuple[str, int]:
    from demo.stream import broker_address

    try:
        return broker_address(broker)
    except ValueError as exc:
        typer.echo(f"{command}: --broker: {exc}", err=True)
        raise typer.Exit(2) from None


@stream_app.command("iot")
def stream_iot(
    broker: Annotated[str, typer.Option(help="The MQTT broker, mqtt://HOST:PORT.")],
    idle_exit: Annotated[
        float | None, typer.Option(help="Exit 0 after this many seconds without a message.")
    ] = None,
    client_id: Annotated[
        str, typer.Option(help="The persistent session's client ID; one consumer per ID.")
    ] = "hub-stream-iot",
    flush_interval: Annotated[
        float, typer.Option(help="Seconds between micro-batch commits (at most 1).", max=1.0, min=0.05)
    ] = 0.5,
    compact_every: Annotated[
        int, typer.Option(help="Compact and vacuum the tables every this many commits.", min=1)
    ] = 120,
) -> None:
    """Consume device telemetry from MQTT into bronze/iot/telemetry; SIGTERM flushes and exits 0."""
    from pipelines.stream.iot_consumer import IotStreamConsumer, StreamOptions

    host, port = _address(broker, "hub stream iot")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    options = StreamOptions(host=host, port=port, client_id=client_id, idle_exit_s=idle_exit,
                            flush_interval_s=flush_interval, compact_every=compact_every)
    from hub.keys_cli import master_key_from_env
    from privacy.keys.vault import Vault

    paths = hub_paths()
    vault = Vault.open(paths.key_store, master_key_from_env(paths))
    consumer = IotStreamConsumer(paths, options, vault=vault)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: consumer.stop.set())
    try:
        stats = consumer.run()
    finally:
        vault.close()
    typer.echo(f"stream iot: received {stats.received:,}, accepted {stats.accepted:,}, "
               f"quarantined {stats.quarantined:,}, duplicates dropped {stats.duplicates:,}, "
               f"commits {stats.commits:,}")


def simulate_stream(broker: str | None, rate: float, seconds: float, log: Path | None, seed: int) -> None:
    """`hub simulate --stream`: publish the world's device telemetry to the broker."""
    from demo.stream import publish_stream

    if broker is None or log is None:
        typer.echo("hub simulate: --stream needs --broker mqtt://HOST:PORT and --log FILE", err=True)
        raise typer.Exit(2)
    _address(broker, "hub simulate")
    if rate <= 0 or seconds <= 0:
        typer.echo("hub simulate: --rate and --seconds must be positive", err=True)
        raise typer.Exit(2)
    world = hub_paths().world
    try:
        summary = publish_stream(world, broker, rate, seconds, log, seed=seed,
                                 progress=typer.echo)
    except FileNotFoundError as exc:
        typer.echo(f"hub simulate: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Published {summary.published:,} messages ({summary.unique_messages:,} message IDs) "
               f"from {summary.devices:,} devices in {summary.seconds:.1f}s to {broker}: "
               f"{summary.duplicates} redelivered, {summary.late} late, {summary.malformed} malformed, "
               f"{summary.alert_bursts} alert bursts, silent device {summary.silent_device}; log {log}")
    if summary.unacknowledged:
        typer.echo(f"hub simulate: {summary.unacknowledged} messages got no PUBACK from the broker",
                   err=True)
        raise typer.Exit(1)
