"""Time load + prepare of every C-MAPSS subset: ``python benchmarks/bench_data.py [--repeat N]``.

Reads the files from ``$CMAPSS_DIR`` (or ``--data-dir``). Prints, per subset, the best wall time
over the repeats and the windows produced per second (train + validation + test), then the total.
The first repeat includes the one-off SHA-256 check of each file; later repeats skip it (cached
per process), so ``--repeat 1`` shows the cold cost.
"""

from __future__ import annotations

import argparse
import time

from amnl_utils.cmapss.download import resolve_data_dir
from amnl_utils.cmapss.prepare import prepare
from amnl_utils.core.constants import SUBSETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the C-MAPSS files (default: $CMAPSS_DIR)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per subset; the best is shown")
    args = parser.parse_args()
    folder = resolve_data_dir(args.data_dir)
    print(f"C-MAPSS from {folder}")
    print(f"{'subset':<7}{'first s':>9}{'best s':>9}{'windows':>10}{'windows/s':>12}")
    first_total = best_total = 0.0
    windows_total = 0
    for subset in SUBSETS:
        times = []
        for _ in range(max(args.repeat, 1)):
            t0 = time.perf_counter()
            data = prepare(subset, data_dir=folder)
            times.append(time.perf_counter() - t0)
        n = len(data.y_train) + len(data.y_val) + len(data.y_test)
        first_total += times[0]
        best_total += min(times)
        windows_total += n
        print(f"{subset:<7}{times[0]:>9.3f}{min(times):>9.3f}{n:>10d}{n / min(times):>12,.0f}")
    print(f"{'total':<7}{first_total:>9.3f}{best_total:>9.3f}{windows_total:>10d}{windows_total / best_total:>12,.0f}")


if __name__ == "__main__":
    main()
