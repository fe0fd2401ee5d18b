"""The `hub` command line: simulate the outside world, run the pipeline, open the UI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from hub.events_cli import events_app
from hub.features_cli import features_app
from hub.identity_cli import identity_app
from hub.privacy_cli import privacy_app
from hub.quality_cli import quality_app
from hub.sql_cli import add_sql_command
from hub.stream_cli import simulate_stream, stream_app
from pipelines.environment import apply_env_defaults, hub_paths
from warehouse.layout import PROJECT_ROOT

app = typer.Typer(
    help="Customer Hub: an open customer data platform for AI-driven CRM.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _main() -> None:
    global _CRM_URL_EXPLICIT
    _CRM_URL_EXPLICIT = "HUB_CRM_URL" in os.environ
    apply_env_defaults()


_CRM_URL_EXPLICIT = False


app.add_typer(identity_app, name="identity", help="Identity resolution: resolve, explain, evaluate, train.")
app.add_typer(features_app, name="features", help="The feature registry for ML models.")
app.add_typer(privacy_app, name="privacy", help="PII protection: catalog, free-text detection, master-key rotation.")
app.add_typer(stream_app, name="stream", help="Stream consumers: MQTT telemetry into bronze.")
app.add_typer(events_app, name="events", help="Outbound customer events to subscribers over MQTT.")
app.add_typer(quality_app, name="quality", help="Data quality: quarantined rows and the quality report.")
add_sql_command(app)


@app.command()
def simulate(
    people: Annotated[int, typer.Option(help="How many people the world holds (at least 50).")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 42,
    advance_days: Annotated[
        int | None, typer.Option(help="Instead of a new world, advance the existing one by this many days.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Regenerate even if a world with this seed and size exists.")] = False,
    stream: Annotated[
        bool, typer.Option(help="Instead of files, publish the world's device telemetry to an MQTT broker.")
    ] = False,
    broker: Annotated[str | None, typer.Option(help="With --stream: the broker, mqtt://HOST:PORT.")] = None,
    rate: Annotated[float, typer.Option(help="With --stream: messages per second.")] = 100.0,
    seconds: Annotated[float, typer.Option(help="With --stream: how long to publish.")] = 30.0,
    log: Annotated[Path | None, typer.Option(help="With --stream: the publisher log (JSON lines).")] = None,
) -> None:
    """Generate the simulated CRM, ERP, social and IoT systems under $HUB_DATA_DIR/world."""
    import json

    if stream:
        simulate_stream(broker, rate, seconds, log, seed)
        return

    from demo import world

    root = hub_paths().world
    options = {"people": "--people", "seed": "--seed", "days": "--advance-days"}
    for name, problem in world.argument_errors(None if advance_days else people, seed, advance_days).items():
        _usage_error(f"{options[name]} {problem}")
    started = time.perf_counter()
    manifest_path = world.paths(root).manifest
    if advance_days and not manifest_path.exists():
        _usage_error(f"no world at {root} to advance; run `hub simulate` first")
    if not advance_days and not force and manifest_path.exists():
        existing = json.loads(manifest_path.read_text())
        if (existing.get("people"), existing.get("seed")) == (people, seed):
            # Regenerating would rewind a world that `--advance-days` moved on.
            typer.echo(f"A world of {people:,} people (seed {seed}) exists at {root}; keeping it (--force regenerates).")
            return
    if advance_days:
        manifest = world.advance(root, days=advance_days, seed=seed)
        typer.echo(f"Advanced the world at {root} by {advance_days} day(s).")
    else:
        manifest = world.generate(root, people=people, seed=seed)
        typer.echo(f"Generated a world of {people:,} people at {root}.")
    for entity, count in sorted(manifest["counts"].items()):
        typer.echo(f"  {entity:<24} {count:>10,}")
    typer.echo(f"  planted bad records: {len(manifest['planted'])}, in {time.perf_counter() - started:.1f}s")


def _usage_error(message: str) -> NoReturn:
    """One line on stderr and exit 2, as for any usage error, without typer's framed panel."""
    typer.echo(f"hub simulate: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def run(
    select: Annotated[
        str, typer.Option(help="Dagster asset selection, e.g. 'group:bronze' or 'key:staging/*'.")
    ] = "*",
) -> None:
    """Materialise the assets (all by default) in this process, with progress, then print a summary.

    One run at a time per data root: a second `hub run` exits at once with status 2."""
    from hub.run_lock import RunInProgress
    from hub.runner import run_pipeline
    from hub.summary import print_summary

    try:
        with _crm_server_if_needed():
            ok = run_pipeline(select)
    except RunInProgress as exc:
        typer.echo(f"hub run: {exc}", err=True)
        raise typer.Exit(2) from None
    print_summary()
    if not ok:
        raise typer.Exit(1)


@app.command()
def summary() -> None:
    """Rows per table, quarantined rows, and where to find the warehouse."""
    from hub.summary import print_summary

    print_summary()


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port for the Dagster UI.")] = 3000,
) -> None:
    """Open the Dagster UI (dagster dev) on 127.0.0.1, with the simulated CRM served beside it."""
    with _crm_server_if_needed():
        # No -m: dagster reads [tool.dagster] in pyproject.toml, which names the location customer_hub.
        cmd = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
        typer.echo(f"Dagster UI: http://127.0.0.1:{port}  (Ctrl-C stops it)")
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(cmd, cwd=PROJECT_ROOT, check=False)


@app.command("crm-server")
def crm_server(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 8765,
) -> None:
    """Serve the simulated CRM REST API in the foreground."""
    from demo.crm_server import CrmServer

    world = hub_paths().world
    with CrmServer(world / "crm" / "crm.sqlite", os.environ["HUB_CRM_API_KEY"], port=port) as server:
        typer.echo(f"Simulated CRM at {server.url} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@contextmanager
def _crm_server_if_needed() -> Iterator[None]:
    """The embedded default: serve this data root's simulated CRM on a free port.

    Only when HUB_CRM_URL was not set: then whatever answers on the default port may be
    another world's server, so the hub starts its own and points HUB_CRM_URL at it.
    """

    db = hub_paths().world / "crm" / "crm.sqlite"
    if _CRM_URL_EXPLICIT or not db.exists():
        yield
        return
    from demo.crm_server import CrmServer

    with CrmServer(db, os.environ["HUB_CRM_API_KEY"], port=0, rate_limit=1_000) as server:
        os.environ["HUB_CRM_URL"] = server.url
        typer.echo(f"Serving the simulated CRM at {server.url}")
        yield


if __name__ == "__main__":
    app()
