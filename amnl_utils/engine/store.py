"""Result files of training runs: where they live, what they hold, and whether they are still valid.

One run, one JSON file, identified by its full configuration::

    <results>/runs/<subset>/<label>_s<seed>_<run id>.json

``run id`` is a hash of the *canonical* config (:func:`canonical_config`), so two grids that ask for
the same run share one file: MSE is AMNL at ``w_max = 1``, and AMNL at ``w_max = 2`` with the linear
schedule belongs to the headline, the schedule grid and the ``w_max`` grid at once. Aggregates of a
grid go to ``<results>/<grid>/``.

A record also carries a **code hash** of the training-relevant source (:data:`TRAINING_MODULES`,
compared as syntax trees without docstrings, so editing prose does not invalidate results but
editing code does). A record made by other training code is *stale* — unless its hash was certified
equivalent to the current one (:mod:`amnl_utils.engine.lineage`): the engine re-runs stale runs and
never aggregates them with fresh ones. This module is the one place that reads and writes these
files; the engine and :mod:`amnl_utils.book.loading` both use it.

Grids marked *scratch* (the smoke grid, probes) write to :func:`scratch_root`, an ignored folder,
unless a results folder is named explicitly, so they can never overwrite committed runs.
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

from .config import RIVAL_LOSSES, TrainConfig

#: Environment variable naming the results folder (a ``--results`` option overrides it).
ENV_VAR = "AMNL_RESULTS"
#: The package's modules whose code decides what a training run computes (paths under the package).
TRAINING_MODULES: tuple[str, ...] = (
    "core/constants", "core/seeding", "core/weights", "core/losses", "core/rivals", "core/metrics",
    "cmapss/read", "cmapss/prepare", "engine/config", "engine/model", "engine/training",
)
#: Config settings added after runs were committed, with their defaults: left out of a run's id
#: at the default (:func:`canonical_config`), so the runs made before they existed keep their ids.
ADDED_SETTINGS: dict[str, Any] = {"quantile": 0.5, "decision_fold": False}
#: The package folder and the repository folder that holds it.
PACKAGE_DIR: Path = Path(__file__).resolve().parent.parent
REPO_DIR: Path = PACKAGE_DIR.parent
#: The folder scratch grids write to when no results folder is named (ignored by git).
SCRATCH_DIR: str = "scratch"
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
    return REPO_DIR / "results"


def scratch_root() -> Path:
    """``$AMNL_RESULTS`` if set, else the repository's ignored ``scratch/`` folder: where scratch
    grids (smoke tests, probes) write, never the committed ``results/``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return REPO_DIR / SCRATCH_DIR


def resolve_root(path: str | os.PathLike | None = None, scratch: bool = False) -> Path:
    """The results folder: ``path`` if given, else :func:`scratch_root` for a scratch grid and
    :func:`default_root` otherwise."""
    if path is not None:
        return Path(path)
    return scratch_root() if scratch else default_root()


# --------------------------------------------------------------------------- identity


def canonical_config(cfg: Any) -> dict[str, Any]:
    """The config as a plain dict, with settings that cannot change the run set to fixed values.

    MSE ignores the weight schedule and ``w_max``; any loss at ``w_max = 1`` *is* MSE (every
    schedule is 1 everywhere, and the scaled-MSE factor is 1). Such configs map to ``loss="mse",
    w_max=1.0, schedule="linear"``, so equal runs get equal ids. The rivals of §14.5 ignore both too
    (their ``w_max`` becomes 1, their schedule linear), and every loss but pinball ignores
    ``quantile`` (it becomes 0.5). Settings added after runs were committed
    (:data:`ADDED_SETTINGS`) are left out at their defaults, so those runs keep their ids.
    """
    d = asdict(cfg) if not isinstance(cfg, dict) else dict(cfg)
    if d["loss"] in RIVAL_LOSSES:
        d.update(w_max=1.0, schedule="linear")
    elif d["loss"] == "mse" or float(d["w_max"]) == 1.0:
        d.update(loss="mse", w_max=1.0, schedule="linear")
    if d["loss"] != "pinball":
        d["quantile"] = 0.5
    d["w_max"] = float(d["w_max"])
    for key, default in ADDED_SETTINGS.items():
        if d.get(key, default) == default:
            d.pop(key, None)
    return d


def run_id(cfg: Any) -> str:
    """12 hex digits of SHA-256 over the canonical config (sorted-key JSON)."""
    blob = json.dumps(canonical_config(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_label(cfg: Any) -> str:
    """A readable file-name stem: ``mse``, ``scaled_mse_w2``, ``amnl_w2``, ``amnl_step_w2``, ``lds``,
    ``bmc``, ``pinball_t0.3``, …"""
    d = canonical_config(cfg)
    if d["loss"] in ("mse", "lds", "bmc"):
        return d["loss"]
    if d["loss"] == "pinball":
        return f"pinball_t{d['quantile']:g}"
    sched = "" if d["schedule"] == "linear" else f"_{d['schedule']}"
    return f"{d['loss']}{sched}_w{d['w_max']:g}"


def run_path(root: str | os.PathLike, cfg: Any) -> Path:
    """Where the result file of ``cfg`` lives under the results folder ``root``."""
    d = canonical_config(cfg)
    return Path(root) / "runs" / d["subset"] / f"{run_label(cfg)}_s{d['seed']}_{run_id(cfg)}.json"


def config_from_record(record: dict, config_cls: type | None = None) -> Any:
    """Rebuild the :class:`~amnl_utils.engine.config.TrainConfig` of a record (unknown keys are an error)."""
    if config_cls is None:
        config_cls = TrainConfig
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
    root = Path(package_dir) if package_dir is not None else PACKAGE_DIR
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
            "damaged — delete it, or let `python -m amnl_utils.engine run` re-create it"
        ) from None
    if not isinstance(rec, dict):
        raise ResultFileError(f"{path}: expected a JSON object, got {type(rec).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in rec]
    if missing:
        raise ResultFileError(
            f"{path}: result file lacks {missing}; it was written by an older version of the code — "
            "re-create it with `python -m amnl_utils.engine run`"
        )
    return rec


def run_state(path: str | os.PathLike, current_hash: str | None = None, equivalent: frozenset[str] | set[str] = frozenset()) -> str:
    """``"missing"``, ``"corrupt"``, ``"stale"`` (other training code) or ``"fresh"``.

    A run is fresh when its code hash is the current one or one of ``equivalent`` (the hashes the
    lineage file certifies equivalent to it, :func:`amnl_utils.engine.lineage.equivalent_hashes`).
    """
    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        rec = load_record(path)
    except ResultFileError:
        return "corrupt"
    h = rec["code_hash"]
    return "fresh" if h == (current_hash or code_hash()) or h in equivalent else "stale"


def stray_temporaries(root: str | os.PathLike) -> list[Path]:
    """Temporary files (``.*.tmp``) left in the run folders by an interrupted write, sorted."""
    runs = Path(root) / "runs"
    return sorted(runs.glob("*/.*.tmp")) if runs.is_dir() else []


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex): what an aggregate records of each run file it read."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
