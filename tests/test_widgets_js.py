"""The explorers' views under Node.js: ``node --test tests/js/*.test.mjs`` on fixtures
written here.

Each explorer is built small with the public API; its view's state (``data`` and the
control traits) is written as JSON, with what Python computes for a few choices of the
controls (the summary's numbers, the map or track shown) and each packed array's shape
and sum. The node tests import each view's module as it is (its import from ``./plot.js``
resolved by Node.js) and check its pure functions against those numbers and its data
contract against the state, draw it on a fake DOM, and import each ``esm(name)`` from a
data: URL (self-contained) to check that it draws the same. Skipped without Node.js.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from genotutor.sequences import ALPHABET, random_sequences
from genotutor.widgets import _view
from genotutor.widgets._view import esm, unpack

NODE = shutil.which("node")
NODE_TESTS = sorted((Path(__file__).parent / "js").glob("*.test.mjs"))
EXPLORERS = (
    "attention",
    "attribution",
    "filters",
    "motifs",
    "mutation",
    "priors",
    "splicing",
    "surrogate",
    "variants",
)


# --------------------------------------------------------------------------- fixtures
def _plain(value: object) -> object:
    """``value`` as JSON: tensors and arrays as lists, NaN as null (JSON has no NaN)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    return value


def _packed(value: object, path: str = "") -> dict[str, dict]:
    """Every packed array in ``value`` (nested in dicts and lists), by its path
    (``"scores.saliency"``): its shape, sum (NaN left out) and number of NaN."""
    if isinstance(value, dict) and "b64" in value:
        array = unpack(value).astype(np.float64)
        summary = {"shape": list(array.shape), "sum": float(np.nansum(array))}
        return {path: {**summary, "nan": int(np.isnan(array).sum())}}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {}
    found = {}
    for key, item in items:
        found.update(_packed(item, f"{path}.{key}" if path else str(key)))
    return found


def _traits(view) -> dict:
    """The view's control traits and their values: the synced traits its class adds to
    ExplorerView's (``data`` among those), less anywidget's private ones."""
    names = set(view.trait_names(sync=True)) - set(_view.ExplorerView.class_trait_names(sync=True))
    return {name: getattr(view, name) for name in sorted(names) if not name.startswith("_")}


class _Fixture:
    """A view's state as it was built, then one case per choice of the controls."""

    def __init__(self, module: str, view) -> None:
        self.module, self.view = module, view
        self.controls, self.cases = _traits(view), []

    def case(self, **expected: object) -> None:
        """Record the view's controls now, with what Python computes for them."""
        self.cases.append({"controls": _traits(self.view), "expected": expected})

    def write(self, folder: Path, name: str, bad: dict, message: str) -> None:
        """``bad``: controls the view must refuse with ``message`` in its summary."""
        data = self.view.data
        fixture = {
            "module": self.module,
            "data": data,
            "controls": self.controls,
            "cases": _plain(self.cases),
            "bad": {"controls": bad, "message": message},
            "packed": _packed(data),
        }
        (folder / f"{name}.json").write_text(json.dumps(fixture, allow_nan=False))


def _model(**options) -> torch.nn.Module:
    from genotutor.models import DeepBind

    torch.manual_seed(0)
    return DeepBind(filter_width=5, **options).eval()


def _truth(n: int, length: int) -> torch.Tensor:
    truth = torch.zeros(n, length, dtype=torch.bool)
    truth[:, 5:9] = True
    truth[-1] = False  # a sequence without planted positions: no AUROC for it
    return truth


def _mutation(folder: Path) -> None:
    from genotutor.attribution import mutation_table
    from genotutor.widgets.mutation import MutationExplorer

    x = random_sequences(3, 24, seed=1)
    table = mutation_table(_model(), x, progress=False)
    explorer = MutationExplorer(table, x, truth=_truth(3, 24), window=10)
    fixture = _Fixture("mutation", explorer.view)
    for s, position, base in [(0, 12, "A"), (1, 0, "C"), (2, 23, "T"), (1, 6, "G")]:
        explorer.sequence.value, explorer.position.value = s, position
        explorer.base.value = base
        before, after = explorer.mutated_prediction()
        change = explorer.outputs[s] - explorer.reference[s]
        fixture.case(before=before, after=after, change=change.flatten())
    fixture.write(folder, "mutation", {"sequence": 5}, "sequence must be in [0, 2]; found 5")


def _attribution(folder: Path) -> None:
    from genotutor.attribution import attribution_table
    from genotutor.widgets.attribution import AttributionExplorer

    x, truth = random_sequences(3, 24, seed=1), _truth(3, 24)
    methods = ("saliency", "grad_x_input")
    table = attribution_table(_model(), x, truth=truth, methods=methods, progress=False)
    explorer = AttributionExplorer(table, x, truth=truth, window=10)
    fixture = _Fixture("attribution", explorer.view)
    for s, method, correct, start in [
        (0, "saliency", True, 0),
        (1, "grad_x_input", False, 14),
        (2, "saliency", False, 5),
        (0, "grad_x_input", True, 3),
    ]:
        explorer.sequence.value, explorer.method.value = s, method
        explorer.correct.value, explorer.start.value = correct, start
        fixture.case(**explorer.shown(), scores=explorer.scores().flatten())
    fixture.write(folder, "attribution", {"start": 20}, "start must be in [0, 14]; found 20")


def _filters(folder: Path) -> None:
    from genotutor.interpret import filter_table
    from genotutor.widgets.filters import FilterExplorer

    x = random_sequences(4, 30, seed=2)
    table = filter_table(_model(n_filters=3), x, n_tracks=3, progress=False)
    explorer = FilterExplorer(table, x, truth=_truth(4, 30))
    fixture = _Fixture("filters", explorer.view)
    for f, s in [(0, 0), (2, 1), (1, 2)]:
        explorer.filter.value, explorer.sequence.value = f, s
        track = explorer.activations[s, f]
        fixture.case(match=explorer.best_match(), n_sites=explorer.pwms.n_sites[f], track=track)
    fixture.write(folder, "filters", {"filter": 3}, "filter must be in [0, 2]; found 3")


def _motifs(folder: Path) -> None:
    from genotutor.interpret.modisco import Pattern
    from genotutor.widgets.motifs import MotifExplorer

    rng = np.random.default_rng(0)
    patterns = []
    for name, width in (("pos_0", 6), ("pos_1", 4)):
        cwm = rng.normal(size=(4, width))
        seqlets = pd.DataFrame({"sequence": [0], "start": [1], "end": [1 + width], "strand": ["+"]})
        patterns.append(Pattern(name, cwm, cwm, rng.dirichlet(np.ones(4), size=width).T, seqlets))
    matches = pd.DataFrame(
        {
            "query": ["pos_0"],
            "target_id": ["MA1"],
            "target_name": ["A"],
            "p_value": [1e-6],
            "q_value": [1e-4],
        }
    )
    x = random_sequences(3, 20, seed=2)
    contributions = torch.randn(3, 4, 20, generator=torch.Generator().manual_seed(0)) * x
    instances = pd.DataFrame(
        {
            "motif": ["pos_0", "pos_1", "pos_0"],
            "sequence": [0, 0, 2],
            "start": [2, 12, 7],
            "end": [8, 16, 13],
            "strand": ["+", "-", "+"],
        }
    )
    explorer = MotifExplorer(patterns, matches, contributions, x, instances)
    pattern, sequence = explorer.controls
    fixture = _Fixture("motifs", explorer.view)
    for k, s in [(0, 0), (1, 2), (1, 1)]:
        pattern.index, sequence.value = k, s
        mine = instances[instances["sequence"] == s]["motif"]
        counts = [int((mine == p.name).sum()) for p in patterns]
        fixture.case(
            counts=counts,
            contributions=contributions[s].sum(0),
            width=patterns[k].width,
            cwm=patterns[k].cwm.flatten(),
        )
    fixture.write(folder, "motifs", {"sequence": 3}, "sequence must be in [0, 2]; found 3")


def _attention(folder: Path) -> None:
    from genotutor.interpret import attention_table
    from genotutor.models import AttentionCNN
    from genotutor.widgets.attention import AttentionExplorer

    torch.manual_seed(0)
    model = AttentionCNN(30, n_filters=4, filter_width=5, pool=5, n_heads=2, hidden=4).eval()
    x = random_sequences(3, 30, seed=3)
    table = attention_table(model, x, progress=False)
    tokens = torch.zeros(3, model.n_tokens, dtype=torch.bool)
    tokens[0, [1, 3]] = True
    tokens[1, 2] = True  # one marked token: no share
    explorer = AttentionExplorer(table, tokens=tokens)
    fixture = _Fixture("attention", explorer.view)
    for s, head in [(0, "mean"), (0, "1"), (1, "0"), (2, "mean")]:
        explorer.sequence.value, explorer.head.value = s, head
        weights = explorer.weights()
        fixture.case(
            weights=weights.flatten(),
            share=explorer.marked_share(),
            marked=torch.nonzero(tokens[s]).flatten(),
            output=explorer.outputs[s],
            received=weights.sum(0),
        )
    fixture.write(folder, "attention", {"sequence": 4}, "sequence must be in [0, 2]; found 4")


def _priors(folder: Path) -> None:
    from genotutor.attribution import attribution_tracks
    from genotutor.widgets.priors import PriorExplorer

    x = random_sequences(3, 24, seed=4)
    models = {"a": _model(), "b": _model(n_filters=4)}
    tracks = attribution_tracks(models, x, progress=False)
    explorer = PriorExplorer(tracks, truth=_truth(3, 24), freq_limit=5)
    fixture = _Fixture("priors", explorer.view)
    for s, cutoff, softness, sigma in [(0, 5, 0.2, 3), (2, 1, 0.0, 0), (1, 12, 1.5, 2)]:
        explorer.sequence.value, explorer.cutoff.value = s, cutoff
        explorer.softness.value, explorer.sigma.value = softness, sigma
        fixture.case(numbers=list(explorer.numbers().values()))
    fixture.write(folder, "priors", {"sequence": 3}, "sequence must be in [0, 2]; found 3")


def _splicing(folder: Path) -> None:
    from genotutor.distillation import AdditiveStudent
    from genotutor.splicing import Layout, TruthModel, edit_table, reporter_sequences
    from genotutor.widgets.splicing import SplicingExplorer

    layout = Layout()
    torch.manual_seed(0)
    student = AdditiveStudent(layout.length)
    with torch.no_grad():
        student.theta.normal_()
    x = reporter_sequences(2, seed=1)
    first, last = layout.exon_start, layout.exon_start + 3
    models = {"truth": TruthModel(), "student": student.eval()}
    table = edit_table(
        models,
        x,
        region=layout.body,
        frame=layout.exon_start,
        positions=(first, last),
        progress=False,
    )
    explorer = SplicingExplorer(table, x, window=20)
    fixture = _Fixture("splicing", explorer.view)
    for s, position, base, edit in [
        (0, first, 0, 0),
        (1, last - 1, 2, 1),
        (0, first + 1, 4, 3),
        (1, first, 0, 4),
        (0, last - 1, 1, 2),
    ]:
        explorer.sequence.value, explorer.position.value = s, position
        explorer.base.index, explorer.edit.index = base, edit
        before, after = explorer.edited()
        fixture.case(
            values=list(explorer.predictions().values()),
            edited=after[0].argmax(0),
            changed=(after != before)[0].any(0).int(),
        )
    message = f"position must be in [{first}, {last - 1}]; found {first - 1}"
    fixture.write(folder, "splicing", {"position": first - 1}, message)


def _surrogate(folder: Path) -> None:
    from genotutor.surrogate import surrogate_grid
    from genotutor.widgets.surrogate import SurrogateExplorer

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(4 * 30, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    )
    x = random_sequences(2, 30, seed=0)
    grid = surrogate_grid(
        model,
        x,
        window=10,
        centres=[8, 20],
        rates=(0.1, 0.3),
        sizes=(60,),
        fit_options={"epochs": 2},
        progress=False,
    )
    explorer = SurrogateExplorer(grid, truth=_truth(2, 30))
    fixture = _Fixture("surrogate", explorer.view)
    for locus, rate, family in [(0, 0, 0), (1, 1, 2), (1, 0, 1)]:
        explorer.locus.value, explorer.rate.index, explorer.family.index = locus, rate, family
        shown = explorer.shown()
        logo = unpack(explorer.view.data["logo"])[locus, rate, 0, family]
        fixture.case(**shown, window=explorer.window(), logo=logo.flatten())
    fixture.write(folder, "surrogate", {"locus": 2}, "locus must be in [0, 1]; found 2")


def _variants(folder: Path) -> None:
    from genotutor.spliceai import SpliceAI
    from genotutor.variants import DELTA_COLUMNS, spliceai_tracks
    from genotutor.widgets.variants import VariantExplorer

    sequence = "".join(np.random.default_rng(4).choice(list(ALPHABET), 30))
    torch.manual_seed(2)
    model = SpliceAI(channels=4, kernel_sizes=(3,), dilations=(2,)).eval()

    def expected(tracks, explorer, index: int) -> dict:
        if index < 0:
            return {"index": -1, "deltas": None, "at": None}
        deltas = explorer.deltas.iloc[index]
        return {
            "index": index,
            "reference": tracks.reference[index, 1:].flatten(),
            "alternative": tracks.alternative[index, 1:].flatten(),
            "deltas": [deltas[c] for c in DELTA_COLUMNS],
            "at": [int(deltas[c + "_at"]) for c in DELTA_COLUMNS],
        }

    # grid mode: every substitution at positions 10 to 12
    table = pd.DataFrame(
        [
            {"position": p, "ref": sequence[p], "alt": b}
            for p in range(10, 13)
            for b in ALPHABET
            if b != sequence[p]
        ]
    )
    tracks = spliceai_tracks(model, sequence, table, distance=3, progress=False)
    explorer = VariantExplorer(tracks)
    slider, base = explorer.controls
    rows = unpack(explorer.view.data["rows"])
    fixture = _Fixture("variants", explorer.view)
    for p in range(3):
        for b in ALPHABET:
            slider.value, base.value = p, b
            index = int(rows[p, ALPHABET.index(b)])
            case = expected(tracks, explorer, index)
            if index < 0:  # the reference base: a neighbour's reference track, unchanged
                neighbour = int(rows[p][rows[p] >= 0][0])
                track = tracks.reference[neighbour, 1:].flatten()
                case.update(reference=track, alternative=track)
            fixture.case(**case)
    fixture.write(folder, "variants-grid", {"position": 3}, "position must be in [0, 2]; found 3")

    # list mode: any variants, chosen from a list
    table = pd.DataFrame(
        {
            "position": [5, 14],
            "ref": [sequence[5], sequence[14:16]],
            "alt": ["A" if sequence[5] != "A" else "C", sequence[14]],
        }
    )
    tracks = spliceai_tracks(model, sequence, table, distance=3, progress=False)
    explorer = VariantExplorer(tracks, labels=["one", "two"])
    (dropdown,) = explorer.controls
    fixture = _Fixture("variants", explorer.view)
    for index, label in enumerate(["one", "two"]):
        dropdown.value = label
        fixture.case(**expected(tracks, explorer, index))
    fixture.write(folder, "variants-list", {"variant": 2}, "variant must be in [0, 1]; found 2")


BUILDERS = (
    _attention,
    _attribution,
    _filters,
    _motifs,
    _mutation,
    _priors,
    _splicing,
    _surrogate,
    _variants,
)


# --------------------------------------------------------------------------- tests
@pytest.mark.skipif(NODE is None, reason="needs Node.js (node) to run the views' JavaScript")
def test_the_views_javascript_under_node(tmp_path):
    """Every explorer's fixture, and every bundle esm(name), through node --test."""
    for build in BUILDERS:
        build(tmp_path)
    (tmp_path / "bundles").mkdir()
    for name in EXPLORERS:
        (tmp_path / "bundles" / f"{name}.mjs").write_text(esm(name))
    done = subprocess.run(
        [NODE, "--test", *map(str, NODE_TESTS)],
        env={**os.environ, "GENOTUTOR_JS_FIXTURES": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    failures = [line for line in done.stdout.splitlines() if line.startswith("not ok")]
    assert done.returncode == 0, "\n".join(failures) + "\n" + done.stdout[-15000:] + done.stderr


def test_each_bundle_is_one_module_with_the_helpers_inlined():
    """Without Node.js: each esm(name) imports nothing and binds exactly what
    js/<name>.js imports from plot.js."""
    for name in EXPLORERS:
        module = esm(name)
        assert not [line for line in module.splitlines() if line.startswith("import")]
        assert module.count("const __plot = (() => {") == 1
        assert "export default explorer(" in module


def test_the_bundler_refuses_what_it_cannot_inline(tmp_path, monkeypatch):
    """Only ``import { ... } from "./plot.js"`` of names plot.js exports is inlined; an
    alias is bound as such."""
    (tmp_path / "plot.js").write_text("export function decode(p) { return p; }\nconst x = 1;\n")
    sources = {
        "alias": 'import { decode as d } from "./plot.js";\nexport default d;\n',
        "unknown": 'import { decode, panel } from "./plot.js";\nexport default decode;\n',
        "other": 'import { decode } from "./plot.js";\nimport { y } from "./y.js";\n',
    }
    for name, text in sources.items():
        (tmp_path / f"{name}.js").write_text(text)

    class Package:
        def __truediv__(self, name: str) -> Path:
            return tmp_path

    monkeypatch.setattr(_view.resources, "files", lambda package: Package())
    bundle = _view.esm.__wrapped__  # esm without its cache
    alias = bundle("alias")
    assert "const { decode: d } = __plot;" in alias and "return { decode };" in alias
    assert "import" not in alias.split("\n", 1)[1]
    with pytest.raises(ValueError, match="imports 'panel'; plot.js does not export it"):
        bundle("unknown")
    with pytest.raises(ValueError, match="may only import from ./plot.js"):
        bundle("other")
