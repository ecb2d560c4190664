"""Re-creating runs from their files: ``rerun`` one, ``verify`` a sample of a grid.

Bit identity is expected only with the same code on the same processor kind. Across processor kinds
the floating-point kernels differ in the last bits, and a re-created run is held to
:data:`CROSS_PROCESSOR_TOLERANCE` instead (:func:`within_tolerance`).
"""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from . import store as R
from .grids import grid_root
from .lineage import equivalent_hashes, lineage_summary
from .provenance import cpu_fingerprint, git_commit, now, same_processor_kind
from .runner import grid_status, spawn

#: What a run re-created on *another* processor kind must meet: every test prediction within
#: ``max_abs_pred_cycles`` of the original and the same selected pass. (Runs whose last bits drift
#: apart early usually select another pass and fail this; they can only be compared as samples.)
CROSS_PROCESSOR_TOLERANCE: dict[str, float] = {"max_abs_pred_cycles": 0.01}


def within_tolerance(a: dict, b: dict) -> bool:
    """Whether record ``b`` re-creates ``a`` within :data:`CROSS_PROCESSOR_TOLERANCE`."""
    cmp = compare_records(a, b)
    d = cmp["max_abs_pred_diff"]
    return bool(cmp["identical"] or (np.isfinite(d) and d <= CROSS_PROCESSOR_TOLERANCE["max_abs_pred_cycles"]
                                      and a["stopping"] == b["stopping"]))


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
    processor kind is the one the original names, see :func:`same_processor_kind`; ``None`` if it
    names none) and ``within_tolerance``. ``stale`` counts the lineage of the store that holds the
    original (``<results>/runs/<subset>/<file>``): code certified equivalent is not other code. Bit
    identity is only expected on the same processor kind with the same (or equivalent) code."""
    src = Path(result_file)
    original = R.load_record(src)
    cfg = R.config_from_record(original)
    out = Path(out_dir) / src.name
    if out.resolve() == src.resolve():
        raise ValueError(f"--out must differ from the folder of {src}: rerun never overwrites the original")
    proc = spawn(cfg, out, data_dir, git_commit())
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"re-running {src} failed (exit {proc.returncode}):\n{err[-2000:]}")
    fresh = R.load_record(out)
    same_cpu = same_processor_kind(original.get("cpu"), fresh["cpu"])
    equivalent = equivalent_hashes(fresh["code_hash"], src.resolve().parent.parent.parent)
    return {"path": str(out), "stale": original["code_hash"] not in equivalent, "same_cpu": same_cpu,
            **compare_records(original, fresh), "within_tolerance": within_tolerance(original, fresh)}


def verify(name: str, sample: int = 3, results: Path | str | None = None, seed: int = 0,
           data_dir: str | None = None, record: bool = False, this_cpu: bool = False) -> list[dict[str, Any]]:
    """Re-run ``sample`` committed runs of a grid (drawn with ``seed``) into a temporary folder and
    compare each with its file. Returns one dict per run (see :func:`rerun`); with ``record``, also
    writes them, with the date and machine, to ``<results>/<grid>/verify.json``.

    ``this_cpu`` draws only from the runs made on this processor, the only ones that can re-create
    bit for bit here (a grid may have been run on more than one machine)."""
    root = grid_root(name, results)
    specs = grid_status(name, root)["fresh"]
    if this_cpu:
        here = cpu_fingerprint()
        specs = [s for s in specs if same_processor_kind(R.load_record(s.path(root)).get("cpu"), here)]
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
        import torch  # lazy: the record names torch's CPU capability; only a recording verify needs it

        current = R.code_hash()
        R.write_json_atomic(root / name / "verify.json", {
            "grid": name, "sample": len(out), "of": len(specs), "seed": seed, "checked_at": now(),
            "code_hash": current, "commit": git_commit(), "lineage": lineage_summary(current, root),
            "this_cpu_only": this_cpu,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu": cpu_fingerprint(),
            "platform": platform.platform(terse=True),
            "all_identical": all(r["identical"] for r in out), "runs": out})
    return out
