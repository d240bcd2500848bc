"""The one family of input checks that every public function uses.

Each check names the argument, says what was found and what was expected, and raises
``TypeError`` for a value of the wrong kind or ``ValueError`` for a value of the right kind
out of range; it returns the (unchanged, or plainly converted) value, so a function can
write ``n = check_positive_int(n, "n")``. Python and NumPy numbers are accepted alike;
booleans are never taken for numbers, and nothing is coerced silently.

They are re-exported by :mod:`genotutor.sequences`. Taught in chapter 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import torch


def describe(value: object) -> str:
    """A short description of a found value for error messages: a tensor's or array's dtype
    and shape, otherwise its type and (truncated) repr. Taught in chapter 1 (the errors)."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a numpy.ndarray ({value.dtype}) of shape {value.shape}"
    return f"{type(value).__name__} {value!r}"[:120]


def check_tensor(
    x: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] = 3,
    channels: int | None = 4,
    finite: bool = True,
    allow_empty: bool = False,
) -> torch.Tensor:
    """Validate a floating-point tensor of sequences and return it unchanged.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L) by default
        The value to check.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    channels : int or None
        Required size of dimension -2 (the alphabet), or None to skip the check.
    finite : bool
        Reject NaN and infinite values.
    allow_empty : bool
        Accept a batch of zero sequences.

    Returns
    -------
    torch.Tensor
        ``x`` itself.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.
    ValueError
        If its shape is wrong, it is empty, or it holds non-finite values.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; found {describe(x)}")
    if not torch.is_floating_point(x):
        raise TypeError(
            f"{name} must be a floating-point tensor (one-hot float32); found dtype {x.dtype}. "
            "Use genotutor.sequences.one_hot to encode strings, or call .float()."
        )
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        shapes = {3: "(N, 4, L)", 2: "(4, L)", 1: "(L,)"}
        expected = " or ".join(shapes.get(d, f"{d}-D") for d in allowed)
        raise ValueError(f"{name} must have shape {expected}; found shape {tuple(x.shape)}")
    if channels is not None and x.shape[-2] != channels:
        raise ValueError(
            f"{name} must have {channels} channels (A, C, G, T) in dimension -2; found shape "
            f"{tuple(x.shape)}. Tensors are (N, 4, L): transpose an (N, L, 4) array first."
        )
    if not allow_empty and x.numel() == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(x.shape)}); expected at least one sequence"
        )
    if finite and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers")
    return x


def check_one_hot(x: object, name: str) -> torch.Tensor:
    """Validate an ``(N, 4, L)`` tensor whose columns are one-hot (or all zero for N).

    Taught in chapter 1.
    """
    x = check_tensor(x, name)
    sums = x.sum(dim=1)
    is_binary = bool(((x == 0) | (x == 1)).all())
    if not is_binary or bool((sums > 1).any()):
        raise ValueError(
            f"{name} must be one-hot: each position a single 1 among A, C, G, T (or all zeros "
            "for N); found other values"
        )
    return x


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; found {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; found {value}")
    return int(value)


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; found {value!r}")
    return str(value)


def check_model(model: object, name: str = "model") -> torch.nn.Module:
    """Check that ``model`` is a ``torch.nn.Module`` (on any device, in any mode).

    Functions that need eval mode or another device switch them for the call and restore
    them afterwards (:func:`genotutor.training.evaluating`).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module; found {describe(model)}")
    return model


def check_models(models: object, name: str = "models") -> dict[str, torch.nn.Module]:
    """Check a non-empty dict of name -> ``torch.nn.Module`` (e.g. ``{"teacher": t,
    "student": s}``) and return it as a plain dict, in its order.

    Taught in chapter 7 (the explorers that compare models).
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            f"{name} must be a non-empty dict of name -> torch.nn.Module; found {describe(models)}"
        )
    for key in models:
        if not isinstance(key, str):
            raise TypeError(f"{name} must be keyed by strings (the names shown); found {key!r}")
    return {key: check_model(model, f"{name}[{key!r}]") for key, model in models.items()}


def check_mask(mask: object, shape: tuple[int, ...], name: str = "truth") -> torch.Tensor | None:
    """``None``, or a bool tensor of ``shape`` (e.g. ``(N, L)``: planted positions, one row
    per sequence), returned unchanged; anything else is an error naming ``name``.

    Taught in chapter 2 (the truth masks of the planted tasks).
    """
    shape = tuple(int(size) for size in shape)
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(
            f"{name} must be a bool tensor of shape {shape} or None; found {describe(mask)}"
        )
    if tuple(mask.shape) != shape:
        raise ValueError(
            f"{name} must have shape {shape} (one row per sequence); found {describe(mask)}"
        )
    return mask


def check_device(device: object, name: str = "device") -> torch.device | None:
    """``None`` (use the model's device) or a device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
    ``"mps"`` or a ``torch.device``; a device that is not available here is an error."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"{name} must be None, a string such as 'cpu' or 'cuda', or a torch.device; "
            f"found {describe(device)}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"{name} must name a device such as 'cpu', 'cuda', 'cuda:1' or 'mps'; found {device!r}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {device!r}, but CUDA is not available on this machine")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} is {device!r}, but MPS is not available on this machine")
    if resolved.type not in ("cpu", "cuda", "mps", "meta"):
        raise ValueError(f"{name} must be a cpu, cuda or mps device; found {device!r}")
    return resolved


def check_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is a bool (Python or NumPy), else raise a TypeError.

    A string such as ``"no"`` is not taken as true: it is an error.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; found {describe(value)}")
    return bool(value)


def check_number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    inclusive: tuple[bool, bool] = (True, True),
) -> float:
    """Return ``value`` as a float if it is a finite real number within the bounds.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message.
    minimum, maximum : float, optional
        Bounds; ``inclusive`` says whether each bound itself is allowed.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number; found {describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number; found {value!r}")
    low_ok = minimum is None or (number >= minimum if inclusive[0] else number > minimum)
    high_ok = maximum is None or (number <= maximum if inclusive[1] else number < maximum)
    if not (low_ok and high_ok):
        left = "[" if inclusive[0] else "("
        right = "]" if inclusive[1] else ")"
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}; found {value!r}")
    return number


def check_target(
    target: object, n_outputs: int | None = None, name: str = "target", *, spec: bool = False
) -> object:
    """Check which output a function explains: an output column, or any target spec.

    Parameters
    ----------
    target : object
        With ``spec=False``, an int (an output column; Python and NumPy integers alike).
        With ``spec=True``, anything :func:`genotutor.targets.select` takes: an int, a
        slice or a sequence of ints (their sum), or a callable mapping the selected output
        to ``(N,)``.
    n_outputs : int, optional
        The model's number of output columns: an int column must be below it (with
        ``spec=True`` the other kinds are checked against the output when selected).
    name : str
        The argument's name, for the error.
    spec : bool
        Accept every kind of target, not only a column.

    Returns
    -------
    int, slice, list of int or callable
        ``target``, an int as a Python int, a sequence as a list.
    """
    if spec and (callable(target) or isinstance(target, slice)):
        return target
    if spec and isinstance(target, (list, tuple, range)):
        return list(target)
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        kinds = (
            "an int (a column), a slice or a sequence of ints (their sum), or a callable "
            "mapping the selected output to (N,)"
            if spec
            else "an int (an output index)"
        )
        raise TypeError(f"{name} must be {kinds}; found {describe(target)}")
    if n_outputs is not None and not 0 <= target < n_outputs:
        raise ValueError(
            f"{name} must be in [0, {n_outputs - 1}] (the model has {n_outputs} "
            f"output{'s' if n_outputs != 1 else ''}); found {target}"
        )
    return int(target)


def check_region(
    region: object, length: int, name: str = "region", *, allow_none: bool = True
) -> tuple[int, int]:
    """Return ``(start, stop)`` with ``0 <= start < stop <= length``.

    ``None`` means the whole length (when ``allow_none``). A pair of the wrong kind is a
    TypeError; a pair out of range a ValueError.
    """
    if region is None and allow_none:
        return 0, length
    if (
        not isinstance(region, (tuple, list))
        or len(region) != 2
        or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in region
        )
    ):
        kinds = "a pair (start, stop) of ints" + (" or None" if allow_none else "")
        raise TypeError(f"{name} must be {kinds}; found {describe(region)}")
    start, stop = int(region[0]), int(region[1])
    if not 0 <= start < stop <= length:
        raise ValueError(
            f"{name} must satisfy 0 <= start < stop <= {length} (the sequence length); "
            f"found {tuple(region)!r}"
        )
    return start, stop


def as_array(
    values: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_size: int = 1,
) -> np.ndarray:
    """A tensor, array or list of numbers as a finite float64 NumPy array.

    Parameters
    ----------
    values : torch.Tensor, numpy.ndarray or sequence of numbers
    name : str
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    min_size : int
        Fewest elements accepted.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise TypeError(f"{name} must be a tensor or array of numbers; found {describe(values)}")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a tensor or array of numbers; found {describe(values)}"
        ) from None
    allowed = None if ndim is None else ((ndim,) if isinstance(ndim, int) else tuple(ndim))
    if allowed is not None and array.ndim not in allowed:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, allowed))} dimension(s); found shape "
            f"{array.shape}"
        )
    if array.size < min_size:
        raise ValueError(f"{name} has {array.size} values; expected at least {min_size}")
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite values (first at index "
            f"{first[0] if len(first) == 1 else first}); expected finite numbers"
        )
    return array


def check_index(index: object, n_rows: int, name: str = "index") -> np.ndarray:
    """Rows to take from a set of ``n_rows``: integers (in order, repeats allowed) or a
    boolean mask of shape ``(n_rows,)``, as a fresh int64 array of row numbers.

    A list, NumPy array or tensor is accepted. Negative integers are refused rather than
    counted from the end, and a boolean mask is never read as the integers 0 and 1.
    Taught in chapter 2 (``PlantedTask.subset``).
    """
    if isinstance(index, torch.Tensor):  # NumPy 2 warns on torch's __array__ (no copy=)
        index = index.detach().cpu().numpy()
    if isinstance(index, (str, bytes, dict)) or index is None:
        raise TypeError(f"{name} must be integers or a boolean mask; found {describe(index)}")
    array = np.array(index)  # a copy: torch warns on indexing with read-only arrays
    if array.dtype == bool:
        if array.shape != (n_rows,):
            raise ValueError(
                f"{name} as a boolean mask must have shape ({n_rows},); found {array.shape}"
            )
        return np.flatnonzero(array).astype(np.int64)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        expected = "a 1-D array of integers or a boolean mask"
        raise TypeError(f"{name} must be {expected}; found {describe(array)}")
    if array.min() < 0 or array.max() >= n_rows:
        bad = int(array[(array < 0) | (array >= n_rows)][0])
        raise ValueError(f"{name} must hold row numbers from 0 to {n_rows - 1}; found {bad}")
    return array.astype(np.int64)
