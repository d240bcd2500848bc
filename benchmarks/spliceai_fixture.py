"""Run the original Keras SpliceAI models once and store their outputs as a test fixture.

This script is the oracle behind ``tests/test_spliceai.py``: it needs TensorFlow/Keras and
must NOT run in the project's environment (no torch, no genotutor imports). Make a
throwaway environment, outside the repository::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install "tensorflow-cpu==2.15.1"      # Keras 2.15 reads Keras 2.0.5 HDF5
    /tmp/tfenv/bin/pip install --no-deps spliceai
    /tmp/tfenv/bin/python benchmarks/spliceai_fixture.py

It writes ``tests/fixtures/spliceai_keras_outputs.npz`` holding the input sequences and the
softmax outputs of each of the five models (``spliceai1.h5`` ... ``spliceai5.h5``), in
Keras' layout ``(model, sequence, position, class)`` with classes (neither, acceptor, donor).
The weights are read from the installed package (CC BY-NC 4.0); only outputs are stored.

Sequences:
- ``random``: two uniform random sequences (numpy seed 2019) of length 10,000 + 32; the
  second has a 200-nt run of N (all-zero one-hot) inside its left context.
- ``hbb``: the human beta-globin gene (HBB; GenBank KU350152.1, 2,031 nt: 5' flank, exons
  1-3 with introns 1-2, 3' UTR), padded with 5,000 N on each side, as SpliceAI's own
  scoring pads sequence ends. Sequence copied from a public teaching script that quotes
  KU350152.1 (our search index id 17193652111); its exon 2 and intron 1-2 junctions
  (GGGCAG|GTTGGT, CCCTTAG|GCTGCT, CTTCAGG|GTGAGT, CCCACAG|CTCCTGG) and the 223-nt exon 2
  agree with several other public copies of HBB.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "spliceai_keras_outputs.npz"
SEED = 2019
N_OUT = 32
# Read from the shipped file (this script runs in a TensorFlow venv without genotutor).
HBB = (Path(__file__).resolve().parent.parent / "data" / "hbb_KU350152.1.txt").read_text().strip()


def one_hot(sequence: str) -> np.ndarray:
    """(L, 4) float32, A C G T, N -> zeros (SpliceAI's own encoding)."""
    table = {"A": 0, "C": 1, "G": 2, "T": 3}
    x = np.zeros((len(sequence), 4), dtype=np.float32)
    for i, letter in enumerate(sequence):
        if letter in table:
            x[i, table[letter]] = 1.0
    return x


def sequences() -> tuple[list[str], str]:
    rng = np.random.default_rng(SEED)
    random = ["".join(rng.choice(list("ACGT"), size=10_000 + N_OUT)) for _ in range(2)]
    random[1] = random[1][:1000] + "N" * 200 + random[1][1200:]
    return random, "N" * 5000 + HBB + "N" * 5000


def main() -> None:
    import keras
    import tensorflow as tf
    from keras.models import load_model

    folder = Path(next(iter(importlib.util.find_spec("spliceai").submodule_search_locations)))
    random, hbb = sequences()
    x_random = np.stack([one_hot(s) for s in random])
    x_hbb = one_hot(hbb)[None]
    random_probs, hbb_probs = [], []
    for k in range(1, 6):
        model = load_model(folder / "models" / f"spliceai{k}.h5", compile=False)
        random_probs.append(model.predict(x_random, verbose=0))
        hbb_probs.append(model.predict(x_hbb, verbose=0)[0])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        random_sequences=np.array(random),
        random_probs=np.stack(random_probs).astype(np.float32),
        hbb_sequence=np.array(hbb),
        hbb_probs=np.stack(hbb_probs).astype(np.float32),
        versions=np.array(f"tensorflow {tf.__version__}, keras {keras.__version__}"),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
