"""Public entry points of the simulator: ``generate``, ``advance`` and ``paths``.

The world is a folder standing for systems the hub does not own (see DESIGN §2):
a CRM behind a REST server, an ERP database, landing folders for social and IoT
drops, and the ground truth that only tests and benchmarks read.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from demo import clock, crm, erp, iot, links, social
from demo.context import Context
from demo.layout import WorldPaths, paths
from demo.pools import Companies, build_companies, build_pools
from demo.population import People, build_people
from demo.tables import frame

__all__ = ["WorldPaths", "advance", "generate", "paths"]
SOURCES = (crm, erp, social, iot)


def generate(root: Path, people: int = 20_000, seed: int = 42) -> dict[str, Any]:
    """Write a fresh world of ``people`` persons under ``root``; returns the manifest."""
    p = paths(root)
    _clear(p)
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
    return _finish(ctx, {"seed": seed, "people": people})


def advance(root: Path, days: int = 1, seed: int = 43) -> dict[str, Any]:
    """Simulate the next ``days`` of the world; returns the updated manifest."""
    p = paths(root)
    manifest = json.loads(p.manifest.read_text())
    state = json.loads(p.sim_state.read_text())
    since = clock.parse(manifest["now"])
    population = People.from_frame(pl.read_parquet(p.people))
    companies = _companies_from(pl.read_parquet(p.companies))
    ctx = Context(paths=p, people=population, companies=companies,
                  pools=build_pools(manifest["seed"]), seed=seed,
                  now=since + days * clock.DAY, counts=dict(manifest["counts"]),
                  planted=manifest["planted"], duplicate_files=manifest["duplicate_files"],
                  drift=manifest["drift"], sequences=state["sequences"])
    truth = pl.read_parquet(p.truth)
    for source in SOURCES:  # no new links (demo/links.py says why)
        source.advance(ctx, truth, since)
    population.to_frame(companies).write_parquet(p.people)
    pl.concat([truth, *ctx.truth]).write_parquet(p.truth)
    return _finish(ctx, {"seed": manifest["seed"], "people": manifest["people"]})


def _clear(p: WorldPaths) -> None:
    # Remove only what the simulator owns, not whatever else sits next to it.
    for d in (p.crm_db.parent, p.erp_db.parent, p.root / "landing", p.truth_dir):
        shutil.rmtree(d, ignore_errors=True)
    p.manifest.unlink(missing_ok=True)
    p.root.mkdir(parents=True, exist_ok=True)


def _finish(ctx: Context, head: dict[str, Any]) -> dict[str, Any]:
    key = lambda e: (e["source"], e["entity"], e["file"], e["line"] or 0, e["record_id"] or "")  # noqa: E731
    manifest = {
        **head, "now": clock.fmt_one(ctx.now, clock.DB_TS),
        "counts": {k: ctx.counts[k] for k in sorted(ctx.counts)},
        "planted": sorted(ctx.planted, key=key),
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
    if args.command == "generate":
        manifest = generate(args.root, args.people, args.seed)
    else:
        manifest = advance(args.root, args.days, args.seed)
    print(json.dumps({"now": manifest["now"], "counts": manifest["counts"]}, indent=1))


if __name__ == "__main__":
    main()


