"""Shared plumbing of the explorers: drawing into an Output widget, error messages."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt


def render_into(output: widgets.Output, draw: Callable[[], None]) -> bool:
    """Clear ``output`` and run ``draw`` inside it; show an error message on failure.

    Returns whether ``draw`` succeeded. Used by every explorer.
    """
    output.clear_output(wait=True)
    with output:
        try:
            draw()
            plt.show()
            return True
        except (ValueError, TypeError, IndexError, RuntimeError) as error:
            plt.close("all")
            display_message(f"Cannot show this: {error}")
            return False


def display_message(text: str) -> None:
    """Show ``text`` as a red message (inside an Output widget)."""
    from IPython.display import HTML, display

    display(HTML(f'<p style="color:#b00020"><b>{text}</b></p>'))
