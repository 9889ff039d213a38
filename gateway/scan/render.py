"""Reports for people: a terminal table and Markdown (JSON is the report model itself)."""

from __future__ import annotations

from gateway.scan.report import ScanReport

MAX_ROWS_SHOWN = 20


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:MAX_ROWS_SHOWN])
    return shown + (f" … (+{len(lines) - MAX_ROWS_SHOWN})" if len(lines) > MAX_ROWS_SHOWN else "") or "-"


def as_table(report: ScanReport) -> str:
    rows = [
        ("verdict", f"{report.verdict} ({report.reason})"),
        ("rows", str(report.rows_total)),
        ("flagged lines", _lines(report.flagged_lines)),
        ("borderline lines", _lines(report.borderline_lines)),
        ("dropped lines", _lines(report.dropped_lines)),
        ("safety-data rows", str(report.safety_data_lines)),
        ("by category", ", ".join(f"{k}={v}" for k, v in sorted(report.summary.items())) or "-"),
        ("findings", f"{report.findings_total} ({report.untrained_findings} on weight-0 turns)"),
        ("time", f"{report.timings.get('total', 0):.2f} s"),
    ]
    for finding in report.dataset_findings:
        rows.append((f"dataset: {finding.category}", f"{finding.score:.2f} {finding.evidence}"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def as_markdown(report: ScanReport) -> str:
    out = [
        "# Training file scan",
        "",
        f"**Verdict: {report.verdict}** — {report.reason}",
        "",
        "| | |",
        "|---|---|",
        f"| rows | {report.rows_total} |",
        f"| flagged lines | {_lines(report.flagged_lines)} |",
        f"| borderline lines | {_lines(report.borderline_lines)} |",
        f"| dropped lines | {_lines(report.dropped_lines)} |",
        f"| safety-data rows | {report.safety_data_lines} |",
        f"| policy | {report.policy.get('name')} ({report.policy.get('version')}) |",
        "",
    ]
    if report.summary:
        out += ["## Flagged rows by category", "", "| category | rows |", "|---|---|"]
        out += [f"| {name} | {count} |" for name, count in sorted(report.summary.items())] + [""]
    if report.dataset_findings:
        out += [
            "## Dataset findings",
            "",
            "| detector | category | score | rows | evidence |",
            "|---|---|---|---|---|",
        ]
        for f in report.dataset_findings:
            evidence = f.evidence.replace("|", "/")
            out.append(f"| {f.detector} | {f.category} | {f.score:.2f} | {len(f.lines)} | {evidence} |")
        out.append("")
    if report.findings:
        out += [
            "## Findings (first 50)",
            "",
            "| line | segment | classifier | category | score | decoded |",
            "|---|---|---|---|---|---|",
        ]
        for f in report.findings[:50]:
            decoded = f.decoded_from or ""
            out.append(f"| {f.line} | {f.path} | {f.classifier} | {f.category} | {f.score:.2f} | {decoded} |")
    return "\n".join(out) + "\n"
