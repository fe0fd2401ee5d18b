"""Public entry points of the simulator: ``generate``, ``advance`` and ``paths``.

The world is a folder standing for systems the hub does not own (see DESIGN §2):
a CRM behind a REST server, an ERP database, landing folders for social and IoT
drops, and the ground truth that only tests and benchmarks read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from demo import clock, crm, erp, iot, links, social
from demo.context import PII_SPAN_SCHEMA, Context
from demo.layout import WorldPaths, paths
from demo.pools import Companies, build_companies, build_pools
from demo.population import People, build_people
from demo.tables import frame

__all__ = ["MAX_SEED", "MIN_PEOPLE", "WorldPaths", "advance", "argument_errors", "check_arguments", "generate", "paths"]
SOURCES = (crm, erp, social, iot)
# Each source must hold enough people for its planted defects and its weekly files; below
# this a source can come out empty (a third of people have a social profile).
MIN_PEOPLE = 50
MAX_SEED = 2**63 - 1  # numpy's and Faker's seeds are non-negative; 64 bits is plenty
# What the simulator owns under the root; anything else there is left where it is.
OWNED = ("crm", "erp", "landing", "truth", "manifest.json")


def argument_errors(people: int | None = None, seed: int | None = None,
                    days: int | None = None) -> dict[str, str]:
    """What is wrong with each given argument outside its domain, by argument name."""
    errors = {}
    if people is not None and people < MIN_PEOPLE:
        errors["people"] = f"must be at least {MIN_PEOPLE}, got {people}"
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = f"must be between 0 and 2**63 - 1, got {seed}"
    if days is not None and days < 1:
        errors["days"] = f"must be at least 1, got {days}"
    return errors


def check_arguments(people: int | None = None, seed: int | None = None,
                    days: int | None = None) -> None:
    """Raise ``ValueError`` naming the first argument outside its domain."""
    for name, problem in argument_errors(people, seed, days).items():
        raise ValueError(f"{name} {problem}")


def generate(root: Path, people: int = 20_000, seed: int = 42) -> dict[str, Any]:
    """Write a fresh world of ``people`` persons under ``root``; returns the manifest.

    The world is built beside ``root`` and moved into place only when complete, so a
    failure leaves the previous world (or none) as it was.
    """
    check_arguments(people=people, seed=seed)
    with _staged(Path(root), copy_existing=False) as stage:
        return _generate(paths(stage), people, seed)


def _generate(p: WorldPaths, people: int, seed: int) -> dict[str, Any]:
    pools = build_pools(seed)
    rng = np.random.default_rng([seed, 0])
    companies = build_companies(max(5, people // 40), seed, rng)
    population = build_people(people, rng, pools, companies)
    ctx = Context(paths=p, people=population, companies=companies, pools=pools, seed=seed,
                  now=clock.NOW)
    for source in SOURCES:
        source.generate(ctx)
    links.generate(ctx)  # the CRM's and ERP's links to social profiles need social first
    p.truth_dir.mkdir(parents=True, exist_ok=True)
    population.to_frame(companies).write_parquet(p.people)
    _companies_frame(companies).write_parquet(p.companies)
    pl.concat(ctx.truth).write_parquet(p.truth)
    _pii_spans(ctx).write_parquet(p.pii_spans)
    return _finish(ctx, {"seed": seed, "people": people})


def _pii_spans(ctx: Context, before: pl.DataFrame | None = None) -> pl.DataFrame:
    parts = ([before] if before is not None else []) + ctx.pii_spans
    return pl.concat(parts) if parts else pl.DataFrame(schema=PII_SPAN_SCHEMA)


def advance(root: Path, days: int = 1, seed: int = 43) -> dict[str, Any]:
    """Simulate the next ``days`` of the world; returns the updated manifest.

    The days are simulated on a copy that replaces the world only when complete.
    """
    check_arguments(seed=seed, days=days)
    if not paths(root).manifest.exists():
        raise FileNotFoundError(f"no world at {root} to advance (generate one first)")
    with _staged(Path(root), copy_existing=True) as stage:
        return _advance(paths(stage), days, seed)


def _advance(p: WorldPaths, days: int, seed: int) -> dict[str, Any]:
    manifest = json.loads(p.manifest.read_text())
    state = json.loads(p.sim_state.read_text())
    since = clock.parse(manifest["now"])
    population = People.from_frame(pl.read_parquet(p.people))
    companies = _companies_from(pl.read_parquet(p.companies))
    ctx = Context(paths=p, people=population, companies=companies,
                  pools=build_pools(manifest["seed"]), seed=seed,
                  now=since + days * clock.DAY, counts=dict(manifest["counts"]),
                  planted=manifest["planted"], planted_silver=manifest.get("planted_silver", []),
                  duplicate_files=manifest["duplicate_files"],
                  drift=manifest["drift"], sequences=state["sequences"])
    truth = pl.read_parquet(p.truth)
    for source in SOURCES:  # no new links (demo/links.py says why)
        source.advance(ctx, truth, since)
    population.to_frame(companies).write_parquet(p.people)
    pl.concat([truth, *ctx.truth]).write_parquet(p.truth)
    before = pl.read_parquet(p.pii_spans) if p.pii_spans.exists() else None
    _pii_spans(ctx, before).write_parquet(p.pii_spans)
    return _finish(ctx, {"seed": manifest["seed"], "people": manifest["people"]})


@contextmanager
def _staged(root: Path, copy_existing: bool) -> Iterator[Path]:
    """A sibling folder to build the world in, swapped in for ``root`` on success.

    On any failure (or Ctrl-C) the sibling is removed and ``root`` is untouched.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    # Not mkdtemp: its 0700 would become the world's mode.
    stage = root.parent / f".{root.name}.{uuid.uuid4().hex[:12]}.new"
    stage.mkdir()
    try:
        if copy_existing:
            for name in OWNED:
                if (root / name).is_dir():
                    shutil.copytree(root / name, stage / name)
                elif (root / name).exists():
                    shutil.copy2(root / name, stage / name)
        yield stage
        _swap_in(stage, root)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap_in(stage: Path, root: Path) -> None:
    if not root.exists():
        stage.rename(root)
        return
    old = stage.with_suffix(".old")
    root.rename(old)
    try:
        stage.rename(root)
    except BaseException:
        old.rename(root)
        raise
    # Whatever else sat in the old root (not the simulator's) stays with the world.
    for entry in old.iterdir():
        if entry.name not in OWNED:
            os.replace(entry, root / entry.name)
    shutil.rmtree(old, ignore_errors=True)


def _finish(ctx: Context, head: dict[str, Any]) -> dict[str, Any]:
    key = lambda e: (e["source"], e["entity"], e["file"], e["line"] or 0, e["record_id"] or "")  # noqa: E731
    manifest = {
        **head, "now": clock.fmt_one(ctx.now, clock.DB_TS),
        "counts": {k: ctx.counts[k] for k in sorted(ctx.counts)},
        "planted": sorted(ctx.planted, key=key),
        "planted_silver": sorted(ctx.planted_silver, key=lambda e: (e["table"], e["record_key"], e["rule"])),
        "duplicate_files": sorted(ctx.duplicate_files, key=lambda e: e["file"]),
        "drift": sorted(ctx.drift, key=lambda e: (e["source"], e["file"])),
    }
    ctx.paths.manifest.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    ctx.paths.sim_state.write_text(json.dumps({"sequences": ctx.sequences}, sort_keys=True) + "\n")
    return manifest


def _companies_frame(c: Companies) -> pl.DataFrame:
    return frame({"name": c.name, "domain": c.domain, "country": c.country,
                  "locale_idx": c.locale_idx})


def _companies_from(df: pl.DataFrame) -> Companies:
    return Companies(name=df["name"].to_numpy().astype(object),
                     domain=df["domain"].to_numpy().astype(object),
                     country=df["country"].to_numpy().astype(object),
                     locale_idx=df["locale_idx"].to_numpy())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.world", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a fresh world")
    gen.add_argument("--root", type=Path, required=True)
    gen.add_argument("--people", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=42)
    adv = sub.add_parser("advance", help="simulate the next days")
    adv.add_argument("--root", type=Path, required=True)
    adv.add_argument("--days", type=int, default=1)
    adv.add_argument("--seed", type=int, default=43)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            manifest = generate(args.root, args.people, args.seed)
        else:
            manifest = advance(args.root, args.days, args.seed)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    print(json.dumps({"now": manifest["now"], "counts": manifest["counts"]}, indent=1))


if __name__ == "__main__":
    main()


