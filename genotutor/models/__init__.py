"""Small sequence-to-function CNNs: ``(N, 4, L)`` one-hot DNA to ``(N, T)`` logits.

Every nonlinearity is its own module, never reused between layers: hook-based attribution
methods (captum's DeepLIFT, genotutor's own rules) attach to modules, and a shared module
would mix the layers up.

The CNN + attention model and the transparent architectures of chapter 6 live in
:mod:`genotutor.models.attention` and :mod:`genotutor.models.transparent`, re-exported here.

Taught in chapter 1 (the DeepBind- and Basset-style nets), chapter 3 (exponential
first-layer activations), chapter 6 (attention, transparent models).
"""

from genotutor.models.attention import AttentionCNN, MultiHeadSelfAttention
from genotutor.models.cnn import (
    ACTIVATIONS,
    Basset,
    DeepBind,
    Exponential,
    ProfileNet,
    ResidualBlock,
    bpnet_loss,
    profile_score,
)
from genotutor.models.transparent import TransparentNet, WithFreeTerm

__all__ = [
    "ACTIVATIONS",
    "AttentionCNN",
    "Basset",
    "DeepBind",
    "Exponential",
    "MultiHeadSelfAttention",
    "ProfileNet",
    "ResidualBlock",
    "TransparentNet",
    "WithFreeTerm",
    "bpnet_loss",
    "profile_score",
]
