"""The Fourier attribution prior of Tseng, Shrikumar and Kundaje (NeurIPS 2020).

The prior penalises attributions whose spectrum has mass at high frequencies: a motif is a
short contiguous block of important bases, so a good attribution track is smooth at the
scale of a few bases, while single-base spikes scattered over the sequence are noise.

Every step below was checked against the authors' public code
(``amtseng/fourier_attribution_priors``: ``BinaryPredictor.fourier_att_prior_loss`` and
``smooth_tensor_1d`` in ``src/model/binary_models.py`` / ``src/model/util.py``, the
training loop in ``src/model/train_binary_model.py``, and the batch ``status`` in
``src/feature/make_binary_dataset.py``):

1. ``input_grads = d(sum of logits over tasks) / d input`` with ``create_graph=True``,
   times the input; then ``abs`` and a sum over the four bases -> ``(N, L)``.
2. Smoothing with a Gaussian of standard deviation ``sigma`` truncated at one sigma: the
   kernel has ``2 r + 1`` taps, ``r = round(sigma)``, weights ``exp(-k^2 / 2 sigma^2)``
   normalised to sum to 1 (what ``scipy.ndimage.gaussian_filter(delta, sigma,
   truncate=1)`` gives for the integer sigmas the authors use), applied as a convolution
   with zero padding ``r`` (output length L). ``sigma = 0`` means no smoothing.
3. Magnitudes of the real FFT, divided by their sum *including* the DC term (a zero sum
   is left at zero), and only then the DC term dropped.
4. Weights over the remaining frequencies ``k = 1 .. L//2``: 1 for ``k <= freq_limit``
   and ``1 / (1 + j ** limit_softness)`` for ``k = freq_limit + j``, ``j = 1, 2, ...``
   (the authors index the DC-dropped array from 0, so ``weights[freq_limit:]`` starts
   at frequency ``freq_limit + 1``). ``limit_softness=None`` gives a hard cutoff
   (weight 0 past the limit).
5. ``loss = mean over positive examples of 1 - sum(weights * magnitudes)``; an example is
   positive when any of its tasks is labelled 1 (the authors' batch ``status``).

The training experiment of chapter 7 (with and without the prior, over seeds and
training-set sizes) is in :mod:`genotutor.studies.fourier_prior`.

Taught in chapter 7.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from genotutor.sequences import check_model, check_positive_int, check_tensor
from genotutor.validation import check_mask, check_target

__all__ = [
    "attribution_track",
    "fourier_extra_loss",
    "fourier_penalty",
    "fourier_prior_loss",
    "frequency_weights",
    "gaussian_kernel",
    "high_frequency_mass",
    "smooth_track",
    "spectrum",
]


# --------------------------------------------------------------------------- validation
def _check_sigma(smooth_sigma: object) -> float:
    if isinstance(smooth_sigma, bool) or not isinstance(smooth_sigma, (int, float)):
        raise TypeError(f"smooth_sigma must be a number; found {smooth_sigma!r}")
    if not math.isfinite(smooth_sigma) or smooth_sigma < 0:
        raise ValueError(f"smooth_sigma must be a finite number >= 0; found {smooth_sigma}")
    return float(smooth_sigma)


def _check_softness(limit_softness: object) -> float | None:
    if limit_softness is None:
        return None
    if isinstance(limit_softness, bool) or not isinstance(limit_softness, (int, float)):
        raise TypeError(f"limit_softness must be a number or None; found {limit_softness!r}")
    if not math.isfinite(limit_softness) or limit_softness < 0:
        raise ValueError(f"limit_softness must be a finite number >= 0; found {limit_softness}")
    return float(limit_softness)


def _check_track(track: object, name: str = "track") -> torch.Tensor:
    track = check_tensor(track, name, ndim=2, channels=None)
    if track.shape[-1] < 2:
        raise ValueError(f"{name} must have length L >= 2; found shape {tuple(track.shape)}")
    return track


def _check_limit(freq_limit: object, length: int) -> int:
    freq_limit = check_positive_int(freq_limit, "freq_limit")
    if freq_limit > length // 2:
        raise ValueError(
            f"freq_limit must be at most L // 2 = {length // 2} (the highest frequency of a "
            f"length-{length} track); found {freq_limit}"
        )
    return freq_limit


# --------------------------------------------------------------------------- steps 2 to 5
def gaussian_kernel(smooth_sigma: float = 3.0) -> torch.Tensor:
    """The smoothing kernel: a Gaussian truncated at one sigma, normalised to sum to 1.

    Parameters
    ----------
    smooth_sigma : float
        Standard deviation in bases; 0 gives the identity kernel ``[1.0]``.

    Returns
    -------
    torch.Tensor, shape (2 r + 1,), float64
        ``r = round(smooth_sigma)`` (7 taps for sigma 3, as in the authors' code).

    Taught in chapter 7.
    """
    sigma = _check_sigma(smooth_sigma)
    radius = int(sigma + 0.5)
    if sigma == 0 or radius == 0:
        return torch.ones(1, dtype=torch.float64)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def smooth_track(track: torch.Tensor, *, smooth_sigma: float = 3.0) -> torch.Tensor:
    """Smooth each row of ``track`` with :func:`gaussian_kernel` (zero padding, same length).

    Parameters
    ----------
    track : torch.Tensor, shape (N, L)
    smooth_sigma : float

    Returns
    -------
    torch.Tensor, shape (N, L)

    Taught in chapter 7.
    """
    track = _check_track(track)
    kernel = gaussian_kernel(smooth_sigma).to(track.device, track.dtype)
    radius = (len(kernel) - 1) // 2
    if radius == 0:
        return track
    out = nn.functional.conv1d(track[:, None, :], kernel[None, None, :], padding=radius)
    return out[:, 0, :]


def spectrum(track: torch.Tensor, *, smooth_sigma: float = 3.0) -> torch.Tensor:
    """Normalised magnitude spectrum of each (smoothed) row, DC term dropped.

    Magnitudes of ``torch.fft.rfft`` are divided by their sum including the DC term,
    then the DC term is removed, so a row sums to at most 1.

    Parameters
    ----------
    track : torch.Tensor, shape (N, L)
    smooth_sigma : float
        Smoothing applied first (0 for none).

    Returns
    -------
    torch.Tensor, shape (N, L // 2)
        Column ``k - 1`` is frequency ``k`` (``k`` cycles over the sequence, a period of
        ``L / k`` bases).

    Taught in chapter 7.
    """
    smoothed = smooth_track(track, smooth_sigma=smooth_sigma)
    magnitudes = torch.fft.rfft(smoothed, dim=-1).abs()
    total = magnitudes.sum(dim=-1, keepdim=True)
    total = torch.where(total == 0, torch.ones_like(total), total)
    return (magnitudes / total)[:, 1:]


def frequency_weights(
    n_frequencies: int, *, freq_limit: int, limit_softness: float | None = 0.2
) -> torch.Tensor:
    """The prior's weights over frequencies ``1 .. n_frequencies`` (DC dropped).

    Parameters
    ----------
    n_frequencies : int
        ``L // 2`` for a length-L track.
    freq_limit : int
        Frequencies ``1 .. freq_limit`` get weight 1.
    limit_softness : float or None
        Frequency ``freq_limit + j`` gets ``1 / (1 + j ** limit_softness)``; None gives 0.

    Returns
    -------
    torch.Tensor, shape (n_frequencies,), float64

    Taught in chapter 7.
    """
    n_frequencies = check_positive_int(n_frequencies, "n_frequencies")
    freq_limit = check_positive_int(freq_limit, "freq_limit")
    softness = _check_softness(limit_softness)
    weights = torch.ones(n_frequencies, dtype=torch.float64)
    past = n_frequencies - min(freq_limit, n_frequencies)
    if past > 0:
        if softness is None:
            weights[freq_limit:] = 0.0
        else:
            j = torch.arange(1, past + 1, dtype=torch.float64)
            weights[freq_limit:] = 1.0 / (1.0 + j**softness)
    return weights


def fourier_penalty(
    track: torch.Tensor,
    *,
    freq_limit: int,
    limit_softness: float | None = 0.2,
    smooth_sigma: float = 3.0,
) -> torch.Tensor:
    """The prior's penalty for given attribution tracks: steps 2 to 5, one value per row.

    ``1 - sum(weights * normalised magnitudes)``: near 0 for a track whose (smoothed)
    spectrum lies below the cutoff, larger the more of it lies above. Differentiable.

    Parameters
    ----------
    track : torch.Tensor, shape (N, L)
        Nonnegative per-position scores (e.g. ``|gradient x input|`` summed over bases).
    freq_limit : int
        The cutoff K, at most ``L // 2``.
    limit_softness : float or None
        How softly the weights fall past the cutoff (None: hard cutoff).
    smooth_sigma : float
        Gaussian smoothing before the FFT (0: none).

    Returns
    -------
    torch.Tensor, shape (N,)

    Taught in chapter 7.
    """
    track = _check_track(track)
    freq_limit = _check_limit(freq_limit, track.shape[-1])
    mags = spectrum(track, smooth_sigma=smooth_sigma)
    weights = frequency_weights(
        mags.shape[-1], freq_limit=freq_limit, limit_softness=limit_softness
    ).to(mags.device, mags.dtype)
    return 1.0 - (mags * weights).sum(dim=-1)


def high_frequency_mass(
    track: torch.Tensor, *, freq_limit: int, smooth_sigma: float = 0.0
) -> torch.Tensor:
    """Fraction of each row's non-DC spectral magnitude at frequencies above ``freq_limit``.

    A diagnostic, not part of the loss: by default the track is not smoothed, so it shows
    what the model's attributions themselves look like.

    Parameters
    ----------
    track : torch.Tensor, shape (N, L)
    freq_limit : int
    smooth_sigma : float

    Returns
    -------
    torch.Tensor, shape (N,)
        Values in [0, 1]; 0 for a row without non-constant part (all zero or constant,
        up to rounding: non-DC magnitudes below ``1e-9`` of the total).

    Taught in chapter 7.
    """
    track = _check_track(track)
    freq_limit = _check_limit(freq_limit, track.shape[-1])
    mags = spectrum(track, smooth_sigma=smooth_sigma)
    total = mags.sum(dim=-1)
    varies = total > 1e-9  # the magnitudes are fractions of the total, DC included
    above = mags[:, freq_limit:].sum(dim=-1)
    return torch.where(varies, above / torch.where(varies, total, 1.0), 0.0)


# --------------------------------------------------------------------------- step 1
def _outputs(model: nn.Module, x: torch.Tensor, target: int | None) -> torch.Tensor:
    logits = model(x)
    if logits.ndim != 2:
        raise ValueError(f"model must return (N, T) logits; found shape {tuple(logits.shape)}")
    if target is None:
        return logits.sum()
    return logits[:, check_target(target, logits.shape[1])].sum()


def attribution_track(
    model: nn.Module,
    x: torch.Tensor,
    *,
    target: int | None = None,
    create_graph: bool = False,
) -> torch.Tensor:
    """Step 1: ``|input gradient x input|`` of the logits, summed over the four bases.

    The gradient is of the logits summed over tasks (or of task ``target``). This is
    written with ``torch.autograd.grad`` rather than captum because training needs
    ``create_graph=True`` (the loss is differentiated again with respect to the weights),
    which captum's attribution methods do not offer. The model's mode is left as it is
    (training uses dropout here, as the authors' loop does).

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, 4, L)`` to ``(N, T)`` logits.
    x : torch.Tensor, shape (N, 4, L)
    target : int, optional
    create_graph : bool
        Keep the graph so the result can be backpropagated to the weights.

    Returns
    -------
    torch.Tensor, shape (N, L)
        Detached unless ``create_graph``.

    Taught in chapter 7.
    """
    check_model(model)
    check_tensor(x, "x")
    inputs = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grads,) = torch.autograd.grad(
            _outputs(model, inputs, target), inputs, create_graph=create_graph
        )
    track = (grads * inputs).abs().sum(dim=1)
    return track if create_graph else track.detach()


def fourier_prior_loss(
    model: nn.Module,
    x: torch.Tensor,
    *,
    target: int | None = None,
    freq_limit: int,
    limit_softness: float | None = 0.2,
    smooth_sigma: float = 3.0,
    positives: torch.Tensor | None = None,
) -> torch.Tensor:
    """The Fourier attribution prior loss of a batch, a scalar that can be backpropagated.

    Steps 1 to 5 of the module docstring: mean over the positive examples of
    ``1 - sum(weights * normalised magnitudes)`` of their smoothed
    ``|gradient x input|`` tracks.

    Parameters
    ----------
    model, x, target
        As for :func:`attribution_track` (by default the logits summed over tasks, as
        the authors do).
    freq_limit : int
        The cutoff K (the authors: 150 for L = 1000 in binary models).
    limit_softness : float or None
    smooth_sigma : float
    positives : torch.Tensor of bool, shape (N,), optional
        Which examples the prior applies to; all by default. Only these are run through
        the model, which is the same as the authors' masking after a full-batch pass
        unless the model couples examples in a batch (batch norm in training mode).

    Returns
    -------
    torch.Tensor, shape ()
        0 (still attached to the weights) when there is no positive example.

    Taught in chapter 7.
    """
    check_model(model)
    check_tensor(x, "x")
    if check_mask(positives, (len(x),), "positives") is not None:
        x = x[positives]
    if len(x) == 0:
        return sum(p.sum() for p in model.parameters()) * 0.0
    track = attribution_track(model, x, target=target, create_graph=True)
    penalty = fourier_penalty(
        track, freq_limit=freq_limit, limit_softness=limit_softness, smooth_sigma=smooth_sigma
    )
    return penalty.mean()


def fourier_extra_loss(
    *,
    freq_limit: int,
    limit_softness: float | None = 0.2,
    smooth_sigma: float = 3.0,
    target: int | None = None,
) -> Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The prior as ``extra_loss(model, x, y)`` for :func:`genotutor.training.fit`.

    An example is positive when any of its labels is 1 (the authors' ``status``).
    Pass the weight lambda as ``fit(..., extra_loss_weight=lam)``.

    Taught in chapter 7.
    """
    _check_softness(limit_softness)
    _check_sigma(smooth_sigma)
    check_positive_int(freq_limit, "freq_limit")

    def extra_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        labels = y if y.ndim == 2 else y[:, None]
        return fourier_prior_loss(
            model,
            x,
            target=target,
            freq_limit=freq_limit,
            limit_softness=limit_softness,
            smooth_sigma=smooth_sigma,
            positives=(labels == 1).any(dim=1),
        )

    return extra_loss
