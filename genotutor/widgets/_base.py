"""Shared plumbing of the explorers: drawing into an Output widget, error messages.

Figures are rendered to PNG and written into the Output widget's ``outputs`` trait
directly, instead of relying on ``plt.show()`` inside ``with output:``. That works the
same in a live kernel, in a test without a kernel, and in the widget state saved into
the static book.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from genotutor.training import evaluating
from genotutor.validation import _describe, check_model, check_target, check_tensor


def _figure_output(fig: Figure) -> dict:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "output_type": "display_data",
        "data": {"image/png": png, "text/plain": "<Figure>"},
        "metadata": {},
    }


def _message_output(text: str) -> dict:
    markup = f'<p style="color:#b00020"><b>{html.escape(text)}</b></p>'
    return {
        "output_type": "display_data",
        "data": {"text/html": markup, "text/plain": text},
        "metadata": {},
    }


def render_into(output: widgets.Output, draw: Callable[[], Figure | None]) -> bool:
    """Replace what ``output`` shows with the figure that ``draw`` makes.

    ``draw()`` returns a matplotlib Figure (or leaves it as the current figure). If it
    raises ValueError, TypeError, IndexError or RuntimeError, the output shows the message
    instead of a traceback. Returns whether ``draw`` succeeded. Used by every explorer.
    """
    plt.close("all")
    try:
        fig = draw()
        if fig is None and plt.get_fignums():
            fig = plt.gcf()
        output.outputs = (_figure_output(fig),) if fig is not None else ()
        return True
    except (ValueError, TypeError, IndexError, RuntimeError) as error:
        plt.close("all")
        output.outputs = (_message_output(f"Cannot show this: {error}"),)
        return False


def display_message(output: widgets.Output, text: str) -> None:
    """Show ``text`` as a red message in ``output``."""
    output.outputs = (_message_output(text),)


def sequence_and_position_controls(
    n_sequences: int, length: int
) -> tuple[widgets.BoundedIntText, widgets.IntSlider]:
    """The two controls of the explorers that edit one base: which sequence, which position
    (starting in the middle; updated on release, not while dragging)."""
    sequence = widgets.BoundedIntText(value=0, min=0, max=n_sequences - 1, description="sequence")
    position = widgets.IntSlider(
        value=length // 2,
        min=0,
        max=length - 1,
        description="position",
        continuous_update=False,
    )
    return sequence, position


def check_view_inputs(
    model: object, x: object, truth: object, target: object
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor | None, int]:
    """The inputs every single-model explorer takes, validated: a model, ``(N, 4, L)``
    sequences, an optional ``(N, L)`` boolean truth mask and the output column shown."""
    model = check_model(model)
    x = check_tensor(x, "x")
    if truth is not None:
        if not isinstance(truth, torch.Tensor) or truth.dtype != torch.bool:
            raise TypeError(
                f"truth must be a bool tensor of shape (N, L) or None; found {_describe(truth)}"
            )
        if tuple(truth.shape) != (x.shape[0], x.shape[-1]):
            raise ValueError(
                f"truth must have shape {(x.shape[0], x.shape[-1])} (one row per sequence); "
                f"found {tuple(truth.shape)}"
            )
    with torch.no_grad(), evaluating(model):
        n_outputs = model(x[:1]).shape[1]
    return model, x, truth, check_target(target, n_outputs)
