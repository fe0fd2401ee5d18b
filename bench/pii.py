"""PII benchmark: the hub's batch detector next to Presidio's AnalyzerEngine text by text.

    .venv/bin/python -m bench.pii --people 2000
    .venv/bin/python -m bench.pii --world /tmp/world   # an existing simulated world

Texts are the free text the simulator writes: CRM activity bodies, social posts and
profile bios (bios repeat on every post of a profile, as they do in the social drops).
Both sides use the same analyzer (the same recognizers, the same blank spaCy pipelines,
built once); the baseline calls ``AnalyzerEngine.analyze`` once per text in its detected
language, the hub calls ``privacy.detect.Detector.detect`` on the whole list.

Precision and recall per entity type are scored against the spans the simulator records
where it plants PII (``world/truth/pii_spans.parquet``): a finding counts when its type
is the planted one and the two spans share at least half of their union. Known customer
names come from the source systems' own records (CRM contacts, ERP customers), the names
a golden record is built from; the run also scores PERSON without them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

from demo import world
from privacy.detect import Detector, Entity
from privacy.engine import offline_suffix_list
from privacy.language import detect_language
from privacy.names import NameIndex, golden_names

STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CN_RESIDENT_ID", "CREDIT_CARD")


@dataclass(frozen=True)
class Text:
    key: tuple[str, str, str, str]  # source, entity, record id, field
    text: str


def load_texts(root: Path) -> list[Text]:
    p = world.paths(root)
    out = []
    with sqlite3.connect(p.crm_db) as con:
        for rid, payload in con.execute("select id, payload from activities order by id"):
            body = json.loads(payload).get("body")
            if body:
                out.append(Text(("crm", "activities", rid, "body"), body))
    for path in sorted(p.social_landing.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the simulator's malformed lines
            if not isinstance(record, dict):
                continue
            if isinstance(record.get("text"), str) and record["text"]:
                out.append(Text(("social", "posts", str(record.get("post_id")), "text"),
                                record["text"]))
            if isinstance(record.get("bio"), str) and record["bio"]:
                out.append(Text(("social", "posts", str(record.get("post_id")), "bio"),
                                record["bio"]))
    return out


def source_names(root: Path) -> list[str]:
    p = world.paths(root)
    rows = []
    with sqlite3.connect(p.crm_db) as con:
        for (payload,) in con.execute("select payload from contacts"):
            record = json.loads(payload)
            rows.append((None, record.get("first_name"), record.get("last_name")))
    with sqlite3.connect(p.erp_db) as con:
        rows += con.execute("select case when kind = 'person' then name end, first_name, "
                            "last_name from customers").fetchall()
        rows += con.execute("select null, first_name, last_name from customer_contacts").fetchall()
    return golden_names(rows)


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter > 0 and inter * 2 >= union


def score(texts: list[Text], found: list[list[Entity]], truth: pl.DataFrame) -> dict[str, dict]:
    """Per type (and PERSON per language): true positives, planted, predicted, P and R."""
    planted: dict[tuple, list[tuple[str, int, int]]] = defaultdict(list)
    for row in truth.iter_rows(named=True):
        key = (row["source"], row["entity"], row["source_record_id"], row["field"])
        planted[key].append((row["type"], row["start"], row["end"]))
    scored = {k for k in planted} | {t.key for t in texts if t.key[3] in ("body", "text")}
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "planted": 0, "predicted": 0})
    for text, entities in zip(texts, found, strict=True):
        if text.key not in scored:
            continue  # bios carry no recorded spans: throughput only
        lang = detect_language(text.text)
        spans = planted.get(text.key, [])
        for kind, start, end in spans:
            hit = any(e.type == kind and _overlaps((e.start, e.end), (start, end)) for e in entities)
            for label in (kind, f"{kind}[{lang}]") if kind == "PERSON" else (kind,):
                stats[label]["planted"] += 1
                stats[label]["tp"] += hit
        for e in entities:
            correct = any(e.type == k and _overlaps((e.start, e.end), (s, t)) for k, s, t in spans)
            for label in (e.type, f"{e.type}[{lang}]") if e.type == "PERSON" else (e.type,):
                stats[label]["predicted"] += 1
                stats[label].setdefault("correct", 0)
                stats[label]["correct"] += correct
    out = {}
    for label, s in sorted(stats.items()):
        correct = s.get("correct", 0)
        out[label] = {**s, "correct": correct,
                      "precision": round(correct / s["predicted"], 4) if s["predicted"] else None,
                      "recall": round(s["tp"] / s["planted"], 4) if s["planted"] else None}
    return out


def stock_analyzer() -> AnalyzerEngine:
    """Presidio as its documentation sets it up without a model: the predefined English
    recognizers on a blank spaCy pipeline, the lemma context enhancer, no NER."""
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class Blank(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    offline_suffix_list()
    nlp_engine = Blank(models=[{"lang_code": "en", "model_name": "blank:en"}])
    nlp_engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.remove_recognizer("SpacyRecognizer")
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--world", type=Path, help="an existing world (else one is generated)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/pii.json"))
    args = parser.parse_args()

    root = args.world
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="pii-bench-")) / "world"
        world.generate(root, people=args.people, seed=args.seed)
    texts = load_texts(root)
    truth = pl.read_parquet(world.paths(root).pii_spans)
    strings = [t.text for t in texts]
    result: dict = {"world": str(root), "people": json.loads(world.paths(root).manifest.read_text())["people"],
                    "texts": len(strings), "unique_texts": len(set(strings)),
                    "planted_spans": truth.height, "cpus": os.cpu_count(),
                    "load_avg": os.getloadavg(), "python": platform.python_version()}

    names = source_names(root)
    started = time.perf_counter()
    index = NameIndex(names)
    detector = Detector(index)
    result["build_s"] = round(time.perf_counter() - started, 3)
    result["known_names"] = index.size

    analyzer = detector.analyzer  # the same engine, called the plain way
    stock = stock_analyzer()
    threshold = detector.score_threshold
    # Warm-up: phonenumbers loads region metadata and spaCy grows its vocabulary on first
    # use; whoever ran first would pay for both.
    warm = strings[:300]
    detector.detect(warm)
    for t in warm:
        analyzer.analyze(t, language=detect_language(t), score_threshold=threshold)
        stock.analyze(t, language="en", score_threshold=threshold)

    started = time.perf_counter()
    found = detector.detect(strings)
    hub_s = time.perf_counter() - started

    started = time.perf_counter()
    baseline = [analyzer.analyze(t, language=detect_language(t), score_threshold=threshold)
                for t in strings]
    base_s = time.perf_counter() - started
    baseline_entities = sum(map(len, baseline))

    started = time.perf_counter()
    stock_found = [stock.analyze(t, language="en", score_threshold=threshold) for t in strings]
    stock_s = time.perf_counter() - started

    plain = Detector(NameIndex(()))
    found_plain = plain.detect(strings)

    result["hub"] = {"seconds": round(hub_s, 3), "texts_per_s": round(len(strings) / hub_s, 1),
                     "entities": sum(map(len, found))}
    result["baseline_text_by_text"] = {"seconds": round(base_s, 3),
                                       "texts_per_s": round(len(strings) / base_s, 1),
                                       "entities": baseline_entities}
    result["stock_presidio_text_by_text"] = {
        "seconds": round(stock_s, 3), "texts_per_s": round(len(strings) / stock_s, 1),
        "entities": sum(map(len, stock_found))}
    result["speedup_vs_same_recognizers"] = round(base_s / hub_s, 2)
    result["speedup_vs_stock_presidio"] = round(stock_s / hub_s, 2)
    result["accuracy"] = score(texts, found, truth)
    result["accuracy_without_known_names"] = {
        k: v for k, v in score(texts, found_plain, truth).items() if k.startswith("PERSON")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("accuracy",)}, indent=2))
    for label, s in result["accuracy"].items():
        print(f"{label:<24} P={s['precision']}  R={s['recall']}  planted={s['planted']} predicted={s['predicted']}")


if __name__ == "__main__":
    main()
