"""Result files of training runs: where they live, what they hold, and whether they are still valid.

One run, one JSON file, identified by its full configuration::

    <results>/runs/<subset>/<label>_s<seed>_<run id>.json

``run id`` is a hash of the *canonical* config (:func:`canonical_config`), so two grids that ask for
the same run share one file: MSE is AMNL at ``w_max = 1``, and AMNL at ``w_max = 2`` with the linear
schedule belongs to the headline, the schedule grid and the ``w_max`` grid at once. Aggregates of a
grid go to ``<results>/<grid>/``.

A record also carries a **code hash** of the training-relevant source (:data:`TRAINING_MODULES`,
compared as syntax trees without docstrings, so editing prose does not invalidate results but
editing code does). A record made by other training code is *stale*: the experiments command
re-runs it and never aggregates it with fresh ones. This module is the one place that reads and
writes these files; :mod:`amnl_utils.experiments` and :mod:`amnl_utils.reporting` both use it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

#: Environment variable naming the results folder (a ``--results`` option overrides it).
ENV_VAR = "AMNL_RESULTS"
#: The package's modules whose code decides what a training run computes.
TRAINING_MODULES: tuple[str, ...] = (
    "constants", "seeding", "weights", "losses", "data", "model", "metrics", "training",
)
#: Keys every result file has (checked on load).
REQUIRED_KEYS: tuple[str, ...] = (
    "run_id", "subset", "seed", "config", "code_hash", "git_commit", "versions", "stopping", "curves",
    "val", "test", "predictions", "wall_s",
)


class ResultFileError(ValueError):
    """A result file that cannot be used: unreadable, truncated, or not a run record."""


def default_root() -> Path:
    """``$AMNL_RESULTS`` if set, else the ``results/`` folder of the repository holding this package."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "results"


def resolve_root(path: str | os.PathLike | None = None) -> Path:
    """The results folder: ``path`` if given, else :func:`default_root`."""
    return Path(path) if path is not None else default_root()


# --------------------------------------------------------------------------- identity


def canonical_config(cfg: Any) -> dict[str, Any]:
    """The config as a plain dict, with settings that cannot change the run set to fixed values.

    MSE ignores the weight schedule and ``w_max``; any loss at ``w_max = 1`` *is* MSE (every
    schedule is 1 everywhere, and the scaled-MSE factor is 1). Such configs map to ``loss="mse",
    w_max=1.0, schedule="linear"``, so equal runs get equal ids.
    """
    d = asdict(cfg) if not isinstance(cfg, dict) else dict(cfg)
    if d["loss"] == "mse" or float(d["w_max"]) == 1.0:
        d.update(loss="mse", w_max=1.0, schedule="linear")
    d["w_max"] = float(d["w_max"])
    return d


def run_id(cfg: Any) -> str:
    """12 hex digits of SHA-256 over the canonical config (sorted-key JSON)."""
    blob = json.dumps(canonical_config(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_label(cfg: Any) -> str:
    """A readable file-name stem: ``mse``, ``scaled_mse_w2``, ``amnl_w2``, ``amnl_step_w2``, …"""
    d = canonical_config(cfg)
    if d["loss"] == "mse":
        return "mse"
    sched = "" if d["schedule"] == "linear" else f"_{d['schedule']}"
    return f"{d['loss']}{sched}_w{d['w_max']:g}"


def run_path(root: str | os.PathLike, cfg: Any) -> Path:
    """Where the result file of ``cfg`` lives under the results folder ``root``."""
    d = canonical_config(cfg)
    return Path(root) / "runs" / d["subset"] / f"{run_label(cfg)}_s{d['seed']}_{run_id(cfg)}.json"


def config_from_record(record: dict, config_cls: type | None = None) -> Any:
    """Rebuild the :class:`~amnl_utils.training.TrainConfig` of a record (unknown keys are an error)."""
    if config_cls is None:
        from .training import TrainConfig as config_cls  # noqa: N813
    known = {f.name for f in fields(config_cls)}
    extra = set(record["config"]) - known
    if extra:
        raise ResultFileError(f"config keys {sorted(extra)} are unknown to this code; the file is from another version")
    return config_cls(**record["config"])


# --------------------------------------------------------------------------- code version


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def source_hash(source: str) -> str:
    """SHA-256 of a module's syntax tree without docstrings (comments and layout never count)."""
    tree = _strip_docstrings(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def code_hash(package_dir: str | os.PathLike | None = None) -> str:
    """16 hex digits identifying the training-relevant code (:data:`TRAINING_MODULES`)."""
    root = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in TRAINING_MODULES:
        h.update(name.encode())
        h.update(source_hash((root / f"{name}.py").read_text()).encode())
    return h.hexdigest()[:16]


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


def load_record(path: str | os.PathLike) -> dict:
    """Read one result file; raise :class:`ResultFileError` naming the file if it is not usable."""
    path = Path(path)
    try:
        rec = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(
            f"{path}: not a complete result file ({type(exc).__name__}: {exc}); it was cut off or "
            "damaged — delete it, or let `python -m amnl_utils.experiments run` re-create it"
        ) from None
    if not isinstance(rec, dict):
        raise ResultFileError(f"{path}: expected a JSON object, got {type(rec).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in rec]
    if missing:
        raise ResultFileError(
            f"{path}: result file lacks {missing}; it was written by an older version of the code — "
            "re-create it with `python -m amnl_utils.experiments run`"
        )
    return rec


def run_state(path: str | os.PathLike, current_hash: str | None = None) -> str:
    """``"missing"``, ``"corrupt"``, ``"stale"`` (other training code) or ``"fresh"``."""
    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        rec = load_record(path)
    except ResultFileError:
        return "corrupt"
    return "fresh" if rec["code_hash"] == (current_hash or code_hash()) else "stale"
