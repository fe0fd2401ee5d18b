"""Why records are one customer: the records, and the evidence for every pair of them.

For each pair the model's match-weight breakdown (Splink): the prior, then per comparison
the level that applied ("same email", "day and month swapped") and its weight in bits.
Around it, what the pair scores alone cannot show: identifiers ignored because they are
shared, steward overrides, and records placed by the unique-name rule.

Text for the terminal; a self-contained HTML page (inline SVG, no scripts, no network)
for the chart.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from identity import evidence
from identity.comparison_columns import MATCH_COLUMNS
from identity.model_store import Model
from identity.run_state import State

MAX_RECORDS = 40  # pairs grow quadratically; beyond this only the linking pairs are shown
SHOWN = ("source", "source_record_id", "first_name", "last_name", "full_name", "birth_date",
         "email", "phone", "street", "city", "postcode", "country", "national_id", "company")


@dataclass
class Explanation:
    customer_id: str
    requested: str
    records: pl.DataFrame          # canonical values of the customer's records
    pairs: list[dict[str, Any]]    # per pair: keys, probability, weight parts
    shared: pl.DataFrame           # shared identifiers found on these records
    overrides: pl.DataFrame        # steward rules touching these records
    placed: list[str]              # records joined by the unique-name rule
    history: pl.DataFrame          # identity_graph rows of these records
    prior_bits: float


class UnknownCustomer(LookupError):
    pass


def _resolve_id(state: State, customer_id: str) -> str:
    ids = state.assignment["customer_id"]
    if customer_id in set(ids.unique().to_list()):
        return customer_id
    row = state.customers.filter(pl.col("customer_id") == customer_id)
    if row.height and row["merged_into"][0]:
        return _resolve_id(state, row["merged_into"][0])
    if row.height:
        raise UnknownCustomer(f"{customer_id} no longer has records (status: {row['status'][0]})")
    raise UnknownCustomer(f"no customer {customer_id}")


def _level_labels(model: Model) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for comparison in model.settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        labels = {len(levels) - 1 - i: lv.get("label_for_charts", "") for i, lv in enumerate(levels)}
        labels[-1] = "missing on one side"
        out[comparison["output_column_name"]] = labels
    return out


def _score_pairs(feats: pl.DataFrame, model: Model) -> pl.DataFrame:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    settings = {**model.settings, "retain_intermediate_calculation_columns": True,
                "retain_matching_columns": True}
    registered = db_api.register(feats.select(MATCH_COLUMNS).to_arrow())
    linker = Linker(registered, settings, log_level=logging.WARNING)
    for col, table in model.tf_tables.items():
        linker.table_management.register_term_frequency_lookup(
            db_api.register(table.to_arrow()), col)
    out = linker.inference.predict_within(
        registered, blocking_rules_to_generate_predictions=["1=1"], warning_mode="never")
    return out.as_duckdbpyrelation().pl()


def explain(state: State, model: Model, customer_id: str) -> Explanation:
    cid = _resolve_id(state, customer_id)
    members = state.assignment.filter(pl.col("customer_id") == cid)
    uids = members["uid"].implode()
    records = state.canonical.filter(pl.col("uid").is_in(uids)).sort("source", "source_record_id")
    feats = evidence.without_shared(state.features.filter(pl.col("uid").is_in(uids)), state.shared)
    keys = records.select("uid", "source", "source_record_id")
    labels = _level_labels(model)
    lam = model.settings["probability_two_random_records_match"]
    prior = math.log2(lam / (1 - lam))
    if feats.height > MAX_RECORDS:  # only the pairs that hold the customer together
        edges = state.edges.filter(pl.col("uid_l").is_in(uids) & pl.col("uid_r").is_in(uids))
        feats = feats.filter(pl.col("uid").is_in(pl.concat([edges["uid_l"], edges["uid_r"]]).implode()))
    scored = _score_pairs(feats, model) if feats.height > 1 else pl.DataFrame()
    pairs = []
    names = {u: f"{s}:{r}" for u, s, r in keys.iter_rows()}
    for row in scored.sort("match_probability", descending=True).iter_rows(named=True):
        parts = []
        for comparison, level_labels in labels.items():
            gamma = row.get(f"gamma_{comparison}")
            weight = (row.get(f"mw_{comparison}") or 0.0) + (row.get(f"mw_tf_adj_{comparison}") or 0.0)
            parts.append({"comparison": comparison, "level": level_labels.get(gamma, str(gamma)),
                          "bits": round(weight, 2)})
        pairs.append({"left": names[row["uid_l"]], "right": names[row["uid_r"]],
                      "match_probability": row["match_probability"],
                      "match_weight": row["match_weight"], "parts": parts})
    values = pl.concat([state.features.filter(pl.col("uid").is_in(uids)).select(
        pl.lit(k).alias("kind"), pl.col(k).alias("value")) for k in evidence.IDENTIFIERS]).drop_nulls()
    shared = state.shared.join(values.unique(), on=["kind", "value"])
    ov = state.overrides.filter(pl.col("uid_l").is_in(uids) | pl.col("uid_r").is_in(uids))
    ov = ov.with_columns(pl.col("uid_l").replace_strict(names, default=None).alias("left"),
                         pl.col("uid_r").replace_strict(names, default=None).alias("right"))
    strong = state.edges.filter(pl.col("uid_l").is_in(uids) & pl.col("uid_r").is_in(uids)
                                & (pl.col("match_probability") >= 0.5))
    linked = set(strong["uid_l"].to_list()) | set(strong["uid_r"].to_list())
    placed = [names[u] for u in members["uid"].to_list() if members.height > 1 and u not in linked]
    history = state.graph.join(keys.select("source", "source_record_id"),
                               on=["source", "source_record_id"]).sort("valid_from")
    return Explanation(cid, customer_id, records.select(SHOWN), pairs, shared,
                       ov.select("rule", "left", "right"), placed, history, prior)


def as_text(e: Explanation) -> str:
    out = []
    if e.requested != e.customer_id:
        out.append(f"{e.requested} was merged into {e.customer_id}.")
    out.append(f"Customer {e.customer_id}: {e.records.height} record(s)")
    for row in e.records.iter_rows(named=True):
        values = ", ".join(f"{k}={v}" for k, v in row.items()
                           if v is not None and k not in ("source", "source_record_id"))
        out.append(f"  {row['source']}:{row['source_record_id']}  {values}")
    if e.shared.height:
        out.append("Identifiers not used as evidence (shared by several people):")
        for kind, value, n, people, reason in e.shared.select(
                "kind", "value", "n_records", "n_people", "reason").iter_rows():
            out.append(f"  {kind} {value}: {reason} ({n} records, {people or '?'} people)")
    if e.overrides.height:
        out.append("Steward overrides:")
        out += [f"  {r} {a} ~ {b}" for r, a, b in e.overrides.iter_rows()]
    if e.placed:
        out.append("Joined by the unique-name rule (no other customer has their name, or "
                   "none other in their city): "
                   + ", ".join(e.placed))
    out.append(f"Evidence per pair (prior {e.prior_bits:+.1f} bits):")
    for p in e.pairs:
        out.append(f"  {p['left']} ~ {p['right']}: probability {p['match_probability']:.4f}"
                   f" ({p['match_weight']:+.1f} bits)")
        for part in p["parts"]:
            if part["bits"] or part["level"] != "missing on one side":
                out.append(f"      {part['comparison']:<12} {part['bits']:+7.2f}  {part['level']}")
    if e.history.height > e.records.height:
        out.append("History (identity_graph):")
        for row in e.history.iter_rows(named=True):
            until = row["valid_to"] or "now"
            out.append(f"  {row['source']}:{row['source_record_id']} -> {row['customer_id']}"
                       f"  {row['valid_from']} .. {until}")
    return "\n".join(out)


def _bars(p: dict[str, Any], prior: float) -> str:
    """A waterfall of one pair's weights as inline SVG."""
    items = [("prior", "", prior)] + [(x["comparison"], x["level"], x["bits"]) for x in p["parts"]]
    scale, mid, row_h = 8.0, 330, 20
    total = prior
    rows = []
    for i, (name, level, bits) in enumerate(items):
        if i:
            total += bits
        x0 = mid + min(0.0, bits) * scale
        color = "#2e7d32" if bits >= 0 else "#c62828"
        rows.append(
            f'<text x="0" y="{i * row_h + 14}" font-size="12">{html.escape(name)}</text>'
            f'<rect x="{x0:.1f}" y="{i * row_h + 3}" width="{abs(bits) * scale:.1f}" height="14" '
            f'fill="{color}"/><text x="{mid + 190}" y="{i * row_h + 14}" font-size="11">'
            f'{bits:+.2f} {html.escape(level)}</text>')
    height = len(items) * row_h + 8
    return (f'<svg width="760" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="{mid}" y1="0" x2="{mid}" y2="{height}" stroke="#999"/>{"".join(rows)}</svg>')


def as_html(e: Explanation) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in e.records.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>"
                                    for v in row) + "</tr>" for row in e.records.iter_rows())
    pairs = "".join(
        f"<h3>{html.escape(p['left'])} ~ {html.escape(p['right'])}: probability "
        f"{p['match_probability']:.4f} ({p['match_weight']:+.1f} bits)</h3>{_bars(p, e.prior_bits)}"
        for p in e.pairs)
    notes = html.escape("\n".join(as_text(e).splitlines()))
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Customer {html.escape(e.customer_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:12px}}</style></head><body>
<h1>Customer {html.escape(e.customer_id)}</h1><table><tr>{head}</tr>{body}</table>
<h2>Evidence per pair</h2>
<p>Bars are match weights in bits (green for, red against); the prior is how rare a match
between two random records is. The sum gives the probability.</p>{pairs}
<h2>Full text</h2><pre>{notes}</pre></body></html>"""
