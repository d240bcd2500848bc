"""Gradient-based attributions through captum: saliency, grad x input, SmoothGrad, IG.

All of them start from the gradient of one output logit with respect to the one-hot input.
Gradients are returned for every base ("hypothetical": what each base would contribute),
methods that multiply by the input keep only the observed base.

Taught in chapter 2.
"""

from __future__ import annotations

import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from torch import nn
from tqdm.auto import tqdm

from genotutor.attribution._common import batches


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
    for part in tqdm(batches(len(x), batch_size), desc=desc, disable=not progress, leave=False):
        parts.append(attribute_batch(x[part], part).detach())
    return torch.cat(parts)


def saliency(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    correct: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> torch.Tensor:
    """Signed input gradient of the target logit at every base (captum ``Saliency``)."""
    explainer = Saliency(model)

    def one(xb, _):
        return explainer.attribute(xb.clone().requires_grad_(), target=target, abs=False)

    grads = _run(one, x, batch_size, progress, "saliency")
    return correct_gradients(grads) if correct else grads


def grad_x_input(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    correct: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> torch.Tensor:
    """Gradient times input (captum ``InputXGradient``): the gradient at the observed base.

    With ``correct=True`` the gradient is corrected before it is multiplied by the input.
    """
    if correct:
        return x * saliency(
            model, x, target, correct=True, batch_size=batch_size, progress=progress
        )
    explainer = InputXGradient(model)

    def one(xb, _):
        return explainer.attribute(xb.clone().requires_grad_(), target=target)

    return _run(one, x, batch_size, progress, "grad x input")


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
    progress: bool = False,
) -> torch.Tensor:
    """SmoothGrad: gradients averaged over noisy copies of the input (captum ``NoiseTunnel``).

    ``noise`` is the standard deviation of the Gaussian noise added to the one-hot input;
    ``seed`` fixes the noise.
    """
    if not noise > 0:
        raise ValueError(f"noise must be > 0; found {noise}")
    explainer = NoiseTunnel(Saliency(model))
    per_batch = max(1, batch_size // n_samples)

    def one(xb, _):
        return explainer.attribute(
            xb.clone().requires_grad_(),
            target=target,
            abs=False,
            nt_type="smoothgrad",
            nt_samples=n_samples,
            nt_samples_batch_size=batch_size,
            stdevs=float(noise),
        )

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        grads = _run(one, x, per_batch, progress, "smoothgrad")
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
    progress: bool = False,
) -> torch.Tensor:
    """Integrated gradients (captum): ``(x - baseline)`` times the path-averaged gradient.

    ``baseline`` has the shape of ``x``. The path integral uses captum's Gauss-Legendre
    rule with ``n_steps`` points; with ``correct=True`` the averaged gradient is corrected
    before it is multiplied by ``x - baseline`` (completeness then no longer holds).
    """
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
