"""Shared plumbing of the explorers: the controls they share."""

from __future__ import annotations

import ipywidgets as widgets


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
