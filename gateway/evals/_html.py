"""The HTML rendering of an ``EvalReport``: one page a reviewer can open or attach anywhere.

Self-contained on purpose (inline CSS, an inline SVG chart, no scripts, no fonts or images
fetched): reports are read in ticket systems and air-gapped clusters. Every piece of text goes
through ``html.escape``: category names come from user-supplied benchmark files.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from gateway.evals.report import EvalReport, _ci, _delta, _label, _pct, _rate, _score, benchmarks_line
from gateway.evals.stats import CategoryResult

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:960px;
margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px}
.banner{padding:12px 16px;border-radius:6px;font-size:18px;font-weight:600;color:#fff}
.pass{background:#2e7d32}.fail{background:#c62828}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{color:#666}dd{margin:0}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px}
th{background:#f5f5f5;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666}svg text{font:12px system-ui,sans-serif;fill:#222}
"""
_CHART_TITLE = "Harmfulness rate per category, base vs fine-tuned model, with 95% intervals"
_BASE, _TUNED = "#90a4ae", "#d84315"
_LABEL_W, _PLOT_W, _RIGHT = 220, 440, 70
_BAR, _GAP, _GROUP_GAP, _TOP, _AXIS = 12, 3, 14, 34, 26


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bar(y: float, result: CategoryResult, colour: str, who: str) -> list[str]:
    x0 = _LABEL_W
    width = result.rate * _PLOT_W
    low, high = x0 + result.ci_low * _PLOT_W, x0 + result.ci_high * _PLOT_W
    mid = y + _BAR / 2
    tip = f"{who}: {_pct(result.rate)} ({result.harmful}/{result.n}), 95% CI {_ci(result)}"
    return [
        f'<rect x="{x0}" y="{y:.1f}" width="{width:.1f}" height="{_BAR}" fill="{colour}">'
        f"<title>{_e(tip)}</title></rect>",
        f'<line x1="{low:.1f}" y1="{mid:.1f}" x2="{high:.1f}" y2="{mid:.1f}" stroke="#222"/>',
        f'<line x1="{low:.1f}" y1="{y + 2:.1f}" x2="{low:.1f}" y2="{y + _BAR - 2:.1f}" stroke="#222"/>',
        f'<line x1="{high:.1f}" y1="{y + 2:.1f}" x2="{high:.1f}" y2="{y + _BAR - 2:.1f}" stroke="#222"/>',
        f'<text x="{max(x0 + width, high) + 4:.1f}" y="{mid + 4:.1f}">{_e(_pct(result.rate))}</text>',
    ]


def chart(report: EvalReport) -> str:
    """Grouped horizontal bars per category: base vs tuned harmfulness rate, each with its 95% CI."""
    groups = []
    for row in report.deltas:
        mine = report.tuned.worst_for(row.category)
        theirs = report.base.worst_for(row.category) if report.base else None
        pairs = ((theirs, _BASE, "base model"), (mine, _TUNED, "fine-tuned model"))
        bars = [(found[1], colour, f"{who} under {found[0]}") for found, colour, who in pairs if found]
        if bars:
            groups.append((_label(row.category), bars))
    heights = [len(bars) * _BAR + (len(bars) - 1) * _GAP + _GROUP_GAP for _, bars in groups]
    height = _TOP + sum(heights) + _AXIS
    width = _LABEL_W + _PLOT_W + _RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{_e(_CHART_TITLE)}</title>',
    ]
    legend = (
        [(_BASE, "Base model"), (_TUNED, "Fine-tuned model")]
        if report.base
        else [(_TUNED, "Fine-tuned model")]
    )
    x = 8
    for colour, text in legend:
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="18">{_e(text)}</text>')
        x += 24 + 7 * len(text)
    parts.append(f'<line x1="{x}" y1="14" x2="{x + 20}" y2="14" stroke="#222"/>')
    parts.append(f'<text x="{x + 24}" y="18">95% interval (worst variant of each model)</text>')
    bottom = height - _AXIS
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx = _LABEL_W + tick * _PLOT_W
        parts.append(f'<line x1="{tx:.1f}" y1="{_TOP - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle">{tick:.0%}</text>')
    y = float(_TOP)
    for (name, bars), group_height in zip(groups, heights, strict=True):
        block = group_height - _GROUP_GAP
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + block / 2 + 4:.1f}" text-anchor="end">'
            f"<title>{_e(name)}</title>{_e(_short(name))}</text>"
        )
        for result, colour, who in bars:
            parts += _bar(y, result, colour, who)
            y += _BAR + _GAP
        y += _GROUP_GAP - _GAP
    parts.append("</svg>")
    return "\n".join(parts)


def _table(headers: list[str], rows: list[list[tuple[str, bool]]]) -> str:
    """Cells are (text, numeric); text is escaped here."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{_e(t)}</td>' if n else f"<td>{_e(t)}</td>" for t, n in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tables(report: EvalReport) -> list[str]:
    categories = []
    for row in report.deltas:
        found = report.tuned.worst_for(row.category)
        result = found[1] if found else None
        categories.append(
            [
                (_label(row.category), False),
                (_rate(row.base_rate), True),
                (_rate(row.tuned_rate), True),
                (_delta(row.delta), True),
                (_ci(result), True),
                (_score(result), True),
                (row.tuned_variant or "–", False),
            ]
        )
    out = [
        "<h2>Harmfulness rate per category</h2>",
        '<p class="muted">Each model on its worst prompt variant for that category.</p>',
        _table(
            [
                "Category",
                "Base rate",
                "Tuned rate",
                "Delta",
                "Tuned 95% CI",
                "Mean score (1–5)",
                "Tuned variant",
            ],
            categories,
        ),
    ]
    variants = []
    for v in report.tuned.variants:
        theirs = report.base.variant(v.variant) if report.base else None
        variants.append(
            [
                (v.variant, False),
                (_pct(v.overall.rate), True),
                (_ci(v.overall), True),
                (_score(v.overall), True),
                (_pct(v.overall.refusal_rate), True),
                (_rate(theirs.overall.rate if theirs else None), True),
                (str(v.overall.n), True),
            ]
        )
    out += [
        "<h2>Per prompt variant (all harmful prompts)</h2>",
        _table(
            ["Variant", "Tuned rate", "Tuned 95% CI", "Mean score", "Refused", "Base rate", "n"], variants
        ),
    ]
    refusals = []
    for v in report.tuned.variants:
        if v.over_refusal is None:
            continue
        theirs = report.base.variant(v.variant) if report.base else None
        base_rate = theirs.over_refusal.refusal_rate if theirs and theirs.over_refusal else None
        mine = v.over_refusal
        refusals.append([(v.variant, False), (_pct(mine.refusal_rate), True), (_rate(base_rate), True)])
        refusals[-1].append((str(mine.n), True))
    if refusals:
        out += [
            "<h2>Over-refusal (benign prompts refused)</h2>",
            _table(["Variant", "Tuned", "Base", "n"], refusals),
        ]
    return out


def render(report: EvalReport) -> str:
    created = dt.datetime.fromtimestamp(report.created_at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "Passed" if report.verdict == "pass" else "Failed"
    meta = [
        ("Model", report.model),
        ("Base model", report.base_model),
        ("Job", report.job_id or "–"),
        ("Decision", report.decision or "–"),
        ("Judge", report.judge.get("name", "?")),
        ("Benchmarks", benchmarks_line(report)),
        ("Variants", ", ".join(report.variants)),
        ("Created", f"{created}, {report.seconds:.0f} s"),
    ]
    failures = "".join(f"<li>{_e(f)}</li>" for f in report.failures)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(f'Model gate: {verdict} – {report.model}')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Model gate report: {_e(report.model)}</h1>",
        f'<div class="banner {_e(report.verdict)}">{_e(verdict)}'
        + (f" – {_e(report.decision)}" if report.decision else "")
        + "</div>",
        "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta) + "</dl>",
        "<h2>Failures</h2>",
        f"<ul>{failures}</ul>" if failures else "<p>None: every threshold held.</p>",
        "<h2>Harmfulness rate, base vs fine-tuned</h2>",
        f"<figure>{chart(report)}</figure>",
        *_tables(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
