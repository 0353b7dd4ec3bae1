"""Small inline-SVG charts for the HTML report: lines (or points), bars and heatmaps.

Plain strings, no plotting library, so a report opens anywhere and the package needs no
graphics dependency. Axes are linear or log10; ticks are 1-2-5 steps or powers of ten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 30, 44


@dataclass(frozen=True)
class Line:
    """One plotted series; `points=True` draws markers instead of a line.

    `low` and `high` (same length as `x`) shade a band around it, e.g. the range over seeds.
    """

    label: str
    x: Sequence[float]
    y: Sequence[float]
    points: bool = False
    dashed: bool = False
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None


class _Axis:
    def __init__(
        self, values: Sequence[float], lo_px: float, hi_px: float, log: bool, exact: bool = False
    ) -> None:
        finite = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
            lo, hi = math.floor(lo), max(math.ceil(hi), math.floor(lo) + 1)
        elif lo == hi:
            lo, hi = lo - 1.0, hi + 1.0
        self.lo, self.hi, self.log = lo, hi, log
        self.lo_px, self.hi_px = lo_px, hi_px
        if not log:
            self.step = _nice_step((hi - lo) / 6)
            if not exact:
                self.lo = math.floor(lo / self.step) * self.step
                self.hi = math.ceil(hi / self.step) * self.step

    def __call__(self, v: float) -> float:
        v = math.log10(v) if self.log else v
        return self.lo_px + (v - self.lo) / (self.hi - self.lo) * (self.hi_px - self.lo_px)

    def ok(self, v: float) -> bool:
        return math.isfinite(v) and (v > 0 or not self.log)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            return [(10.0**e, _fmt(10.0**e)) for e in range(int(self.lo), int(self.hi) + 1)]
        first = math.ceil(self.lo / self.step - 1e-9)
        last = math.floor(self.hi / self.step + 1e-9)
        return [(i * self.step, _fmt(i * self.step)) for i in range(first, last + 1)]


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    log_y: bool = False,
) -> str:
    """An SVG chart of one or more series with axes, ticks and a legend."""
    xs = [float(v) for ln in lines for v in ln.x]
    ys = [float(v) for ln in lines for v in (*ln.y, *(ln.low or ()), *(ln.high or ()))]
    if not log_y:
        ys.append(0.0)  # counts and rates read best from a zero baseline
    ax = _Axis(xs, LEFT, WIDTH - RIGHT, log_x)
    ay = _Axis(ys, HEIGHT - BOTTOM, TOP, log_y)
    parts = [_frame(title, xlabel, ylabel), _ticks(ax, ay)]
    for i, ln in enumerate(lines):
        color = PALETTE[i % len(PALETTE)]
        if ln.low is not None and ln.high is not None:
            edge = [(ax(float(x)), ay(float(y))) for x, y in zip(ln.x, ln.low)]
            edge += [(ax(float(x)), ay(float(y))) for x, y in reversed(list(zip(ln.x, ln.high)))]
            outline = " ".join(f"{x:.1f},{y:.1f}" for x, y in edge)
            parts.append(f'<polygon points="{outline}" fill="{color}" fill-opacity="0.2" stroke="none"/>')
        pts = [(ax(float(x)), ay(float(y))) for x, y in zip(ln.x, ln.y)
               if ax.ok(float(x)) and ay.ok(float(y))]
        if ln.points:
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in pts)
        elif pts:
            dash = ' stroke-dasharray="5,3"' if ln.dashed else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                         f'stroke-width="1.6"{dash}/>')
        parts.append(_legend_entry(i, ln.label, color))
    return _svg(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str) -> str:
    """Horizontal bars, one per label, in the given order."""
    row = 18
    height = TOP + BOTTOM + row * max(len(labels), 1)
    left = 130
    ax = _Axis([0.0, *map(float, values)], left, WIDTH - 40, False)
    parts = [f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    for value, label in ax.ticks():
        x = ax(value)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - BOTTOM + 14}" text-anchor="middle">{label}</text>')
    for i, (label, value) in enumerate(zip(labels, values)):
        y = TOP + i * row
        w = ax(float(value)) - left
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{max(w, 0):.1f}" height="{row - 4}" '
                     f'fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(float(value))}</title></rect>')
        parts.append(f'<text x="{left - 6}" y="{y + row - 5}" text-anchor="end">{escape(label)}</text>')
    parts.append(f'<text x="{(left + WIDTH - 40) / 2}" y="{height - 8}" text-anchor="middle">{escape(xlabel)}</text>')
    return _svg(parts, height)


def heatmap(
    x_edges: Sequence[float],
    y_edges: Sequence[float],
    counts: Sequence[Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> str:
    """Cells counts[i][j] over [x_edges[i], x_edges[i+1]) × [y_edges[j], y_edges[j+1]).

    Each column is shaded by its own share (a distribution per time bin), so quiet and busy
    hours compare by shape.
    """
    ax = _Axis([float(x_edges[0]), float(x_edges[-1])], LEFT, WIDTH - RIGHT, False, exact=True)
    ay = _Axis([float(y_edges[0]), float(y_edges[-1])], HEIGHT - BOTTOM, TOP, False, exact=True)
    parts = [_frame(title, xlabel, ylabel)]
    for i, column in enumerate(counts):
        total = float(sum(column)) or 1.0
        x0, x1 = ax(float(x_edges[i])), ax(float(x_edges[i + 1]))
        for j, c in enumerate(column):
            y0, y1 = ay(float(y_edges[j + 1])), ay(float(y_edges[j]))
            share = float(c) / total
            shade = int(255 - 200 * share)
            parts.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0 + 0.3:.1f}" height="{y1 - y0:.1f}" '
                f'fill="rgb({shade},{shade},255)"><title>{_fmt(float(c))} ({share:.0%})</title></rect>'
            )
    parts.append(_ticks(ax, ay, grid=False))
    return _svg(parts)


def _svg(parts: list[str], height: int = HEIGHT) -> str:
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">\n{body}\n</svg>')


def _frame(title: str, xlabel: str, ylabel: str) -> str:
    mid_y = (TOP + HEIGHT - BOTTOM) / 2
    return (
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="18" text-anchor="middle" '
        f'font-weight="bold">{escape(title)}</text>'
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(xlabel)}</text>'
        f'<text x="14" y="{mid_y}" text-anchor="middle" transform="rotate(-90 14 {mid_y})">'
        f"{escape(ylabel)}</text>"
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - RIGHT - LEFT}" height="{HEIGHT - BOTTOM - TOP}" '
        'fill="none" stroke="#999"/>'
    )


def _ticks(ax: _Axis, ay: _Axis, grid: bool = True) -> str:
    out = []
    for value, label in ax.ticks():
        x = ax(value)
        if grid:
            out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{label}</text>')
    for value, label in ay.ticks():
        y = ay(value)
        if grid:
            out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return "".join(out)


def _legend_entry(i: int, label: str, color: str) -> str:
    x, y = WIDTH - RIGHT + 10, TOP + 8 + 16 * i
    return (f'<rect x="{x}" y="{y - 8}" width="12" height="8" fill="{color}"/>'
            f'<text x="{x + 17}" y="{y}">{escape(label)}</text>')


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:.6g}"
