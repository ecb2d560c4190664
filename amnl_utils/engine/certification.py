"""Certifying that new training code computes what the old code computed, on a stratified sample.

``python -m amnl_utils.engine certify`` is the one command to run after a change to a
training-relevant module (:data:`~amnl_utils.engine.store.TRAINING_MODULES`) that should change no
number. For every code hash that the committed runs carry and the current code does not, it

1. cuts the stale runs of the named grids into **strata**, grid × subset × arm family
   (:func:`arm_family`), and draws one run per stratum with a seeded generator. A run already
   drawn for another stratum that it also belongs to is reused (one file can serve the headline,
   the schedule and the ``w_max`` grids). Runs made on this processor kind come first: only they
   can re-create bit for bit;
2. re-creates every drawn run with the current code, ``jobs`` at a time in fresh processes, into a
   work folder (re-creations already there from an interrupted certification are reused), and
   compares predictions, curves, stopping point and test metrics with the file;
3. judges each run by one of three methods, recorded per run:

   - ``identical`` — made on this processor kind: the re-created run must equal the file bit for bit;
   - ``paired`` — made elsewhere (or the file names no processor) and ``--baseline <git ref>`` given:
     the run is also re-created *here* with the old code, taken from git (its records must carry the
     old hash), and the two re-creations must be bit-identical. Old and new code then compute the
     same bits on this processor, which is what the change has to show; whether the old code also
     reproduces the file here is recorded beside it;
   - ``tolerance`` — made elsewhere, no baseline: :data:`~amnl_utils.engine.reproduce.CROSS_PROCESSOR_TOLERANCE`;

4. if every run passes, appends *old hash ≡ new hash* with the sample, the processor, the date and
   the wall time to the lineage file (:mod:`amnl_utils.engine.lineage`); runs made under either hash
   then count as fresh. If any run fails, nothing is written and :class:`CertificationError` names
   the runs: the change alters results, and the grids must be re-run.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import store as R
from .grids import GRIDS, RunSpec, grid_root, grid_runs
from .lineage import append_equivalence, equivalent_hashes
from .provenance import cpu_fingerprint, git_commit, now, same_processor_kind
from .reproduce import CROSS_PROCESSOR_TOLERANCE, compare_records, within_tolerance
from .runner import spawn


class CertificationError(RuntimeError):
    """A sample run came out different: the code change alters results (the message names the runs)."""


def arm_family(config: Any) -> str:
    """The family of a run's arm: ``mse``, ``scaled_mse``, ``amnl`` (the linear schedule) or
    ``amnl_schedule`` (AMNL's weighting with another schedule); from the canonical config, so
    AMNL at ``w_max = 1`` is ``mse``."""
    d = R.canonical_config(config)
    if d["loss"] == "amnl" and d["schedule"] != "linear":
        return "amnl_schedule"
    return d["loss"]


def certifiable_grids() -> list[str]:
    """Every grid whose runs are committed: all but the scratch grids."""
    return [name for name, g in GRIDS.items() if not g.scratch]


def stale_strata(grids: Sequence[str], root: Path, current: str) -> dict[str, dict[tuple[str, str, str], list[RunSpec]]]:
    """``{old hash: {(grid, subset, family): [stale runs]}}``: the committed runs that no certified
    equivalence covers, by the hash that made them. Missing and corrupt runs are not stale (they
    have nothing to certify) and are left to ``status``."""
    equivalent = equivalent_hashes(current, root)
    out: dict[str, dict[tuple[str, str, str], list[RunSpec]]] = {}
    for grid in grids:
        for spec in grid_runs(grid):
            path = spec.path(root)
            if R.run_state(path, current, equivalent) != "stale":
                continue
            old = R.load_record(path)["code_hash"]
            key = (grid, spec.config.subset, arm_family(spec.config))
            out.setdefault(old, {}).setdefault(key, []).append(spec)
    return out


def draw_sample(strata: dict[tuple[str, str, str], list[RunSpec]], root: Path, seed: int = 0,
                here: dict | None = None) -> list[dict[str, Any]]:
    """One run per stratum: ``[{"spec", "strata", "same_processor"}]``, in stratum order.

    A run drawn earlier is reused for every later stratum it belongs to, when it is as good a
    choice there (made on this processor kind, or the stratum has no run that is). Otherwise the
    run is drawn with ``numpy.random.default_rng(seed)`` among the stratum's runs made on this
    processor kind, or among all of them when there are none; ``same_processor`` is then False
    (made on another kind) or None (the files name no processor).
    """
    here = cpu_fingerprint() if here is None else here
    rng = np.random.default_rng(seed)
    chosen: dict[Path, dict[str, Any]] = {}
    for key in sorted(strata):
        specs = sorted(strata[key], key=lambda s: str(s.path(root)))
        local = [s for s in specs if same_processor_kind(R.load_record(s.path(root)).get("cpu"), here)]
        pool = local or specs
        reuse = [chosen[s.path(root)] for s in pool if s.path(root) in chosen]
        if reuse:
            reuse[0]["strata"].append(key)
            continue
        spec = pool[int(rng.integers(len(pool)))]
        kind = True if local else same_processor_kind(R.load_record(spec.path(root)).get("cpu"), here)
        chosen[spec.path(root)] = {"spec": spec, "strata": [key], "same_processor": kind}
    return list(chosen.values())


def default_work_dir() -> Path:
    """Where certification keeps its re-created runs: ``<scratch>/certify`` (ignored by git)."""
    return R.scratch_root() / "certify"


def baseline_tree(ref: str, work: Path) -> tuple[Path, str, str]:
    """The old code: ``(folder holding amnl_utils, its command module, its commit)``.

    ``ref`` is a folder that holds an ``amnl_utils`` package (used as it is; the commit is then
    ``"folder <path>"``) or a git ref of this repository, extracted under ``work``. Raises
    ``ValueError`` if it is neither."""
    if (Path(ref) / "amnl_utils" / "__init__.py").is_file():
        parent = Path(ref).resolve()
        module = "amnl_utils.engine" if (parent / "amnl_utils" / "engine" / "__main__.py").exists() else "amnl_utils.experiments"
        return parent, module, f"folder {parent}"
    try:
        commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=R.REPO_DIR,
                                capture_output=True, text=True, check=True).stdout.strip()
        blob = subprocess.run(["git", "archive", "--format=tar", commit, "amnl_utils"], cwd=R.REPO_DIR,
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ValueError(f"--baseline {ref!r}: neither a folder holding amnl_utils nor a commit of {R.REPO_DIR} "
                         f"({exc})") from None
    parent = work / f"code-{commit[:12]}"
    if not (parent / "amnl_utils").is_dir():
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(parent, filter="data")
    module = "amnl_utils.engine" if (parent / "amnl_utils" / "engine" / "__main__.py").exists() else "amnl_utils.experiments"
    return parent, module, commit


def certify(grids: Sequence[str] | None = None, results: Path | str | None = None, jobs: int = 2,
            data_dir: str | None = None, seed: int = 0, progress: bool = True, work: Path | str | None = None,
            baseline: str | None = None) -> list[dict[str, Any]]:
    """Certify the current training code against every older hash the runs of ``grids`` carry
    (default: :func:`certifiable_grids`, the committed ones; a scratch grid only when named, e.g.
    in the tests); returns the lineage entries written (``[]`` when every run is already fresh).

    ``work``: the folder for re-created runs (default :func:`default_work_dir`); ``baseline``: a git
    ref holding the old code, for the ``paired`` method (see the module docstring). Raises
    :class:`CertificationError` naming the runs that fail."""
    grids = list(grids) if grids else certifiable_grids()
    unknown = [g for g in grids if g not in GRIDS]
    if unknown:
        raise ValueError(f"unknown grid(s) {unknown}; choose among {sorted(GRIDS)}")
    roots = {grid_root(g, results) for g in grids}
    if len(roots) != 1:
        raise ValueError(f"the grids {grids} live in different results folders: {sorted(map(str, roots))}")
    root = roots.pop()
    work = Path(work) if work is not None else default_work_dir()
    current = R.code_hash()
    here = cpu_fingerprint()
    entries = []
    for old, strata in stale_strata(grids, root, current).items():
        if old in equivalent_hashes(current, root):
            continue  # an entry written above already connects it (X ≡ Y and X ≡ Z give Y ≡ Z)
        sample = draw_sample(strata, root, seed=seed, here=here)
        foreign = [item for item in sample if item["same_processor"] is not True]
        if progress:
            print(f"certifying {old} ≡ {current}: {len(sample)} runs for {len(strata)} strata (grid × subset × arm "
                  f"family), {len(foreign)} of them made on another or an unknown processor; {jobs} at a time", flush=True)
        tasks = [(item["spec"].path(root), work / current, None, "amnl_utils.engine", current, frozenset({current}))
                 for item in sample]
        base = None
        if baseline is not None and foreign:
            parent, module, commit = baseline_tree(baseline, work)
            base = {"ref": baseline, "commit": commit}
            # the old code may carry any hash already certified equivalent to ``old`` (a renovation
            # certified earlier changes the hash without changing a number)
            accept = equivalent_hashes(old, root)
            tasks += [(item["spec"].path(root), work / f"baseline-{old}", parent, module, old, accept) for item in foreign]
        t0 = time.perf_counter()
        made = _recreate(tasks, jobs, data_dir, progress)
        wall = time.perf_counter() - t0
        rows = [_judge(item, root, made, current, old, base) for item in sample]
        bad = [r for r in rows if not r["passed"]]
        if bad:
            lines = [f"{r['run']} ({r['method']}): {r['why']}" for r in bad]
            raise CertificationError(
                f"{len(bad)} of {len(rows)} sample runs differ under the current code ({current}) from the runs made "
                f"by {old}:\n  " + "\n  ".join(lines)
                + "\nthe change alters results: re-run the grids (`python -m amnl_utils.engine run --grid <name>`); "
                "nothing was written to the lineage file")
        methods = sorted({r["method"] for r in rows})
        entry = {
            "old": old, "new": current, "certified_at": now(), "commit": git_commit(), "processor": here,
            "wall_s": round(wall, 1), "recreated": len(made), "seed": seed, "grids": grids, "methods": methods,
            "tolerance_used": "tolerance" in methods, "tolerance": CROSS_PROCESSOR_TOLERANCE,
            "baseline": base, "sample": rows,
        }
        append_equivalence(root, entry)
        entries.append(entry)
    return entries


def _judge(item: dict[str, Any], root: Path, made: dict, current: str, old: str, base: dict | None) -> dict[str, Any]:
    """One sample run's row of the lineage record: how it was judged, and whether it passed."""
    src = item["spec"].path(root)
    original, fresh = R.load_record(src), made[(src, current)]
    cmp = compare_records(original, fresh)
    row: dict[str, Any] = {
        "run": str(src.relative_to(root)), "strata": ["/".join(k) for k in item["strata"]],
        "same_processor": item["same_processor"], "made_on": (original.get("cpu") or {}).get("model_name"),
        **cmp, "wall_s": round(fresh["wall_s"], 1),
    }
    if item["same_processor"] is True:
        passed = cmp["identical"]
        row.update(method="identical", why="" if passed else "differs from the file made on this processor kind")
    elif base is not None:
        pair = compare_records(made[(src, old)], fresh)
        passed = pair["identical"]
        row.update(method="paired", baseline_identical=passed,
                   original_reproduced_by_old_code=compare_records(original, made[(src, old)])["identical"],
                   why="" if passed else "the old and the new code give different runs on this processor")
    else:
        passed = within_tolerance(original, fresh)
        row.update(method="tolerance", why="" if passed else
                   f"outside the cross-processor tolerance {CROSS_PROCESSOR_TOLERANCE} (max |Δ prediction| "
                   f"{cmp['max_abs_pred_diff']:.4g} cycles, curves {'identical' if cmp['curves_identical'] else 'differ'}); "
                   "give --baseline <git ref of the old code> to compare old and new code on this processor")
    row["passed"] = bool(passed)
    return row


def _recreate(tasks: list[tuple[Path, Path, Path | None, str, str, frozenset[str]]], jobs: int, data_dir: str | None,
              progress: bool) -> dict[tuple[Path, str], dict]:
    """Re-create runs: each task ``(result file, out folder, package parent or None, command
    module, key, accepted code hashes)``, ``jobs`` at a time. A re-creation already in its out folder
    with an accepted hash is reused. Returns ``{(result file, key): record}``.

    Raises ``RuntimeError`` if a run fails or a re-created record names a code hash that is not
    accepted (the code was edited while the sample ran, or a baseline is not the old code)."""
    commit = git_commit()
    made: dict[tuple[Path, str], dict] = {}
    pending = []
    for src, out_dir, parent, module, key, accept in tasks:
        out = out_dir / src.name
        try:
            rec = R.load_record(out) if out.exists() else None
        except R.ResultFileError:
            rec = None
        same_config = rec is not None and R.canonical_config(rec["config"]) == R.canonical_config(R.load_record(src)["config"])
        if rec is not None and rec["code_hash"] in accept and same_config:
            made[(src, key)] = rec
        else:
            pending.append((src, out, parent, module, key, accept))
    if progress and made:
        print(f"  reusing {len(made)} re-created run(s) from an earlier certification", flush=True)
    total = len(pending)
    running: list[tuple[Any, tuple, float]] = []
    done = 0
    try:
        while pending or running:
            while pending and len(running) < jobs:
                task = pending.pop(0)
                src, out, parent, module, _, _ = task
                out.parent.mkdir(parents=True, exist_ok=True)
                proc = spawn(R.load_record(src)["config"], out, data_dir, commit, package_parent=parent, module=module)
                running.append((proc, task, time.perf_counter()))
            time.sleep(0.5)
            for entry in [e for e in running if e[0].poll() is not None]:
                running.remove(entry)
                proc, (src, out, parent, module, key, accept), t0 = entry
                if proc.returncode != 0:
                    err = proc.stderr.read() if proc.stderr else ""
                    raise RuntimeError(f"re-creating {src} with {module} failed (exit {proc.returncode}):\n{err[-2000:]}")
                rec = R.load_record(out)
                if rec["code_hash"] not in accept:
                    raise RuntimeError(f"{out} was made by code {rec['code_hash']}, not {' or '.join(sorted(accept))}: the "
                                       "training code changed while the sample ran, or the baseline is not the old code")
                made[(src, key)] = rec
                done += 1
                if progress:
                    who = "old code" if parent is not None else "new code"
                    print(f"  [{done}/{total}] {src.name} re-created by the {who} ({time.perf_counter() - t0:.0f} s)",
                          flush=True)
    except BaseException:
        for proc, *_ in running:
            proc.kill()
        raise
    return made
