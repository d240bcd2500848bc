"""The explorers' views: anywidget models that draw in the browser from their own state.

An explorer takes a table of results over its controls' discrete values, computed by a
library or study function (``attribution_table``, ``filter_table``, ``surrogate_grid`` ...),
packs it into the view's ``data`` trait, and links every control to a trait of the view.
The view's JavaScript module (``js/<explorer>.js``, with the helpers it imports from
``js/plot.js`` bundled in by :func:`esm`) draws the figure and the summary from ``data``
and the controls' values, so the same object computes in a running notebook and on the static
page, where ipywidgets' HTML manager restores it from the saved widget state with no kernel.
"""

from __future__ import annotations

import base64
import re
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
    """The ES module of explorer ``name``, self-contained: ``js/<name>.js`` with its import
    from ``./plot.js`` bundled in.

    ``js/<name>.js`` is a real module (``import { decode, panel } from "./plot.js";``,
    which Node.js runs as it is), but anywidget's ``_esm`` is one module string that the
    static page cannot resolve a sibling file from. So the helpers' code runs inside a
    function that returns the names ``plot.js`` exports (``export function|const NAME``,
    its only exports; it imports nothing), the import statement becomes a ``const``
    destructuring of those, and the rest of ``js/<name>.js`` follows unchanged: each
    explorer sees exactly the names it imports, as under Node.js, and exports what it
    exports. An unknown imported name, or any other import left, is an error here.
    """
    folder = resources.files("genotutor.widgets") / "js"
    helpers = (folder / "plot.js").read_text()
    module = (folder / f"{name}.js").read_text()
    declared = re.compile(r"^export (?=(?:function|const) ([A-Za-z_$][\w$]*))", re.MULTILINE)
    exported = declared.findall(helpers)
    helpers = declared.sub("", helpers)
    statement = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./plot\.js";?[ \t]*$', re.MULTILINE)
    bindings = []
    for spec in ",".join(statement.findall(module)).split(","):
        if spec.strip():
            imported, _, local = (part.strip() for part in spec.partition(" as "))
            if imported not in exported:
                raise ValueError(f"js/{name}.js imports {imported!r}; plot.js does not export it")
            bindings.append(f"{imported}: {local}" if local else imported)
    module = statement.sub("", module)
    if re.search(r"^\s*(?:import|export)\b", helpers, re.MULTILINE):
        raise ValueError("js/plot.js may only export `function` or `const` declarations")
    if re.search(r"^\s*(?:import\b|export\s*\{[^}]*\}\s*from\b)", module, re.MULTILINE):
        raise ValueError(f"js/{name}.js may only import from ./plot.js (all esm() inlines)")
    return (
        f"// js/plot.js, inlined by genotutor.widgets._view.esm for js/{name}.js\n"
        f"const __plot = (() => {{\n{helpers}\nreturn {{ {', '.join(exported)} }};\n}})();\n"
        f"const {{ {', '.join(bindings)} }} = __plot;\n{module}"
    )


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


def linked_layout(owner: object, view: ExplorerView, rows: list) -> list[widgets.Widget]:
    """Link each control to the view's trait of the same name (:func:`link`) and lay them out.

    Parameters
    ----------
    owner : object
        The explorer: its attributes hold the controls, named as the view's traits.
    view : ExplorerView
    rows : list of str or tuple of str
        The controls' names, one entry per line: a name alone, or a tuple side by side.

    Returns
    -------
    list of ipywidgets.Widget
        The explorer's children: each line of controls, then the view.
    """
    children = []
    for row in rows:
        names = (row,) if isinstance(row, str) else tuple(row)
        for name in names:
            link(getattr(owner, name), view, name)
        controls = [getattr(owner, name) for name in names]
        children.append(controls[0] if len(controls) == 1 else widgets.HBox(controls))
    return [*children, view]
