"""Aggregating a grid: per-seed metrics, per-arm summaries and paired comparisons, written as
``summary.csv``, ``comparisons.csv`` and ``summary.json`` in ``<results>/<grid>/``.

The statistics are those of :mod:`amnl_utils.core.stats`: t-intervals over seeds, paired
per-seed differences with their smallest detectable effect, and the two-level bootstrap.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..core import metrics as M
from ..core import stats as S
from ..core.constants import NEAR_FAILURE
from . import store as R
from .grids import SEEDS, RunSpec, get_grid, grid_root, grid_runs
from .runner import load_grid

#: Per-seed metrics on the last test windows: name -> f(y_true (N,), y_pred (N,)).
LAST_WINDOW_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": M.rmse,
    "nasa": M.nasa_score,
    "nf_rmse": M.near_failure_rmse,
    "late_count": lambda t, p: float(M.late_count(t, p)),
    **{f"rmse_{key}": (lambda t, p, key=key: M.bucket_rmse(t, p)[key]["rmse"]) for key in ("le30", "30_80", "gt80")},
}
#: Per-seed metrics on every near-failure test window (true RUL ≤ 30).
ALL_WINDOW_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "nf_rmse_all": M.near_failure_rmse,
    "late_count_all": lambda t, p: float(M.late_count(t, p)),
}
CLASS_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "health_acc": M.accuracy,
    "health_f1": M.macro_f1,
}
#: Per-run training measures (no test data).
RUN_MEASURES: dict[str, Callable[[dict], float]] = {
    "best_val_rmse": lambda r: r["stopping"]["best_val_rmse"],
    "best_epoch": lambda r: float(r["stopping"]["best_epoch"]),
    "epochs_run": lambda r: float(r["stopping"]["epochs_run"]),
    "clipped_fraction": lambda r: float(r["clipped_fraction"]),
    "roughness": lambda r: val_roughness(r["curves"]),
    "balance_ratio": lambda r: balance_ratio(r["curves"]),
    "diverged": lambda r: float(r["stopping"]["diverged"]),
    "wall_s": lambda r: float(r["wall_s"]),
}
#: Counts among the near-failure test windows; the summary gives their denominator ("of").
COUNT_METRICS: tuple[str, ...] = ("late_count", "late_count_all")
#: Metrics whose paired comparisons the tables report (tuning grids: validation only).
COMPARED = ("rmse", "nasa", "nf_rmse", "nf_rmse_all", "late_count", "late_count_all", "health_acc", "roughness")


def val_roughness(curves: list[dict], from_pass: int = 2) -> float:
    """Mean absolute change of the validation RMSE from one pass to the next (cycles), from pass
    ``from_pass`` on: 2 (the book's measure) leaves out the descent out of the warm-up pass, which
    measures learning rather than instability; 1 counts every pass."""
    if from_pass not in (1, 2):
        raise ValueError(f"from_pass must be 1 or 2, got {from_pass!r}")
    v = np.array([c["val_rmse"] for c in curves], dtype=np.float64)[from_pass - 1:]
    return float(np.mean(np.abs(np.diff(v)))) if v.size > 1 else float("nan")


def balance_ratio(curves: list[dict]) -> float:
    """Median over passes of |∇ RUL term| / |∇ CE term| on the shared trunk (first step of each pass)."""
    r = [c["balance_rul"] / c["balance_ce"] for c in curves if c.get("balance_ce")]
    return float(np.median(r)) if r else float("nan")


@dataclass
class ArmRuns:
    """The runs of one (subset, arm), sorted by seed, with their per-engine arrays."""

    subset: str
    arm: str
    records: list[dict]

    @property
    def seeds(self) -> list[int]:
        return [r["seed"] for r in self.records]

    def last(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """y_true (N,), predictions (S, N), h_true (N,), h_pred (S, N) on the last test windows."""
        p0 = self.records[0]["predictions"]
        for r in self.records:
            if r["predictions"]["unit"] != p0["unit"]:
                raise ValueError(f"runs of {self.subset} {self.arm} disagree on the test engines")
        P = np.array([r["predictions"]["y_pred"] for r in self.records], dtype=np.float64)
        H = np.array([r["predictions"]["h_pred"] for r in self.records], dtype=np.int64)
        return np.asarray(p0["y_true"], np.float64), P, np.asarray(p0["h_true"], np.int64), H

    def near_failure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """y_true (K,), predictions (S, K) and engine ids (K,) of every near-failure test window."""
        nf0 = self.records[0]["predictions"]["nf"]
        P = np.array([r["predictions"]["nf"]["y_pred"] for r in self.records], dtype=np.float64)
        return np.asarray(nf0["y_true"], np.float64), P, np.asarray(nf0["unit"])

    def per_seed(self, metric: str) -> np.ndarray:
        """(S,) values of one metric, one per seed."""
        if metric in RUN_MEASURES:
            return np.array([RUN_MEASURES[metric](r) for r in self.records])
        if metric in LAST_WINDOW_METRICS:
            t, P, _, _ = self.last()
            return np.array([LAST_WINDOW_METRICS[metric](t, p) for p in P])
        if metric in ALL_WINDOW_METRICS:
            t, P, _ = self.near_failure()
            return np.array([ALL_WINDOW_METRICS[metric](t, p) for p in P])
        if metric in CLASS_METRICS:
            _, _, h, H = self.last()
            return np.array([CLASS_METRICS[metric](h, row) for row in H])
        raise ValueError(f"unknown metric {metric!r}")


def group_runs(pairs: list[tuple[RunSpec, dict]]) -> dict[tuple[str, str], ArmRuns]:
    """Records grouped by (subset, arm), each group sorted by seed."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for spec, rec in pairs:
        groups.setdefault((spec.config.subset, spec.arm), []).append(rec)
    return {k: ArmRuns(k[0], k[1], sorted(v, key=lambda r: r["seed"])) for k, v in groups.items()}


def metrics_for(tuning: bool) -> list[str]:
    if tuning:
        return list(RUN_MEASURES)
    return [*LAST_WINDOW_METRICS, *ALL_WINDOW_METRICS, *CLASS_METRICS, *RUN_MEASURES]


def _boot_fn(metric: str) -> tuple[Callable, str] | None:
    if metric in LAST_WINDOW_METRICS:
        return LAST_WINDOW_METRICS[metric], "last"
    if metric in ALL_WINDOW_METRICS:
        return ALL_WINDOW_METRICS[metric], "nf"
    return None


def summary_rows(groups: dict[tuple[str, str], ArmRuns], tuning: bool, n_boot: int) -> list[dict]:
    """One row per (subset, arm, metric): mean, sd and t-interval over seeds; for test metrics also
    the two-level (seeds × engines) bootstrap interval and the seed-ensemble value."""
    rows = []
    for (subset, arm), g in sorted(groups.items()):
        for metric in metrics_for(tuning):
            v = g.per_seed(metric)
            ok = v[np.isfinite(v)]
            row = {"subset": subset, "arm": arm, "metric": metric, "n_seeds": int(v.size),
                   "mean": float(np.mean(ok)) if ok.size else float("nan"),
                   "sd": float(np.std(ok, ddof=1)) if ok.size > 1 else float("nan")}
            if ok.size > 1 and ok.size == v.size and np.ptp(ok) > 0:
                t = S.t_interval(ok)
                row.update(t_lo=t["lo"], t_hi=t["hi"])
            else:
                row.update(t_lo=row["mean"], t_hi=row["mean"]) if ok.size == v.size else row.update(t_lo=np.nan, t_hi=np.nan)
            fb = _boot_fn(metric)
            if fb is not None:
                fn, kind = fb
                t_true, P, units = (g.last()[0], g.last()[1], None) if kind == "last" else g.near_failure()
                lo, hi = S.bootstrap_ci(fn, t_true, P, groups=units, n_boot=n_boot, seed=0, resample_seeds=True)
                row.update(boot_lo=lo, boot_hi=hi, ensemble=fn(t_true, P.mean(axis=0)))
                if metric in COUNT_METRICS:  # the denominator: windows within NEAR_FAILURE of failure
                    row["of"] = int(np.sum(t_true <= NEAR_FAILURE))
            rows.append(row)
    return rows


def paired_rows(groups: dict[tuple[str, str], ArmRuns], pairs: Sequence[tuple[str, str]],
                metrics: Sequence[str]) -> list[dict]:
    """The seed-paired comparison of every pair, per subset and metric: ``A − B`` per shared seed,
    its t-interval over the seeds both arms have and its smallest detectable effect.

    Rows hold subset, a, b, metric, n_seeds, diff, sd, lo, hi, mde, b_mean, verdict, rel_diff and
    rel_mde, plus ``_ia``/``_ib`` (the shared seeds' positions in each arm, for callers that add
    more columns; :func:`comparison_rows` drops them). Pairs with fewer than 2 shared seeds and
    metrics with a non-finite value are left out. This is the one pairing loop: the aggregate and
    the book's per-run measures both call it."""
    rows = []
    for subset in sorted({s for s, _ in groups}):
        for a, b in pairs:
            if (subset, a) not in groups or (subset, b) not in groups:
                continue
            ga, gb = groups[(subset, a)], groups[(subset, b)]
            common = sorted(set(ga.seeds) & set(gb.seeds))
            if len(common) < 2:
                continue
            ia = [ga.seeds.index(s) for s in common]
            ib = [gb.seeds.index(s) for s in common]
            for metric in metrics:
                va, vb = ga.per_seed(metric)[ia], gb.per_seed(metric)[ib]
                if not (np.isfinite(va).all() and np.isfinite(vb).all()):
                    continue
                d = S.paired_difference(va, vb)
                row = {"subset": subset, "a": a, "b": b, "metric": metric, "n_seeds": d["n"], "diff": d["diff"],
                       "sd": d["sd"], "lo": d["lo"], "hi": d["hi"], "mde": d["mde"],
                       "b_mean": float(np.mean(vb)), "verdict": S.verdict(d["lo"], d["hi"])}
                row["rel_diff"] = row["diff"] / row["b_mean"] if row["b_mean"] else float("nan")
                row["rel_mde"] = row["mde"] / row["b_mean"] if row["b_mean"] else float("nan")
                rows.append(row | {"_ia": ia, "_ib": ib})
    return rows


def comparison_rows(groups: dict[tuple[str, str], ArmRuns], pairs: Sequence[tuple[str, str]], tuning: bool,
                    n_boot: int) -> list[dict]:
    """Every pair the grid names, per subset and compared metric: paired per-seed difference with
    its t-interval and MDE (:func:`paired_rows`), and the two-level bootstrap interval as a check."""
    metrics = ["best_val_rmse", "best_epoch", "roughness"] if tuning else list(COMPARED)
    rows = []
    for row in paired_rows(groups, pairs, metrics):
        ia, ib = row.pop("_ia"), row.pop("_ib")
        ga, gb = groups[(row["subset"], row["a"])], groups[(row["subset"], row["b"])]
        fb = _boot_fn(row["metric"])
        if fb is not None:
            fn, kind = fb
            if kind == "last":
                t_true, Pa = ga.last()[0], ga.last()[1][ia]
                Pb, units = gb.last()[1][ib], None
            else:
                t_true, Pa, units = ga.near_failure()
                Pa, Pb = Pa[ia], gb.near_failure()[1][ib]
            row["boot_lo"], row["boot_hi"] = S.bootstrap_diff_ci(fn, t_true, Pa, Pb, groups=units,
                                                                 n_boot=n_boot, seed=0)
        rows.append(row)
    return rows


def aggregate(name: str, results: Path | str | None = None, n_boot: int = S.N_BOOT, partial: bool = False) -> dict[str, Any]:
    """Summarise a grid into ``summary.csv``, ``comparisons.csv`` and ``summary.json`` in
    ``<results>/<grid>/``. Refuses missing or stale runs unless ``partial`` (then stale ones still
    refuse, and the files say ``partial``). Returns what ``summary.json`` holds."""
    import pandas as pd  # lazy: pandas is optional (the [book] extra)

    grid = get_grid(name)
    root = grid_root(name, results)
    loaded = load_grid(name, root, partial=partial)
    if not loaded:
        raise FileNotFoundError(f"no result files of grid {name} under {root}; run `python -m amnl_utils.engine run --grid {name}` first")
    n_expected = len(grid.runs())
    is_partial = len(loaded) < n_expected
    groups = group_runs(loaded)
    rows = summary_rows(groups, grid.tuning, n_boot)
    comps = comparison_rows(groups, grid.pairs, grid.tuning, n_boot)
    out_dir = root / name
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = pd.DataFrame(rows).assign(partial=is_partial)
    comparisons = pd.DataFrame(comps).assign(partial=is_partial) if comps else pd.DataFrame()
    _write_csv_atomic(summary, out_dir / "summary.csv")
    _write_csv_atomic(comparisons, out_dir / "comparisons.csv")
    recs = [r for _, r in loaded]
    started = min(r["started_at"] for r in recs)
    finished = max(r["finished_at"] for r in recs)
    out = {
        "grid": name,
        "about": grid.about,
        "partial": is_partial,
        "n_runs": len(recs),
        "n_expected": n_expected,
        "grid_wall_s": (_dt.datetime.fromisoformat(finished) - _dt.datetime.fromisoformat(started)).total_seconds(),
        "sum_run_wall_s": float(sum(r["wall_s"] for r in recs)),
        "n_boot": n_boot,
        "intervals": {
            "t": "t-interval over seeds (per arm) or over paired per-seed differences (comparisons), df = seeds - 1",
            "boot": "two-level percentile bootstrap: seeds and test engines resampled together",
            "mde": "smallest difference a paired t-test detects with 80 % power at the 5 % level",
        },
        "code_hashes": sorted({r["code_hash"] for r in recs}),
        "run_files": {str(s.path(root).relative_to(root)): R.file_sha256(s.path(root)) for s, _ in loaded},
        "git_commits": sorted({r["git_commit"] for r in recs}),
        "configs": {f"{s.config.subset}/{s.arm}": R.canonical_config(s.config) for s, _ in loaded if s.config.seed == min(SEEDS)},
        "summary": rows,
        "comparisons": comps,
    }
    R.write_json_atomic(out_dir / "summary.json", out)
    return out


class StaleAggregateError(RuntimeError):
    """An aggregate that no longer matches the run files of its grid (the message names the fix)."""


def check_aggregate(name: str, root: Path | str, meta: dict) -> None:
    """Raise :class:`StaleAggregateError` unless the run files that ``summary.json`` (``meta``)
    records are exactly the grid's run files under ``root`` now, byte for byte (SHA-256): none
    deleted, changed or added since the grid was aggregated."""
    root = Path(root)
    recorded: dict[str, str] | None = meta.get("run_files")
    fix = f"re-aggregate it: `python -m amnl_utils.engine aggregate --grid {name}`"
    if recorded is None:
        raise StaleAggregateError(f"the aggregate of grid {name} in {root} records no run files (an older format); {fix}")
    present = {str(s.path(root).relative_to(root)) for s in grid_runs(name) if s.path(root).exists()}
    problems = [f"{p}: deleted" for p in sorted(set(recorded) - present)]
    problems += [f"{p}: added since" for p in sorted(present - set(recorded))]
    problems += [f"{p}: changed" for p in sorted(set(recorded) & present) if R.file_sha256(root / p) != recorded[p]]
    if problems:
        shown = "\n  ".join(problems[:5]) + (f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise StaleAggregateError(
            f"the aggregate of grid {name} in {root} no longer matches its run files ({len(problems)} differ):\n  "
            f"{shown}\n{fix} (with --partial if runs are missing), or restore the run files from git")


def _write_csv_atomic(frame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, float_format="%.6g")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
