"""Splicing: a simulator with a known splicing code, teacher models, and SpliceAI in PyTorch.

Taught in chapter 7, "Distilling a splicing model".
"""
from genotutor.splicing.spliceai import SpliceAI, SpliceAIEnsemble, predict_sites  # noqa: F401
from genotutor.splicing.spliceai_weights import load_spliceai  # noqa: F401
