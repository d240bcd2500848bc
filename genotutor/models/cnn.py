"""Small sequence-to-function CNNs (DeepBind-, Basset-style, a two-headed profile net)
and their activation modules; re-exported by :mod:`genotutor.models`.

Taught in chapter 1 (the DeepBind- and Basset-style nets), chapter 3 (exponential
first-layer activations) and chapter 12 (the profile net and its loss).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from genotutor.sequences import check_choice, check_positive_int
from genotutor.validation import check_number

ACTIVATIONS = ("relu", "exp")


class Exponential(nn.Module):
    """Elementwise ``exp``, the first-layer activation of Koo and Ploenzke (2021).

    Taught in chapter 3.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


def _activation(name: str) -> nn.Module:
    check_choice(name, "activation", ACTIVATIONS)
    return nn.ReLU() if name == "relu" else Exponential()


class DeepBind(nn.Module):
    """A DeepBind-style net: one convolution, global max pooling, a small dense head.

    Input ``(N, 4, L)``, output ``(N, n_tasks)`` logits. Taught in chapter 1.

    Parameters
    ----------
    n_tasks : int
        Number of outputs (logits).
    n_filters : int
        First-layer convolution filters.
    filter_width : int
        Width of each filter (about a motif's length).
    hidden : int
        Width of the dense hidden layer.
    activation : {"relu", "exp"}
        First-layer activation.
    dropout : float
        Dropout before the output layer (inactive in eval mode).
    """

    def __init__(
        self,
        n_tasks: int = 1,
        *,
        n_filters: int = 32,
        filter_width: int = 19,
        hidden: int = 32,
        activation: str = "relu",
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, check_positive_int(n_filters, "n_filters"), filter_width)
        self.activation = _activation(activation)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.flatten = nn.Flatten()
        self.dense = nn.Linear(n_filters, hidden)
        self.dense_relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, check_positive_int(n_tasks, "n_tasks"))

    @property
    def first_conv(self) -> nn.Conv1d:
        """The first-layer convolution (its filters are the ones read as motifs)."""
        return self.conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.flatten(self.pool(self.activation(self.conv(x))))
        return self.output(self.dropout(self.dense_relu(self.dense(h))))


class Basset(nn.Module):
    """A small Basset-style net: three convolution blocks with max pooling, a dense head.

    Each block is convolution ("same" padding), optional batch norm, activation, max pooling.
    Input ``(N, 4, L)``, output ``(N, n_tasks)`` logits. Taught in chapter 1.

    Parameters
    ----------
    input_length : int
        Length L of the sequences (fixes the size of the dense layer).
    n_tasks : int
        Number of outputs (logits).
    filters : tuple of int
        Filters of the three convolutions.
    widths : tuple of int
        Odd filter widths of the three convolutions.
    pools : tuple of int
        Max-pooling sizes after each block.
    hidden : int
        Width of the dense hidden layer.
    activation : {"relu", "exp"}
        First-layer activation; later layers use ReLU.
    dropout : float
        Dropout before the output layer.
    batch_norm : bool or None
        Batch normalisation after each convolution. By default (None) only the first
        convolution gets it, and only with the exponential activation, which needs its
        inputs kept small to train at all. On the book's small planted tasks, batch norm
        in every block made the ReLU net memorise the training set within a few epochs
        and generalise worse.
    """

    def __init__(
        self,
        input_length: int,
        n_tasks: int = 1,
        *,
        filters: tuple[int, ...] = (32, 32, 32),
        widths: tuple[int, ...] = (19, 7, 5),
        pools: tuple[int, ...] = (4, 4, 4),
        hidden: int = 64,
        activation: str = "relu",
        dropout: float = 0.2,
        batch_norm: bool | None = None,
    ) -> None:
        super().__init__()
        if not len(filters) == len(widths) == len(pools):
            raise ValueError(
                f"filters, widths and pools must have one entry per block; found lengths "
                f"{len(filters)}, {len(widths)}, {len(pools)}"
            )
        for width in widths:
            if width % 2 == 0:
                raise ValueError(f"widths must be odd ('same' padding); found {widths}")
        length = check_positive_int(input_length, "input_length")
        blocks: list[nn.Module] = []
        channels = 4
        for i, (n_out, width, pool) in enumerate(zip(filters, widths, pools)):
            act = _activation(activation) if i == 0 else nn.ReLU()
            blocks.append(nn.Conv1d(channels, n_out, width, padding=width // 2))
            if batch_norm or (batch_norm is None and i == 0 and activation == "exp"):
                blocks.append(nn.BatchNorm1d(n_out))
            blocks += [act, nn.MaxPool1d(pool)]
            channels, length = n_out, length // pool
        if length < 1:
            raise ValueError(f"input_length {input_length} is too short for pools {pools}")
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, check_positive_int(n_tasks, "n_tasks")),
        )

    @property
    def first_conv(self) -> nn.Conv1d:
        """The first-layer convolution."""
        return self.body[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class ResidualBlock(nn.Module):
    """``x + relu(conv(x))`` with a dilated "same" convolution: one rung of a BPNet tower.

    Taught in chapter 12.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            channels,
            channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size // 2),
        )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.relu(self.conv(x))


class ProfileNet(nn.Module):
    """A BPNet-style model: a dilated residual tower with a profile head and a counts head.

    ``forward`` returns a tuple ``(profile, counts)``: profile logits of shape
    ``(N, n_tasks, L)`` (a softmax over positions gives where the reads fall) and log total
    counts of shape ``(N, n_tasks)`` (Avsec et al. 2021, at a much smaller scale). Explain
    one head with ``attribute(..., output=0 or 1, target=...)``.

    Taught in chapter 12.

    Parameters
    ----------
    n_tasks : int
        Profiles (e.g. strands or experiments).
    channels : int
        Channels of the tower.
    first_width : int
        Width of the first convolution.
    n_layers : int
        Residual blocks; block ``i`` has dilation ``2 ** (i + 1)``.
    kernel_size : int
        Width of the dilated convolutions (odd).
    """

    def __init__(
        self,
        n_tasks: int = 1,
        *,
        channels: int = 32,
        first_width: int = 15,
        n_layers: int = 5,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        n_tasks = check_positive_int(n_tasks, "n_tasks")
        channels = check_positive_int(channels, "channels")
        first_width = check_positive_int(first_width, "first_width")
        if first_width % 2 == 0 or kernel_size % 2 == 0:
            raise ValueError(
                f"first_width and kernel_size must be odd (same-length convolutions); found "
                f"{first_width} and {kernel_size}"
            )
        self.stem = nn.Conv1d(4, channels, first_width, padding=first_width // 2)
        self.stem_relu = nn.ReLU()
        self.tower = nn.Sequential(
            *(ResidualBlock(channels, kernel_size, 2 ** (i + 1))
              for i in range(check_positive_int(n_layers, "n_layers")))
        )  # fmt: skip
        self.profile = nn.Conv1d(channels, n_tasks, 25, padding=12)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.counts = nn.Linear(channels, n_tasks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.tower(self.stem_relu(self.stem(x)))
        return self.profile(h), self.counts(self.flatten(self.pool(h)))


def profile_score(profile: torch.Tensor) -> torch.Tensor:
    """BPNet's scalar for explaining a profile head: the logits weighted by their softmax
    over positions (weights held constant, so the gradient is of a weighted sum).

    Parameters
    ----------
    profile : torch.Tensor, shape (N, n_tasks, L)

    Returns
    -------
    torch.Tensor, shape (N,)

    Pass it as ``target=profile_score`` with ``output=0``. Taught in chapter 12.
    """
    weights = torch.softmax(profile, dim=-1).detach()  # per task, over positions
    return (profile * weights).sum(dim=(1, 2))


# chapter 6; imported last, since they build on the names above
def bpnet_loss(counts_weight: float = 1.0) -> Callable:
    """BPNet's loss for :class:`ProfileNet`: the multinomial negative log-likelihood of the
    reads under the profile head's softmax, plus ``counts_weight`` times the squared error
    of the counts head on ``log(1 + total)``.

    The labels ``y`` are ``(N, L + 1)``: the reads at each of the ``L`` positions, then
    ``log(1 + total reads)``. Returns a ``loss(output, y)`` for
    :func:`genotutor.training.fit`. Taught in chapter 12.
    """
    counts_weight = check_number(counts_weight, "counts_weight", minimum=0)

    def loss(output: tuple[torch.Tensor, torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        profile, counts = output
        reads, log_total = y[:, :-1], y[:, -1]
        nll = -(reads * torch.log_softmax(profile[:, 0], dim=-1)).sum(dim=1).mean()
        return nll / reads.shape[1] + counts_weight * ((counts[:, 0] - log_total) ** 2).mean()

    return loss
