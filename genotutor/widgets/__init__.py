"""ipywidgets explorers: thin views over genotutor's functions, with no computation of
their own.

Every explorer takes the reader's own PyTorch model and sequences (any ``nn.Module``
mapping ``(N, 4, L)`` to ``(N, T)``), not only the book's. Controls are wired with
``observe`` rather than ``interact`` (which was seen to stall notebook execution), and a
bad value shows a message inside the widget instead of a traceback
(:func:`genotutor.widgets._base.render_into`).

On a static page of the book the explorers show the state they were built in; run the
chapter as a notebook for them to compute. One module per chapter's explorer.
"""

from genotutor.widgets._base import display_message, render_into
from genotutor.widgets.attention import AttentionExplorer, attention_explorer
from genotutor.widgets.attribution import AttributionExplorer, attribution_explorer
from genotutor.widgets.filters import FilterExplorer, filter_explorer
from genotutor.widgets.mutation import MutationExplorer, mutation_explorer
from genotutor.widgets.priors import PriorExplorer, prior_explorer
from genotutor.widgets.splicing import SplicingExplorer, splicing_explorer
from genotutor.widgets.surrogate import SurrogateExplorer, surrogate_explorer

__all__ = [
    "AttentionExplorer",
    "attention_explorer",
    "AttributionExplorer",
    "attribution_explorer",
    "FilterExplorer",
    "filter_explorer",
    "MutationExplorer",
    "PriorExplorer",
    "SurrogateExplorer",
    "display_message",
    "mutation_explorer",
    "prior_explorer",
    "render_into",
    "SplicingExplorer",
    "splicing_explorer",
    "surrogate_explorer",
]
