"""Running grids: one run in this process, or many in child processes, resumably.

``run_grid`` runs every run of a grid that is not fresh, ``jobs`` at a time. With the ``local``
executor (the default) each run is a separate process on this machine with one torch thread,
started with the instruction to die with its parent; with ``submitit`` each run is a job on a
SLURM cluster (or, for tests, submitit's local executor). Every run writes its file atomically. ``load_grid`` returns the fresh records of a grid and refuses stale or
corrupt ones, and missing ones unless a partial grid is asked for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..core.optional import require
from . import store as R
from .config import TrainConfig
from .grids import RunSpec, grid_root, grid_runs
from .lineage import equivalent_hashes
from .provenance import cpu_fingerprint, environment, git_commit, now

#: The module the child processes run (``python -m amnl_utils.engine _run-one ...``).
ENGINE_MODULE = "amnl_utils.engine"
#: The ways :func:`run_grid` can run a grid's runs.
EXECUTORS: tuple[str, ...] = ("local", "submitit")


def run_one(
    config: TrainConfig,
    out_path: Path | str,
    data_dir: str | None = None,
    threads: int = 1,
    progress: bool = False,
    commit: str | None = None,
    device: str = "cpu",
) -> dict:
    """Train one run (in this process) on ``device`` and write its result file atomically; returns the record."""
    from .training import train  # lazy: torch loads only in the processes that train

    config = TrainConfig(**R.canonical_config(config))  # the file records the canonical form
    started = now()
    res = train(config, data_dir=data_dir, progress=progress, threads=threads, device=device)
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
        "finished_at": now(),
    }
    R.write_json_atomic(out_path, record)
    return record


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes  # lazy: libc is reached only on Linux, once per process

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(config: TrainConfig | dict, out_path: Path, data_dir: str | None, commit: str,
          package_parent: Path | None = None, module: str = ENGINE_MODULE) -> subprocess.Popen:
    """Start one run as a child process that is killed if this process dies (Linux).

    The child imports the same package as this process — or, with ``package_parent``, the copy of
    the package in that folder (certification re-creates runs with older code; ``module`` is then
    that code's command module): it starts in that folder, with the folder first on ``PYTHONPATH``
    (paths are passed absolute). ``config`` may be a dict, for code whose config has other fields."""
    cfg = config if isinstance(config, dict) else R.canonical_config(config)
    args = [sys.executable, "-m", module, "_run-one", "--config", json.dumps(cfg),
            "--out", str(Path(out_path).resolve()), "--commit", commit]
    if data_dir:
        args += ["--data-dir", str(Path(data_dir).resolve())]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pkg_parent = str(Path(package_parent).resolve() if package_parent is not None else R.PACKAGE_DIR.parent)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    kw: dict[str, Any] = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}
    return subprocess.Popen(args, env=env, cwd=pkg_parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, **kw)


# --------------------------------------------------------------------------- a grid


def grid_status(name: str, results: Path | str | None = None) -> dict[str, list[RunSpec]]:
    """The runs of a grid by state: ``fresh``, ``stale``, ``corrupt``, ``missing``.

    Fresh means made by the current training code or by code the lineage file certifies equivalent
    (:func:`~amnl_utils.engine.lineage.equivalent_hashes`)."""
    root = grid_root(name, results)
    current = R.code_hash()
    equivalent = equivalent_hashes(current, root)
    out: dict[str, list[RunSpec]] = {"fresh": [], "stale": [], "corrupt": [], "missing": []}
    for spec in grid_runs(name):
        out[R.run_state(spec.path(root), current, equivalent)].append(spec)
    return out


def run_grid(
    name: str,
    results: Path | str | None = None,
    jobs: int = 1,
    data_dir: str | None = None,
    progress: bool = True,
    isolate: bool = True,
    executor: str = "local",
    executor_options: dict | None = None,
) -> dict[str, int]:
    """Run every run of a grid that is not fresh; ``jobs`` at a time, one torch thread each.

    ``isolate``: each run in its own process (the default, and what ``rerun`` does); ``False``
    trains in this process one after the other (tests). ``executor="submitit"`` submits each run
    as a job instead (:func:`_run_submitit`; ``executor_options``: ``folder`` for submitit's logs,
    ``cluster`` — ``None`` to detect SLURM, ``"local"`` for tests —, ``device`` and ``parameters``
    for ``update_parameters``, e.g. ``{"slurm_partition": "gpu", "timeout_min": 60}``). Returns
    ``{"total", "skipped", "ran", "failed"}`` and raises ``RuntimeError`` naming the failed runs
    after the others finished.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {list(EXECUTORS)}")
    root = grid_root(name, results)
    current = R.code_hash()
    equivalent = equivalent_hashes(current, root)
    states = [(spec, R.run_state(spec.path(root), current, equivalent)) for spec in grid_runs(name)]
    todo = [spec for spec, st in states if st != "fresh"]  # in grid order (seed-major)
    total = len(states)
    for tmp in R.stray_temporaries(root):  # left by a run that was killed while writing
        print(f"removing stray temporary file {tmp} (an interrupted write)", file=sys.stderr)
        tmp.unlink()
    if progress:
        for spec, st in states:
            if st in ("corrupt", "stale"):
                print(f"{st}: {spec.path(root)} — re-running it", file=sys.stderr)
    commit = git_commit()  # once, at launch: the code the workers import
    bar = None
    if progress:
        from tqdm.auto import tqdm  # lazy: only a run with a progress bar needs it

        bar = tqdm(total=total, initial=total - len(todo), desc=f"grid {name}", unit="run")
    t0 = time.perf_counter()
    failed: list[str] = []
    if executor == "submitit":
        failed = _run_submitit(todo, root, jobs, data_dir, commit, bar, dict(executor_options or {}))
    elif not isolate:
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
                running[spawn(spec.config, spec.path(root), data_dir, commit)] = spec
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


def _run_submitit(todo: list[RunSpec], root: Path, jobs: int, data_dir: str | None, commit: str, bar,
                  options: dict) -> list[str]:
    """Submit each run as a submitit job (at most ``jobs`` at once) and wait for all of them."""
    submitit = require("submitit", "the submitit executor of `run --executor submitit`")
    folder = Path(options.pop("folder", None) or root.parent / "submitit")
    device = options.pop("device", "cpu")
    ex = submitit.AutoExecutor(folder=folder / "%j", cluster=options.pop("cluster", None))
    ex.update_parameters(**{"slurm_array_parallelism": jobs, **options.pop("parameters", {})})
    if options:
        raise ValueError(f"unknown submitit options {sorted(options)}; use folder, cluster, device, parameters")
    if not todo:
        return []
    with ex.batch():
        submitted = [(ex.submit(run_one, spec.config, spec.path(root), data_dir, 1, False, commit, device), spec)
                     for spec in todo]
    failed: list[str] = []
    pending = list(submitted)
    while pending:
        time.sleep(0.5)
        for job, spec in [p for p in pending if p[0].done()]:
            pending.remove((job, spec))
            exc = job.exception()
            if exc is not None:
                failed.append(f"{spec.path(root)} (submitit job {job.job_id}): {str(exc).strip().splitlines()[-1:]}")
            if bar is not None:
                bar.update(1)
    return failed


def _main_thread() -> bool:
    import threading  # lazy: only the pool asks, to install its SIGTERM handler

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame):  # SIGTERM -> the same clean-up as Ctrl-C
    raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------- loading


def load_grid(name: str, results: Path | str | None = None, partial: bool = False) -> list[tuple[RunSpec, dict]]:
    """``(spec, record)`` of every run of a grid, all made by the current training code.

    Raises ``RuntimeError`` if any run is stale (never mixed with fresh ones), corrupt, or — unless
    ``partial`` — missing; the message names the files and the command that fixes them.
    """
    root = grid_root(name, results)
    state = grid_status(name, root)
    bad = {k: state[k] for k in ("stale", "corrupt") if state[k]}
    if not partial and state["missing"]:
        bad["missing"] = state["missing"]
    if bad:
        lines = [f"{k}: {len(v)} run(s), e.g. {v[0].path(root)}" for k, v in bad.items()]
        raise RuntimeError(
            f"grid {name} is not complete and fresh in {root}:\n  " + "\n  ".join(lines)
            + f"\nrun `python -m amnl_utils.engine run --grid {name}` (stale runs were made by other "
            "training code and are never aggregated with fresh ones)"
            + ("" if partial else "; or aggregate what exists with --partial")
        )
    return [(spec, R.load_record(spec.path(root))) for spec in state["fresh"]]
