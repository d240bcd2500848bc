"""Using surrogates: single-variant effects, and SQUID's whole loop on a DNN.

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genotutor.parallel import run_tasks, seed_of_task, single_thread
from genotutor.sequences import check_choice, check_model, check_positive_int
from genotutor.surrogate.fit import Surrogate, fit_surrogate
from genotutor.surrogate.library import mutagenesis_library
from genotutor.targets import Output, Target
from genotutor.training import predict
from genotutor.validation import check_device, check_region, check_tensor


def single_mutants(x: torch.Tensor) -> torch.Tensor:
    """All ``3 L`` single-substitution mutants of one ``(4, L)`` sequence, plus copies of
    ``x`` itself in the wild-type slots: shape ``(L * 4, 4, L)``, row ``l * 4 + c`` has
    base ``c`` at position ``l``. Taught in chapter 8."""
    length = x.shape[-1]
    mutants = x[None].repeat(4 * length, 1, 1)
    rows = torch.arange(4 * length)
    mutants[rows, :, rows // 4] = 0.0
    mutants[rows, rows % 4, rows // 4] = 1.0
    return mutants


def variant_effects(
    surrogate: Surrogate, x: torch.Tensor | None = None, *, output: str = "y"
) -> torch.Tensor:
    """Effects of every single substitution of ``x`` predicted by the surrogate.

    The surrogate's counterpart of in-silico mutagenesis (ISM), in the same layout.

    Parameters
    ----------
    surrogate : Surrogate
    x : torch.Tensor, shape (4, L), optional
        The sequence to mutate; default the surrogate's wild type.
    output : {"y", "phi"}
        Effects on the predicted output ``y_hat`` (comparable with ISM of the DNN) or on
        the latent phenotype ``phi`` (for an additive surrogate these are exactly the
        ``"wildtype"``-gauge parameters).

    Returns
    -------
    torch.Tensor, shape (4, L)
        ``effects[c, l] = f(x with base c at l) - f(x)``; zero at the bases of ``x``.

    Taught in chapter 8.
    """
    if not isinstance(surrogate, Surrogate):
        raise TypeError(f"surrogate must be a fitted Surrogate; found {type(surrogate).__name__}")
    check_choice(output, "output", ("y", "phi"))
    x = surrogate.wild_type if x is None else x
    if x.ndim == 3 and len(x) == 1:
        x = x[0]
    surrogate._features(x, "x")  # validates one-hot and length
    reference = surrogate.predict(x, output=output)[0]
    mutated = surrogate.predict(single_mutants(x), output=output)
    effects = (mutated - reference).reshape(x.shape[-1], 4).T.contiguous()
    return effects.masked_fill(x.bool(), 0.0)


@dataclass
class LocusSurrogate:
    """What :func:`explain_locus` returns.

    Attributes
    ----------
    surrogate : Surrogate
        Fitted on the window; its logo's index is in positions of the full sequence.
    library : torch.Tensor, shape (n, 4, L)
        The full-length mutants (row 0 the wild type).
    y : torch.Tensor, shape (n,)
        The model's outputs for them.
    window : tuple of int
        ``(start, stop)`` of the mutated and modelled positions.
    """

    surrogate: Surrogate
    library: torch.Tensor
    y: torch.Tensor
    window: tuple[int, int]

    def held_out(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mutants the surrogate did not train on, cut to the window, and the model's
        outputs for them: ``(n_held, 4, L_window)`` and ``(n_held,)``, e.g. for
        :meth:`Surrogate.scores`. Taught in chapter 8."""
        held = torch.as_tensor(self.surrogate.valid_index)
        start, stop = self.window
        return self.library[held][..., start:stop], self.y[held]


def explain_locus(
    model: nn.Module,
    x: torch.Tensor,
    *,
    n: int = 5000,
    mutation_rate: float = 0.1,
    window: tuple[int, int] | None = None,
    output: Output = None,
    target: Target = 0,
    gpmap: str = "additive",
    nonlinearity: str = "ge",
    noise: str = "gaussian",
    seed: int = 0,
    device: object = None,
    progress: bool = True,
    **fit_options: object,
) -> LocusSurrogate:
    """SQUID on one sequence: mutagenise it, label the mutants with ``model``, fit a surrogate.

    Parameters
    ----------
    model : torch.nn.Module
        Any model of ``(N, 4, L)`` sequences.
    x : torch.Tensor, shape (4, L) or (1, 4, L)
        The sequence to explain.
    n, mutation_rate, window, seed
        Passed to :func:`mutagenesis_library`.
    output, target
        Which value of the model to explain (see :mod:`genotutor.targets`); by default
        column 0 of a single ``(N, T)`` output.
    gpmap, nonlinearity, noise, fit_options
        Passed to :func:`fit_surrogate` (which fits on the window only).
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    LocusSurrogate

    Taught in chapter 8.
    """
    check_model(model)
    n = check_positive_int(n, "n")
    library = mutagenesis_library(x, n, mutation_rate=mutation_rate, window=window, seed=seed)
    start, stop = check_region(window, library.shape[-1], "window")
    y = predict(model, library, output=output, target=target, device=device, progress=False)
    surrogate = fit_surrogate(
        library[..., start:stop],
        y,
        gpmap=gpmap,
        nonlinearity=nonlinearity,
        noise=noise,
        start=start,
        seed=seed,
        progress=progress,
        **fit_options,
    )
    return LocusSurrogate(surrogate, library, y, (start, stop))


def _explain_task(task: tuple) -> LocusSurrogate:
    """One locus of :func:`explain_loci` (module level, so that workers can unpickle it)."""
    model, locus, window, seed, options = task
    with single_thread():  # the same numbers however the loci are spread over workers
        return explain_locus(model, locus, window=window, seed=seed, progress=False, **options)


def explain_loci(
    model: nn.Module,
    loci: torch.Tensor | Sequence[torch.Tensor],
    *,
    windows: tuple[int, int] | Sequence[tuple[int, int] | None] | None = None,
    seed: int = 0,
    executor: Executor | None = None,
    device: object = None,
    progress: bool = True,
    **options: object,
) -> list[LocusSurrogate]:
    """:func:`explain_locus` on many loci, serially or on any ``concurrent.futures.Executor``.

    Locus ``k`` is seeded with :func:`genotutor.parallel.seed_of_task` ``(seed, k)`` and runs
    on one intra-op thread, so the results are the same whether the loci run one after
    another, on a thread pool, or on a Dask cluster (``Client(LocalCluster())
    .get_executor()``; ``pip install genotutor[distributed]``).

    Parameters
    ----------
    model : torch.nn.Module
    loci : torch.Tensor, shape (K, 4, L), or a sequence of (4, L) tensors
    windows : (int, int), or one per locus, optional
        The window of each locus (the same for all when one pair is given).
    seed : int
        The job's seed.
    executor : concurrent.futures.Executor, optional
        Where to run the loci.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.
    **options
        Further arguments of :func:`explain_locus` (``n``, ``mutation_rate``, ``output``,
        ``target``, ``gpmap``, fit options ...).

    Returns
    -------
    list of LocusSurrogate
        In the order of ``loci``.

    Taught in chapter 8.
    """
    check_model(model)
    if isinstance(loci, torch.Tensor):
        check_tensor(loci, "loci", ndim=3)
        loci = list(loci)
    if not loci:
        raise ValueError("loci is empty; expected at least one sequence")
    if windows is None or (
        len(windows) == 2 and all(isinstance(v, (int, np.integer)) for v in windows)
    ):
        windows = [windows] * len(loci)
    if len(windows) != len(loci):
        raise ValueError(f"windows has {len(windows)} entries for {len(loci)} loci")
    for forbidden in ("seed", "window", "progress"):
        if forbidden in options:
            raise TypeError(f"explain_loci sets {forbidden!r} per locus; do not pass it")
    check_device(device)
    options = {**options, "device": device}
    tasks = [
        (model, locus, window, seed_of_task(seed, k), options)
        for k, (locus, window) in enumerate(zip(loci, windows))
    ]
    return run_tasks(_explain_task, tasks, executor=executor, desc="loci", progress=progress)
