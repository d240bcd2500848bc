"""The explorers' views: anywidget models that draw in the browser from their own state.

Each explorer builds its table of results over its controls' discrete values once, in
Python (a live kernel, or the book's build), packs it into the view's ``data`` trait, and
links every control to a trait of the view. The view's JavaScript module (``js/plot.js``
followed by ``js/<explorer>.js``) draws the figure and the summary from ``data`` and the
controls' values, so the same object computes in a running notebook and on the static
page, where ipywidgets' HTML manager restores it from the saved widget state with no kernel.
"""

from __future__ import annotations

import base64
from functools import cache
from importlib import resources

import anywidget
import ipywidgets as widgets
import numpy as np
import torch
import traitlets

_DTYPES = {np.dtype("float32"): "float32", np.dtype("int32"): "int32", np.dtype("uint8"): "uint8"}


@cache
def esm(name: str) -> str:
    """The ES module of explorer ``name``: the drawing helpers, then ``js/<name>.js``."""
    folder = resources.files("genotutor.widgets") / "js"
    return (folder / "plot.js").read_text() + "\n" + (folder / f"{name}.js").read_text()


def pack(values: torch.Tensor | np.ndarray, dtype: str = "float32") -> dict:
    """An array as JSON for a view: ``{"dtype", "shape", "b64"}``, little-endian bytes.

    ``dtype`` is ``"float32"``, ``"int32"`` or ``"uint8"`` (booleans and bases as uint8).
    The view decodes it with ``decode()`` of ``js/plot.js``.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    little_endian = np.dtype(dtype).newbyteorder("<")
    array = np.ascontiguousarray(np.asarray(values).astype(little_endian))
    return {
        "dtype": _DTYPES[np.dtype(dtype)],
        "shape": list(array.shape),
        "b64": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def unpack(packed: dict) -> np.ndarray:
    """The inverse of :func:`pack` (tests read the views' tables with it)."""
    raw = base64.b64decode(packed["b64"])
    dtype = np.dtype(packed["dtype"]).newbyteorder("<")
    return np.frombuffer(raw, dtype=dtype).reshape(packed["shape"])


class ExplorerView(anywidget.AnyWidget):
    """Base of the explorers' views: ``data`` holds the packed table the module draws from.

    A subclass sets ``_esm = esm("<name>")`` and declares one synced trait per control.
    """

    data = traitlets.Dict().tag(sync=True)


def link(control: widgets.ValueWidget, view: ExplorerView, trait: str) -> None:
    """Keep ``view.<trait>`` equal to the control's value, in the browser (``jslink``,
    which the static page runs without a kernel) and in Python (for the saved state and
    the tests). A selection (drop-down, toggle buttons) syncs its ``index``, not its value:
    the view's trait is then the index of the chosen option."""
    source = "index" if isinstance(control, widgets.widget_selection._Selection) else "value"
    widgets.jslink((control, source), (view, trait))
    control.observe(lambda change: setattr(view, trait, change["new"]), names=source)
    setattr(view, trait, getattr(control, source))
