"""Model-based interpretation: filters as motifs, global importance analysis, motif
discovery from attributions. (The models chapters 3 and 4 interpret are
:mod:`genotutor.studies.planted`.)

Taught in chapter 3 ("Model-based interpretation") and chapter 4 ("What attributions
cannot tell you").
"""

from genotutor.interpret.filters import (
    FilterPWMs,
    ablate_filters,
    filter_activations,
    filters_to_pwms,
    match_filters,
    rescale_filter,
)
from genotutor.interpret.gia import GlobalImportance, embed, global_importance, spacing_curve
from genotutor.interpret.seqlets import SeqletClusters, cluster_seqlets, extract_seqlets

__all__ = [
    "FilterPWMs",
    "ablate_filters",
    "GlobalImportance",
    "SeqletClusters",
    "cluster_seqlets",
    "embed",
    "extract_seqlets",
    "filter_activations",
    "filters_to_pwms",
    "global_importance",
    "match_filters",
    "rescale_filter",
    "spacing_curve",
]
