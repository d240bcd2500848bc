"""Rebuild ``data/jaspar_subset.tsv`` and ``data/jaspar2024_vertebrates.tsv.gz`` from the
JASPAR 2024 database shipped in pyjaspar.

Run once by a maintainer (``pip install pyjaspar==4.0.0``); the book only reads the tables.
Keeps the newest version of each listed CORE matrix (the subset), and of every CORE matrix
whose taxonomic group is vertebrates (the whole collection TOMTOM searches, chapter 4).
"""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pandas as pd

BASE_IDS = [
    "MA0139",  # CTCF
    "MA0035",  # GATA1
    "MA0091",  # TAL1::TCF3
    "MA0080",  # SPI1
    "MA0466",  # CEBPB
    "MA0058",  # MAX
    "MA0138",  # REST
    "MA0079",  # SP1
    "MA0148",  # FOXA1
    "MA0114",  # HNF4A
    "MA0095",  # YY1
    "MA0106",  # TP53
    "MA0105",  # NFKB1
    "MA0489",  # JUN
    "MA0050",  # IRF1
    "MA0113",  # NR3C1
    "MA0143",  # SOX2
    "MA0052",  # MEF2A
    "MA0028",  # ELK1
    "MA0018",  # CREB1
    "MA0506",  # NRF1
    "MA0036",  # GATA2
]


VERTEBRATES = (
    "SELECT DISTINCT m.BASE_ID FROM MATRIX m JOIN MATRIX_ANNOTATION a ON m.ID = a.ID "
    "WHERE m.COLLECTION = 'CORE' AND a.TAG = 'tax_group' AND a.VAL = 'vertebrates' "
    "ORDER BY m.BASE_ID"
)


def matrix_rows(con: sqlite3.Connection, base_ids: list[str], *, upper: bool) -> list[dict]:
    """Long-format rows (one per position) of the newest CORE version of each base ID."""
    rows = []
    for base_id in base_ids:
        matrix_id, version, name = con.execute(
            "SELECT ID, VERSION, NAME FROM MATRIX WHERE BASE_ID=? AND COLLECTION='CORE' "
            "ORDER BY VERSION DESC LIMIT 1",
            (base_id,),
        ).fetchone()
        data = pd.DataFrame(
            con.execute(
                "SELECT row, col, val FROM MATRIX_DATA WHERE ID=?", (matrix_id,)
            ).fetchall(),
            columns=["base", "position", "count"],
        ).pivot(index="position", columns="base", values="count")
        for position, counts in data.iterrows():
            rows.append(
                {
                    "matrix_id": f"{base_id}.{version}",
                    "name": name.upper() if upper else name,
                    "position": int(position),
                    **{b: float(counts[b]) for b in "ACGT"},
                }
            )
    return rows


def main() -> None:
    spec = importlib.util.find_spec("pyjaspar")
    db = Path(spec.origin).parent / "data" / "JASPAR2024.sqlite"
    con = sqlite3.connect(db)
    out = Path(__file__).with_name("jaspar_subset.tsv")
    pd.DataFrame(matrix_rows(con, BASE_IDS, upper=True)).to_csv(out, sep="\t", index=False)
    print(f"wrote {out} ({len(BASE_IDS)} matrices)")
    vertebrates = [base_id for (base_id,) in con.execute(VERTEBRATES)]
    out = Path(__file__).with_name("jaspar2024_vertebrates.tsv.gz")
    # mtime=0: the same database gives the same bytes (and checksum)
    table = pd.DataFrame(matrix_rows(con, vertebrates, upper=False))
    table.to_csv(out, sep="\t", index=False, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {out} ({len(vertebrates)} matrices)")


if __name__ == "__main__":
    main()
