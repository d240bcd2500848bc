"""SpliceAI-10k in PyTorch, with the trained weights read from the user's ``spliceai`` package.

SpliceAI (Jaganathan et al. 2019, Cell) predicts, for every position of a pre-mRNA sequence,
the probability that it is an acceptor, a donor, or neither, from 5,000 nt of context on
each side. The network is a stack of 16 residual units (batch norm, ReLU, dilated
convolution, twice), 32 channels throughout, kernel sizes 11, 11, 21, 41 and dilation rates
1, 4, 10, 25 (four units each), with a 1x1 "skip" convolution summed into the output every
four units; the sum is cropped by 5,000 nt on each side and a 1x1 convolution with a
softmax over 3 classes (neither, acceptor, donor) gives the prediction.

The trained weights (five models, ``spliceai1.h5`` ... ``spliceai5.h5``, Keras 2.0.5 HDF5)
ship inside the ``spliceai`` package on PyPI. They are licensed for non-commercial use only
(CC BY-NC 4.0; the package's code is GPLv3), so genotutor does not copy them: it reads them
with h5py from the installed package, which it locates with ``importlib.util.find_spec``
without importing it (``import spliceai`` needs TensorFlow and ``pkg_resources``). Install
the package without TensorFlow::

    pip install --no-deps spliceai h5py

(``pip install "genotutor[spliceai]"`` names the same two packages, but pip then also
resolves ``spliceai``'s own requirements such as keras and pysam; ``--no-deps`` avoids that.)
The weights are read by :mod:`genotutor.spliceai.weights` (:func:`load_spliceai`).

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from genotutor.sequences import check_choice, check_model, check_positive_int, check_tensor
from genotutor.training import model_device, predict

KERNEL_SIZES: tuple[int, ...] = (11,) * 4 + (11,) * 4 + (21,) * 4 + (41,) * 4
DILATIONS: tuple[int, ...] = (1,) * 4 + (4,) * 4 + (10,) * 4 + (25,) * 4
CONTEXT = 10_000  # nucleotides of context: 5,000 on each side of every output position
FLANK = CONTEXT // 2
CLASSES = ("neither", "acceptor", "donor")
PADDINGS = ("valid", "same")


class ResidualUnit(nn.Module):
    """BN-ReLU-dilated conv, twice, plus the input: one residual unit of SpliceAI.

    Taught in chapter 10.

    Parameters
    ----------
    channels : int
        Number of channels in and out.
    kernel_size : int
        Width of both convolutions (odd).
    dilation : int
        Dilation rate of both convolutions.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm1d(channels, eps=1e-3)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.bn2 = nn.BatchNorm1d(channels, eps=1e-3)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.shrink = (kernel_size - 1) * dilation  # positions lost per unpadded convolution

    def _conv(self, conv: nn.Conv1d, x: torch.Tensor, padding: str) -> torch.Tensor:
        if padding == "same":
            x = F.pad(x, (self.shrink // 2, self.shrink // 2))
        return conv(x)

    def forward(self, x: torch.Tensor, padding: str = "valid") -> torch.Tensor:
        """Apply the unit; with ``padding="valid"`` the output is ``2 * shrink`` shorter.

        Parameters
        ----------
        x : torch.Tensor, shape (N, C, L)
        padding : {"valid", "same"}

        Returns
        -------
        torch.Tensor, shape (N, C, L) or (N, C, L - 2 * shrink)
        """
        y = self._conv(self.conv1, self.relu1(self.bn1(x)), padding)
        y = self._conv(self.conv2, self.relu2(self.bn2(y)), padding)
        return _crop_to(x, y.shape[-1]) + y


def _crop_to(x: torch.Tensor, length: int) -> torch.Tensor:
    """Keep the central ``length`` positions of ``x`` (shape (N, C, L))."""
    cut = x.shape[-1] - length
    return x[..., cut // 2 : x.shape[-1] - (cut - cut // 2)]


class SpliceAI(nn.Module):
    """SpliceAI-10k: 16 dilated residual units, skip connections every 4, 3-class softmax.

    The input needs 5,000 nt of context on each side of every position predicted: an input
    of length ``L`` gives ``L - 10000`` outputs (positions ``5000 ... L - 5001``). Load the
    trained weights with :func:`load_spliceai`; a bare ``SpliceAI()`` has random weights.

    Taught in chapter 10.

    Parameters
    ----------
    channels : int
        Channels of every hidden layer (32 in SpliceAI).
    kernel_sizes, dilations : tuple of int
        One entry per residual unit (SpliceAI-10k's by default).
    skip_every : int
        A 1x1 skip convolution is added to the output after every ``skip_every`` units
        (and after the last).
    padding : {"valid", "same"}
        How the convolutions treat the sequence ends. ``"same"`` zero-pads every
        convolution and crops 5,000 nt from each side at the end, exactly as the original
        Keras model; ``"valid"`` (the default) computes only the positions that reach the
        output. The receptive field is exactly 10,001 nt, so both give the same outputs
        (up to floating-point rounding); ``"valid"`` is cheaper.
    """

    def __init__(
        self,
        *,
        channels: int = 32,
        kernel_sizes: tuple[int, ...] = KERNEL_SIZES,
        dilations: tuple[int, ...] = DILATIONS,
        skip_every: int = 4,
        padding: str = "valid",
    ) -> None:
        super().__init__()
        if len(kernel_sizes) != len(dilations):
            raise ValueError(
                f"kernel_sizes and dilations must have the same length; found "
                f"{len(kernel_sizes)} and {len(dilations)}"
            )
        self.padding = check_choice(padding, "padding", PADDINGS)
        self.context = sum(2 * (k - 1) * d for k, d in zip(kernel_sizes, dilations))  # 10000
        self.conv_in = nn.Conv1d(4, channels, 1)
        self.skip_in = nn.Conv1d(channels, channels, 1)
        self.units = nn.ModuleList(
            ResidualUnit(channels, k, d) for k, d in zip(kernel_sizes, dilations)
        )
        n = len(kernel_sizes)
        self.skip_after = tuple(i for i in range(n) if (i + 1) % skip_every == 0 or i == n - 1)
        self.skips = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.skip_after)
        self.conv_out = nn.Conv1d(channels, len(CLASSES), 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Scores before the softmax.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L)
            One-hot sequences (A, C, G, T; all zeros for N), ``L > 10000``.

        Returns
        -------
        torch.Tensor, shape (N, 3, L - 10000)
            Logits of neither, acceptor, donor at positions ``5000 ... L - 5001``.
        """
        check_tensor(x, "x")
        if x.shape[-1] <= self.context:
            raise ValueError(
                f"x must be longer than the model's context of {self.context} nt (5,000 nt "
                f"each side of every predicted position); found length {x.shape[-1]}. "
                "Pad with zeros (N) or real flanking sequence."
            )
        out_length = x.shape[-1] - self.context
        h = self.conv_in(x)
        skip = self.skip_in(h)
        skips = iter(self.skips)
        for i, unit in enumerate(self.units):
            h = unit(h, self.padding)
            if i in self.skip_after:
                skip = _crop_to(skip, h.shape[-1]) + next(skips)(h)
        return self.conv_out(_crop_to(skip, out_length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities of neither, acceptor and donor, as the Keras model returns them.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L)

        Returns
        -------
        torch.Tensor, shape (N, 3, L - 10000)
            Softmax over the 3 classes at positions ``5000 ... L - 5001``.
        """
        return torch.softmax(self.logits(x), dim=1)


class SpliceAILogits(nn.Module):
    """One SpliceAI model's scores before the softmax, as a module of its own.

    ``forward(x) = model.logits(x)``, shape ``(N, 3, L - 10000)``. Explain these with
    DeepLIFT: its rules cover every layer of SpliceAI, but not the softmax, which
    :meth:`SpliceAI.forward` applies as a function. A donor's log-odds against "neither",
    ``out[:, 2, p] - out[:, 0, p]``, is linear in these logits, so summation-to-delta holds
    for it exactly.

    Taught in chapter 12.
    """

    def __init__(self, model: SpliceAI) -> None:
        super().__init__()
        if not isinstance(model, SpliceAI):
            raise TypeError(
                f"model must be one SpliceAI model (load_spliceai([k])); found "
                f"{type(model).__name__}"
            )
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.logits(x)


class SpliceAIEnsemble(nn.Module):
    """The mean of several SpliceAI models' probabilities (SpliceAI's own ensembling).

    Taught in chapter 10.

    Parameters
    ----------
    models : iterable of SpliceAI
    """

    def __init__(self, models: Iterable[SpliceAI]) -> None:
        super().__init__()
        self.members = nn.ModuleList(models)
        if len(self.members) == 0:
            raise ValueError("models must hold at least one SpliceAI model; found none")

    @property
    def context(self) -> int:
        """Nucleotides of context the members need (10,000: 5,000 on each side)."""
        return self.members[0].context

    @property
    def padding(self) -> str:
        """The members' padding mode, ``"valid"`` or ``"same"`` (see :class:`SpliceAI`)."""
        return self.members[0].padding

    @padding.setter
    def padding(self, value: str) -> None:
        check_choice(value, "padding", PADDINGS)
        for member in self.members:
            member.padding = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of the members' :meth:`SpliceAI.forward`, of the same shape."""
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


class _AtPositions(nn.Module):
    """``model`` followed by picking output columns ``wanted``: (N, 3, L') -> (N, 3, P)."""

    def __init__(self, model: nn.Module, wanted: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("wanted", wanted, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[..., self.wanted]


def predict_sites(
    model: nn.Module,
    x: torch.Tensor,
    positions: Sequence[int],
    *,
    batch_size: int = 16,
    device: object = None,
    progress: bool = True,
) -> torch.Tensor:
    """SpliceAI's probabilities at a few positions only, computed from the minimal window.

    Each position needs 5,000 nt of context on each side, so only the window
    ``[min(positions) - 5000, max(positions) + 5001)`` of ``x`` is run, in batches, with
    the gradient off; with ``padding="valid"`` the network then computes nothing that does
    not reach these outputs. The result equals the full prediction at these positions (up
    to floating-point rounding; ``benchmarks/spliceai_speed.py`` measures both).

    Taught in chapter 10.

    Parameters
    ----------
    model : SpliceAI or SpliceAIEnsemble
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    positions : sequence of int
        Positions in ``x`` (0-based), each at least 5,000 nt from both ends.
    batch_size : int
        Sequences per forward pass.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    torch.Tensor, shape (N, 3, len(positions))
        Probabilities of neither, acceptor, donor at each position.
    """
    check_model(model)
    check_tensor(x, "x")
    check_positive_int(batch_size, "batch_size")
    flank = getattr(model, "context", CONTEXT) // 2
    positions = [int(p) for p in positions]
    bad = [p for p in positions if not flank <= p < x.shape[-1] - flank]
    if not positions or bad:
        raise ValueError(
            f"positions must be a non-empty list of positions with {flank} nt of context on "
            f"each side, i.e. in [{flank}, {x.shape[-1] - flank}) for x of length "
            f"{x.shape[-1]}; found {positions if not bad else bad}"
        )
    start, stop = min(positions) - flank, max(positions) + flank + 1
    wanted = torch.tensor(positions) - min(positions)
    # keeps only the wanted columns of each batch
    at_positions = _AtPositions(model, wanted.to(model_device(model)))
    return predict(
        at_positions, x[:, :, start:stop], batch_size=batch_size, device=device, progress=progress
    )
