"""Key benchmark: data keys created and fetched per second, encryption and decryption cost.

    uv run python -m bench.keys --subjects 100000 --values 500000

Everything runs in one process on one fresh key store under a temporary directory:

- keys created: ``KeyStore.data_keys`` on batches of new subjects (one transaction a batch),
  against the baseline of one ``data_key`` call (one transaction) per subject;
- keys fetched: the same batches again (every key exists, so each is read and unwrapped);
- encrypt / decrypt: ``DataKey.encrypt_text`` / ``decrypt_text`` of synthetic email-like
  values of ~25 characters, spread over the subjects, reported per million values, against
  the baseline of building the AES-GCM object for every value;
- rotation: rewrapping every key under a new master key.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys.envelope import DataKey, Subject, to_text, value_aad
from privacy.keys.keystore import KeyStore
from privacy.keys.master_key import MasterKey

BATCH = 10_000
T = TypeVar("T")


def _timed(label: str, results: dict[str, float], work: Callable[[], T], repeat: int = 1) -> T:
    """Best wall time and best CPU time of ``repeat`` runs (the machine is shared)."""
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        results[label] = min(results.get(label, wall), wall)
        results[label + "_cpu"] = min(results.get(label + "_cpu", cpu), cpu)
    return out


def _naive_encrypt(key: DataKey, field: str, value: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key.secret).encrypt(nonce, value.encode(), value_aad(key.subject, field))
    return to_text(b"\x01" + nonce + sealed)


def run(subjects: int, values: int, single: int, repeat: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = KeyStore.open(Path(tmp) / "keys.sqlite", MasterKey.generate())
        people = [Subject("crm", f"contact-{i}") for i in range(subjects)]
        batches = [people[i : i + BATCH] for i in range(0, subjects, BATCH)]

        keys: dict[Subject, DataKey] = {}
        _timed("create_batched", results, lambda: [keys.update(store.data_keys(b)) for b in batches])
        _timed("fetch_batched", results, lambda: [store.data_keys(b) for b in batches])
        singles = [Subject("erp", f"customer-{i}") for i in range(single)]
        _timed("create_single", results, lambda: [store.data_key(s) for s in singles])

        plain = [(people[i % subjects], f"person{i:08d}@example.test") for i in range(values)]
        cipher = _timed(
            "encrypt", results, lambda: [keys[s].encrypt_text("email", v) for s, v in plain], repeat
        )
        _timed(
            "decrypt",
            results,
            lambda: [keys[s].decrypt_text("email", c) for (s, _), c in zip(plain, cipher, strict=True)],
            repeat,
        )
        naive = plain[: max(values // 5, 1)]
        _timed(
            "encrypt_naive", results, lambda: [_naive_encrypt(keys[s], "email", v) for s, v in naive], repeat
        )
        results["naive_values"] = len(naive)
        _timed("rotate", results, lambda: store.rotate(MasterKey.generate()))
        results["store_bytes"] = (Path(tmp) / "keys.sqlite").stat().st_size
        store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--values", type=int, default=500_000)
    parser.add_argument("--single", type=int, default=300, help="subjects created one call each (one fsync each)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each value timing; the best counts")
    args = parser.parse_args()
    r = run(args.subjects, args.values, args.single, args.repeat)
    per_million = 1_000_000 / args.values
    naive = 1_000_000 / r["naive_values"]
    rows = [
        ("keys created, batches of 10,000", f"{args.subjects / r['create_batched']:,.0f} keys/s", ""),
        ("keys created, one call each (baseline)", f"{args.single / r['create_single']:,.0f} keys/s", ""),
        (
            "ratio batched / one call",
            f"{(args.subjects / r['create_batched']) / (args.single / r['create_single']):,.0f}x",
            "",
        ),
        ("keys fetched and unwrapped, batches", f"{args.subjects / r['fetch_batched']:,.0f} keys/s", ""),
        ("encrypt, per million values", f"{r['encrypt'] * per_million:.2f} s", f"{r['encrypt_cpu'] * per_million:.2f} s"),
        ("decrypt, per million values", f"{r['decrypt'] * per_million:.2f} s", f"{r['decrypt_cpu'] * per_million:.2f} s"),
        (
            "encrypt, new AES-GCM object and associated data per value (baseline), per million",
            f"{r['encrypt_naive'] * naive:.2f} s",
            f"{r['encrypt_naive_cpu'] * naive:.2f} s",
        ),
        ("ratio baseline / encrypt (CPU)", f"{r['encrypt_naive_cpu'] * naive / (r['encrypt_cpu'] * per_million):.2f}x", ""),
        ("rotate (rewrap every key)", f"{r['rotate']:.2f} s for {args.subjects + args.single:,} keys", f"{r['rotate_cpu']:.2f} s"),
        ("key store size", f"{r['store_bytes'] / 1e6:.1f} MB", ""),
    ]
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, load average {os.getloadavg()}")
    print(f"subjects {args.subjects:,}, values {args.values:,}")
    print("| measure | wall (best) | CPU (best) |\n|---|---|---|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall} | {cpu} |")


if __name__ == "__main__":
    main()
