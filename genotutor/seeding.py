"""Randomness that comes from a function's own ``seed=`` and nowhere else.

Every function of genotutor that draws random numbers takes a ``seed`` and leaves the
caller's random state as it found it, so a result never depends on what ran before it.
NumPy draws use a local ``numpy.random.Generator`` and torch draws a local
``torch.Generator`` where torch accepts one; what torch draws only from its global
generator (a module's default initialisation, dropout) runs inside :func:`seeded`, which
forks the global state, seeds the fork and puts the caller's state back afterwards.

Taught in chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from genotutor.validation import check_device, check_positive_int


@contextmanager
def seeded(seed: int, device: object = None) -> Iterator[None]:
    """Run a block with torch's global random state seeded from ``seed``, then restore it.

    Parameters
    ----------
    seed : int
        A non-negative integer.
    device : str or torch.device, optional
        An accelerator the block draws on (``"cuda:0"``, ...): its generator is forked and
        seeded too. The CPU's generator is always forked and seeded; no other device's
        state is touched (``torch.manual_seed`` would seed, and initialise, every GPU).

    Examples
    --------
    >>> with seeded(0):
    ...     layer = torch.nn.Linear(3, 1)  # the same weights for every caller

    Taught in chapter 1.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    target = check_device(device)
    accelerator = target is not None and target.type not in ("cpu", "meta")
    devices = [target.index or 0] if accelerator else []
    device_type = target.type if accelerator else None
    with torch.random.fork_rng(devices=devices, device_type=device_type):
        torch.default_generator.manual_seed(seed)
        if accelerator:
            _seed_accelerator(target.type, devices[0], seed)
        yield


def _seed_accelerator(device_type: str, index: int, seed: int) -> None:
    """Seed one accelerator's generator (CUDA has one per device, MPS only one)."""
    module = torch.get_device_module(device_type)
    if hasattr(module, "device"):
        with module.device(index):
            module.manual_seed(seed)
    else:
        module.manual_seed(seed)
