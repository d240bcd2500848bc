"""The conventions every public function that runs a model keeps (DESIGN.md), as a table.

Each row of ``RUNNERS`` is one public library function that runs a model over data, with
a call that works on tiny inputs and the conventions that apply to it: keyword-only
``device`` and ``progress`` always; ``output``, ``target`` and ``seed`` where they mean
something. The tests assert that each is keyword-only, that ``seed`` defaults to an int,
and that a bad value of each is refused with an error that names it. A public function
whose first parameter is a model but that is in neither ``RUNNERS`` nor ``EXEMPT`` fails
the table test, so a new function cannot skip the conventions silently.

The import graph of ``genotutor`` (every import, type-checking and function-level ones
included) must have no cycle.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import torch

import genotutor
from genotutor import attribution, distillation, interpret, splicing, surrogate, variants
from genotutor.models import AttentionCNN, DeepBind
from genotutor.sequences import random_sequences
from genotutor.spliceai import SpliceAI, predict_sites
from genotutor.training import fit, predict

LENGTH = 30
MODEL_PARAMETERS = ("model", "teacher", "student", "models")


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return DeepBind(n_filters=4, filter_width=5, hidden=4).eval()


def _x(n: int = 3) -> torch.Tensor:
    return random_sequences(n, LENGTH, seed=0)


def _splice_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return SpliceAI(channels=2, kernel_sizes=(3,), dilations=(1,)).eval()


def _student():
    return distillation.NeuralBasisStudent(LENGTH, n_filters=2)


def _variant() -> pd.DataFrame:
    base = "ACGT"[int(_x(1)[0, :, 4].argmax())]
    return pd.DataFrame(
        {"row": [0], "position": [4], "ref": [base], "alt": ["A" if base != "A" else "C"]}
    )


# name: (call taking the convention keywords, the conventions that apply beyond device
# and progress); each call is cheap: a tiny model and a few sequences of 30 nt
RUNNERS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "training.predict": (lambda **kw: predict(_model(), _x(), **kw), ("output", "target")),
    "training.fit": (
        lambda **kw: fit(_model(), (_x(4), torch.ones(4, 1)), epochs=1, **kw),
        ("seed",),
    ),
    "attribution.attribute": (
        lambda **kw: attribution.attribute(_model(), _x(), "smoothgrad", n_samples=2, **kw),
        ("output", "target"),  # seed= is an option of the methods that draw
    ),
    "attribution.attribute_layer": (
        lambda **kw: attribution.attribute_layer(_model(), _x(), "conv", n_references=2, **kw),
        ("output", "target", "seed"),
    ),
    "attribution.randomization_check": (
        lambda **kw: attribution.randomization_check(_model(), _x(), **kw),
        ("output", "target", "seed"),
    ),
    "interpret.filters_to_pwms": (lambda **kw: interpret.filters_to_pwms(_model(), _x(), **kw), ()),
    "interpret.filter_activations": (
        lambda **kw: interpret.filter_activations(_model(), _x(), **kw),
        (),
    ),
    "interpret.motif_response": (
        lambda **kw: interpret.motif_response(_model(), _x(), "ACGT", 3, **kw),
        (),
    ),
    "interpret.ablation_effects": (
        lambda **kw: interpret.ablation_effects(_model(), _x(), filters=[0], **kw),
        ("output", "target"),
    ),
    "interpret.global_importance": (
        lambda **kw: interpret.global_importance(_model(), _x(), insert="ACGT", positions=3, **kw),
        ("output", "target"),
    ),
    "interpret.spacing_curve": (
        lambda **kw: interpret.spacing_curve(
            _model(), _x(), first="ACG", second="TTA", spacings=[0, 2], **kw
        ),
        ("output", "target"),
    ),
    "interpret.attention_maps": (
        lambda **kw: interpret.attention_maps(
            AttentionCNN(LENGTH, n_filters=4, pool=3, n_heads=1).eval(), _x(), **kw
        ),
        (),
    ),
    "distillation.distill": (
        lambda **kw: distillation.distill(_model(), _x(8), student="additive", epochs=1, **kw),
        ("output", "target", "seed"),
    ),
    "distillation.fidelity": (
        lambda **kw: distillation.fidelity(_model(), _model(), _x(), **kw),
        ("output", "target"),
    ),
    "distillation.blind_spot_table": (
        lambda **kw: distillation.blind_spot_table(
            {"a": _model()}, {"s": (_x(), torch.arange(3.0))}, **kw
        ),
        (),
    ),
    "distillation.confounder_effect": (
        lambda **kw: distillation.confounder_effect(_model(), _x(), feature="cpg", **kw),
        ("output", "target", "seed"),
    ),
    "distillation.confounder_table": (
        lambda **kw: distillation.confounder_table({"a": _model()}, _x(), **kw),
        ("output", "target", "seed"),
    ),
    "surrogate.explain_locus": (
        lambda **kw: surrogate.explain_locus(_model(), _x(1)[0], n=40, epochs=1, **kw),
        ("output", "target", "seed"),
    ),
    "surrogate.explain_loci": (
        lambda **kw: surrogate.explain_loci(_model(), _x(2), n=40, epochs=1, **kw),
        ("seed",),
    ),
    "variants.score_variants": (
        lambda **kw: variants.score_variants(_model(), _x(), _variant(), **kw),
        ("output", "target"),
    ),
    "attribution.attribution_table": (
        lambda **kw: attribution.attribution_table(
            _model(), _x(), methods=("saliency", "smoothgrad"), **kw
        ),
        ("target", "seed"),
    ),
    "attribution.mutation_table": (
        lambda **kw: attribution.mutation_table(_model(), _x(), **kw),
        ("target",),
    ),
    "attribution.attribution_tracks": (
        lambda **kw: attribution.attribution_tracks({"a": _model()}, _x(), **kw),
        ("target",),
    ),
    "interpret.filter_table": (lambda **kw: interpret.filter_table(_model(), _x(), **kw), ()),
    "interpret.attention_table": (
        lambda **kw: interpret.attention_table(
            AttentionCNN(LENGTH, n_filters=4, pool=3, n_heads=1).eval(), _x(), **kw
        ),
        (),
    ),
    "splicing.edit_table": (
        lambda **kw: splicing.edit_table({"a": _model()}, _x(1), positions=(3, 5), **kw),
        ("target", "seed"),
    ),
    "surrogate.surrogate_grid": (
        lambda **kw: surrogate.surrogate_grid(
            _model(), _x(1), window=10, rates=(0.1,), sizes=(40,), fit_options={"epochs": 1}, **kw
        ),
        ("target", "seed"),
    ),
    "spliceai.predict_sites": (
        lambda **kw: predict_sites(_splice_model(), _x(), [10, 12], **kw),
        (),
    ),
}

# functions that pass **options on to another row of the table, whose signature keeps the
# conventions (the bad values are still refused by name through them)
FORWARDS = {"distillation.confounder_table": "distillation.confounder_effect"}

# public functions whose first parameter is a model but that do not run it over data (or
# run it inside another call that keeps the conventions), with the reason
EXEMPT = {
    "attribution.deeplift.deeplift_shap": "engine behind attribute, which moves the model",
    "attribution.gradients.input_gradients": "engine behind attribute",
    "attribution.ism.ism": "engine behind attribute (output=, target=; no device=)",
    "attribution.gradients.smoothgrad": "engine behind attribute",
    "attribution.gradients.integrated_gradients": "engine behind attribute",
    "attribution.layer.resolve_layer": "finds a layer by name; runs nothing",
    "cache.model_digest": "hashes the weights",
    "distillation.readout.filter_consensus": "reads weights",
    "distillation.readout.filter_report": "one pass of a student's contributions (device=)",
    "distillation.readout.plot_student": "draws weights",
    "attribution.sanity.randomize_model": "re-draws weights",
    "interpret.attention.attention_layers": "finds layers",
    "interpret.attention.predict_with_attention": "one pass with given weights (device=)",
    "interpret.filters.rescale_filter": "edits weights",
    "interpret.ablation.ablate_filters": "edits weights",
    "priors.attribution_track": "a differentiable loss term, inside training",
    "priors.fourier_prior_loss": "a differentiable loss term, inside training",
    "targets.model_and_column": "wraps a model",
    "training.model_device": "reads the device",
    "training.on_device": "the context manager every runner uses",
    "training.evaluating": "the context manager every runner uses",
    "validation.check_model": "validates",
    "validation.check_models": "validates",
    "variants.spliceai_tracks": "SpliceAI; keeps device= and progress=, needs a long sequence",
    "variants.spliceai_delta": "spliceai_tracks, then the delta scores",
    "surrogate.analysis.variant_effects": "reads a fitted surrogate",
}


def _library_functions() -> dict[str, Callable]:
    """Every public function of the library (not studies, not widgets), by dotted name
    relative to ``genotutor``, defined in the module that names it."""
    found = {}
    for info in pkgutil.walk_packages(genotutor.__path__, "genotutor."):
        parts = info.name.split(".")
        if parts[1] in ("studies", "widgets") or parts[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == info.name:
                if not name.startswith("_"):
                    found[f"{info.name.removeprefix('genotutor.')}.{name}"] = value
    return found


def _runs_a_model(function: Callable) -> bool:
    parameters = list(inspect.signature(function).parameters)
    return bool(parameters) and parameters[0] in MODEL_PARAMETERS


def _function(name: str) -> Callable:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(f"genotutor.{module}"), attr)


def test_every_public_function_that_takes_a_model_is_in_the_table():
    covered = {inspect.unwrap(_function(name)) for name in RUNNERS}
    exempt = set(EXEMPT)
    missing = [
        name
        for name, function in _library_functions().items()
        if _runs_a_model(function) and function not in covered and name not in exempt
    ]
    assert not missing, f"add these to RUNNERS (or EXEMPT, with the reason): {missing}"


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_conventions_are_keyword_only(name):
    parameters = inspect.signature(_function(name)).parameters
    if name in FORWARDS:
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        parameters = inspect.signature(_function(FORWARDS[name])).parameters
    _, extra = RUNNERS[name]
    for option in ("device", "progress", *extra):
        assert option in parameters, f"{name} has no {option}="
        assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY, (
            f"{name}: {option} must be keyword-only"
        )
    if "seed" in extra:
        default = parameters["seed"].default
        assert isinstance(default, int) and not isinstance(default, bool), (
            f"{name}: seed must default to an int (found {default!r})"
        )


BAD_VALUES = {
    "device": ("gpu", ValueError),
    "progress": ("yes", TypeError),
    "output": (3, ValueError),  # the tiny models return one tensor
    "target": (7, ValueError),  # they have one output column
    "seed": (-1, ValueError),
}


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, option)
        for name, (_, extra) in sorted(RUNNERS.items())
        for option in ("device", "progress", *extra)
    ],  # fmt: skip
)
def test_bad_convention_values_are_refused_by_name(name, option):
    call, _ = RUNNERS[name]
    value, error = BAD_VALUES[option]
    with pytest.raises((error, TypeError, ValueError), match=option):
        call(**{option: value})


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_the_table_calls_run(name):
    call, _ = RUNNERS[name]
    call(progress=False)


# ---------------------------------------------------------------------------- import graph
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The genotutor modules that ``path`` imports anywhere (a name imported from a
    package counts as its submodule when it is one)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # a submodule imported from its package counts as the submodule
            names = [f"{source}.{alias.name}" for alias in node.names]
            names = [n for n in names if n in modules] or [source]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_cycle():
    root = Path(genotutor.__file__).parent
    paths = {_module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(paths)
    graph = {module: _imports(path, module, modules) for module, path in paths.items()}
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph))}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
