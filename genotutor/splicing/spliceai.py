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

Taught in chapter 7, "Distilling a splicing model".
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from genotutor.sequences import check_choice, check_tensor

KERNEL_SIZES: tuple[int, ...] = (11,) * 4 + (11,) * 4 + (21,) * 4 + (41,) * 4
DILATIONS: tuple[int, ...] = (1,) * 4 + (4,) * 4 + (10,) * 4 + (25,) * 4
CONTEXT = 10_000  # nucleotides of context: 5,000 on each side of every output position
FLANK = CONTEXT // 2
CLASSES = ("neither", "acceptor", "donor")
PADDINGS = ("valid", "same")
INSTALL_HINT = "pip install --no-deps spliceai h5py"


class ResidualUnit(nn.Module):
    """BN-ReLU-dilated conv, twice, plus the input: one residual unit of SpliceAI.

    Taught in chapter 7.

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

    Taught in chapter 7.

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
        self.context = sum(2 * (k - 1) * d for k, d in zip(kernel_sizes, dilations))
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


class SpliceAIEnsemble(nn.Module):
    """The mean of several SpliceAI models' probabilities (SpliceAI's own ensembling).

    Taught in chapter 7.

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
    def padding(self) -> str:
        """The members' padding mode, ``"valid"`` or ``"same"`` (see :class:`SpliceAI`)."""
        return self.members[0].padding

    @padding.setter
    def padding(self, value: str) -> None:
        check_choice(value, "padding", PADDINGS)
        for member in self.members:
            member.padding = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean probabilities over the members.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L)

        Returns
        -------
        torch.Tensor, shape (N, 3, L - 10000)
        """
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


# ------------------------------------------------------------------ reading Keras weights
def spliceai_weight_files(ensemble: Iterable[int] = range(1, 6)) -> list[Path]:
    """Paths of the installed ``spliceai`` package's weight files, without importing it.

    Taught in chapter 7.

    Parameters
    ----------
    ensemble : iterable of int
        Which of the five models (1 to 5).

    Returns
    -------
    list of pathlib.Path
        ``.../spliceai/models/spliceai{k}.h5`` for each ``k``.

    Raises
    ------
    ModuleNotFoundError
        If the ``spliceai`` package is not installed (with the command that installs it).
    """
    members = _check_ensemble(ensemble)
    spec = importlib.util.find_spec("spliceai")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "SpliceAI's trained weights come from the 'spliceai' package, which is not "
            f"installed. Install it without TensorFlow: {INSTALL_HINT}  (the weights are "
            "licensed CC BY-NC 4.0, non-commercial use only)",
            name="spliceai",
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = [folder / f"spliceai{k}.h5" for k in members]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"the installed 'spliceai' package lacks weight files {missing}; expected "
            f"spliceai1.h5 ... spliceai5.h5 in {folder}. Reinstall with: {INSTALL_HINT}"
        )
    return paths


def _check_ensemble(ensemble: Iterable[int]) -> list[int]:
    if isinstance(ensemble, (str, bytes)) or not isinstance(ensemble, Iterable):
        raise TypeError(f"ensemble must be an iterable of integers 1-5; found {ensemble!r}")
    members = list(ensemble)
    bad = [k for k in members if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 5]
    if not members or bad:
        raise ValueError(f"ensemble must hold model numbers among 1, 2, 3, 4, 5; found {members!r}")
    return members


def _graph(h5file) -> dict[str, dict]:
    """Layer name -> {"class", "config", "inputs"} from a Keras 2 model's HDF5 attributes."""
    config = h5file.attrs["model_config"]
    config = json.loads(config.decode() if isinstance(config, bytes) else config)
    layers = {}
    for layer in config["config"]["layers"]:
        nodes = layer["inbound_nodes"]
        inputs = [inbound[0] for inbound in nodes[0]] if nodes else []
        layers[layer["name"]] = {
            "class": layer["class_name"],
            "config": layer["config"],
            "inputs": inputs,
        }
    return layers


def _consumer(layers: dict, source: str, kind: str, **config) -> str:
    """The unique layer of class ``kind`` fed by ``source`` whose config matches."""
    found = [
        name
        for name, layer in layers.items()
        if layer["class"] == kind
        and source in layer["inputs"]
        and all(layer["config"].get(key) == value for key, value in config.items())
    ]
    if len(found) != 1:
        raise ValueError(
            f"unexpected SpliceAI HDF5 graph: expected one {kind} layer fed by {source!r}, "
            f"found {found}"
        )
    return found[0]


def _keras_layer_order(layers: dict, n_units: int) -> dict[str, str]:
    """Map our parameter prefixes to the Keras layer names, by walking the graph."""
    names = {}
    (inp,) = [n for n, layer in layers.items() if layer["class"] == "InputLayer"]
    h = names["conv_in"] = _consumer(layers, inp, "Conv1D")
    names["skip_in"] = _consumer(layers, h, "Conv1D", kernel_size=[1])
    skip_index = 0
    for i in range(n_units):
        bn1 = _consumer(layers, h, "BatchNormalization")
        conv1 = _consumer(layers, _consumer(layers, bn1, "Activation"), "Conv1D")
        bn2 = _consumer(layers, conv1, "BatchNormalization")
        conv2 = _consumer(layers, _consumer(layers, bn2, "Activation"), "Conv1D")
        for ours, theirs in (("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)):
            names[f"units.{i}.{ours}"] = theirs
        (h,) = [
            n
            for n, layer in layers.items()
            if layer["class"] == "Add" and sorted(layer["inputs"]) == sorted([conv2, h])
        ]
        if (i + 1) % 4 == 0 or i == n_units - 1:
            names[f"skips.{skip_index}"] = _consumer(layers, h, "Conv1D", kernel_size=[1])
            skip_index += 1
    (names["conv_out"],) = [
        n
        for n, layer in layers.items()
        if layer["class"] == "Conv1D" and layer["config"]["filters"] == 3
    ]
    return names


def _filters(layer: dict) -> int | None:
    return layer["config"].get("filters")


def _short_name(name: bytes | str) -> str:
    """``b"conv1d_3/kernel:0"`` -> ``"kernel"``."""
    name = name.decode() if isinstance(name, bytes) else name
    return name.split("/")[-1].split(":")[0]


def _read_state_dict(path: Path, model: SpliceAI) -> dict[str, torch.Tensor]:
    """Read one Keras HDF5 file into a state dict for ``model``."""
    import h5py  # optional dependency, imported where it is needed

    state = {}
    with h5py.File(path, "r") as f:
        names = _keras_layer_order(_graph(f), len(model.units))
        weights = f["model_weights"]
        for ours, theirs in names.items():
            group = weights[theirs]
            arrays = {
                (n.decode() if isinstance(n, bytes) else n).split("/")[-1].split(":")[0]: group[n][
                    ()
                ]
                for n in group.attrs["weight_names"]
            }
            if "kernel" in arrays:  # Keras Conv1D kernel (k, in, out) -> torch (out, in, k)
                state[f"{ours}.weight"] = torch.from_numpy(arrays["kernel"].transpose(2, 1, 0))
                state[f"{ours}.bias"] = torch.from_numpy(arrays["bias"])
            else:
                state[f"{ours}.weight"] = torch.from_numpy(arrays["gamma"])
                state[f"{ours}.bias"] = torch.from_numpy(arrays["beta"])
                state[f"{ours}.running_mean"] = torch.from_numpy(arrays["moving_mean"])
                state[f"{ours}.running_var"] = torch.from_numpy(arrays["moving_variance"])
                state[f"{ours}.num_batches_tracked"] = torch.tensor(0)
    return {key: value.contiguous() for key, value in state.items()}


def load_spliceai(
    ensemble: Iterable[int] = range(1, 6), *, padding: str = "valid"
) -> SpliceAIEnsemble:
    """SpliceAI-10k with its trained weights, read from the installed ``spliceai`` package.

    Needs ``spliceai`` and ``h5py`` but not TensorFlow: ``pip install --no-deps spliceai
    h5py``. The weights are licensed CC BY-NC 4.0 (non-commercial use only).

    Taught in chapter 7.

    Parameters
    ----------
    ensemble : iterable of int
        Which of the five published models to average (1 to 5; all five by default, as
        SpliceAI's own scoring does).
    padding : {"valid", "same"}
        See :class:`SpliceAI`; both give the same outputs, ``"valid"`` faster.

    Returns
    -------
    SpliceAIEnsemble
        In evaluation mode (batch norm uses the stored statistics), float32. Input
        ``(N, 4, L)``, output ``(N, 3, L - 10000)`` probabilities of neither, acceptor,
        donor, averaged over the members.

    Raises
    ------
    ModuleNotFoundError
        If ``spliceai`` (or ``h5py``) is not installed, naming the install command.
    """
    check_choice(padding, "padding", PADDINGS)
    paths = spliceai_weight_files(ensemble)
    if importlib.util.find_spec("h5py") is None:
        raise ModuleNotFoundError(
            f"load_spliceai reads the Keras weight files with h5py, which is not installed. "
            f"Install it: {INSTALL_HINT}",
            name="h5py",
        )
    models = []
    for path in paths:
        model = SpliceAI(padding=padding)
        model.load_state_dict(_read_state_dict(path, model), strict=True)
        models.append(model)
    return SpliceAIEnsemble(models).eval()
