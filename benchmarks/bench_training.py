"""Compact-preset training throughput, before and after the speed-ups: ``python benchmarks/bench_training.py``.

Times full training steps (forward, both losses, backward, clip, Adam) of the ``compact``
DualTaskModel on real training windows with the AMNL loss, one torch thread (what one grid job
gets with ``--jobs 2`` on a 2-core machine), and prints windows per second for:

* **before** — the full ``nn.MultiheadAttention`` over all T queries (the model as it was first
  written; only the last row is read) and glibc's default allocator settings;
* **after** — the last-query attention of ``DualTaskModel.features`` and
  ``training.keep_freed_memory`` (the code the grids run).

The maths is the same (``tests/test_model.py`` checks the attention, and this script checks that
the two trunks agree on a batch); only the speed differs. Each variant is timed best of
``--repeats`` rounds; "before" goes first because the allocator setting cannot be undone within a
process. Run it on an idle machine (a grid running beside it slows both variants).
"""

from __future__ import annotations

import argparse
import time

import torch

from amnl_utils.cmapss.prepare import prepare
from amnl_utils.core.seeding import seed_everything
from amnl_utils.engine.model import RUL_SCALE, DualTaskModel, FixedWeightLoss, parameter_table
from amnl_utils.engine.training import keep_freed_memory, make_rul_loss, train_step


def full_attention_features(self, x):
    """The original trunk: attention over every query, then the last row (same maths)."""
    h = self.cnn(x.transpose(1, 2)).transpose(1, 2)
    h, _ = self.bilstm(h)
    a, _ = self.attention(h, h, h, need_weights=False)
    h = self.attn_norm(h + a)
    return self.funnel(h[:, -1, :])


def time_steps(model, batches, loss, steps: int) -> float:
    """Seconds per step, after 3 warm-up steps."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    comb = FixedWeightLoss()
    for b in batches[:3]:
        train_step(model, b, loss, comb, opt)
    t0 = time.perf_counter()
    for b in batches[3 : 3 + steps]:
        train_step(model, b, loss, comb, opt)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", default="FD001")
    ap.add_argument("--window", type=int, default=30, help="window length in cycles (the recipe's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"compact preset ({parameter_table(DualTaskModel('compact'))['total']:,} parameters), {args.subset}, "
          f"{args.threads} thread(s), batch {args.batch_size}, best of {args.repeats} x {args.steps} steps")
    print(f"{'window':>6}{'before win/s':>14}{'after win/s':>13}{'ratio':>8}")
    for window in [args.window]:
        data = prepare(args.subset, window=window, data_dir=args.data_dir)
        loss, _ = make_rul_loss("amnl", data.y_train, unit=RUL_SCALE)
        X, y, h = (torch.as_tensor(a) for a in (data.X_train, data.y_train, data.h_train))
        g = torch.Generator().manual_seed(0)
        batches = [(X[i], y[i], h[i]) for i in (torch.randint(0, len(y), (args.batch_size,), generator=g)
                                               for _ in range(args.steps + 3))]
        seed_everything(0)
        model = DualTaskModel("compact")
        with torch.no_grad():  # same maths: the two trunks agree on a batch
            model.eval()
            gap = (model.features(X[:64]) - full_attention_features(model, X[:64])).abs().max().item()
        assert gap < 1e-5, f"the two trunks differ by {gap}"
        best = {"before": float("inf"), "after": float("inf")}
        for variant in ("before", "after"):
            if variant == "after":
                keep_freed_memory()
            for _ in range(args.repeats):
                seed_everything(0)
                m = DualTaskModel("compact")
                if variant == "before":
                    m.features = full_attention_features.__get__(m)
                best[variant] = min(best[variant], time_steps(m, batches, loss, args.steps))
        before, after = args.batch_size / best["before"], args.batch_size / best["after"]
        print(f"{window:>6}{before:>14,.0f}{after:>13,.0f}{after / before:>7.2f}x")


if __name__ == "__main__":
    main()
