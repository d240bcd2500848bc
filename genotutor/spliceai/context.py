"""SpliceAI on many sequences that share a fixed context: compute only what the insert changes.

Chapter 10 scores thousands of exons placed in one fixed reporter. SpliceAI reads 5,000 nt
on each side of every output, but an insert of ~100 nt only changes, after ``j`` residual
units, the activations within ``c_j`` nt of it (``c_j`` = the context the first ``j`` units
see on each side). Everything else equals the reference context's activations, which are
computed once. :class:`ContextSpliceAI` keeps those reference activations and, for a batch
of inserts, runs each unit only on positions that both differ from the reference and reach
a wanted output: about a fifth of the work of the full computation for a 120-nt insert.
The result equals running the model on the full sequences (up to floating-point rounding;
``benchmarks/spliceai_speed.py`` measures the difference).

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from genotutor.spliceai.model import SpliceAI, SpliceAIEnsemble
from genotutor.training import evaluating
from genotutor.validation import check_region, check_tensor


class _MemberCache:
    """One SpliceAI member's reference activations over the windows the outputs need."""

    def __init__(self, model: SpliceAI, context: torch.Tensor, lo: int, hi: int) -> None:
        self.model = model
        shrinks = [(u.conv1.kernel_size[0] - 1) * u.conv1.dilation[0] for u in model.units]
        self.reach = [0]  # context seen on each side after j units
        for shrink in shrinks:
            self.reach.append(self.reach[-1] + shrink)
        self.lo, self.hi = lo, hi  # input coordinates of the window the outputs need
        with torch.no_grad():
            h = model.conv_in(context[None, :, lo:hi])
            self.reference = [h]
            for unit in model.units:
                h = unit(h, "valid")
                self.reference.append(h)

    def window(self, depth: int) -> tuple[int, int]:
        """Input coordinates covered by the reference activations after ``depth`` units."""
        return self.lo + self.reach[depth], self.hi - self.reach[depth]

    def assemble(self, depth: int, h: torch.Tensor, span: tuple, lo: int, hi: int):
        """Activations after ``depth`` units on ``[lo, hi)``: the reference, ``h`` on ``span``."""
        start = self.window(depth)[0]
        out = self.reference[depth][..., lo - start : hi - start].expand(h.shape[0], -1, -1)
        a, b = max(lo, span[0]), min(hi, span[1])
        if a >= b:
            return out
        out = out.clone()
        out[..., a - lo : b - lo] = h[..., a - span[0] : b - span[0]]
        return out

    def probabilities(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Probabilities over the output window for inserts ``x`` at ``[start, stop)``."""
        model = self.model
        span = (start, stop)  # where activations differ from the reference
        h = model.conv_in(x)
        out_lo, out_hi = self.window(len(model.units))
        skip = model.skip_in(self.assemble(0, h, span, out_lo, out_hi))
        skips = iter(model.skips)
        for i, unit in enumerate(model.units):
            shrink = self.reach[i + 1] - self.reach[i]
            lo_j, hi_j = self.window(i + 1)
            new = (max(lo_j, start - self.reach[i + 1]), min(hi_j, stop + self.reach[i + 1]))
            if new[0] < new[1]:
                inputs = self.assemble(i, h, span, new[0] - shrink, new[1] + shrink)
                h, span = unit(inputs, "valid"), new
            else:  # the insert no longer reaches any needed position
                h, span = h[..., :0], (lo_j, lo_j)
            if i in model.skip_after:
                skip = skip + next(skips)(self.assemble(i + 1, h, span, out_lo, out_hi))
        return torch.softmax(model.conv_out(skip), dim=1)


class ContextSpliceAI(nn.Module):
    """SpliceAI (or its ensemble) on inserts placed in one fixed context sequence.

    ``forward(x)`` equals ``model(s)[..., positions - 5000]`` where ``s`` is ``context``
    with ``x`` written over ``context[:, start:stop]``, but reuses the context's
    activations wherever the insert cannot reach.

    Taught in chapter 10.

    Parameters
    ----------
    model : SpliceAI or SpliceAIEnsemble
        Used in evaluation mode.
    context : torch.Tensor, shape (4, L)
        The fixed sequence (one-hot), with any content in the insert's place.
    region : tuple of int
        ``(start, stop)``: where inserts go, in ``context`` coordinates.
    positions : sequence of int
        The outputs wanted, in ``context`` coordinates, each with 5,000 nt on both sides.
    """

    def __init__(
        self,
        model: nn.Module,
        context: torch.Tensor,
        region: tuple[int, int],
        positions: Sequence[int],
    ) -> None:
        super().__init__()
        members = model.members if isinstance(model, SpliceAIEnsemble) else [model]
        if not all(isinstance(m, SpliceAI) for m in members):
            raise TypeError(
                f"model must be a SpliceAI or SpliceAIEnsemble; found {type(model).__name__}"
            )
        check_tensor(context, "context", ndim=2)
        self.start, self.stop = check_region(region, context.shape[-1], "region", allow_none=False)
        flank = members[0].context // 2
        self.positions = [int(p) for p in positions]
        if not self.positions or not all(
            flank <= p < context.shape[-1] - flank for p in self.positions
        ):
            raise ValueError(
                f"positions must be non-empty, each in [{flank}, {context.shape[-1] - flank}) "
                f"(5,000 nt of context on both sides); found {self.positions}"
            )
        self.model = model  # switched to eval mode for each computation, then restored
        lo, hi = min(self.positions) - flank, max(self.positions) + flank + 1
        with evaluating(model):
            self._caches = [_MemberCache(m, context, lo, hi) for m in members]
        self._wanted = [p - min(self.positions) for p in self.positions]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities at ``positions`` for each insert.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, stop - start)
            One-hot inserts.

        Returns
        -------
        torch.Tensor, shape (N, 3, len(positions))
            Probabilities of neither, acceptor, donor (mean over the ensemble's members).
        """
        check_tensor(x, "x")
        if x.shape[-1] != self.stop - self.start:
            raise ValueError(
                f"x must have length {self.stop - self.start} (the region "
                f"[{self.start}, {self.stop})); found {x.shape[-1]}"
            )
        # inputs outside the needed window cannot matter: clip the insert to it
        lo, hi = self._caches[0].lo, self._caches[0].hi
        a, b = max(lo, self.start), min(hi, self.stop)
        if a >= b:
            raise ValueError(
                f"the region [{self.start}, {self.stop}) lies outside the window "
                f"[{lo}, {hi}) that the positions depend on"
            )
        x = x[..., a - self.start : b - self.start]
        with evaluating(self.model):
            probs = [cache.probabilities(x, a, b) for cache in self._caches]
        return torch.stack(probs).mean(dim=0)[..., self._wanted]
