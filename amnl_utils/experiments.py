"""Named grids of training runs: run once, cache one JSON file per run, aggregate into tables.

Command line (``--results DIR`` or ``$AMNL_RESULTS`` choose the results folder; default: the
repository's ``results/``)::

    python -m amnl_utils.experiments list
    python -m amnl_utils.experiments status    --grid headline
    python -m amnl_utils.experiments run       --grid headline --jobs 2 [--aggregate]
    python -m amnl_utils.experiments aggregate --grid headline [--partial]
    python -m amnl_utils.experiments rerun     results/runs/FD001/mse_s0_<id>.json --out "$(mktemp -d)"
    python -m amnl_utils.experiments verify    --grid headline --sample 3

``run`` is resumable: a run whose file exists and was made by the current training code is
skipped; a missing, cut-off (corrupt) or stale file is (re-)run. Each run is a separate process
with one torch thread, started with the instruction to die with its parent, and writes its file
atomically. ``aggregate`` refuses a grid with missing or stale runs unless ``--partial`` is given,
and then marks its tables. The statistics are those of :mod:`amnl_utils.stats`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import metrics as M
from . import results as R
from . import stats as S
from .constants import NEAR_FAILURE, SUBSETS
from .training import TrainConfig

# --------------------------------------------------------------------------- the recipe

#: Settings shared by every final grid. Each was chosen on validation engines only; the tuning
#: grids below hold the evidence and :data:`TUNING_LOG` the decisions (the book shows both).
BASE: dict[str, Any] = {
    "preset": "compact",
    "batch_size": 256,
    "lr": 1e-3,
    "lr_schedule": "cosine",
    "warmup_epochs": 1.0,
    "lr_final": 0.01,
    "clip_norm": 10.0,
}
#: Per-subset settings of the recipe (window in cycles, budget and patience in full passes). Stage A:
#: windows 45 / 60 / 45 / 45, the RUL regressed in units of R_max / 4, budgets of 30 passes (15 on
#: the multi-condition subsets, whose passes hold ~2.7x the windows) and a patience of a third of the
#: budget. Stages B and C: the cycle index as a 15th input (and, in BASE, a clip at norm 10).
RECIPE: dict[str, dict[str, Any]] = {
    "FD001": {"window": 45, "rul_unit": 31.25, "max_epochs": 30, "patience": 10, "cycle_feature": True},
    "FD002": {"window": 60, "rul_unit": 31.25, "max_epochs": 15, "patience": 5, "cycle_feature": True},
    "FD003": {"window": 45, "rul_unit": 31.25, "max_epochs": 30, "patience": 10, "cycle_feature": True},
    "FD004": {"window": 45, "rul_unit": 31.25, "max_epochs": 15, "patience": 5, "cycle_feature": True},
}
#: Seeds of every final grid (the book draws conclusions only from grids with at least 10).
SEEDS: tuple[int, ...] = tuple(range(10))
#: The multi-condition subset of the §14.2 and §14.3 grids (beside FD001).
SECOND_SUBSET: str = "FD002"


def recipe(subset: str, **overrides: Any) -> TrainConfig:
    """The final recipe's :class:`TrainConfig` for a subset, with ``overrides`` (loss, seed, …)."""
    return TrainConfig(**{**BASE, **RECIPE[subset], "subset": subset, **overrides})


def recipe_table() -> list[dict[str, Any]]:
    """The recipe as rows (one per subset) for the book's Methods page: every setting that differs
    from :class:`TrainConfig`'s default or between subsets, read from :func:`recipe`."""
    rows = []
    for subset in SUBSETS:
        c = recipe(subset)
        rows.append({
            "subset": subset, "window (cycles)": c.window, "RUL unit (cycles)": c.rul_unit,
            "cycle-index input": "yes" if c.cycle_feature else "no", "batch": c.batch_size, "peak lr": c.lr,
            "warm-up (passes)": c.warmup_epochs, "final lr / peak": c.lr_final, "budget (passes)": c.max_epochs,
            "patience (passes)": c.patience, "clip norm": c.clip_norm, "preset": c.preset,
        })
    return rows


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: its arm (a label within the grid) and its full config."""

    arm: str
    config: TrainConfig

    def path(self, root: Path | str) -> Path:
        return R.run_path(root, self.config)


@dataclass(frozen=True)
class Grid:
    """A named list of runs, the pairs of arms its tables compare, and what it is for."""

    name: str
    about: str
    make: Callable[[], list[RunSpec]]
    pairs: tuple[tuple[str, str], ...] = ()
    tuning: bool = False
    arms: tuple[str, ...] = field(default=())

    def runs(self) -> list[RunSpec]:
        return self.make()


def _product(subsets: Iterable[str], seeds: Iterable[int], arms: dict[str, Callable[[str, int], TrainConfig]]) -> list[RunSpec]:
    # seed-major: a partial grid still has every subset × arm for its first seeds
    return [RunSpec(arm, make(subset, seed)) for seed in seeds for subset in subsets for arm, make in arms.items()]


def headline_arms(w_max: float = 2.0) -> dict[str, Callable[[str, int], TrainConfig]]:
    """MSE, the scaled-MSE control and AMNL at ``w_max`` (linear schedule) on the final recipe."""
    return {
        "mse": lambda s, k: recipe(s, loss="mse", seed=k),
        "scaled_mse": lambda s, k: recipe(s, loss="scaled_mse", w_max=w_max, seed=k),
        "amnl": lambda s, k: recipe(s, loss="amnl", w_max=w_max, seed=k),
    }


def schedule_arms(w_max: float = 2.0) -> dict[str, Callable[[str, int], TrainConfig]]:
    """MSE and every schedule of ``weights.SCHEDULES`` at ``w_max``; "constant" is scaled MSE
    (a flat weight at the linear schedule's mean weight: scale without tilt)."""
    arms = {"mse": lambda s, k: recipe(s, loss="mse", seed=k),
            "constant": lambda s, k: recipe(s, loss="scaled_mse", w_max=w_max, seed=k)}
    for name in ("linear", "exponential", "sigmoid", "step"):
        arms[name] = lambda s, k, name=name: recipe(s, loss="amnl", schedule=name, w_max=w_max, seed=k)
    return arms


#: The ``w_max`` values of §14.3 (1 is MSE) and those that also get a scaled-MSE control.
W_MAX_VALUES: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0)
W_MAX_CONTROLS: tuple[float, ...] = (2.0, 5.0, 12.0)


def w_max_arms() -> dict[str, Callable[[str, int], TrainConfig]]:
    """AMNL (linear) at every ``W_MAX_VALUES`` and scaled MSE at ``W_MAX_CONTROLS``."""
    arms = {f"amnl_w{w:g}": (lambda s, k, w=w: recipe(s, loss="amnl", w_max=w, seed=k)) for w in W_MAX_VALUES}
    arms |= {f"scaled_w{w:g}": (lambda s, k, w=w: recipe(s, loss="scaled_mse", w_max=w, seed=k)) for w in W_MAX_CONTROLS}
    return arms


#: Budget of the tuning runs in full passes: the multi-condition subsets have about 2.7 times the
#: windows per pass, so 15 of their passes are about as many optimiser steps as 40 on FD001.
TUNE_PASSES: dict[str, int] = {"FD001": 30, "FD002": 15, "FD003": 30, "FD004": 15}


def _tuning_grid(variants: dict[str, dict[str, Any]], seeds: Sequence[int] = (0, 1),
                 subsets: Sequence[str] = SUBSETS, early_stop: bool = False) -> Callable[[], list[RunSpec]]:
    """Tuning runs (MSE, the test engines never read) of ``variants``; whole validation curves
    unless ``early_stop`` (then patience = a third of the budget)."""
    def make() -> list[RunSpec]:
        out = []
        for k in seeds:
            for s in subsets:
                n = TUNE_PASSES[s]
                budget = {"max_epochs": n, "patience": n // 3 if early_stop else n}
                for arm, kw in variants.items():
                    cfg = TrainConfig(**{**BASE, **budget, "subset": s, "loss": "mse", "seed": k,
                                         "evaluate_test": False, **kw})
                    out.append(RunSpec(arm, cfg))
        return out
    return make


#: Stage A: window length × unit of the regressed RUL (R_max, or R_max / 4 so that the RUL
#: gradient on the trunk is about as large as the CE's), whole validation curves.
TUNE_A = {f"w{w}_u{u:g}": {"window": w, "rul_unit": u} for w in (30, 45, 60) for u in (125.0, 31.25)}
#: Stage B (window 45, RUL unit 31.25): with that unit, clipping at norm 1 binds on most steps; a
#: clip at 10 binds only on outliers. Then, on top of it, the two levers against the pass-to-pass
#: noise of the validation curve that stage A shows: an exponential moving average of the weights
#: (decay 0.995 per step, a horizon of about 200 steps), and the normalised cycle index as input.
TUNE_B = {
    "clip1": {"window": 45, "rul_unit": 31.25},
    "clip10": {"window": 45, "rul_unit": 31.25, "clip_norm": 10.0},
    "clip10_ema": {"window": 45, "rul_unit": 31.25, "clip_norm": 10.0, "ema_decay": 0.995},
    "clip10_cycle": {"window": 45, "rul_unit": 31.25, "clip_norm": 10.0, "cycle_feature": True},
}
#: Stage C: the cycle-index input on the two subsets stage B did not cover, at their own windows.
TUNE_C = {
    "clip10": {"rul_unit": 31.25, "clip_norm": 10.0},
    "clip10_cycle": {"rul_unit": 31.25, "clip_norm": 10.0, "cycle_feature": True},
}
#: The windows chosen in stage A (stage C runs each subset at its own).
STAGE_A_WINDOWS: dict[str, int] = {"FD001": 45, "FD002": 60, "FD003": 45, "FD004": 45}


def _tuning_c() -> list[RunSpec]:
    return [RunSpec(spec.arm, replace(spec.config, window=STAGE_A_WINDOWS[spec.config.subset]))
            for spec in _tuning_grid(TUNE_C, subsets=("FD002", "FD003"))()]


GRIDS: dict[str, Grid] = {
    "smoke": Grid(
        "smoke", "3 tiny FD001 runs (MSE, scaled MSE, AMNL) for the tests",
        lambda: [RunSpec(arm, TrainConfig(subset="FD001", seed=0, max_epochs=2, patience=1, batch_size=64,
                                          max_steps_per_epoch=3, warmup_epochs=0.0, **kw))
                 for arm, kw in {"mse": {"loss": "mse"}, "scaled_mse": {"loss": "scaled_mse"},
                                 "amnl": {"loss": "amnl"}}.items()],
        pairs=(("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse")),
    ),
    "tune_a": Grid("tune_a", "window 30 / 45 / 60 cycles × RUL unit 125 / 31.25 cycles, whole validation "
                   "curves (MSE, seed 0, all subsets)", _tuning_grid(TUNE_A, seeds=(0,)), tuning=True),
    "tune_b": Grid("tune_b", "window 45, RUL unit 31.25: clip norm, weight averaging, the cycle-index input "
                   "(MSE, 2 seeds, FD001 and FD004)", _tuning_grid(TUNE_B, subsets=("FD001", "FD004")), tuning=True),
    "tune_c": Grid("tune_c", "the cycle-index input on FD002 (window 60) and FD003 (window 45), clip 10 (MSE, "
                   "2 seeds)", _tuning_c, tuning=True),
    "headline": Grid(
        "headline", "MSE, scaled MSE and AMNL (w_max = 2) on FD001-FD004, 10 seeds (§14.4)",
        lambda: _product(SUBSETS, SEEDS, headline_arms()),
        pairs=(("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse")),
    ),
    "schedules": Grid(
        "schedules", f"MSE and five weight schedules at w_max = 2 on FD001 and {SECOND_SUBSET}, 10 seeds (§14.2)",
        lambda: _product(("FD001", SECOND_SUBSET), SEEDS, schedule_arms()),
        pairs=tuple((a, "linear") for a in ("constant", "exponential", "sigmoid", "step"))
        + tuple((a, "mse") for a in ("constant", "linear", "exponential", "sigmoid", "step")),
    ),
    "wmax": Grid(
        "wmax", f"AMNL at w_max = 1 ... 12 and scaled-MSE controls on FD001 and {SECOND_SUBSET}, 10 seeds (§14.3)",
        lambda: _product(("FD001", SECOND_SUBSET), SEEDS, w_max_arms()),
        pairs=tuple((f"amnl_w{w:g}", "amnl_w1") for w in W_MAX_VALUES[1:])
        + tuple((f"amnl_w{w:g}", "amnl_w2") for w in W_MAX_VALUES if w not in (2.0,))
        + tuple((f"amnl_w{w:g}", f"scaled_w{w:g}") for w in W_MAX_CONTROLS)
        + tuple((f"scaled_w{w:g}", "amnl_w1") for w in W_MAX_CONTROLS),
    ),
}


def get_grid(name: str) -> Grid:
    try:
        return GRIDS[name]
    except KeyError:
        raise ValueError(f"unknown grid {name!r}; choose one of {sorted(GRIDS)}") from None


def grid_runs(name: str) -> list[RunSpec]:
    """The runs of a named grid (see :data:`GRIDS`)."""
    return get_grid(name).runs()


# --------------------------------------------------------------------------- provenance


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
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpu_count": str(os.cpu_count()),
    }


def cpu_fingerprint() -> dict[str, str]:
    """The processor a run was made on: vendor, model name, family / model / stepping and a short
    hash of its feature flags (Linux ``/proc/cpuinfo``; elsewhere what :mod:`platform` knows).

    Floating-point kernels are chosen per processor, so the same code and seed give the same bits
    only on the same processor: two CPUs that differ here may drift apart in the last bit from the
    first step on, and a whole run then diverges (different passes selected)."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    import hashlib

    flags = " ".join(sorted(info.get("flags", "").split()))
    return {
        "vendor": info.get("vendor_id", platform.machine()),
        "model_name": info.get("model name", platform.processor() or "unknown"),
        "family_model_stepping": "/".join(info.get(k, "?") for k in ("cpu family", "model", "stepping")),
        "flags_sha256": hashlib.sha256(flags.encode()).hexdigest()[:12] if flags else "unknown",
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- one run


def run_one(
    config: TrainConfig,
    out_path: Path | str,
    data_dir: str | None = None,
    threads: int = 1,
    progress: bool = False,
    commit: str | None = None,
) -> dict:
    """Train one run (in this process) and write its result file atomically; returns the record."""
    from .training import train

    config = TrainConfig(**R.canonical_config(config))  # the file records the canonical form
    started = _now()
    res = train(config, data_dir=data_dir, progress=progress, threads=threads, device="cpu")
    record = {
        "run_id": R.run_id(config),
        "subset": config.subset,
        "seed": config.seed,
        "code_hash": R.code_hash(),
        **res.record,
        "git_commit": commit if commit is not None else git_commit(),
        "versions": environment(),
        "cpu": cpu_fingerprint(),
        "started_at": started,
        "finished_at": _now(),
    }
    R.write_json_atomic(out_path, record)
    return record


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _spawn(config: TrainConfig, out_path: Path, data_dir: str | None, commit: str) -> subprocess.Popen:
    """Start one run as a child process that is killed if this process dies (Linux)."""
    args = [sys.executable, "-m", "amnl_utils.experiments", "_run-one", "--config", json.dumps(R.canonical_config(config)),
            "--out", str(out_path), "--commit", commit]
    if data_dir:
        args += ["--data-dir", data_dir]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pkg_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    kw: dict[str, Any] = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


# --------------------------------------------------------------------------- a grid


def grid_status(name: str, results: Path | str | None = None) -> dict[str, list[RunSpec]]:
    """The runs of a grid by state: ``fresh``, ``stale``, ``corrupt``, ``missing``."""
    root = R.resolve_root(results)
    current = R.code_hash()
    out: dict[str, list[RunSpec]] = {"fresh": [], "stale": [], "corrupt": [], "missing": []}
    for spec in grid_runs(name):
        out[R.run_state(spec.path(root), current)].append(spec)
    return out


def run_grid(
    name: str,
    results: Path | str | None = None,
    jobs: int = 1,
    data_dir: str | None = None,
    progress: bool = True,
    isolate: bool = True,
) -> dict[str, int]:
    """Run every run of a grid that is not fresh; ``jobs`` at a time, one torch thread each.

    ``isolate``: each run in its own process (the default, and what ``rerun`` does); ``False``
    trains in this process one after the other (tests). Returns ``{"total", "skipped", "ran",
    "failed"}`` and raises ``RuntimeError`` naming the failed runs after the others finished.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    root = R.resolve_root(results)
    current = R.code_hash()
    states = [(spec, R.run_state(spec.path(root), current)) for spec in grid_runs(name)]
    todo = [spec for spec, st in states if st != "fresh"]  # in grid order (seed-major)
    total = len(states)
    if progress:
        for spec, st in states:
            if st in ("corrupt", "stale"):
                print(f"{st}: {spec.path(root)} — re-running it", file=sys.stderr)
    commit = git_commit()  # once, at launch: the code the workers import
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=total - len(todo), desc=f"grid {name}", unit="run")
    t0 = time.perf_counter()
    failed: list[str] = []
    if not isolate:
        for spec in todo:
            run_one(spec.config, spec.path(root), data_dir=data_dir, commit=commit)
            if bar is not None:
                bar.update(1)
    else:
        failed = _run_pool(todo, root, jobs, data_dir, commit, bar)
    if bar is not None:
        bar.close()
    if progress:
        print(f"grid {name}: ran {len(todo) - len(failed)} of {total} runs in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) of grid {name} failed:\n" + "\n".join(failed))
    return {"total": total, "skipped": total - len(todo), "ran": len(todo), "failed": 0}


def _run_pool(todo: list[RunSpec], root: Path, jobs: int, data_dir: str | None, commit: str, bar) -> list[str]:
    """Keep ``jobs`` child processes busy; on Ctrl-C or SIGTERM kill them all before leaving."""
    pending = list(todo)
    running: dict[subprocess.Popen, RunSpec] = {}
    failed: list[str] = []
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    try:
        while pending or running:
            while pending and len(running) < jobs:
                spec = pending.pop(0)
                running[_spawn(spec.config, spec.path(root), data_dir, commit)] = spec
            time.sleep(0.2)
            for proc in [p for p in running if p.poll() is not None]:
                spec = running.pop(proc)
                err = proc.stderr.read() if proc.stderr else ""
                if proc.returncode != 0:
                    tail = "\n".join(err.strip().splitlines()[-5:])
                    failed.append(f"{spec.path(root)} (exit {proc.returncode}): {tail}")
                if bar is not None:
                    bar.update(1)
    except BaseException:
        for proc in running:
            proc.kill()
        for proc in running:
            proc.wait()
        raise
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return failed


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame):  # SIGTERM -> the same clean-up as Ctrl-C
    raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------- loading


def load_grid(name: str, results: Path | str | None = None, partial: bool = False) -> list[tuple[RunSpec, dict]]:
    """``(spec, record)`` of every run of a grid, all made by the current training code.

    Raises ``RuntimeError`` if any run is stale (never mixed with fresh ones), corrupt, or — unless
    ``partial`` — missing; the message names the files and the command that fixes them.
    """
    root = R.resolve_root(results)
    state = grid_status(name, root)
    bad = {k: state[k] for k in ("stale", "corrupt") if state[k]}
    if not partial and state["missing"]:
        bad["missing"] = state["missing"]
    if bad:
        lines = [f"{k}: {len(v)} run(s), e.g. {v[0].path(root)}" for k, v in bad.items()]
        raise RuntimeError(
            f"grid {name} is not complete and fresh in {root}:\n  " + "\n  ".join(lines)
            + f"\nrun `python -m amnl_utils.experiments run --grid {name}` (stale runs were made by other "
            "training code and are never aggregated with fresh ones)"
            + ("" if partial else "; or aggregate what exists with --partial")
        )
    return [(spec, R.load_record(spec.path(root))) for spec in state["fresh"]]


# --------------------------------------------------------------------------- aggregate

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


def val_roughness(curves: list[dict]) -> float:
    """Mean absolute change of the validation RMSE from one pass to the next (cycles), pass 2 on."""
    v = np.array([c["val_rmse"] for c in curves], dtype=np.float64)
    return float(np.mean(np.abs(np.diff(v[1:])))) if v.size > 2 else float("nan")


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


def comparison_rows(groups: dict[tuple[str, str], ArmRuns], pairs: Sequence[tuple[str, str]], tuning: bool,
                    n_boot: int) -> list[dict]:
    """Every pair the grid names, per subset and compared metric: paired per-seed difference with
    its t-interval and MDE, and the two-level bootstrap interval as a check."""
    rows = []
    metrics = ["best_val_rmse", "best_epoch", "roughness"] if tuning else list(COMPARED)
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
                fb = _boot_fn(metric)
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
    import pandas as pd

    grid = get_grid(name)
    root = R.resolve_root(results)
    loaded = load_grid(name, root, partial=partial)
    if not loaded:
        raise FileNotFoundError(f"no result files of grid {name} under {root}; run `python -m amnl_utils.experiments run --grid {name}` first")
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
        "git_commits": sorted({r["git_commit"] for r in recs}),
        "configs": {f"{s.config.subset}/{s.arm}": R.canonical_config(s.config) for s, _ in loaded if s.config.seed == min(SEEDS)},
        "summary": rows,
        "comparisons": comps,
    }
    R.write_json_atomic(out_dir / "summary.json", out)
    return out


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


# --------------------------------------------------------------------------- reproduce


def compare_records(a: dict, b: dict) -> dict[str, Any]:
    """How far two records of the same config are apart: identical predictions, curves and test
    metrics, and the largest absolute prediction difference in cycles."""
    def preds(r):
        p = r.get("predictions") or {}
        return np.array(p.get("y_pred", []) + (p.get("nf") or {}).get("y_pred", []), dtype=np.float64)

    pa, pb = preds(a), preds(b)
    same_shape = pa.shape == pb.shape
    return {
        "identical": bool(same_shape and np.array_equal(pa, pb) and a["curves"] == b["curves"] and a["test"] == b["test"]
                          and a["stopping"] == b["stopping"]),
        "max_abs_pred_diff": float(np.max(np.abs(pa - pb))) if same_shape and pa.size else float("nan"),
        "curves_identical": a["curves"] == b["curves"],
    }


def rerun(result_file: Path | str, out_dir: Path | str, data_dir: str | None = None) -> dict[str, Any]:
    """Re-create one run from its result file into ``out_dir`` (same file name), in a fresh process
    with one thread, and compare it with the original. Returns :func:`compare_records`' dict plus
    ``path``, ``stale`` (the original was made by other training code) and ``same_cpu`` (this
    processor is the one the original names, see :func:`cpu_fingerprint`; ``None`` if it names
    none). Bit identity is only expected on the same processor with the same code."""
    src = Path(result_file)
    original = R.load_record(src)
    cfg = R.config_from_record(original)
    out = Path(out_dir) / src.name
    if out.resolve() == src.resolve():
        raise ValueError(f"--out must differ from the folder of {src}: rerun never overwrites the original")
    proc = _spawn(cfg, out, data_dir, git_commit())
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"re-running {src} failed (exit {proc.returncode}):\n{err[-2000:]}")
    fresh = R.load_record(out)
    same_cpu = original.get("cpu") == fresh["cpu"] if "cpu" in original else None
    return {"path": str(out), "stale": original["code_hash"] != fresh["code_hash"], "same_cpu": same_cpu,
            **compare_records(original, fresh)}


def verify(name: str, sample: int = 3, results: Path | str | None = None, seed: int = 0,
           data_dir: str | None = None, record: bool = False, this_cpu: bool = False) -> list[dict[str, Any]]:
    """Re-run ``sample`` committed runs of a grid (drawn with ``seed``) into a temporary folder and
    compare each with its file. Returns one dict per run (see :func:`rerun`); with ``record``, also
    writes them, with the date and machine, to ``<results>/<grid>/verify.json``.

    ``this_cpu`` draws only from the runs made on this processor, the only ones that can re-create
    bit for bit here (a grid may have been run on more than one machine)."""
    root = R.resolve_root(results)
    specs = grid_status(name, root)["fresh"]
    if this_cpu:
        here = cpu_fingerprint()
        specs = [s for s in specs if R.load_record(s.path(root)).get("cpu") == here]
    if not specs:
        where = " made on this processor" if this_cpu else ""
        raise RuntimeError(f"grid {name} has no fresh runs{where} under {root} to verify")
    rng = np.random.default_rng(seed)
    chosen = [specs[i] for i in sorted(rng.choice(len(specs), size=min(sample, len(specs)), replace=False))]
    out = []
    with tempfile.TemporaryDirectory(prefix="amnl-verify-") as tmp:
        for spec in chosen:
            r = rerun(spec.path(root), tmp, data_dir=data_dir)
            r.pop("path")
            out.append(r | {"run": str(spec.path(root).relative_to(root))})
    if record:
        import torch

        R.write_json_atomic(root / name / "verify.json", {
            "grid": name, "sample": len(out), "of": len(specs), "seed": seed, "checked_at": _now(),
            "this_cpu_only": this_cpu,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu": cpu_fingerprint(),
            "platform": platform.platform(terse=True),
            "all_identical": all(r["identical"] for r in out), "runs": out})
    return out


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amnl_utils.experiments", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the named grids and their run counts")
    p_status = sub.add_parser("status", help="fresh / stale / corrupt / missing runs of a grid")
    p_run = sub.add_parser("run", help="run the missing, corrupt and stale runs of a grid (resumable)")
    p_agg = sub.add_parser("aggregate", help="write summary.csv / comparisons.csv / summary.json")
    p_rerun = sub.add_parser("rerun", help="re-create one run from its result file into --out and compare")
    p_verify = sub.add_parser("verify", help="re-run a sample of a grid's committed runs and compare")
    p_one = sub.add_parser("_run-one", help=argparse.SUPPRESS)
    for p in (p_status, p_run, p_agg, p_verify):
        p.add_argument("--grid", required=True, choices=sorted(GRIDS))
    for p in (p_status, p_run, p_agg, p_verify):
        p.add_argument("--results", default=None, help=f"results folder (default: ${R.ENV_VAR} or the repository's results/)")
    for p in (p_run, p_rerun, p_verify, p_one):
        p.add_argument("--data-dir", default=None, help="C-MAPSS folder (default: $CMAPSS_DIR)")
    p_run.add_argument("--jobs", type=int, default=1, help="parallel runs, one torch thread each")
    p_run.add_argument("--no-progress", action="store_true")
    p_run.add_argument("--aggregate", action="store_true", help="aggregate when done")
    p_agg.add_argument("--partial", action="store_true", help="aggregate an incomplete grid (tables are marked)")
    p_rerun.add_argument("result_file")
    p_rerun.add_argument("--out", required=True, help="folder for the re-created file")
    p_verify.add_argument("--sample", type=int, default=3)
    p_verify.add_argument("--record", action="store_true", help="write the outcome to <results>/<grid>/verify.json")
    p_verify.add_argument("--this-cpu", action="store_true",
                          help="sample only runs made on this processor (the ones that can match bit for bit)")
    p_one.add_argument("--config", required=True)
    p_one.add_argument("--out", required=True)
    p_one.add_argument("--commit", required=True)
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for name, g in GRIDS.items():
            print(f"{name}: {len(g.runs())} runs — {g.about}")
        return 0
    if args.cmd == "status":
        st = grid_status(args.grid, args.results)
        print(json.dumps({k: len(v) for k, v in st.items()}))
        for kind in ("stale", "corrupt"):
            for spec in st[kind]:
                print(f"{kind}: {spec.path(R.resolve_root(args.results))}")
        return 0
    if args.cmd == "run":
        out = run_grid(args.grid, args.results, jobs=args.jobs, data_dir=args.data_dir, progress=not args.no_progress)
        print(json.dumps(out))
        if args.aggregate:
            aggregate(args.grid, args.results)
        return 0
    if args.cmd == "aggregate":
        out = aggregate(args.grid, args.results, partial=args.partial)
        note = f" (PARTIAL: {out['n_runs']} of {out['n_expected']})" if out["partial"] else ""
        print(f"aggregated {out['n_runs']} runs of {args.grid} into {R.resolve_root(args.results) / args.grid}{note}")
        return 0
    if args.cmd == "rerun":
        print(json.dumps(rerun(args.result_file, args.out, data_dir=args.data_dir), indent=1))
        return 0
    if args.cmd == "verify":
        rows = verify(args.grid, args.sample, args.results, data_dir=args.data_dir, record=args.record,
                      this_cpu=args.this_cpu)
        for r in rows:
            tag = "identical" if r["identical"] else f"DIFFERS (max |Δ pred| {r['max_abs_pred_diff']:.4g} cycles)"
            if r["same_cpu"] is not True:
                tag += " [made on another processor]" if r["same_cpu"] is False else " [the file names no processor]"
            print(f"{r['run']}: {tag}")
        return 0 if all(r["identical"] for r in rows) else 1
    if args.cmd == "_run-one":
        from .training import TrainConfig as _TC

        cfg = _TC(**json.loads(args.config))
        run_one(cfg, args.out, data_dir=args.data_dir, threads=1, commit=args.commit)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
