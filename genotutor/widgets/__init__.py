"""The explorers: ipywidgets controls over a view that draws in the browser.

Every explorer takes the reader's own PyTorch model and sequences (any ``nn.Module``
mapping ``(N, 4, L)`` to ``(N, T)``), not only the book's. When it is built, it computes
its results over every value its controls can take (in Python, with genotutor's own
functions) and hands them to its view (:mod:`genotutor.widgets._view`, an anywidget whose
ES module in ``genotutor/widgets/js`` draws the summary and an SVG figure). Each control
is linked to the view in the browser, so the same explorer works in a running notebook
and on the book's static page, offline, with no kernel. Inputs are checked when the
explorer is built; a value the view cannot show is reported in red inside it.

One module per chapter's explorer.
"""

from genotutor.widgets.attention import AttentionExplorer, attention_explorer
from genotutor.widgets.attribution import AttributionExplorer, attribution_explorer
from genotutor.widgets.filters import FilterExplorer, filter_explorer
from genotutor.widgets.motifs import MotifExplorer
from genotutor.widgets.mutation import MutationExplorer, mutation_explorer
from genotutor.widgets.priors import PriorExplorer, prior_explorer
from genotutor.widgets.splicing import SplicingExplorer, splicing_explorer
from genotutor.widgets.surrogate import SurrogateExplorer, surrogate_explorer
from genotutor.widgets.variants import VariantExplorer

__all__ = [
    "AttentionExplorer",
    "attention_explorer",
    "AttributionExplorer",
    "attribution_explorer",
    "FilterExplorer",
    "filter_explorer",
    "MotifExplorer",
    "MutationExplorer",
    "PriorExplorer",
    "SurrogateExplorer",
    "mutation_explorer",
    "prior_explorer",
    "SplicingExplorer",
    "splicing_explorer",
    "surrogate_explorer",
    "VariantExplorer",
]
