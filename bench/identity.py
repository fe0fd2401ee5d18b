"""Identity benchmark: the hub's resolution next to a plain Splink setup, same data, same process.

    uv run python -m bench.identity --records 100000
    uv run python -m bench.identity --records 1000000 --data /tmp/bench1m

For each EM-block choice (email+dob, name+dob) it measures wall time, peak RSS (sampled
from /proc while the step runs) and pairwise / B-cubed F1 against the generator's truth.
Each system runs in a fresh child process of the one bench run, on the same data, so that
its peak RSS is its own and not what an earlier system left allocated:

- hub: canonical load + merge protection + training + scoring + clustering + stable IDs,
  from a cold start (no model, no state);
- increment: 1% of the records held back, then added to the resolved 99% (the cost of an
  incremental run against a full one on the same input: medians of three increments and of
  a full run before and after them), and an unchanged rerun (must change 0 IDs);
- plain Splink: the tutorial's comparisons (names, birth date, city, email), EM on the same
  blocks, no merge protection, clustered at the same threshold.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from bench.identity_data import generate
from identity import canonical, evaluate, resolve
from identity.settings import IdentityConfig

EM_BLOCKS = {
    "email+dob": {"hub": (("email",), ("dob",)), "plain": (("email",), ("dob",))},
    "name+dob": {"hub": (("first_name_key", "last_name"), ("dob",)),
                 "plain": (("first_name", "surname"), ("dob",))},
}


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Measured:
    seconds: float
    peak_rss_mib: float
    value: Any = None


def measure(fn: Callable[[], Any]) -> Measured:
    """Wall time and peak resident memory of ``fn()`` (sampled every 20 ms)."""
    peak = [_rss_mib()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_mib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        value = fn()
    finally:
        done.set()
        thread.join()
    return Measured(time.perf_counter() - started, max(peak[0], _rss_mib()), value)


@dataclass
class Row:
    system: str
    em_blocks: str
    seconds: float
    peak_rss_mib: float
    metrics: evaluate.Metrics
    notes: dict[str, Any] = field(default_factory=dict)


def run_hub(path: Path, work: Path, em: str) -> tuple[Measured, resolve.RunResult]:
    blocks = EM_BLOCKS[em]["hub"]
    config = IdentityConfig.load(em_blocks=blocks)
    shutil.rmtree(work, ignore_errors=True)

    def go() -> resolve.RunResult:
        records, _ = canonical.load(path)
        return resolve.run(records, work / "run", None, config, models_dir=work / "models")

    m = measure(go)
    return m, m.value


def run_increment(path: Path, work: Path, repeats: int = 3) -> dict[str, Any]:
    """Full run on 99% of the records, then the other 1% arrives; then an unchanged rerun.

    The machine is shared, so one measurement of each says little: the full run is timed
    before and after the increments, the increment ``repeats`` times (each on a fresh copy
    of the 99% state, copied outside the timing), and the cost is the ratio of medians.
    """
    config = IdentityConfig.load()
    shutil.rmtree(work, ignore_errors=True)
    records, _ = canonical.load(path)
    held = records.sample(fraction=0.01, seed=7)
    base = records.join(held, on=["source", "source_record_id"], how="anti")
    from identity import model_store

    first = resolve.run(base, work / "base", None, config, models_dir=work / "models")
    model = model_store.load(work / "models")
    before = first.assignment.select("source", "source_record_id", "customer_id")

    def full(name: str) -> Measured:
        m = measure(lambda: resolve.run(records, work / name, model, config))
        shutil.rmtree(work / name)
        return m

    fulls = [full("full_before")]
    incrs = []
    for _ in range(repeats):
        shutil.rmtree(work / "run", ignore_errors=True)
        shutil.copytree(work / "base", work / "run")
        _flush(work / "run")
        incrs.append(measure(lambda: resolve.run(records, work / "run", model, config)))
    fulls.append(full("full_after"))
    result: resolve.RunResult = incrs[-1].value
    after = result.assignment.select("source", "source_record_id", pl.col("customer_id").alias("new"))
    changed = before.join(after, on=["source", "source_record_id"]).filter(
        pl.col("customer_id") != pl.col("new"))
    touched = changed["customer_id"].n_unique()
    unchanged = measure(lambda: resolve.run(records, work / "run", model, config))
    full_s = statistics.median(m.seconds for m in fulls)
    incr_s = statistics.median(m.seconds for m in incrs)
    return {
        "full_runs_s": [round(m.seconds, 2) for m in fulls],
        "increments_s": [round(m.seconds, 2) for m in incrs],
        "full_run_s": full_s, "increment_s": incr_s, "increment_cost": incr_s / full_s,
        "increment_new_records": result.new, "increment_rescored": result.rescored,
        "increment_id_changes": result.id_changes, "increment_customers_touched": touched,
        "increment_stages": {k: round(v, 2) for k, v in result.seconds.items()},
        "full_run_stages": {k: round(v, 2) for k, v in fulls[0].value.seconds.items()},
        "unchanged_rerun_s": unchanged.seconds,
        "unchanged_rerun_id_changes": unchanged.value.id_changes,
        "unchanged_rerun_events": sum(unchanged.value.events.values()),
    }


def _flush(folder: Path) -> None:
    """Write a copied state out before the run, not during its checkpoint."""
    for file in folder.rglob("*"):
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _plain_input(path: Path) -> pl.DataFrame:
    """The tutorial's columns from the canonical records (full names split naively)."""
    records, _ = canonical.load(path)
    full = records["full_name"].str.split(" ")
    return records.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64), "source", "source_record_id",
        pl.coalesce("first_name", full.list.first()).str.to_lowercase().alias("first_name"),
        pl.coalesce("last_name", full.list.last()).str.to_lowercase().alias("surname"),
        pl.col("birth_date").cast(pl.String).alias("dob"),
        pl.col("city").str.to_lowercase().alias("city"), "email")


def run_plain(path: Path, em: str, threshold: float) -> tuple[Measured, pl.DataFrame]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def go() -> pl.DataFrame:
        df = _plain_input(path)
        settings = SettingsCreator(
            link_type="dedupe_only",
            comparisons=[
                cl.NameComparison("first_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison("dob", input_is_string=True),
                cl.ExactMatch("city").configure(term_frequency_adjustments=True),
                cl.EmailComparison("email"),
            ],
            # The tutorial blocks on surname alone; with a fifth of the people Chinese
            # (Wang, Li, Zhang) that is hundreds of millions of pairs at 1M, so surname is
            # paired with first name or birth date here.
            blocking_rules_to_generate_predictions=[
                block_on("first_name", "dob"), block_on("first_name", "surname"),
                block_on("surname", "dob"), block_on("email"),
            ],
        )
        db_api = DuckDBAPI()
        linker = Linker(db_api.register(df.drop("source", "source_record_id").to_arrow()),
                        settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "dob"), block_on("email")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        for block in EM_BLOCKS[em]["plain"]:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block))
        pairs = linker.inference.predict(threshold_match_probability=0.2)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, threshold)
        out = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").pl()
        return df.select("unique_id", "source", "source_record_id").join(out, on="unique_id")

    m = measure(go)
    return m, m.value


def table(rows: list[Row]) -> str:
    lines = ["| system | EM blocks | wall time | peak RSS | pairwise P / R / F1 | B-cubed F1 |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        m = r.metrics
        lines.append(
            f"| {r.system} | {r.em_blocks} | {r.seconds:.1f} s | {r.peak_rss_mib / 1024:.2f} GiB "
            f"| {m.pairwise_precision:.4f} / {m.pairwise_recall:.4f} / **{m.pairwise_f1:.4f}** "
            f"| {m.bcubed_f1:.4f} |")
    return "\n".join(lines)


def _in_child(target: Callable[..., Any], *args: Any) -> Any:
    """Run ``target(*args)`` in a fresh (spawned) process and return its result."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(target, args)


def hub_job(path: str, truth_path: str, work: str, em: str) -> dict[str, Any]:
    logging.getLogger("splink").setLevel(logging.ERROR)
    m, result = run_hub(Path(path), Path(work), em)
    metrics = evaluate.evaluate(result.assignment, evaluate.read_truth(truth_path))
    return {"seconds": m.seconds, "rss": m.peak_rss_mib, "metrics": metrics,
            "stages": {k: round(v, 1) for k, v in result.seconds.items()}}


def plain_job(path: str, truth_path: str, em: str, threshold: float) -> dict[str, Any]:
    logging.getLogger("splink").setLevel(logging.ERROR)
    m, clusters = run_plain(Path(path), em, threshold)
    predicted = clusters.select("source", "source_record_id",
                                pl.col("cluster_id").cast(pl.String).alias("customer_id"))
    return {"seconds": m.seconds, "rss": m.peak_rss_mib,
            "metrics": evaluate.evaluate(predicted, evaluate.read_truth(truth_path))}


def increment_job(path: str, work: str) -> dict[str, Any]:
    logging.getLogger("splink").setLevel(logging.ERROR)
    return run_increment(Path(path), Path(work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="folder to keep generated data in (reused)")
    parser.add_argument("--em", choices=[*EM_BLOCKS, "both"], default="both")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Splink runs")
    parser.add_argument("--no-increment", action="store_true")
    parser.add_argument("--no-hub", action="store_true", help="skip the cold-start hub runs")
    args = parser.parse_args()

    data = args.data or Path(tempfile.mkdtemp(prefix="bench_identity_"))
    records_path = data / "records.parquet"
    if not records_path.exists():
        data.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        df, truth = generate(args.records, args.seed)
        df.write_parquet(records_path)
        truth.write_parquet(data / "truth.parquet")
        print(f"generated {df.height:,} records in {time.perf_counter() - t:.1f}s -> {data}")
    truth_path = data / "truth.parquet"
    n = pl.scan_parquet(records_path).select(pl.len()).collect().item()
    print(f"{n:,} records; {os.cpu_count()} CPUs; {platform.platform()}; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}")

    work = Path(tempfile.mkdtemp(prefix="bench_identity_work_"))
    threshold = IdentityConfig.load().cluster_threshold
    rows: list[Row] = []
    ems = list(EM_BLOCKS) if args.em == "both" else [args.em]
    for em in [] if args.no_hub else ems:
        out = _in_child(hub_job, str(records_path), str(truth_path), str(work / em), em)
        rows.append(Row("hub", em, out["seconds"], out["rss"], out["metrics"], out["stages"]))
        print(table(rows[-1:]), "\n  stages (s):", rows[-1].notes, flush=True)
        if not args.no_plain:
            out = _in_child(plain_job, str(records_path), str(truth_path), em, threshold)
            rows.append(Row("plain Splink", em, out["seconds"], out["rss"], out["metrics"]))
            print(table(rows[-1:]), flush=True)
    if rows:
        print("\n" + table(rows))
    if not args.no_increment:
        inc = _in_child(increment_job, str(records_path), str(work / "increment"))
        print("\nincrement:", {k: round(v, 3) if isinstance(v, float) else v for k, v in inc.items()})
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
