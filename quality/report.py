"""The quality report: a static, self-contained HTML page (inline CSS and SVG, no scripts, no
downloads). It shows rule names, counts and business keys only, never a row's values."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportData:
    generated_at: str
    scores: list[tuple[str, str, float, int]]  # layer, table, share of rules passing, rules
    trend: list[tuple[str, int, int]]  # run label, rules evaluated, rules failed
    top_failing: list[tuple[str, str, str, int]]  # table, rule, severity, rows failed
    quarantine: list[tuple[str, str, str, int]]  # layer, table, rule, rows
    freshness: list[tuple[str, str, str, bool]]  # source, what, age against its SLA, stale
    drift: list[tuple[str, float, bool]] = field(default_factory=list)  # feature, psi, warning
    monitors: list[tuple[str, str, str]] = field(default_factory=list)  # monitor, subject, detail (fired only)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2433}
header{background:#1d2433;color:#fff;padding:16px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(600px,1fr));gap:16px;padding:16px 24px}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e8ec;overflow-wrap:anywhere}th{color:#5b6478;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#17803d}.warn{color:#b26a00}.bad{color:#c0262d}
.bar{background:#e6e8ec;border-radius:4px;height:8px;width:100px;display:inline-block;vertical-align:middle}
.bar i{display:block;height:8px;border-radius:4px;background:#17803d}
@media (max-width:600px){main{grid-template-columns:1fr;padding:8px}section{padding:8px}}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f"<p>{_e(empty)}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _trend_svg(trend: list[tuple[str, int, int]]) -> str:
    if not trend:
        return "<p>No runs yet.</p>"
    width, height, pad = 560, 160, 28
    top = max(max(e for _, e, _ in trend), 1)
    step = (width - 2 * pad) / max(len(trend) - 1, 1)

    def points(index: int) -> str:
        return " ".join(
            f"{pad + i * step:.1f},{height - pad - (row[index] / top) * (height - 2 * pad):.1f}" for i, row in enumerate(trend)
        )

    labels = "".join(
        f'<text x="{pad + i * step:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{_e(label)}</text>'
        for i, (label, _, _) in enumerate(trend)
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="rules evaluated and failed per run">'
        f'<polyline fill="none" stroke="#5b6478" stroke-width="2" points="{points(1)}"/>'
        f'<polyline fill="none" stroke="#c0262d" stroke-width="2" points="{points(2)}"/>{labels}'
        f'<text x="{pad}" y="14" font-size="11" fill="#5b6478">rules evaluated</text>'
        f'<text x="{pad + 110}" y="14" font-size="11" fill="#c0262d">rules failed</text></svg>'
    )


def render(data: ReportData) -> str:
    scores = [
        f"<tr><td>{_e(layer)}</td><td>{_e(table)}</td><td class='n'>{rules}</td>"
        f"<td><span class='bar'><i style='width:{score * 100:.0f}%'></i></span> {score * 100:.0f}%</td></tr>"
        for layer, table, score, rules in data.scores
    ]
    failing = [
        f"<tr><td>{_e(t)}</td><td>{_e(r)}</td><td class='{'bad' if s == 'error' else 'warn'}'>{_e(s)}</td>"
        f"<td class='n'>{n:,}</td></tr>" for t, r, s, n in data.top_failing
    ]
    quarantine = [
        f"<tr><td>{_e(layer)}</td><td>{_e(t)}</td><td>{_e(r)}</td><td class='n'>{n:,}</td></tr>"
        for layer, t, r, n in data.quarantine
    ]
    fresh = [
        f"<tr><td>{_e(s)}</td><td>{_e(latest)}</td><td>{_e(age)}</td>"
        f"<td class='{'bad' if stale else 'ok'}'>{'stale' if stale else 'fresh'}</td></tr>"
        for s, latest, age, stale in data.freshness
    ]
    fired = [
        f"<tr><td>{_e(m)}</td><td>{_e(subject)}</td><td class='warn'>{_e(detail)}</td></tr>"
        for m, subject, detail in data.monitors
    ]
    drift = [
        f"<tr><td>{_e(f)}</td><td class='n'>{p:.3f}</td><td class='{'warn' if w else 'ok'}'>{'drift' if w else 'stable'}</td></tr>"
        for f, p, w in data.drift
    ]
    layer_scores = {}
    for layer, _, score, rules in data.scores:
        total, weight = layer_scores.get(layer, (0.0, 0))
        layer_scores[layer] = (total + score * rules, weight + rules)
    summary = " · ".join(f"{_e(layer)} {t / w * 100:.0f}%" for layer, (t, w) in layer_scores.items() if w)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Customer Hub quality report</title>
<style>{_CSS}</style></head><body>
<header><h1>Customer Hub · data quality</h1><p>Generated {_e(data.generated_at)} · rules passing by layer: {summary or 'no results yet'}</p></header>
<main>
<section><h2>Score per table</h2>{_table(["layer", "table", "rules", "passing"], scores, "No validation results yet.")}</section>
<section><h2>Trend over runs</h2>{_trend_svg(data.trend)}</section>
<section><h2>Top failing rules</h2>{_table(["table", "rule", "severity", "rows failed"], failing, "Every rule passed in the latest run.")}</section>
<section><h2>Quarantine by rule</h2>{_table(["layer", "table", "rule", "rows"], quarantine, "Nothing is quarantined.")}</section>
<section><h2>Freshness per source</h2>{_table(["source", "measure", "age / SLA", "state"], fresh, "No source has loaded yet.")}</section>
<section><h2>Feature drift (PSI, warning above 0.2)</h2>{_table(["feature", "PSI", "state"], drift, "No feature history yet.")}</section>
<section><h2>Monitor warnings</h2>{_table(["monitor", "subject", "what changed"], fired, "No monitor fired in the latest run.")}</section>
</main></body></html>
"""
