"""Model-based interpretation: filters as motifs, global importance analysis, motif
discovery from attributions (TF-MoDISco through modisco-lite), unit ablation, attention
maps. (The models chapters 3 and 5 interpret are :mod:`genotutor.studies.planted`.)

Taught in chapter 3 ("Model-based interpretation"), chapter 5 ("What attributions
cannot tell you"; unit ablation, :mod:`genotutor.interpret.ablation`) and chapter 6
(attention maps, :mod:`genotutor.interpret.attention`); motif discovery with
TF-MoDISco in chapter 4 (:mod:`genotutor.interpret.modisco`). The explorers' tables
are in :mod:`genotutor.interpret.tables`.
"""

from genotutor.interpret.ablation import ablate_filters, ablation_effects, motif_response
from genotutor.interpret.attention import (
    attention_auroc,
    attention_condition_number,
    attention_layers,
    attention_maps,
    equivalent_attention,
    predict_with_attention,
)
from genotutor.interpret.filters import (
    FilterPWMs,
    filter_activations,
    filters_to_pwms,
    match_filters,
    match_thresholds,
    rescale_filter,
)
from genotutor.interpret.gia import (
    GlobalImportance,
    global_importance,
    insert_motifs,
    spacing_curve,
)
from genotutor.interpret.modisco import Pattern, discover_motifs, seqlet_recovery
from genotutor.interpret.seqlets import extract_seqlets
from genotutor.interpret.tables import AttentionTable, FilterTable, attention_table, filter_table

__all__ = [
    "AttentionTable",
    "FilterTable",
    "attention_table",
    "filter_table",
    "ablation_effects",
    "motif_response",
    "attention_auroc",
    "attention_condition_number",
    "attention_layers",
    "attention_maps",
    "equivalent_attention",
    "predict_with_attention",
    "FilterPWMs",
    "ablate_filters",
    "GlobalImportance",
    "Pattern",
    "discover_motifs",
    "insert_motifs",
    "extract_seqlets",
    "filter_activations",
    "filters_to_pwms",
    "global_importance",
    "match_filters",
    "match_thresholds",
    "rescale_filter",
    "seqlet_recovery",
    "spacing_curve",
]
