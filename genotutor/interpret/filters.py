"""First-layer filters read as motifs, and the ways that reading can mislead.

Taught in chapter 3 (filters to PWMs) and chapter 5 (filters are not identifiable).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.motifs import (
    best_matches,
    counts_to_probs,
    information_content,
    jaspar_motifs,
    motif_similarity,
    trim_motif,
)
from genotutor.progress import progress_bar
from genotutor.rows import Rows
from genotutor.sequences import (
    check_bool,
    check_choice,
    check_model,
    check_one_hot,
    check_positive_int,
)
from genotutor.training import predict
from genotutor.validation import check_device, check_number


@dataclass
class FilterPWMs(Rows):
    """Position weight matrices of first-layer filters, from the sequences that activate them.

    ``len`` and ``subset(index)`` (the filters at integer rows or a boolean mask) come
    from :class:`genotutor.rows.Rows`.

    Attributes
    ----------
    counts : np.ndarray, shape (F, 4, w)
        Base counts over the aligned activating windows of each filter.
    probs : np.ndarray, shape (F, 4, w)
        The counts normalised per column (with a pseudocount), A, C, G, T.
    n_sites : np.ndarray, shape (F,)
        How many windows were aligned for each filter.
    cutoffs : np.ndarray, shape (F,)
        Each filter's site threshold, on the scale of the scores it thresholds:
        ``threshold`` times the filter's largest score over all the sequences.
    scores : {"activation", "convolution"}
        Which scores the site rule thresholded (``filters_to_pwms``'s ``scores``).
    """

    counts: np.ndarray
    probs: np.ndarray
    n_sites: np.ndarray
    cutoffs: np.ndarray
    scores: str = "activation"

    ROW_FIELDS = ("probs", "counts", "n_sites", "cutoffs")  # one row per filter

    def information_content(self) -> np.ndarray:
        """Bits per position of every filter PWM, shape (F, w)."""
        return np.stack([information_content(p) for p in self.probs])

    def trimmed(self, *, min_information: float = 0.3) -> dict[int, np.ndarray]:
        """Each PWM without its uninformative flanks, by filter index (see ``trim_motif``)."""
        return {i: trim_motif(p, min_information=min_information) for i, p in enumerate(self.probs)}

    def summary(self) -> pd.DataFrame:
        """One row per filter: ``n_sites`` and total ``information`` (bits)."""
        return pd.DataFrame(
            {"n_sites": self.n_sites, "information": self.information_content().sum(axis=1)}
        ).rename_axis("filter")


def _first_conv(model: nn.Module) -> nn.Conv1d:
    conv = getattr(model, "first_conv", None)
    if not isinstance(conv, nn.Conv1d):
        raise TypeError(
            "model must have a `first_conv` attribute holding its first nn.Conv1d (as the "
            f"genotutor models do); found {type(conv).__name__}"
        )
    if conv.in_channels != 4 or conv.dilation[0] != 1 or conv.stride[0] != 1:
        raise ValueError(
            "model.first_conv must read the 4 bases with stride 1 and no dilation; found "
            f"in_channels={conv.in_channels}, stride={conv.stride}, dilation={conv.dilation}"
        )
    return conv


# what may sit between the first convolution and its activation map (eval mode)
_ACTIVATIONS = (nn.ReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Softplus,
                nn.LeakyReLU, nn.Identity)  # fmt: skip
_PASSED = (nn.BatchNorm1d, nn.Dropout)


def _activation_after(model: nn.Module, conv: nn.Conv1d) -> list[nn.Module]:
    """The leaf modules that follow ``conv`` in module order and make its activation map:
    batch norm, dropout (inactive in eval) and pointwise activations, up to the first
    other module (a pooling or another layer)."""
    from genotutor.models import Exponential

    chain, found = [], False
    for module in model.modules():
        if module is conv:
            found = True
        elif found and not any(True for _ in module.children()):
            if not isinstance(module, (*_ACTIVATIONS, *_PASSED, Exponential)):
                break
            chain.append(module)
    return chain


def filter_activations(
    model: nn.Module,
    x: torch.Tensor,
    *,
    activated: bool = False,
    batch_size: int | None = None,
    device: object = None,
    progress: bool = False,
) -> torch.Tensor:
    """Each first-layer filter's score at each position: ``model.first_conv`` on ``x``, or
    (``activated=True``) its activation map, with the batch norm and activation that follow
    the convolution applied (in eval mode).

    Parameters
    ----------
    model : torch.nn.Module
        A model with a ``first_conv`` attribute (every genotutor CNN).
    x : torch.Tensor, shape (N, 4, L)
    activated : bool
        Apply the modules after the convolution (see :func:`filters_to_pwms`).
    batch_size : int, optional
        Sequences per pass (all of ``x`` in one by default).
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    torch.Tensor, shape (N, F, L')
        Position ``i`` scores the window ``x[:, :, i - padding : i - padding + w]``.

    Taught in chapter 3.
    """
    conv = _first_conv(check_model(model))
    x = check_one_hot(x, "x")
    check_bool(activated, "activated")
    first_layer = nn.Sequential(conv, *(_activation_after(model, conv) if activated else []))
    size = len(x) if batch_size is None else check_positive_int(batch_size, "batch_size")
    return predict(first_layer, x, batch_size=size, device=device, progress=progress)


def filters_to_pwms(
    model: nn.Module,
    x: torch.Tensor,
    *,
    threshold: float = 0.5,
    scores: str = "activation",
    batch_size: int = 256,
    pseudocount: float = 0.5,
    device: object = None,
    progress: bool = True,
) -> FilterPWMs:
    """Turn each first-layer filter into a PWM by aligning the windows that activate it.

    The standard activation-alignment method (Kelley et al. 2016; Koo and Ploenzke 2021):
    a window of ``x`` is a site of filter ``f`` when the filter's **activation** there
    exceeds ``threshold`` times its largest activation over all of ``x`` (the Koo lab's
    rule); the sites are stacked and their bases counted column by column. The activation
    matters: for a ReLU, ``relu(z) > t max`` is ``z > t z_max``, but for an exponential
    ``exp(z) > t exp(z_max)`` is ``z > z_max + ln t``, a much narrower set of windows.

    Parameters
    ----------
    model : torch.nn.Module
        A model with a ``first_conv`` attribute.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences (positives, or a mix, of the task).
    threshold : float
        Fraction of each filter's maximum score, in (0, 1].
    scores : {"activation", "convolution"}
        Threshold the activation map (the Koo lab's rule, the default) or the convolution's
        output before the activation (to see what the choice changes).
    batch_size : int
        Sequences per batch.
    pseudocount : float
        Added to every count before normalising (a filter with no site gets a flat PWM).
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    FilterPWMs

    Taught in chapter 3.
    """
    conv = _first_conv(check_model(model))
    x = check_one_hot(x, "x")
    threshold = check_number(threshold, "threshold", minimum=0, maximum=1, inclusive=(False, True))
    batch_size = check_positive_int(batch_size, "batch_size")
    pseudocount = check_number(pseudocount, "pseudocount", minimum=0)
    width, pad = conv.kernel_size[0], conv.padding[0]
    if isinstance(pad, str):
        raise ValueError("model.first_conv must use integer padding; found a string padding")
    check_choice(scores, "scores", ("activation", "convolution"))
    check_device(device)
    check_bool(progress, "progress")
    activations = filter_activations(  # (N, F, L'), on x's device
        model, x, activated=scores == "activation", device=device, progress=False
    )
    best = activations.amax(dim=(0, 2))  # (F,)
    cutoff = torch.where(best > 0, threshold * best, best)[None, :, None]
    padded = nn.functional.pad(x, (pad, pad))
    counts = torch.zeros(conv.out_channels, 4, width, dtype=torch.float64)
    n_sites = torch.zeros(conv.out_channels, dtype=torch.long)
    batches = range(0, len(x), batch_size)
    for start in progress_bar(batches, desc="aligning sites", progress=progress):
        windows = padded[start : start + batch_size].unfold(-1, width, 1)  # (B, 4, L', w)
        sites = (activations[start : start + batch_size] >= cutoff).double()  # (B, F, L')
        counts += torch.einsum("bfl,bclw->fcw", sites, windows.double())
        n_sites += sites.sum(dim=(0, 2)).long()
    counts_np = counts.numpy()
    probs = np.stack([counts_to_probs(c, pseudocount=pseudocount) for c in counts_np])
    cutoffs = cutoff.reshape(-1).cpu().numpy()
    return FilterPWMs(counts_np, probs, n_sites.numpy(), cutoffs, scores)


def _kept(pwms: object, min_information: float, min_sites: int) -> dict[int, np.ndarray]:
    """The trimmed PWMs of the filters aligned from at least ``min_sites`` windows."""
    if not isinstance(pwms, FilterPWMs):
        raise TypeError(
            f"pwms must be a FilterPWMs (from filters_to_pwms); found {type(pwms).__name__}"
        )
    min_sites = check_positive_int(min_sites, "min_sites", minimum=0)
    return {
        i: p
        for i, p in pwms.trimmed(min_information=min_information).items()
        if pwms.n_sites[i] >= min_sites
    }


def match_thresholds(
    null_pwms: FilterPWMs | list[FilterPWMs],
    *,
    database: dict | None = None,
    metric: str = "pearson",
    min_information: float = 0.3,
    min_sites: int = 10,
) -> pd.Series:
    """The null of :func:`match_filters`, per motif: the best score any null filter reaches.

    The PWMs of untrained networks of the same architecture, aligned on the same
    sequences, learned nothing; the highest similarity any of them reaches against motif
    ``m`` is what chance gives against ``m``. It is taken per motif because chance matches
    some motifs far better than others: a short or palindromic motif (CREB1's TGACGTCA)
    is matched by a random filter much more closely than a long one (CTCF).

    Parameters
    ----------
    null_pwms : FilterPWMs or list of FilterPWMs
        From :func:`filters_to_pwms` on one or more untrained models.
    database, metric, min_information, min_sites
        As for :func:`match_filters` (use the same values).

    Returns
    -------
    pandas.Series
        Indexed by motif name: the best similarity any null filter reaches against it
        (pass it to ``match_filters(thresholds=...)``).

    Taught in chapter 3.
    """
    groups = null_pwms if isinstance(null_pwms, (list, tuple)) else [null_pwms]
    if not groups:
        raise ValueError("null_pwms is empty; expected a FilterPWMs or a list of them")
    kept = [q for pwms in groups for q in _kept(pwms, min_information, min_sites).values()]
    if not kept:
        raise ValueError(f"no null filter has at least min_sites={min_sites} sites")
    database = jaspar_motifs() if database is None else database
    best = {
        name: max(motif_similarity(q, motif, metric=metric).score for q in kept)
        for name, motif in database.items()
    }
    return pd.Series(best, name="threshold").rename_axis("motif")


def match_filters(
    pwms: FilterPWMs,
    *,
    database: dict | None = None,
    metric: str = "pearson",
    min_information: float = 0.3,
    min_sites: int = 10,
    thresholds: pd.Series | None = None,
) -> pd.DataFrame:
    """Best JASPAR match of every filter PWM (trimmed of flat flanks), with its score.

    Parameters
    ----------
    pwms : FilterPWMs
        From :func:`filters_to_pwms`.
    database : dict of str to Motif, optional
        Motifs to search; the shipped JASPAR table by default.
    metric : {"pearson", "euclidean"}
        See :func:`genotutor.motifs.motif_similarity`.
    min_information : float
        Flank trimming threshold in bits (see :func:`genotutor.motifs.trim_motif`).
    min_sites : int
        Filters aligned from fewer sites are left out (their PWM is mostly pseudocount).
    thresholds : pandas.Series, optional
        A null per motif, from :func:`match_thresholds`: adds the columns ``threshold``
        (of the matched motif) and ``above_null`` (the score beats it).

    Returns
    -------
    pandas.DataFrame
        One row per filter kept (index ``filter``): ``n_sites``, ``information`` (bits of
        the trimmed PWM), ``width``, the columns of :func:`genotutor.motifs.best_matches`
        and, with ``thresholds``, ``threshold`` and ``above_null``.

    Taught in chapter 3.
    """
    trimmed = _kept(pwms, min_information, min_sites)
    if not trimmed:
        raise ValueError(f"no filter has at least min_sites={min_sites} sites")
    table = best_matches(trimmed, database=database, metric=metric)
    info = pd.DataFrame(
        {
            "n_sites": [int(pwms.n_sites[i]) for i in trimmed],
            "information": [float(information_content(p).sum()) for p in trimmed.values()],
            "width": [p.shape[1] for p in trimmed.values()],
        },
        index=list(trimmed),
    )
    table = info.join(table).rename_axis("filter")
    if thresholds is None:
        return table
    if not isinstance(thresholds, pd.Series):
        raise TypeError(
            f"thresholds must be a pandas Series from match_thresholds; found "
            f"{type(thresholds).__name__}"
        )
    missing = sorted(set(table["match"]) - set(thresholds.index))
    if missing:
        raise ValueError(f"thresholds has no value for the matched motifs {missing}")
    table["threshold"] = thresholds.reindex(table["match"]).to_numpy()
    table["above_null"] = table["score"] > table["threshold"]
    return table


# --------------------------------------------------------------------------- identifiability
def _next_layer(model: nn.Module, conv: nn.Conv1d) -> nn.Module:
    """The first Conv1d or Linear after ``conv`` in module order (the one that reads it)."""
    found = False
    for module in model.modules():
        if module is conv:
            found = True
        elif found and isinstance(module, nn.BatchNorm1d):
            raise ValueError(
                "rescaling needs a ReLU between the filter and the next layer; found batch "
                "norm after model.first_conv, which would undo the scale"
            )
        elif found and isinstance(module, (nn.Conv1d, nn.Linear)):
            return module
    raise ValueError("found no Conv1d or Linear layer after model.first_conv")


def rescale_filter(model: nn.Module, index: int, factor: float) -> nn.Module:
    """A copy of ``model`` whose filter ``index`` is multiplied by ``factor`` and whose next
    layer reads that filter divided by ``factor``.

    Because ``relu(c z) = c relu(z)`` and max pooling commute with a positive ``c``, the
    copy computes exactly the same function, yet the filter's weights (and any logo drawn
    from them) are ``factor`` times larger. Works for models whose first convolution is
    followed by a ReLU and max pooling, then by a Conv1d or a Linear layer over the filters
    (the ReLU genotutor CNNs).

    Parameters
    ----------
    model : torch.nn.Module
    index : int
        Which filter.
    factor : float
        A positive scale.

    Returns
    -------
    torch.nn.Module
        The rescaled copy; ``model`` itself is unchanged.

    Taught in chapter 5.
    """
    conv = _first_conv(check_model(model))
    if not 0 <= int(index) < conv.out_channels:
        raise ValueError(f"index must be in [0, {conv.out_channels - 1}]; found {index}")
    if not (isinstance(factor, (int, float)) and np.isfinite(factor) and factor > 0):
        raise ValueError(f"factor must be a positive finite number; found {factor!r}")
    _next_layer(model, conv)  # validate before copying
    clone = copy.deepcopy(model)
    conv_copy = _first_conv(clone)
    following = _next_layer(clone, conv_copy)
    if following.weight.shape[1] != conv_copy.out_channels:
        raise ValueError(
            f"the layer after model.first_conv reads {following.weight.shape[1]} inputs; "
            f"expected one per filter ({conv_copy.out_channels})"
        )
    with torch.no_grad():
        conv_copy.weight[index] *= factor
        if conv_copy.bias is not None:
            conv_copy.bias[index] *= factor
        following.weight[:, index] /= factor
    return clone
