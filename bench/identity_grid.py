"""Identity accuracy per kind of noise, on a world the resolver was not built on.

    .venv/bin/python -m bench.identity_grid --records 100000 --data /tmp/grid100k
    .venv/bin/python -m bench.identity_grid --records 1000000 --cells all --data /tmp/grid1m

For each cell of the noise grid (``bench/noise_grid.py``: clean, each kind alone, all at
once) the records go through the public resolver (``identity.workspace.resolve``, what
``hub identity resolve`` runs: a model trained on the file, then a full run) in a fresh
child process, timed and with peak RSS sampled (``bench/identity.py``'s ``measure``).
Then, against the truth:

- pairwise and B-cubed precision, recall, F1 (``identity/evaluate.py``);
- the **blocking ceiling**: the share of true pairs that at least one of the model's
  blocking rules compares at all, and the share within one component of those pairs
  (what clustering could reach through chains of blocked true pairs);
- where each missed true pair was lost: never blocked, blocked but scored under the
  cluster threshold, or scored above it and split apart by clustering's constraints.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from bench import noise_grid
from bench.identity import _in_child, measure
from identity import canonical, clustering, evaluate, evidence, keyindex, workspace
from identity.run_state import State
from identity.settings import IdentityConfig


def losses(state: State, rules: list[str], truth: pl.DataFrame, threshold: float
           ) -> dict[str, float | int]:
    """Blocking ceiling and where the missed true pairs were lost."""
    keys = state.keys.select("uid", "source", "source_record_id").join(
        truth, on=["source", "source_record_id"])
    feats = evidence.without_shared(state.features, state.shared)
    assignment = state.assignment.select("uid", "cluster")
    con = duckdb.connect()
    try:
        con.register("k", keys)
        con.register("f", feats)
        con.register("a", assignment)
        con.register("e", state.edges.select("uid_l", "uid_r", "match_probability"))
        blocked = " or ".join(f"coalesce(({r}), false)" for r in rules) or "false"
        pairs = con.sql(f"""
            with tp as (
                select x.uid as uid_l, y.uid as uid_r from k x join k y
                on x.person_id = y.person_id and x.uid < y.uid)
            select tp.uid_l, tp.uid_r, ({blocked}) as blocked, e.match_probability as p,
                   al.cluster = ar.cluster as together
            from tp join f l on l.uid = tp.uid_l join f r on r.uid = tp.uid_r
            join a al on al.uid = tp.uid_l join a ar on ar.uid = tp.uid_r
            left join e on e.uid_l = tp.uid_l and e.uid_r = tp.uid_r""").pl()
    finally:
        con.close()
    total = max(1, pairs.height)
    uids = keys["uid"].to_numpy()
    label = pl.DataFrame({"uid": uids,
                          "c": clustering.components(uids, pairs.filter("blocked"))})
    reach = (pairs.join(label.rename({"uid": "uid_l", "c": "cl"}), on="uid_l")
             .join(label.rename({"uid": "uid_r", "c": "cr"}), on="uid_r")
             .filter(pl.col("cl") == pl.col("cr")).height)
    missed = pairs.filter(~pl.col("together"))
    return {
        "true_pairs": pairs.height,
        "blocking_ceiling": pairs["blocked"].sum() / total,
        "blocking_ceiling_transitive": reach / total,
        "missed": missed.height,
        "lost_in_blocking": missed.filter(~pl.col("blocked")).height,
        "lost_in_scoring": missed.filter(pl.col("blocked") & (pl.col("p").is_null()
                                                                | (pl.col("p") < threshold))).height,
        "lost_in_clustering": missed.filter(pl.col("p") >= threshold).height,
    }


def cell_job(records_path: str, truth_path: str, work: str) -> dict[str, Any]:
    logging.getLogger("splink").setLevel(logging.ERROR)
    config = IdentityConfig.load()
    shutil.rmtree(work, ignore_errors=True)
    ws = workspace.Workspace(Path(work))

    def go() -> Any:
        records, _ = canonical.load(records_path)
        return workspace.resolve(records, ws, config)

    m = measure(go)
    result, model, _ = m.value
    truth = evaluate.read_truth(truth_path)
    metrics = evaluate.evaluate(result.assignment, truth)
    lost = losses(result.state, keyindex.model_rules(model.settings), truth,
                  config.cluster_threshold)
    return {"seconds": m.seconds, "rss_mib": m.peak_rss_mib, **metrics.as_dict(), **lost,
            "stages": {k: round(v, 1) for k, v in result.seconds.items()}}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| noise | records | P / R / pairwise F1 | B-cubed F1 | blocking ceiling (direct / "
             "transitive) | missed pairs: blocking / scoring / clustering | wall | peak RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['noise']} | {r['records']:,} | {r['pairwise_precision']:.4f} / "
            f"{r['pairwise_recall']:.4f} / **{r['pairwise_f1']:.4f}** | {r['bcubed_f1']:.4f} "
            f"| {r['blocking_ceiling']:.4f} / {r['blocking_ceiling_transitive']:.4f} "
            f"| {r['lost_in_blocking']:,} / {r['lost_in_scoring']:,} / {r['lost_in_clustering']:,}"
            f" | {r['seconds']:.1f} s | {r['rss_mib'] / 1024:.2f} GiB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cells", default=",".join(
        ["clean", *noise_grid.KINDS, "all", *(f"no_{k}" for k in noise_grid.KINDS)]),
        help="comma-separated: clean, all, a noise kind (alone), no_<kind> (all but it)")
    parser.add_argument("--data", type=Path, help="folder to keep generated data in (reused)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="noise_grid_"))
    work = Path(tempfile.mkdtemp(prefix="noise_grid_work_"))
    print(f"{os.cpu_count()} CPUs; {platform.platform()}; Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for cell in args.cells.split(","):
        folder = data / cell
        if not (folder / "truth.parquet").exists():
            t = time.perf_counter()
            noise_grid.write(folder, args.records, noise_grid.preset(cell), args.seed)
            print(f"generated {cell} in {time.perf_counter() - t:.1f}s", flush=True)
        out = _in_child(cell_job, str(folder / "records.parquet"), str(folder / "truth.parquet"),
                        str(work / cell))
        rows.append({"noise": cell, **out, "load_average": os.getloadavg()[0]})
        print(table(rows[-1:]).splitlines()[-1], f"stages {out['stages']}",
              f"load {rows[-1]['load_average']:.1f}", flush=True)
    print("\n" + table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
