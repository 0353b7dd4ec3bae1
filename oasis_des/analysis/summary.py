"""A handful of headline measures of a run, one number each (for sweep summaries)."""

from __future__ import annotations

import math

import numpy as np

from oasis_des.analysis.cascades import cascades
from oasis_des.analysis.graph_metrics import follow_graph
from oasis_des.analysis.polarization import (
    bimodality_coefficient,
    mean_by_writer,
    stance_variance,
    written_stances,
)
from oasis_des.analysis.source import RunDB, connect


def key_metrics(db: RunDB) -> dict[str, float | int]:
    """Cascade sizes, writers' stance spread over the whole run, and follow reciprocity.

    - cascades: posts shared at least once; largest_cascade / max_depth: the largest scale
      and depth among them; mean_virality: mean structural virality of cascades of 2+ users;
    - stance_variance / stance_bimodality: over each writer's mean stance of the run;
    - reciprocity: share of follows that are returned.
    """
    with connect(db) as conn:  # opened once for every measure
        found = cascades(conn)
        texts = written_stances(conn)
        graph = follow_graph(conn)
        posts = conn.execute("SELECT COUNT(*) FROM post WHERE original_post_id IS NULL").fetchone()[0]
    virality = [c.structural_virality for c in found if c.scale >= 2]
    per_writer = mean_by_writer(
        np.asarray(texts.column("user_id")), np.asarray(texts.column("stance"), dtype=np.float64)
    )
    return {
        "posts": int(posts),
        "cascades": len(found),
        "largest_cascade": max((c.scale for c in found), default=0),
        "max_depth": max((c.depth for c in found), default=0),
        "mean_virality": float(np.mean(virality)) if virality else math.nan,
        "stance_variance": stance_variance(per_writer),
        "stance_bimodality": bimodality_coefficient(per_writer),
        "reciprocity": graph.reciprocity() if graph.ecount() else 0.0,
    }
