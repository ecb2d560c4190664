"""AMNL loss vs ``F.mse_loss``, forward + backward: ``python benchmarks/bench_loss.py [--threads N]``.

For each batch size (256 … 1,048,576 samples, shape (B,)) prints the best-of-N time of one
forward + backward of ``moderate_weighted_mse_loss`` and of ``F.mse_loss`` and their ratio.
Target: ratio <= 1.5 for B >= 65,536 (where the loss, not call overhead, is what is timed).
The AMNL loss also validates its targets (finite, >= 0) on every call; the "plain" column times
the same maths written as elementwise operations, ``(w * (p - t)**2).mean()``, without validation,
to show what the library's fused autograd function saves.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from amnl_utils.core.losses import moderate_weighted_mse_loss
from amnl_utils.core.weights import linear_weight_torch

SIZES = [256, 1024, 4096, 16384, 65536, 262144, 1048576]


def best_time(fn, pred, target, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        p = pred.detach().requires_grad_(True)
        t0 = time.perf_counter()
        fn(p, target).backward()
        best = min(best, time.perf_counter() - t0)
    return best


def plain_amnl(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The AMNL formula as plain elementwise operations (no validation, no fusion)."""
    return (linear_weight_torch(t) * (p - t).square()).mean()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeat}")
    print(f"{'batch':>9} {'mse µs':>10} {'amnl µs':>10} {'ratio':>7} {'plain ratio':>12}")
    for n in SIZES:
        target = torch.rand(n, generator=g) * 150
        pred = target + torch.randn(n, generator=g) * 10
        rep = max(5, args.repeat if n <= 65536 else args.repeat // 3)
        fns = (F.mse_loss, moderate_weighted_mse_loss, plain_amnl)
        for fn in fns:  # warm-up
            best_time(fn, pred, target, 2)
        t_mse, t_amnl, t_plain = (best_time(fn, pred, target, rep) for fn in fns)
        flag = "" if n < 65536 or t_amnl / t_mse <= 1.5 else "  > 1.5 target"
        print(f"{n:>9} {t_mse * 1e6:>10.1f} {t_amnl * 1e6:>10.1f} {t_amnl / t_mse:>7.2f} "
              f"{t_plain / t_mse:>12.2f}{flag}")


if __name__ == "__main__":
    main()
