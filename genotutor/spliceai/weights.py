"""Reading SpliceAI's trained Keras weights with h5py, without TensorFlow.

The five SpliceAI-10k models (``spliceai1.h5`` ... ``spliceai5.h5``, Keras 2.0.5 HDF5)
ship inside the ``spliceai`` package on PyPI, licensed for non-commercial use only
(CC BY-NC 4.0). genotutor never copies them: it finds the installed package with
``importlib.util.find_spec`` (``import spliceai`` would need TensorFlow and
``pkg_resources``), walks each file's Keras model graph to pair its layers with the
parameters of :class:`genotutor.spliceai.model.SpliceAI`, and reads the arrays with h5py.
Install the weights without TensorFlow::

    pip install --no-deps spliceai h5py

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path

import torch

from genotutor.sequences import check_choice
from genotutor.spliceai.model import PADDINGS, SpliceAI, SpliceAIEnsemble

INSTALL_HINT = "pip install --no-deps spliceai h5py"


def spliceai_weight_files(ensemble: Iterable[int] = range(1, 6)) -> list[Path]:
    """Paths of the installed ``spliceai`` package's weight files, without importing it.

    Taught in chapter 10.

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

    Taught in chapter 10.

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
