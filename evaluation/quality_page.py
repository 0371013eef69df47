"""The quality report as one HTML page people would rather look at than read: the confusion matrix, each
category's precision and recall, the calibration of the confidence, and coverage against accuracy for
the abstention threshold. Self-contained (inline SVG and styles, no script, no dependency)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from evaluation.metrics import Report

_BINS = 10
_THRESHOLDS = [i / 20 for i in range(20)]
_STYLE = """
body{font:14px system-ui,sans-serif;margin:24px auto;max-width:1400px;padding:0 24px;color:#1b1f24}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}.figures span{margin-right:24px}
table{border-collapse:collapse}td,th{padding:4px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{font-weight:600}.matrix td{min-width:34px;text-align:center;font-size:12px}
.matrix thead th{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;font-size:12px}
.grid{display:flex;gap:36px;flex-wrap:wrap;align-items:flex-start}.plots>div{max-width:600px}
.bar{display:inline-block;height:10px;background:#2f6fb0;vertical-align:middle}
small{color:#57606a}
"""


@dataclass(frozen=True)
class Scored:
    """One text as the categorizer saw it: its true label, its top category and that one's probability."""

    gold: str
    top: str
    confidence: float


def _cell(n: int, most: int, diagonal: bool) -> str:
    shade = 0.85 * n / most if most else 0.0
    colour = f"rgba(47,111,176,{shade:.2f})" if diagonal else f"rgba(207,34,46,{min(1.0, 3 * shade):.2f})"
    text = "#fff" if shade > 0.5 else "#1b1f24"
    return f'<td style="background:{colour};color:{text}">{n or ""}</td>'


def confusion_table(report: Report) -> str:
    """The confusion matrix: true categories down, predicted across; right answers blue, mistakes red."""
    rows = list(report.confusion)
    columns = list(next(iter(report.confusion.values()), {}))
    most = max((n for row in report.confusion.values() for n in row.values()), default=0)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr><th>{escape(g)}</th>"
        + "".join(_cell(report.confusion[g][p], most, g == p) for p in columns)
        + "</tr>"
        for g in rows
    )
    return f'<table class="matrix"><thead><tr><th>true \\ predicted</th>{head}</tr></thead>{body}</table>'


def class_table(report: Report) -> str:
    """Precision, recall and F1 per category, with bars, and each category's rows."""

    def bar(value: float) -> str:
        return f'{value:.3f} <span class="bar" style="width:{value * 80:.0f}px"></span>'

    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{bar(s.precision)}</td><td>{bar(s.recall)}</td>"
        f"<td>{s.f1:.3f}</td><td>{s.support}</td></tr>"
        for label, s in report.per_class.items()
        if s.support
    )
    return f"<table><tr><th></th><th>precision</th><th>recall</th><th>F1</th><th>rows</th></tr>{rows}</table>"


def calibration(scored: list[Scored]) -> list[tuple[float, float, int]]:
    """Per confidence bin (tenths): the mean confidence, the share of top categories that were right, and
    how many texts fell in it (empty bins left out)."""
    bins: list[list[Scored]] = [[] for _ in range(_BINS)]
    for s in scored:
        bins[min(_BINS - 1, int(s.confidence * _BINS))].append(s)
    return [
        (sum(s.confidence for s in b) / len(b), sum(s.gold == s.top for s in b) / len(b), len(b))
        for b in bins
        if b
    ]


def coverage_curve(scored: list[Scored]) -> list[tuple[float, float, float]]:
    """Per threshold: the share of texts answered (confidence at least the threshold) and their accuracy."""
    curve = []
    for threshold in _THRESHOLDS:
        answered = [s for s in scored if s.confidence >= threshold]
        accuracy = sum(s.gold == s.top for s in answered) / len(answered) if answered else 1.0
        curve.append((threshold, len(answered) / len(scored) if scored else 0.0, accuracy))
    return curve


def _svg_plot(
    points: list[tuple[float, float]], title: str, x_label: str, y_label: str, diagonal: bool
) -> str:
    """A square line plot of points in [0, 1] x [0, 1], as inline SVG (the diagonal dashed when asked)."""
    size, pad = 300, 40
    xy = [(pad + x * size, pad + (1 - y) * size) for x, y in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in xy)
    corner = pad + size
    guide = f'<line x1="{pad}" y1="{corner}" x2="{corner}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>'
    ticks = "".join(
        f'<text x="{pad + t * size}" y="{corner + 16}" text-anchor="middle">{t:g}</text>'
        f'<text x="{pad - 6}" y="{pad + (1 - t) * size + 4}" text-anchor="end">{t:g}</text>'
        for t in (0, 0.5, 1)
    )
    middle = pad + size / 2
    return (
        f'<svg width="{size + 2 * pad}" height="{size + 2 * pad + 10}" font-size="11" fill="#1b1f24">'
        f'<text x="{pad}" y="16" font-weight="600">{escape(title)}</text>'
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#999"/>'
        f"{guide if diagonal else ''}{ticks}"
        f'<polyline points="{line}" fill="none" stroke="#2f6fb0" stroke-width="2"/>'
        f'<g fill="#2f6fb0">{dots}</g>'
        f'<text x="{middle}" y="{corner + 32}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{middle}" transform="rotate(-90 12 {middle})" text-anchor="middle">'
        f"{escape(y_label)}</text></svg>"
    )


def page(report: Report, scored: list[Scored], title: str, threshold: float, extras: dict[str, float]) -> str:
    """The whole report as one HTML document."""
    bins = calibration(scored)
    curve = coverage_curve(scored)
    at_threshold = next((c for c in curve if c[0] >= threshold), curve[-1])
    figures = (
        f"<span>accuracy <b>{report.accuracy:.3f}</b></span>"
        f"<span>macro-F1 <b>{report.macro_f1:.3f}</b></span>"
        f"<span>answered <b>{extras['coverage']:.1%}</b></span>"
        f"<span>accuracy when answered <b>{extras['accuracy_answered']:.3f}</b></span>"
        f"<span>naming the top category always <b>{extras['accuracy_forced']:.3f}</b></span>"
        f"<span>texts <b>{report.n}</b></span>"
    )
    calibration_svg = _svg_plot(
        [(c, a) for c, a, _ in bins], "calibration", "confidence (mean per tenth)", "share right", True
    )
    coverage_svg = _svg_plot(
        [(cov, acc) for _, cov, acc in curve],
        "coverage against accuracy",
        "share answered",
        "accuracy",
        False,
    )
    rows = "".join(
        f"<tr><td>{t:.2f}</td><td>{cov:.1%}</td><td>{acc:.3f}</td></tr>" for t, cov, acc in curve[::2]
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(title)}</h1><p class="figures">{figures}</p>
<div class="grid"><div><h2>Confusion matrix</h2>{confusion_table(report)}</div>
<div><h2>Per category</h2>{class_table(report)}</div></div>
<div class="grid plots"><div><h2>Is the confidence honest?</h2>{calibration_svg}
<p><small>Each point: the texts whose top probability fell in one tenth; on the dashed line a confidence
of 0.7 is right 7 times in 10.</small></p></div>
<div><h2>What a threshold costs</h2>{coverage_svg}
<p><small>Texts below the review threshold go to a person. At {threshold:.2f}
(TRIAGE_REVIEW_THRESHOLD): {at_threshold[1]:.1%} answered, {at_threshold[2]:.3f} of them right.</small></p>
<table><tr><th>threshold</th><th>answered</th><th>accuracy</th></tr>{rows}</table></div></div>
</body></html>
"""
