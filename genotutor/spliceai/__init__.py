"""SpliceAI without TensorFlow: the architecture in PyTorch, the trained weights read from
the user's ``spliceai`` package, context reuse for many inserts in one gene, and reporters
that score exons placed in a fixed context.

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from genotutor.spliceai.context import ContextSpliceAI
from genotutor.spliceai.model import SpliceAI, SpliceAIEnsemble, SpliceAILogits, predict_sites
from genotutor.spliceai.reporter import Reporter, ReporterTeacher, make_reporter
from genotutor.spliceai.weights import load_spliceai, spliceai_weight_files

__all__ = [
    "ContextSpliceAI",
    "Reporter",
    "ReporterTeacher",
    "SpliceAI",
    "SpliceAIEnsemble",
    "SpliceAILogits",
    "load_spliceai",
    "make_reporter",
    "predict_sites",
    "spliceai_weight_files",
]
