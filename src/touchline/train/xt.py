"""Fit the shipped expected-threat surface (``xt``) on real event data.

    python -m touchline.train.xt --out runs/xt
    python -m touchline.train.ship runs/xt/xt.json --name xt \\
        --command "python -m touchline.train.xt --out runs/xt"

Value iteration (:func:`touchline.analytics.xt.fit_xt`), 16 x 12 cells, discount 0.95 per
action, on the moves (passes, losses, implied carries) and shots of:

* Metrica sample games 1 and 2 (``../shared/data/tracking/metrica_events``, raw csv);
* Metrica sample game 3 (the same folder, json events + EPTS metadata, read by kloppy);
* the StatsBomb matches kloppy ships with its tests (``kloppy/tests/files/statsbomb_*``).

Every event is also used mirrored across the long axis of the pitch (``y -> W - y``): the game
is symmetric left-right for the attacking team, and the mirror halves the sampling noise of a
few hundred shots (the surface comes out exactly symmetric). Needs no torch: seconds on a CPU. Writes ``xt.json``: the values (row 0 at
the top touchline, attacking right) and the fit's summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from touchline.analytics.xt import (
    METRICA_EVENT_FILES,
    Moves,
    Shots,
    events_from_kloppy,
    events_from_metrica_csv,
    fit_xt,
)
from touchline.data import shared_file
from touchline.errors import DataError
from touchline.pitch import Pitch
from touchline.utils.files import write_json_atomic

__all__ = ["fit_shipped_xt", "training_events"]

GRID = (16, 12)
DISCOUNT = 0.95
METRICA_GAME_3 = (
    "tracking/metrica_events/Sample_Game_3_events.json",
    "tracking/metrica_events/Sample_Game_3_metadata.xml",
)
STATSBOMB = ("15986", "3788741", "")


def _shared(rel: str) -> Path:
    p = shared_file(rel)
    if p is None:
        raise DataError(f"xt training data missing: ../shared/data/{rel}")
    return p


def training_events() -> tuple[Moves, Shots, list[str]]:
    """All moves and shots of the training sources (attacking right), and their names."""
    import kloppy
    from kloppy import metrica, statsbomb

    moves, shots, sources = [], [], []
    for rel in METRICA_EVENT_FILES:
        m, s = events_from_metrica_csv(_shared(rel))
        moves.append(m)
        shots.append(s)
        sources.append(rel)
    ev, meta = (_shared(r) for r in METRICA_GAME_3)
    m, s = events_from_kloppy(metrica.load_event(event_data=str(ev), meta_data=str(meta)))
    moves.append(m)
    shots.append(s)
    sources.append(METRICA_GAME_3[0])
    files = Path(kloppy.__file__).parent / "tests" / "files"
    for match in STATSBOMB:
        stem = f"statsbomb_{match}_" if match else "statsbomb_"
        ev_f, lineup_f = files / f"{stem}event.json", files / f"{stem}lineup.json"
        m, s = events_from_kloppy(statsbomb.load(event_data=str(ev_f), lineup_data=str(lineup_f)))
        moves.append(m)
        shots.append(s)
        sources.append(f"kloppy/tests/files/{ev_f.name}")
    return Moves.merge(moves), Shots.merge(shots), sources


def _mirror(moves: Moves, shots: Shots, width: float) -> tuple[Moves, Shots]:
    """The events and their mirror images across the long axis.

    A point exactly on a boundary between two rows of cells (kick-offs and penalties on the
    axis; Metrica's 0.25 and 0.75) falls in the lower row, and its mirror image on the
    mirrored boundary in the lower row too, which is not the mirrored cell. Such points are
    nudged by 1 micrometre downwards first, so that both copies land in mirrored cells and
    the counts, hence the surface, are exactly symmetric.
    """
    dy = width / GRID[1]

    def nudge(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        k = out[:, 1] / dy
        on_edge = np.abs(k - np.round(k)) < 1e-9
        out[on_edge, 1] += 1e-6
        return out

    def flip(xy: np.ndarray) -> np.ndarray:
        return np.stack([xy[:, 0], width - xy[:, 1]], axis=1)

    start, end, shot_xy = nudge(moves.start), nudge(moves.end), nudge(shots.xy)
    both_moves = Moves.merge(
        [Moves(start, end, moves.success), Moves(flip(start), flip(end), moves.success)]
    )
    both_shots = Shots.merge([Shots(shot_xy, shots.goal), Shots(flip(shot_xy), shots.goal)])
    return both_moves, both_shots


def fit_shipped_xt(out: Path) -> dict[str, Any]:
    """Fit the surface and write ``out/xt.json``; returns its content."""
    moves, shots, sources = training_events()
    both_moves, both_shots = _mirror(moves, shots, Pitch().width)
    m = fit_xt(both_moves, both_shots, grid=GRID, discount=DISCOUNT)
    doc = {
        "kind": "value_surface",
        "name": "xT",
        "source": "; ".join(sources) + " (each event also mirrored across the long axis)",
        "attack": "right",
        "rows": "row 0 at the top touchline (touchline coordinates, y down)",
        "grid": list(GRID),
        "discount": DISCOUNT,
        "iterations": m.iterations,
        "converged": m.converged,
        "moves": len(moves),
        "shots": len(shots),
        "goals": int(shots.goal.sum()),
        "values": np.round(m.values, 6).tolist(),
    }
    write_json_atomic(Path(out) / "xt.json", doc)
    return doc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/xt"))
    a = ap.parse_args(argv)
    doc = fit_shipped_xt(a.out)
    print(json.dumps({k: v for k, v in doc.items() if k != "values"}, indent=1))


if __name__ == "__main__":
    main()
