"""Point-in-time retrieval: warehouse.features.get_training_frame against Feast's offline
historical retrieval, on the same Parquet data, in the same run.

    uv run python bench/features.py                  # 1M entity rows x 50 features
    uv run python bench/features.py --entities 100000 --customers 20000   # quicker

Data (bench/out/features/, git-ignored): a feature table of --customers customers x --snapshots
weekly snapshots x 50 float features, and --entities entity rows (random customer, random
event_ts over the snapshot range; 2% of them before the first snapshot). Both sides get the
entity rows as a pandas frame and return a pandas frame with all 50 features. Feast runs in
bench/.feast-venv (bench/feast_env.sh creates it) as a subprocess; only its
get_historical_features(...).to_df() is timed, only our get_training_frame(...) call is timed.
Both get the same number of timed repeats and report their best. Results agree value for value
on a sample. Each invocation adds one run (times, ratio, load averages) to
bench/results/features.json and rewrites bench/results/features.md from all recorded runs;
--fresh starts a new series.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.features import ConsentNotEnforcedWarning, get_training_frame

BENCH = Path(__file__).resolve().parent
FIRST = datetime(2025, 1, 6, tzinfo=UTC)


def make_data(out: Path, customers: int, snapshots: int, entities: int, features: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"C{i:08d}" for i in range(customers)], dtype=object)
    dates = np.array([FIRST + timedelta(days=7 * w) for w in range(snapshots)])
    cust = np.repeat(np.arange(customers), snapshots)
    snap = np.tile(np.arange(snapshots), customers)
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array(ids[cust], pa.string()),
        "as_of_date": pa.array([d.date() for d in dates[snap]], pa.date32()),
        "event_timestamp": pa.array(dates[snap], pa.timestamp("us", "UTC")),
    }
    for f in range(features):
        columns[f"f_{f:02d}"] = pa.array(rng.normal(size=customers * snapshots))
    pq.write_table(pa.table(columns), out / "features.parquet", row_group_size=1_000_000)
    span = (dates[-1] - dates[0]).total_seconds() + 7 * 86400
    offsets = rng.uniform(-0.02 * span, span, entities)
    pd.DataFrame({
        "entity_row": np.arange(entities),
        "customer_id": ids[rng.integers(0, customers, entities)],
        "event_timestamp": pd.to_datetime((FIRST.timestamp() + offsets).astype(np.int64), unit="s", utc=True)
        .astype("datetime64[us, UTC]"),
    }).to_parquet(out / "entities.parquet", index=False)


def ours(data: Path, repeat: int) -> tuple[list[float], pd.DataFrame]:
    names = [n for n in pq.read_schema(data / "features.parquet").names if n.startswith("f_")]
    entities = pd.read_parquet(data / "entities.parquet").rename(columns={"event_timestamp": "event_ts"})
    times, frame = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConsentNotEnforcedWarning)  # no consent table in a bench
            frame = get_training_frame(entities, names, feature_table=data / "features.parquet")
        times.append(time.perf_counter() - started)
    return times, frame


def _memory_cap(gib: int):
    """Cap the address space of Feast's file (pandas/dask) store, whose merge at 1M entity rows
    needed over 19 GB and woke the kernel's OOM killer in a first run: on a shared machine it
    should fail by itself. (Not for the DuckDB store: DuckDB reserves far more address space
    than it uses, so an address-space cap breaks it spuriously.)"""
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, gib << 30))

    return apply


def feast(data: Path, store: str, repeat: int, timeout: int, memory_gib: int) -> dict:
    python = BENCH / ".feast-venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([str(BENCH / "feast_env.sh")], check=True)
    out = data / f"feast_{store}.json"
    cmd = [str(python), str(BENCH / "feast_side.py"), str(data), "--store", store, "--out", str(out),
           "--repeat", str(repeat)]
    try:
        cap = _memory_cap(memory_gib) if store == "file" else None
        subprocess.run(cmd, check=True, timeout=timeout, preexec_fn=cap)
    except subprocess.TimeoutExpired:
        return {"store": store, "seconds": None, "failed": f"timed out after {timeout} s"}
    except subprocess.CalledProcessError as error:
        return {"store": store, "seconds": None, "failed": f"failed (exit {error.returncode}) under a {memory_gib} GiB memory cap"}
    return json.loads(out.read_text())


def agree(frame: pd.DataFrame, sample: list[dict]) -> bool:
    """Feast's values equal ours on its first 1000 entity rows (nulls included)."""
    ours_rows = frame.set_index("entity_row")
    for row in sample:
        for name, value in row.items():
            if name == "entity_row":
                continue
            mine = ours_rows.at[row["entity_row"], name]
            if (value is None) != pd.isna(mine) or (value is not None and not np.isclose(value, mine)):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=26)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    # The file (pandas) store needs over 19 GB at 1M entity rows and fails under the cap; on a
    # shared machine it is opt-in: --feast-stores duckdb,file.
    parser.add_argument("--feast-stores", default="duckdb")
    parser.add_argument("--feast-timeout", type=int, default=1800)
    parser.add_argument("--feast-memory-gib", type=int, default=12)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "features")
    parser.add_argument("--report", type=Path, default=BENCH / "results" / "features.md")
    parser.add_argument("--fresh", action="store_true", help="forget the runs recorded so far")
    args = parser.parse_args()

    started = time.perf_counter()
    make_data(args.out, args.customers, args.snapshots, args.entities, args.features, seed=7)
    print(f"data: {args.customers * args.snapshots:,} feature rows x {args.features} features, "
          f"{args.entities:,} entity rows ({time.perf_counter() - started:.1f}s)")
    load = {"start": _load()}
    our_times, frame = ours(args.out, args.repeat)
    load["after_hub"] = _load()
    print(f"hub get_training_frame: {', '.join(f'{t:.2f}s' for t in our_times)}")
    results = []
    for store in args.feast_stores.split(","):
        # The file store is far slower and memory-bound: one attempt.
        repeat = args.repeat if store == "duckdb" else 1
        result = feast(args.out, store, repeat, args.feast_timeout, args.feast_memory_gib)
        result["agrees"] = agree(frame, result["sample"]) if result.get("sample") else None
        result.pop("sample", None)
        results.append(result)
        print(f"feast ({store} offline store): {result.get('seconds')} agrees={result['agrees']}")
    load["end"] = _load()
    run = {
        "at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "data": {k: getattr(args, k) for k in ("entities", "customers", "snapshots", "features")},
        "hub": our_times, "feast": results, "load": load,
    }
    runs_file = args.report.with_suffix(".json")
    runs = [] if args.fresh or not runs_file.exists() else json.loads(runs_file.read_text())
    runs.append(run)
    runs_file.parent.mkdir(parents=True, exist_ok=True)
    runs_file.write_text(json.dumps(runs, indent=1) + "\n")
    write_report(args.report, runs)
    best = min(our_times)
    for r in results:
        if r.get("seconds"):
            print(f"ratio ({r['store']}): {min(r['seconds']) / best:.1f}x")


def write_report(report: Path, runs: list[dict]) -> None:
    data = runs[-1]["data"]
    lines = [
        "# Point-in-time retrieval: hub vs Feast",
        "",
        "```bash",
        "bash bench/feast_env.sh            # once: Feast 0.67 in bench/.feast-venv (it needs pandas<3)",
        "uv run python bench/features.py    # one run; each run is added below",
        "```",
        "",
        f"- Machine: {platform.machine()}, {_cores()} cores, {_memory_gib()} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}. Shared with other jobs: the load average is recorded per run.",
        f"- Feature table: {data['customers']:,} customers x {data['snapshots']} weekly snapshots = "
        f"{data['customers'] * data['snapshots']:,} rows x {data['features']} float features, one Parquet "
        "file (1.1 GB).",
        f"- Entity rows: {data['entities']:,} (random customer, random event time; 2% before any snapshot).",
        "- Both sides read the same Parquet file and return a pandas frame with every entity row and all "
        "features; only the retrieval call is timed (Feast: `get_historical_features(...).to_df()`, after "
        "`apply`, in its own process). Each side gets the same number of timed repeats; the best counts.",
        "",
        "| run | hub `get_training_frame` best (all repeats), s | Feast `duckdb` store best (all repeats), s "
        "| Feast / hub | same values | load average 1 min: start, after hub, end |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        best = min(run["hub"])
        hub = f"{best:.2f} ({', '.join(f'{t:.2f}' for t in run['hub'])})"
        feast_runs = [r for r in run["feast"] if r["store"] == "duckdb"]
        if feast_runs and feast_runs[0].get("seconds"):
            seconds = feast_runs[0]["seconds"]
            feast = f"{min(seconds):.2f} ({', '.join(f'{t:.2f}' for t in seconds)})"
            ratio = f"{min(seconds) / best:.1f}x"
            agrees = str(feast_runs[0]["agrees"])
        else:
            feast = feast_runs[0]["failed"] if feast_runs else "not run"
            ratio = agrees = "-"
        load = ", ".join(f"{run['load'][k][0]:.1f}" for k in ("start", "after_hub", "end"))
        lines.append(f"| {run['at']} | {hub} | {feast} | {ratio} | {agrees} | {load} |")
    others = [(run["at"], r) for run in runs for r in run["feast"] if r["store"] != "duckdb"]
    for at, r in others:
        outcome = f"{min(r['seconds']):.2f} s" if r.get("seconds") else r["failed"]
        lines.append(f"\nFeast `{r['store']}` offline store ({at}): {outcome}.")
    lines += [
        "",
        "Targets (DESIGN.md §8): under 10 s, and at least 10x faster than Feast.",
        "",
        "Caveats:",
        "",
        "- Two cores shared with other sessions' jobs: a load average above 2 means the runs competed "
        "for CPU, and single repeats vary by up to 2x on both sides (Feast 15-30 s, the hub 1.3-1.9 s "
        "in these runs). The ratio stayed at or above 10x in every run, but with little margin at a load "
        "near 3.",
        "- The hub runs first, right after the data is written, in the benchmark's process; a repeat "
        "that has to fault in fresh memory is slower. Feast runs in its own process "
        "after `apply`, which is not timed.",
        "- The Parquet file is in the page cache for both sides (24 GB RAM). The hub memory-maps local "
        "files; on object storage the read would cost more on both sides.",
        "- Feast is configured as documented for its DuckDB offline store, with `ttl=0` (no TTL, the "
        "hub's semantics; a finite TTL adds a predicate to its join). Its `file` store needs over "
        "19 GB at this size and is not run by default (`--feast-stores duckdb,file`).",
        "",
    ]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines))
    print(f"wrote {report}")


def _memory_gib() -> int:
    import os

    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _load() -> tuple[float, float, float]:
    import os

    return os.getloadavg()


if __name__ == "__main__":
    main()
