"""Gradient-based attributions through captum: saliency, grad x input, SmoothGrad, IG.

All of them start from the gradient of one output logit with respect to the one-hot input.
Gradients are returned for every base ("hypothetical": what each base would contribute),
methods that multiply by the input keep only the observed base.

Taught in chapter 2.
"""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients, Saliency
from torch import nn

from genotutor.attribution._common import batches, check_option_values
from genotutor.progress import progress_bar


def correct_gradients(scores: torch.Tensor) -> torch.Tensor:
    """Off-simplex gradient correction: subtract the mean over the four bases per position.

    One-hot inputs live on the simplex (the four channels sum to one), so the component of
    a gradient along ``(1, 1, 1, 1)`` at a position points off the simplex, towards inputs
    the model never saw, and is arbitrary noise. Removing it (Majdandzic et al. 2023)
    keeps what matters on the simplex: the differences between bases, which is all that a
    change of base can reach.

    Parameters
    ----------
    scores : torch.Tensor, shape (N, 4, L)
        Gradients (or hypothetical scores) for every base.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)
        ``scores - scores.mean(dim=1, keepdim=True)``.

    Taught in chapter 2.
    """
    from genotutor.sequences import check_tensor

    check_tensor(scores, "scores", ndim=3)
    return scores - scores.mean(dim=1, keepdim=True)


def _run(attribute_batch, x: torch.Tensor, batch_size: int, progress: bool, desc: str):
    parts = []
    for part in progress_bar(batches(len(x), batch_size), desc=desc, progress=progress):
        parts.append(attribute_batch(x[part], part).detach())
    return torch.cat(parts)


def input_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    times_input: bool = False,
    correct: bool = False,
    batch_size: int = 256,
    progress: bool = True,
) -> torch.Tensor:
    """Signed input gradient of the target logit at every base (captum ``Saliency``), or
    gradient times input (``times_input=True``: the gradient at the observed base).

    Behind the methods ``"saliency"`` and ``"grad_x_input"`` of
    :func:`genotutor.attribution.attribute`. Gradient times input is the input times the
    saliency map (what captum's ``InputXGradient`` computes); with ``correct=True`` the
    gradient is corrected before it is multiplied.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode (:func:`genotutor.attribution.attribute` takes care of it).
    x : torch.Tensor, shape (N, 4, L)
    target : int
        The output to explain.
    times_input : bool
        Multiply the gradient by the input (zero at the unobserved bases).
    correct : bool
        Apply :func:`correct_gradients`.
    batch_size : int
        Sequences per backward pass.
    progress : bool
        Show a tqdm bar over the batches.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 2.
    """
    check_option_values(
        {"times_input": times_input, "correct": correct, "batch_size": batch_size,
         "progress": progress}
    )  # fmt: skip
    explainer = Saliency(model)

    def one(xb, _):
        return explainer.attribute(xb.clone().requires_grad_(), target=target, abs=False)

    desc = "grad x input" if times_input else "saliency"
    grads = _run(one, x, batch_size, progress, desc)
    grads = correct_gradients(grads) if correct else grads
    return x * grads if times_input else grads


def smoothgrad(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    n_samples: int = 25,
    noise: float = 0.1,
    seed: int = 0,
    correct: bool = False,
    batch_size: int = 256,
    progress: bool = True,
) -> torch.Tensor:
    """SmoothGrad: input gradients (captum ``Saliency``) averaged over noisy inputs.

    Each sequence's score is the mean gradient at ``x + noise * e`` over ``n_samples``
    draws ``e`` of standard Gaussian noise, shape ``(4, L)``. The draws come from ``seed``
    alone and are the same for every sequence, so a sequence's scores do not depend on
    the other sequences in ``x`` or on ``batch_size``.

    Parameters
    ----------
    model, x, target, correct, progress
        As for :func:`input_gradients`.
    n_samples : int
        Noisy copies per sequence.
    noise : float
        Standard deviation of the Gaussian noise added to the one-hot input (> 0).
    seed : int
        Seed of the noise.
    batch_size : int
        Noisy inputs per backward pass.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 2.
    """
    check_option_values(
        {"n_samples": n_samples, "noise": noise, "seed": seed, "correct": correct,
         "batch_size": batch_size, "progress": progress}
    )  # fmt: skip
    generator = torch.Generator().manual_seed(int(seed))
    draws = float(noise) * torch.randn((n_samples, *x.shape[1:]), generator=generator)
    draws = draws.to(x.dtype)
    explainer = Saliency(model)

    def one(xb, _):
        noisy = (xb[:, None] + draws[None]).flatten(0, 1)
        grads = [
            explainer.attribute(noisy[part].clone().requires_grad_(), target=target, abs=False)
            for part in batches(len(noisy), batch_size)
        ]
        return torch.cat(grads).view(len(xb), n_samples, *x.shape[1:]).mean(dim=1)

    grads = _run(one, x, max(1, batch_size // n_samples), progress, "smoothgrad")
    return correct_gradients(grads) if correct else grads


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    baseline: torch.Tensor,
    *,
    n_steps: int = 50,
    correct: bool = False,
    batch_size: int = 256,
    progress: bool = True,
) -> torch.Tensor:
    """Integrated gradients (captum): ``(x - baseline)`` times the path-averaged gradient.

    The path integral uses captum's Gauss-Legendre rule with ``n_steps`` points; with
    ``correct=True`` the averaged gradient is corrected before it is multiplied by
    ``x - baseline`` (completeness then no longer holds).

    Parameters
    ----------
    model, x, target, correct, progress
        As for :func:`input_gradients`.
    baseline : torch.Tensor, shape (N, 4, L)
        The start of the path (see :func:`genotutor.attribution.make_baseline`).
    n_steps : int
        Points of the path integral.
    batch_size : int
        Path points per backward pass.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 2.
    """
    check_option_values(
        {"n_steps": n_steps, "correct": correct, "batch_size": batch_size, "progress": progress}
    )
    explainer = IntegratedGradients(model, multiply_by_inputs=False)
    per_batch = max(1, batch_size // n_steps)

    def one(xb, part):
        return explainer.attribute(
            xb.clone().requires_grad_(),
            baselines=baseline[part],
            target=target,
            n_steps=n_steps,
            internal_batch_size=batch_size,
        )

    grads = _run(one, x, per_batch, progress, "integrated gradients")
    if correct:
        grads = correct_gradients(grads)
    return (x - baseline) * grads
