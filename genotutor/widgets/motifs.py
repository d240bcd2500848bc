"""The chapter-4 explorer: TF-MoDISco patterns, their TOMTOM matches, and their instances
on a chosen sequence."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from genotutor.validation import check_tensor, describe
from genotutor.widgets._view import ExplorerView, esm, link, pack

MATCHES_SHOWN = 3


class MotifView(ExplorerView):
    """The browser side of :class:`MotifExplorer` (``js/motifs.js``)."""

    _esm = esm("motifs")
    pattern = traitlets.Int(0).tag(sync=True)  # index of the chosen pattern
    sequence = traitlets.Int(0).tag(sync=True)  # index of the chosen sequence


def _match_lines(matches: pd.DataFrame, names: list[str]) -> list[str]:
    lines = []
    for name in names:
        rows = matches[matches["query"] == name].sort_values("p_value").head(MATCHES_SHOWN)
        lines.append(
            "; ".join(
                f"{r.target_name} ({r.target_id}, q = {r.q_value:.1e})" for r in rows.itertuples()
            )
            or "no match"
        )
    return lines


def _padded(matrices: list[np.ndarray]) -> np.ndarray:
    width = max(m.shape[1] for m in matrices)
    out = np.zeros((len(matrices), 4, width), dtype=np.float32)
    for i, matrix in enumerate(matrices):
        out[i, :, : matrix.shape[1]] = matrix
    return out


def _check_inputs(patterns: object, matches: object, instances: object) -> None:
    if (
        not isinstance(patterns, (list, tuple))
        or not patterns
        or not all(hasattr(p, "cwm") and hasattr(p, "name") for p in patterns)
    ):
        raise TypeError(
            f"patterns must be a non-empty list from discover_motifs; found {describe(patterns)}"
        )
    for name, table, needed in (
        ("matches", matches, {"query", "target_id", "target_name", "p_value", "q_value"}),
        ("instances", instances, {"motif", "sequence", "start", "end", "strand"}),
    ):
        if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
            raise ValueError(
                f"{name} must be a DataFrame with columns {sorted(needed)}; found {describe(table)}"
            )


class MotifExplorer(widgets.VBox):
    """TF-MoDISco patterns (CWM and TOMTOM matches) and, on a chosen sequence, its
    contribution scores with the instances of every pattern marked.

    A view over tables computed elsewhere: it computes nothing.

    Parameters
    ----------
    patterns : list of genotutor.interpret.Pattern
        From :func:`genotutor.interpret.discover_motifs`.
    matches : pandas.DataFrame
        From :func:`genotutor.motifs.match_motifs` of those patterns.
    contributions : torch.Tensor, shape (S, 4, L)
        Contribution scores of the sequences to show (projected onto the observed base).
    x : torch.Tensor, shape (S, 4, L)
        The sequences, one-hot.
    instances : pandas.DataFrame
        From :func:`genotutor.motifs.find_instances` on ``x`` with the patterns (keyed by
        pattern name).
    labels : sequence of str, optional
        One label per sequence (e.g. its coordinates); its index by default.

    Taught in chapter 4.
    """

    def __init__(
        self,
        patterns: list,
        matches: pd.DataFrame,
        contributions: object,
        x: object,
        instances: pd.DataFrame,
        *,
        labels: Sequence[str] | None = None,
    ) -> None:
        _check_inputs(patterns, matches, instances)
        x = check_tensor(x, "x", ndim=3)
        contributions = check_tensor(contributions, "contributions", ndim=3)
        if contributions.shape != x.shape:
            raise ValueError(
                f"contributions must have the shape of x, {tuple(x.shape)}; "
                f"found {tuple(contributions.shape)}"
            )
        names = [p.name for p in patterns]
        if labels is None:
            labels = [str(i) for i in range(len(x))]
        if len(labels) != len(x) or not all(isinstance(s, str) for s in labels):
            raise ValueError(f"labels must be {len(x)} strings, one per sequence; found {labels!r}")
        hits = instances[instances["motif"].isin(names)]
        data = {
            "cwms": pack(_padded([p.cwm for p in patterns])),
            "widths": pack(np.array([p.width for p in patterns]), "int32"),
            "names": names,
            "n_seqlets": [int(p.n_seqlets) for p in patterns],
            "matches": _match_lines(matches, names),
            "contributions": pack(contributions.sum(dim=1)),
            "bases": pack(x.argmax(dim=1), "uint8"),
            "hits": pack(
                np.column_stack(
                    [
                        hits["sequence"].to_numpy(),
                        hits["start"].to_numpy(),
                        hits["end"].to_numpy(),
                        hits["motif"].map({n: i for i, n in enumerate(names)}).to_numpy(),
                    ]
                ).reshape(-1, 4),
                "int32",
            ),  # fmt: skip
            "labels": list(labels),
        }
        self.view = MotifView(data=data)
        pattern = widgets.Dropdown(options=names, description="pattern")
        sequence = widgets.IntSlider(value=0, min=0, max=len(x) - 1, description="sequence",
                                     continuous_update=False)  # fmt: skip
        self.controls = [pattern, sequence]
        link(pattern, self.view, "pattern")
        link(sequence, self.view, "sequence")
        super().__init__([widgets.HBox(self.controls), self.view])
