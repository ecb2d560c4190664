"""Compact-preset training throughput per subset: ``python benchmarks/bench_training.py``.

Trains ``--steps`` mini-batches of 256 windows (after 3 warm-up steps) of the ``compact``
DualTaskModel on each subset's real training windows, with the AMNL loss and the book's 0.5/0.5
combination, and prints windows per second (training: forward + backward + clip + Adam step)
and inference windows per second. Also prints the headline grid's wall time if its summary exists.
Set ``--threads`` to what one grid job gets (1 with ``--jobs 2`` on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from amnl_utils.constants import SUBSETS
from amnl_utils.data import prepare
from amnl_utils.model import DualTaskModel, FixedWeightLoss, parameter_table
from amnl_utils.seeding import seed_everything
from amnl_utils.training import make_rul_loss, predict, train_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--preset", default="compact")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--results", default="results")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"preset {args.preset} ({parameter_table(DualTaskModel(args.preset))['total']:,} parameters), "
          f"{args.threads} thread(s), batch {args.batch_size}")
    print(f"{'subset':<7}{'train windows':>14}{'train win/s':>13}{'infer win/s':>13}{'s per 50-batch epoch':>22}")
    for subset in SUBSETS:
        data = prepare(subset, data_dir=args.data_dir)
        seed_everything(0)
        model = DualTaskModel(args.preset)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss, _ = make_rul_loss("amnl", data.y_train)
        comb = FixedWeightLoss()
        X, y, h = (torch.as_tensor(a) for a in (data.X_train, data.y_train, data.h_train))
        g = torch.Generator().manual_seed(0)

        def step():
            idx = torch.randint(0, len(y), (args.batch_size,), generator=g)
            train_step(model, (X[idx], y[idx], h[idx]), loss, comb, opt)

        for _ in range(3):
            step()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        train_rate = args.steps * args.batch_size / (time.perf_counter() - t0)
        Xv = data.X_val[:4096]
        t0 = time.perf_counter()
        predict(model, Xv)
        infer_rate = len(Xv) / (time.perf_counter() - t0)
        print(f"{subset:<7}{len(y):>14,}{train_rate:>13,.0f}{infer_rate:>13,.0f}{50 * args.batch_size / train_rate:>22.2f}")
    summary = Path(args.results) / "headline" / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        print(f"headline grid: {s['n_runs']} runs, wall {s['grid_wall_s'] / 60:.1f} min "
              f"(sum of run times {s['sum_run_wall_s'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
