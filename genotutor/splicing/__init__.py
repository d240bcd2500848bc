"""Splicing: a simulator with a known splicing code, teacher models, and SpliceAI in PyTorch.

Taught in chapter 7, "Distilling a splicing model".
"""

from genotutor.splicing.features import FEATURES, count_feature, edit_feature  # noqa: F401
from genotutor.splicing.simulator import (  # noqa: F401
    Layout,
    SplicingCode,
    SplicingSet,
    TruthModel,
    genome_5ss,
    genome_donor_pwm,
    plant_hairpin,
    reporter_sequences,
    simulate_splicing,
)
from genotutor.splicing.spliceai import SpliceAI, SpliceAIEnsemble, predict_sites  # noqa: F401
from genotutor.splicing.spliceai_context import ContextSpliceAI  # noqa: F401
from genotutor.splicing.spliceai_weights import load_spliceai  # noqa: F401
from genotutor.splicing.teachers import (  # noqa: F401
    GenomeTeacher,
    SpliceSiteNet,
    Teacher,
    genome_decoys,
    genome_splice_model,
    splicing_cnn,
    splicing_teacher,
)
