"""The explorers: ipywidgets controls over a view that draws in the browser.

Every explorer is a view over a table that a library or study function computed, for the
reader's own PyTorch model and sequences as for the book's (any ``nn.Module`` mapping
``(N, 4, L)`` to ``(N, T)``): ``MutationExplorer(mutation_table(model, x), x)``. The table
holds the results over every value the explorer's controls can take; the explorer runs
nothing, it packs the table into its view (:mod:`genotutor.widgets._view`, an anywidget
whose ES module in ``genotutor/widgets/js`` draws the summary and an SVG figure). Each
control is linked to the view in the browser, so the same explorer works in a running
notebook and on the book's static page, offline, with no kernel. Inputs are checked when
the explorer is built; a value the view cannot show is reported in red inside it.

- :class:`MutationExplorer`: :func:`genotutor.attribution.mutation_table` (chapter 1)
- :class:`AttributionExplorer`: :func:`genotutor.attribution.attribution_table` (chapter 2)
- :class:`FilterExplorer`: :func:`genotutor.interpret.filter_table` (chapter 3)
- :class:`MotifExplorer`: ``discover_motifs``, ``match_motifs``, ``find_instances``
  (chapter 4)
- :class:`AttentionExplorer`: :func:`genotutor.interpret.attention_table` (chapter 6)
- :class:`PriorExplorer`: :func:`genotutor.attribution.attribution_tracks` (chapter 7)
- :class:`SurrogateExplorer`: :func:`genotutor.surrogate.surrogate_grid` (chapter 8)
- :class:`SplicingExplorer`: :func:`genotutor.splicing.edit_table` (chapters 9, 10)
- :class:`VariantExplorer`: :func:`genotutor.variants.spliceai_tracks` (chapter 11)

One module per chapter's explorer.
"""

from genotutor.widgets.attention import AttentionExplorer
from genotutor.widgets.attribution import AttributionExplorer
from genotutor.widgets.filters import FilterExplorer
from genotutor.widgets.motifs import MotifExplorer
from genotutor.widgets.mutation import MutationExplorer
from genotutor.widgets.priors import PriorExplorer
from genotutor.widgets.splicing import SplicingExplorer
from genotutor.widgets.surrogate import SurrogateExplorer
from genotutor.widgets.variants import VariantExplorer

__all__ = [
    "AttentionExplorer",
    "AttributionExplorer",
    "FilterExplorer",
    "MotifExplorer",
    "MutationExplorer",
    "PriorExplorer",
    "SplicingExplorer",
    "SurrogateExplorer",
    "VariantExplorer",
]
