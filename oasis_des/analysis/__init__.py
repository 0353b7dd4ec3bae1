"""Measurements of a run database: cascades, propagation, herd effect, polarisation,
activity and the follow graph, as plain tables (CSV, or pandas when installed).

Every function takes a run database: a path (opened read-only) or an open sqlite3
connection. See docs/analysis.md.
"""

from oasis_des.analysis.activity import (
    action_mix,
    actions_per_bin,
    agent_activity,
    gap_distribution,
    inter_event_times,
)
from oasis_des.analysis.cascades import (
    Cascade,
    cascade_of,
    cascade_table,
    cascades,
    structural_virality,
)
from oasis_des.analysis.graph_metrics import degree_distribution, follow_graph, graph_summary
from oasis_des.analysis.herd import herd_scores, herd_summary, initial_vote_groups
from oasis_des.analysis.polarization import (
    bimodality_coefficient,
    extremity,
    polarization_over_time,
    stance_histogram,
    stance_variance,
    written_stances,
)
from oasis_des.analysis.propagation import (
    compare_to_real,
    load_real_propagation,
    normalised_rmse,
    propagation,
)
from oasis_des.analysis.source import connect, run_meta
from oasis_des.analysis.tables import Table

__all__ = [
    "Cascade", "Table", "action_mix", "actions_per_bin", "agent_activity",
    "bimodality_coefficient", "cascade_of", "cascade_table", "cascades", "compare_to_real", "connect",
    "degree_distribution", "extremity", "follow_graph", "gap_distribution", "graph_summary",
    "herd_scores", "herd_summary", "initial_vote_groups", "inter_event_times",
    "load_real_propagation", "normalised_rmse", "polarization_over_time", "propagation",
    "run_meta", "stance_histogram", "stance_variance", "structural_virality", "written_stances",
]
