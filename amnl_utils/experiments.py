"""Named grids of training runs: run once, cache one JSON file per run, aggregate into tables (SPEC §6).

Command line::

    python -m amnl_utils.experiments list
    python -m amnl_utils.experiments run --grid headline [--results results] [--jobs 2]
    python -m amnl_utils.experiments aggregate --grid headline [--results results]

``run`` is resumable: a run whose result file exists is skipped. Each file is written atomically
(temporary file in the same folder, then ``os.replace``), so an interrupted run leaves no partial
file. ``aggregate`` writes ``summary.csv`` / ``summary.json`` (per subset × arm: mean ± std over
seeds and an engine-level bootstrap 95 % interval) and ``comparisons.csv`` (each arm minus MSE,
paired engine-level bootstrap interval) next to the run files.

How the intervals are made (the notebooks say the same): the point estimate is the mean over seeds
of the metric on the last-cycle test predictions. The interval resamples the **test engines** with
replacement (1,000 times, seeded) and recomputes that mean over seeds on each resample; its spread is
the uncertainty that comes from which engines happen to be in the test set. ``std`` is the separate
seed-to-seed spread (ddof = 1). A comparison (arm − MSE) is a paired bootstrap that resamples the
same test engines *and* the same seeds for both arms, so its interval holds both sources of noise;
a difference whose 95 % interval contains 0 is reported as "no measurable difference".
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import metrics as M
from .constants import SUBSETS, W_MAX
from .training import TrainConfig

#: Result files of a grid live in ``<results>/<grid>/<subset>/<arm>_s<seed>.json``.
DEFAULT_RESULTS = Path("results")
#: Bootstrap resamples for the aggregate intervals.
N_BOOT: int = 1000


@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: its arm name (``mse``, ``scaled_mse``, ``amnl``) and its full config."""

    arm: str
    config: TrainConfig
    max_batches: int | None = None  # smoke grids only

    @property
    def relpath(self) -> Path:
        return Path(self.config.subset) / f"{self.arm}_s{self.config.seed}.json"


def arm_configs(w_max: float = W_MAX) -> dict[str, dict[str, Any]]:
    """The three arms of every AMNL comparison (SPEC §5 "A control"): MSE, scaled MSE, AMNL."""
    return {
        "mse": {"loss": "mse", "w_max": w_max},
        "scaled_mse": {"loss": "scaled_mse", "w_max": w_max},
        "amnl": {"loss": "amnl", "w_max": w_max},
    }


def _grid(subsets: Iterable[str], seeds: Iterable[int], base: TrainConfig, max_batches: int | None = None) -> list[RunSpec]:
    runs = []
    for seed in seeds:  # seed-major: a partial grid still has every subset × arm
        for subset in subsets:
            for arm, kw in arm_configs().items():
                runs.append(RunSpec(arm, replace(base, subset=subset, seed=seed, **kw), max_batches))
    return runs


#: Named grids. ``headline``: 4 subsets × 3 arms × 5 seeds, compact preset; each run is at most
#: 25 epochs × 50 batches of 256 windows, early stopping after 8 epochs without a better
#: validation RMSE (budget chosen so the 60 runs fit in ~40 min on 2 CPU cores).
GRIDS: dict[str, Callable[[], list[RunSpec]]] = {
    "smoke": lambda: _grid(
        ["FD001"],
        [0],
        TrainConfig(max_epochs=2, steps_per_epoch=3, patience=1, batch_size=64, max_val_windows=256),
        max_batches=3,
    ),
    "headline": lambda: _grid(SUBSETS, range(5), TrainConfig(preset="compact")),
}


def grid_runs(name: str) -> list[RunSpec]:
    """The runs of a named grid (see :data:`GRIDS`)."""
    try:
        return GRIDS[name]()
    except KeyError:
        raise ValueError(f"unknown grid {name!r}; choose one of {sorted(GRIDS)}") from None


# --------------------------------------------------------------------------- files


def write_json_atomic(path: Path | str, obj: Any) -> Path:
    """Write ``obj`` as JSON to ``path`` via a temporary file in the same folder and ``os.replace``.

    Either the complete file appears or nothing does: on any exception (also while serialising)
    the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1, allow_nan=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; result files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def git_commit() -> str:
    """``git rev-parse HEAD`` of the package's repository, ``"unknown"`` outside one.

    ``"+dirty"`` is appended when ``amnl_utils/`` has uncommitted changes, so a result file never
    claims a commit whose code it was not produced by.
    """
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, cwd=here)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10, cwd=here
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    return commit + ("+dirty" if status.returncode == 0 and status.stdout.strip() else "")


def environment() -> dict[str, str]:
    """Library versions and platform, for the result files."""
    import pandas
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(terse=True),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def run_one(
    spec: RunSpec,
    out_path: Path | str,
    data_dir: str | None = None,
    threads: int = 1,
    progress: bool = False,
    commit: str | None = None,
) -> dict:
    """Train one run and write its result file atomically; returns the record.

    commit: the code version to record (default: ``git rev-parse HEAD`` now).
    """
    from .training import train

    started = _now()
    res = train(spec.config, data_dir=data_dir, progress=progress, threads=threads, max_batches=spec.max_batches)
    record = {
        "grid_arm": spec.arm,
        "subset": spec.config.subset,
        "seed": spec.config.seed,
        **res.record,
        "max_batches": spec.max_batches,
        "git_commit": commit if commit is not None else git_commit(),
        "versions": environment(),
        "started_at": started,
        "finished_at": _now(),
    }
    write_json_atomic(out_path, record)
    return record


def _worker(args: tuple[RunSpec, str, str | None, str]) -> tuple[str, float]:
    spec, path, data_dir, commit = args
    rec = run_one(spec, path, data_dir=data_dir, threads=1, progress=False, commit=commit)
    return path, rec["wall_s"]


def run_grid(
    name: str,
    results: Path | str = DEFAULT_RESULTS,
    jobs: int = 1,
    data_dir: str | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Run every not-yet-finished run of a grid; ``jobs`` processes with one torch thread each.

    Returns ``{"total": n, "skipped": k, "ran": m}``.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    root = Path(results) / name
    runs = grid_runs(name)
    commit = git_commit()  # once, at launch: the code the workers import
    todo = [(s, str(root / s.relpath), data_dir, commit) for s in runs if not (root / s.relpath).exists()]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc=f"grid {name}", unit="run")
    t0 = time.perf_counter()
    if jobs == 1 or len(todo) <= 1:
        for item in todo:
            _worker(item)
            if bar is not None:
                bar.update(1)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_worker, item) for item in todo]
            for fut in as_completed(futures):
                fut.result()
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    if progress:
        print(f"grid {name}: ran {len(todo)} of {len(runs)} runs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {"total": len(runs), "skipped": len(runs) - len(todo), "ran": len(todo)}


def load_runs(name: str, results: Path | str = DEFAULT_RESULTS) -> list[dict]:
    """All finished run records of a grid, sorted by (subset, arm, seed)."""
    root = Path(results) / name
    recs = [json.loads(p.read_text()) for p in sorted(root.glob("FD00*/*.json"))]
    return sorted(recs, key=lambda r: (r["subset"], r["grid_arm"], r["seed"]))


# --------------------------------------------------------------------------- aggregate

#: Metrics of the summary tables: name → (function of (y_true, y_pred), how to read it).
def _bucket(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda t, p: M.bucket_rmse(t, p)[name]["rmse"]


RUL_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": M.rmse,
    "nasa": M.nasa_score,
    "nf_rmse": M.near_failure_rmse,
    "late_count": lambda t, p: float(M.late_count(t, p)),
    "rmse_le30": _bucket("<=30"),
    "rmse_30_80": _bucket("30-80"),
    "rmse_gt80": _bucket(">80"),
}
CLASS_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "health_acc": M.accuracy,
    "health_f1": M.macro_f1,
}


def _stack(recs: list[dict]) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Per-engine arrays of a group of runs (same subset and arm, different seeds)."""
    units = np.asarray(recs[0]["predictions"]["unit"])
    for r in recs:
        if list(r["predictions"]["unit"]) != units.tolist():
            raise ValueError(f"runs of {r['subset']} {r['grid_arm']} disagree on the test engines")
    arr = {k: np.asarray([r["predictions"][k] for r in recs]) for k in ("y_pred", "h_pred")}
    arr["y_true"] = np.asarray(recs[0]["predictions"]["y_true"], dtype=np.float64)
    arr["h_true"] = np.asarray(recs[0]["predictions"]["h_true"], dtype=np.int64)
    seeds = np.asarray([r["seed"] for r in recs])
    return units, arr, seeds


def _metric_rows(t, P, ht, H, n_boot: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, fn in {**RUL_METRICS, **CLASS_METRICS}.items():
        if name in CLASS_METRICS:
            vals = np.array([fn(ht, row) for row in H])
            lo, hi = _class_ci(fn, ht, H, n_boot)
        else:
            vals = np.array([fn(t, row) for row in P])
            lo, hi = M.bootstrap_ci(fn, t, P, n_boot=n_boot, seed=0)
        out[name] = {
            "mean": float(np.mean(vals)),
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
        }
    return out


def _class_ci(fn, ht: np.ndarray, H: np.ndarray, n_boot: int) -> tuple[float, float]:
    """Engine bootstrap of a mean-over-seeds classification metric (labels as integer arrays)."""
    rng = np.random.default_rng(0)
    n = ht.size
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        stats.append(np.mean([fn(ht[idx], row[idx]) for row in H]))
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi)


def aggregate(name: str, results: Path | str = DEFAULT_RESULTS, n_boot: int = N_BOOT) -> dict[str, Any]:
    """Summarise a grid into ``summary.csv``, ``summary.json`` and ``comparisons.csv`` in its folder.

    Returns the summary dict (also what ``summary.json`` holds).
    """
    import pandas as pd

    root = Path(results) / name
    recs = load_runs(name, results)
    if not recs:
        raise FileNotFoundError(f"no result files under {root}; run `python -m amnl_utils.experiments run --grid {name}` first")
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in recs:
        groups.setdefault((r["subset"], r["grid_arm"]), []).append(r)

    rows, comps, stacked = [], [], {}
    for (subset, arm), grp in sorted(groups.items()):
        units, arr, seeds = _stack(grp)
        stacked[(subset, arm)] = (seeds, arr)
        stats = _metric_rows(arr["y_true"], arr["y_pred"], arr["h_true"], arr["h_pred"], n_boot)
        extra = {
            "n_seeds": len(grp),
            "n_engines": int(units.size),
            "loss_scale": float(np.mean([r["loss_scale"] for r in grp])),
            "best_epoch_mean": float(np.mean([r["stopping"]["best_epoch"] for r in grp])),
            "epochs_run_mean": float(np.mean([r["stopping"]["epochs_run"] for r in grp])),
            "wall_s_mean": float(np.mean([r["wall_s"] for r in grp])),
        }
        for metric, s in stats.items():
            rows.append({"subset": subset, "arm": arm, "metric": metric, **s, **extra})

    for (subset, arm), (seeds, arr) in sorted(stacked.items()):
        if arm == "mse" or (subset, "mse") not in stacked:
            continue
        seeds_b, base = stacked[(subset, "mse")]
        common = np.intersect1d(seeds, seeds_b)
        ia = [int(np.flatnonzero(seeds == s)[0]) for s in common]
        ib = [int(np.flatnonzero(seeds_b == s)[0]) for s in common]
        for metric in ("rmse", "nasa", "nf_rmse", "late_count"):
            fn = RUL_METRICS[metric]
            a, b = arr["y_pred"][ia], base["y_pred"][ib]
            diff = np.mean([fn(arr["y_true"], r) for r in a]) - np.mean([fn(arr["y_true"], r) for r in b])
            lo, hi = M.bootstrap_diff_ci(fn, arr["y_true"], a, b, n_boot=n_boot, seed=0)
            comps.append({
                "subset": subset, "arm": arm, "vs": "mse", "metric": metric, "n_seeds": int(common.size),
                "diff": float(diff), "ci_low": lo, "ci_high": hi,
                "verdict": verdict(lo, hi),
            })

    summary = pd.DataFrame(rows)
    comparisons = pd.DataFrame(comps)
    summary.to_csv(root / "summary.csv", index=False, float_format="%.6g")
    comparisons.to_csv(root / "comparisons.csv", index=False, float_format="%.6g")
    started = min(r["started_at"] for r in recs)
    finished = max(r["finished_at"] for r in recs)
    wall = (_dt.datetime.fromisoformat(finished) - _dt.datetime.fromisoformat(started)).total_seconds()
    out = {
        "grid": name,
        "n_runs": len(recs),
        "grid_wall_s": wall,
        "sum_run_wall_s": float(sum(r["wall_s"] for r in recs)),
        "n_boot": n_boot,
        "interval": "engine-level percentile bootstrap 95% of the mean-over-seeds metric",
        "train_config": {k: v for k, v in recs[0]["config"].items() if k not in ("subset", "loss", "seed")},
        "git_commits": sorted({r["git_commit"] for r in recs}),
        "summary": rows,
        "comparisons": comps,
    }
    write_json_atomic(root / "summary.json", out)
    return out


def verdict(lo: float, hi: float) -> str:
    """Reading of a difference interval (arm − MSE; lower is better for every RUL metric)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "undefined"
    if lo <= 0 <= hi:
        return "no measurable difference"
    return "lower than MSE" if hi < 0 else "higher than MSE"


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amnl_utils.experiments", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the named grids and their run counts")
    p_run = sub.add_parser("run", help="run the missing runs of a grid (resumable)")
    p_agg = sub.add_parser("aggregate", help="write summary.csv / summary.json / comparisons.csv")
    for p in (p_run, p_agg):
        p.add_argument("--grid", required=True, choices=sorted(GRIDS))
        p.add_argument("--results", default=str(DEFAULT_RESULTS), help="results folder (default: results)")
    p_run.add_argument("--jobs", type=int, default=1, help="parallel processes, one torch thread each")
    p_run.add_argument("--data-dir", default=None, help="C-MAPSS folder (default: $CMAPSS_DIR)")
    p_run.add_argument("--no-progress", action="store_true")
    p_run.add_argument("--aggregate", action="store_true", help="aggregate when done")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        for name in GRIDS:
            print(f"{name}: {len(grid_runs(name))} runs")
        return 0
    if args.cmd == "run":
        out = run_grid(args.grid, args.results, jobs=args.jobs, data_dir=args.data_dir, progress=not args.no_progress)
        print(json.dumps(out))
        if args.aggregate:
            aggregate(args.grid, args.results)
        return 0
    out = aggregate(args.grid, args.results)
    print(f"aggregated {out['n_runs']} runs of {args.grid} into {Path(args.results) / args.grid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
