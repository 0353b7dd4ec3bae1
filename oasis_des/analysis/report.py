"""A self-contained HTML report of one run: key numbers, plots (inline SVG) and the config.

One file with no external assets, so it can be mailed, archived next to the database or
opened offline. Every plot is built from the analysis functions of this package.
"""

from __future__ import annotations

import json
import math
import sqlite3
from html import escape
from pathlib import Path

import igraph as ig
import numpy as np

from oasis_des import __version__
from oasis_des.analysis.activity import (
    action_mix,
    actions_per_bin,
    gap_distribution,
    inter_event_times,
)
from oasis_des.analysis.cascades import Cascade, cascade_table, cascades
from oasis_des.analysis.graph_metrics import degree_distribution, follow_graph, graph_summary
from oasis_des.analysis.polarization import polarization_over_time, stance_histogram
from oasis_des.analysis.propagation import propagation
from oasis_des.analysis.source import RunDB, connect, run_meta
from oasis_des.analysis.svg import Line, bar_chart, heatmap, line_chart
from oasis_des.analysis.tables import Table

TOP_ACTIONS = 6  # action types drawn over time (the rest are in the total)
TOP_CASCADES = 10


def report_path(db_path: str | Path) -> Path:
    """Where `oasis-des report` writes by default: the database's name with .html."""
    return Path(db_path).with_suffix(".html")


def write_report(db: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of the run database `db` to `out` (default: next to it)."""
    target = Path(out) if out is not None else report_path(db)
    html = build_report(db, title=Path(db).name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def build_report(db: RunDB, *, title: str = "run") -> str:
    """The report as one HTML string."""
    with connect(db) as conn:  # opened once for every measure
        return _build(conn, title)


def _build(conn: sqlite3.Connection, title: str) -> str:
    meta = run_meta(conn)
    span = float(conn.execute("SELECT COALESCE(MAX(sim_time), 0) FROM trace").fetchone()[0])
    counts = {
        table: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        for table in ("user", "post", "comment", "like", "dislike", "follow")
    }
    duration = float(meta.get("config", {}).get("time", {}).get("duration", span)) or span
    bin_minutes = 60.0 if duration > 360 else 10.0
    found = cascades(conn)
    graph = follow_graph(conn)
    graph_table = graph_summary(graph)
    mix = action_mix(conn)
    polar = polarization_over_time(conn, bin_minutes=bin_minutes)
    sections = [
        _section("Key numbers", _key_numbers(meta, counts, mix, found, polar, graph_table, span)),
        _section("Activity over time", _activity(conn, bin_minutes)),
        _section("Action mix", _action_mix(mix)),
        _section("Cascades", _cascades(found, duration)),
        _section("Opinions over time", _opinions(conn, polar, bin_minutes)),
        _section("Follow graph", _graph(graph, graph_table)),
        _section("Inter-event times", _gaps(conn)),
        _section("Configuration", f"<pre>{escape(json.dumps(meta, indent=2, sort_keys=True))}</pre>"),
    ]
    return _page(title, "\n".join(sections))


def _key_numbers(
    meta: dict, counts: dict[str, int], mix: Table, found: list[Cascade],
    polar: Table, graph_table: Table, span: float,
) -> str:
    actions = dict(zip(mix.column("action"), mix.column("count")))
    largest = max(found, key=lambda c: (c.scale, -c.root_post_id), default=None)
    variance = [v for v in polar.column("variance") if not math.isnan(v)]
    graph = dict(zip(graph_table.column("measure"), graph_table.column("value")))
    config = meta.get("config", {})
    rows = [
        ("platform", meta.get("platform_kind", config.get("platform", {}).get("kind", "?"))),
        ("agents", meta.get("agents", counts["user"])),
        ("seed", meta.get("seed", "?")),
        ("policy", config.get("policy", {}).get("model", "?")),
        ("time mode / activation", " / ".join(
            str(config.get(k, {}).get(f, "?")) for k, f in (("time", "mode"), ("activation", "model"))
        )),
        ("simulated time reached", f"{span / 60:.2f} h"),
        ("actions (without sign-ups)", sum(actions.values())),
        ("activations (refreshes)", actions.get("refresh", 0)),
        ("posts / comments", f"{counts['post']:,} / {counts['comment']:,}"),
        ("likes / dislikes", f"{counts['like']:,} / {counts['dislike']:,}"),
        ("follows", counts["follow"]),
        ("cascades (posts shared at least once)", len(found)),
        ("largest cascade: scale / depth / max breadth",
         f"{largest.scale} / {largest.depth} / {largest.max_breadth}" if largest else "—"),
        ("stance variance, last bin", f"{variance[-1]:.3f}" if variance else "—"),
        ("follow reciprocity", f"{graph['reciprocity']:.3f}"),
        ("package version (run / report)", f"{meta.get('package_version', '?')} / {__version__}"),
    ]
    return _html_table(Table(("measure", "value"), rows))


def _activity(conn: sqlite3.Connection, bin_minutes: float) -> str:
    table = actions_per_bin(conn, bin_minutes=bin_minutes)
    if not len(table):
        return "<p>No actions.</p>"
    hours = [s / 60 for s in table.column("start")]
    names = sorted(table.columns[2:], key=lambda a: -sum(table.column(a)))[:TOP_ACTIONS]
    lines = [Line("total", hours, table.column("total"))]
    lines += [Line(a, hours, table.column(a)) for a in names]
    return line_chart(
        lines, title=f"Actions per {_bin_label(bin_minutes)}", xlabel="simulated hours (bin start)",
        ylabel="actions",
    )


def _action_mix(mix: Table) -> str:
    if not len(mix):
        return "<p>No actions.</p>"
    chart = bar_chart(mix.column("action"), mix.column("count"), title="Actions by type",
                      xlabel="count")
    return chart + _html_table(mix)


def _cascades(found: list[Cascade], duration: float) -> str:
    if not found:
        return "<p>No reposts or quotes in this run.</p>"
    ranked = sorted(found, key=lambda c: (-c.scale, c.root_post_id))
    largest = ranked[0]
    horizon = max(math.floor(duration - largest.start), 0)
    series = propagation(largest, minutes=horizon)
    minutes = series.column("minute")
    growth = line_chart(
        [Line(m, minutes, series.column(m)) for m in ("scale", "max_breadth", "depth")],
        title=f"Largest cascade (post {largest.root_post_id}) over time",
        xlabel="minutes after the root post", ylabel="users / hops",
    )
    sizes = np.bincount([c.scale for c in found])
    present = np.flatnonzero(sizes)
    distribution = line_chart(
        [Line("cascades", present.tolist(), sizes[present].tolist(), points=True)],
        title="Cascade sizes", xlabel="scale (users)", ylabel="cascades", log_x=True, log_y=True,
    )
    top = cascade_table(ranked[:TOP_CASCADES])
    return growth + distribution + f"<h3>{min(TOP_CASCADES, len(found))} largest</h3>" + _html_table(top)


def _opinions(conn: sqlite3.Connection, polar: Table, bin_minutes: float) -> str:
    if not len(polar):
        return "<p>No posts, quotes or comments to read stances from.</p>"
    hist = stance_histogram(conn, bin_minutes=bin_minutes)
    starts = sorted(set(hist.column("start")))
    edges = sorted(set(hist.column("stance_low")) | set(hist.column("stance_high")))
    grid = {(s, lo): c for s, lo, _, c in hist.rows}
    counts = [[grid[(s, lo)] for lo in edges[:-1]] for s in starts]
    x_edges = [s / 60 for s in starts] + [(starts[-1] + bin_minutes) / 60]
    note = ("<p>Stances are read from what agents wrote (posts, quotes, comments) with the "
            "content-feature lexicon; each writer's mean stance per bin counts once. Agents' "
            "internal opinions are not stored in the database.</p>")
    hours = [s / 60 for s in polar.column("start")]
    measures = line_chart(
        [Line(m, hours, polar.column(m)) for m in ("variance", "bimodality", "extremity")],
        title="Polarisation measures", xlabel="simulated hours (bin start)", ylabel="value",
    )
    return note + heatmap(
        x_edges, edges, counts, title=f"Stance distribution per {_bin_label(bin_minutes)}",
        xlabel="simulated hours", ylabel="stance",
    ) + measures


def _graph(graph: ig.Graph, summary: Table) -> str:
    table = degree_distribution(graph)
    rows = [r for r in table.rows if r[0] > 0]
    chart = line_chart(
        [Line("in-degree", [r[0] for r in rows if r[1]], [r[1] for r in rows if r[1]], points=True),
         Line("out-degree", [r[0] for r in rows if r[2]], [r[2] for r in rows if r[2]], points=True)],
        title="Degree distribution (degree > 0)", xlabel="degree", ylabel="users",
        log_x=True, log_y=True,
    ) if rows else "<p>No follows.</p>"
    return chart + _html_table(summary)


def _gaps(conn: sqlite3.Connection) -> str:
    gaps = inter_event_times(conn)
    dist = gap_distribution(gaps)
    nonzero = [(math.sqrt(a * b), d) for a, b, c, d in dist.rows if c]
    if not nonzero:
        return "<p>No agent acted twice.</p>"
    chart = line_chart(
        [Line("all agents", [x for x, _ in nonzero], [d for _, d in nonzero], points=True)],
        title="Time between an agent's decisions", xlabel="minutes", ylabel="density",
        log_x=True, log_y=True,
    )
    return chart + f"<p>{len(gaps):,} gaps; median {np.median(gaps):.1f} min, mean {gaps.mean():.1f} min.</p>"


def _bin_label(bin_minutes: float) -> str:
    return "hour" if bin_minutes == 60 else f"{bin_minutes:g} minutes"


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: object) -> str:
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:,.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>\n{body}\n</section>"


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>oasis_des report: {escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 960px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
svg {{ display: block; margin: 0.5em 0; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 12px; }}
</style>
</head>
<body>
<h1>oasis_des report: {escape(title)}</h1>
{body}
</body>
</html>
"""
