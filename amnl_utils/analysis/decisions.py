"""§14.5's analysis of the ``decisions`` grid: every run's threshold tuned on its validation engines,
scored on its decision engines, beside the oracle, age-based replacement and MSE + offset.

``python -m amnl_utils.analysis.decisions`` reads the grid's run files (a partial grid is allowed)
and the C-MAPSS training files (for the lives of the engines age-based replacement is tuned on), and
writes ``<results>/decisions/decisions.json`` atomically. The chapter reads only that file, and
:func:`check_fresh` refuses it when the run files changed since it was written.

Per run, policy, tuning rule and failure cost ``k`` a row holds the decision engines' cost rate
(per 1000 cycles), missed failures per 100 engines, mean wasted life (cycles), the chosen θ and the
counts of engines and failures behind them. Derived arms: ``mse_offset`` (the MSE run's predictions
minus the constant ``c`` that minimises the NASA score on its validation engines) and ``pinball``
(per subset, policy, rule and ``k``, the τ of :data:`~amnl_utils.engine.grids.PINBALL_TAUS` with the
lower mean validation cost). Context rows: ``oracle`` (the true RUL as the prediction) and ``age``
(replacement at the age tuned on the seed's training and validation engines).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..cmapss.prepare import engine_lengths, split_engines_with_decision
from ..cmapss.read import load_arrays
from ..core import decisions as D
from ..core.constants import R_MAX
from ..core.metrics import nasa_score
from ..core.stats import paired_difference, t_interval
from ..engine.grids import DECISION_SUBSETS, PINBALL_TAUS, grid_root
from ..engine.runner import grid_status, load_grid

GRID = "decisions"
#: Failure costs, in units of a planned replacement.
KS: tuple[int, ...] = (2, 5, 10, 50)
#: The failure costs of the page's k slider (policy (a), the margin rule).
KS_FINE: tuple[int, ...] = tuple(range(2, 51))
#: Policy (b)'s lead time, cycles.
LEAD: int = 10
POLICIES: dict[str, int] = {"threshold": 0, "lead": LEAD}
#: α–λ accuracy: α and the fractions λ of the resolved stretch.
ALPHA: float = 0.2
LAMBDAS: tuple[float, ...] = (0.25, 0.5, 0.75)
#: Offsets tried for MSE + offset, cycles.
OFFSETS: np.ndarray = np.arange(0.0, 30.5, 0.5)
#: Bins of the true (capped) RUL for the error profile, cycles.
RUL_BINS: np.ndarray = np.arange(0, 130, 5)
#: The test-set measures of each run (last windows; near-failure RMSE over every window with true RUL ≤ 30).
TEST_MEASURES: tuple[str, ...] = ("rmse", "nasa", "nf_rmse_all")
#: Arm order on the page.
ARMS: tuple[str, ...] = ("mse", "mse_offset", "amnl", "lds", "bmc", "pinball", "oracle", "age")
TRAINED: tuple[str, ...] = ("mse", "amnl", "lds", "bmc") + tuple(f"pinball_t{t:g}" for t in PINBALL_TAUS)


def trajectories(record: dict, which: str, offset: float = 0.0) -> list[tuple[int, np.ndarray]]:
    """``[(rul_start, pred)]`` of a run's ``"val"`` or ``"decision"`` engines (pred minus ``offset``, clipped at 0)."""
    return [(int(e["rul_start"]), np.maximum(np.asarray(e["y_pred"], dtype=np.float64) - offset, 0.0))
            for e in record["engines"][which]]


def oracle_trajectories(record: dict, which: str) -> list[tuple[int, np.ndarray]]:
    """The oracle on the same engines: the true (uncapped) RUL as the prediction."""
    return [(int(e["rul_start"]), np.arange(int(e["rul_start"]), -1, -1, dtype=np.float64))
            for e in record["engines"][which]]


def best_offset(record: dict) -> float:
    """The constant ``c`` (cycles, :data:`OFFSETS`) that minimises the NASA score of ``pred - c``
    against the capped true RUL over every validation window of a run."""
    traj = trajectories(record, "val")
    true = np.concatenate([np.minimum(np.arange(r, -1, -1), R_MAX) for r, _ in traj]).astype(np.float64)
    pred = np.concatenate([p for _, p in traj])
    scores = [nasa_score(true, np.maximum(pred - c, 0.0)) for c in OFFSETS]
    return float(OFFSETS[int(np.argmin(scores))])


def matrices(val: list, dec: list, window: int) -> dict[str, tuple[dict, dict]]:
    """``{policy: (validation matrix, decision matrix)}`` of one arm of one run
    (:func:`amnl_utils.core.decisions.policy_matrix` at every θ), built once and shared by the rows,
    the k curve and the sweep."""
    return {policy: (D.policy_matrix(val, window, lead=lead), D.policy_matrix(dec, window, lead=lead))
            for policy, lead in POLICIES.items()}


def tuned_rows(mt: dict, md: dict, grid: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Rows ``{rule, k, theta, val_cost, cost_rate, missed, wasted, engines, failures}``: θ (or the
    age) tuned on the matrix ``mt`` by every rule at every :data:`KS`, scored on ``md``; ``grid`` holds
    the θ (or age) of each column, cycles."""
    rows = []
    for rule in D.RULES:
        for k in KS:
            j = D.tune(mt, k, rule, seed=seed)
            rows.append({"rule": rule, "k": k, "theta": float(grid[j]), "val_cost": 1000.0 * float(D.cost_rate(mt, k)[j]),
                         **D.summarise(md, j, k)})
    return rows


def policy_rows(mats: dict[str, tuple[dict, dict]], seed: int) -> list[dict[str, Any]]:
    """The rows of one arm of one run, every policy (``mats``: :func:`matrices`)."""
    return [{"policy": policy, **r} for policy, (mv, md) in mats.items() for r in tuned_rows(mv, md, D.THETAS, seed)]


def k_curve(mt: dict, md: dict, grid: np.ndarray, seed: int) -> dict[str, list[float]]:
    """The book's tuning rule (``RULES[0]``) at every :data:`KS_FINE`: the cost rate on ``md`` (per
    1000 cycles), the θ (or age) tuned on ``mt`` and the cost rate on ``mt`` there (``val_cost``,
    what :func:`pinball_k_curve` chooses τ by)."""
    cost, theta, val = [], [], []
    for k in KS_FINE:
        j = D.tune(mt, k, D.RULES[0], seed=seed)
        cost.append(round(1000.0 * float(D.cost_rate(md, k)[j]), 4))
        theta.append(float(grid[j]))
        val.append(1000.0 * float(D.cost_rate(mt, k)[j]))
    return {"cost": cost, "theta": theta, "val_cost": val}


def pinball_k_curve(curves: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    """The ``pinball`` arm's k curve of one run: at every k, the curve of the τ (``curves``: arm ->
    :func:`k_curve`, over the ``pinball_t*`` arms) with the lower validation cost, ties to the first
    arm name, as :func:`pinball_choice` chooses for the tables. Adds ``tau`` per k."""
    arms = sorted(curves)
    out: dict[str, list[float]] = {"cost": [], "theta": [], "val_cost": [], "tau": []}
    for i in range(len(KS_FINE)):
        best = min(arms, key=lambda a: (curves[a]["val_cost"][i], a))
        for key in ("cost", "theta", "val_cost"):
            out[key].append(curves[best][key][i])
        out["tau"].append(float(best.removeprefix("pinball_t")))
    return out


def age_matrices(tune_lives: np.ndarray, dec_lives: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    """Age-based replacement: the matrices of the engines the age is tuned on and of the decision
    engines, and the ages (cycles) of their columns."""
    ages = np.arange(1, int(tune_lives.max()) + 1)
    return D.age_matrix(tune_lives, ages), D.age_matrix(dec_lives, ages), ages


def age_rows(mt: dict, md: dict, ages: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Age-based replacement's rows, the same for both policies (a planned age needs no lead-time rule)."""
    return [{"policy": policy, **r} for r in tuned_rows(mt, md, ages, seed) for policy in POLICIES]


def phm_row(dec: list) -> dict[str, float]:
    """α–λ accuracy (% of engines) at each λ and the mean prognostic horizon (cycles) on the decision engines."""
    out = {f"alpha_lambda_{lam:g}": 100.0 * float(np.mean([D.alpha_lambda(r, p, lam, ALPHA) for r, p in dec]))
           for lam in LAMBDAS}
    out["horizon"] = float(np.mean([D.prognostic_horizon(r, p, ALPHA) for r, p in dec]))
    return out


def error_profile(dec: list) -> list[float | None]:
    """Mean signed error (prediction − capped true RUL, cycles) per :data:`RUL_BINS` bin on the decision engines."""
    true = np.concatenate([np.minimum(np.arange(r, -1, -1), R_MAX) for r, _ in dec])
    err = np.concatenate([p for _, p in dec]) - true
    idx = np.digitize(true, RUL_BINS[1:], right=False)
    return [float(err[idx == b].mean()) if (idx == b).any() else None for b in range(len(RUL_BINS))]


def sweep(md: dict) -> dict[str, list[float]]:
    """Policy (a)'s decision matrix at every θ: missed failures per 100 engines and mean wasted life."""
    return {"missed": (100.0 * md["failed"].mean(axis=0)).round(3).tolist(), "wasted": md["wasted"].mean(axis=0).round(3).tolist()}


def lives_by_engine(subset: str, data_dir: str | None = None) -> dict[int, int]:
    """Every training engine's failure cycle (its number of rows, cycles counted from 1)."""
    train = load_arrays(subset, data_dir).train
    ids, lengths = engine_lengths(train[:, 0].astype(np.int64))
    return {int(u): int(n) for u, n in zip(ids, lengths)}


def analyse(pairs: Iterable[tuple[Any, dict]], data_dir: str | None = None) -> dict[str, Any]:
    """The whole analysis of the runs ``pairs`` (``(spec, record)``): rows, PHM, error profiles, sweeps."""
    runs: dict[tuple[str, int], dict[str, dict]] = {}
    for spec, rec in pairs:
        runs.setdefault((spec.config.subset, spec.config.seed), {})[spec.arm] = rec
    rows, phm, profiles, sweeps, offsets, kcurves, test = [], [], [], [], [], [], []
    lives: dict[str, dict[int, int]] = {}
    for (subset, seed), arms in sorted(runs.items()):
        if set(arms) != set(TRAINED):
            continue  # a seed counts only when every trained arm of it is there (paired comparisons)
        window = int(arms["mse"]["config"]["window"])
        test += [{"subset": subset, "seed": seed, "arm": a, **{m: float(r["test"][m]) for m in TEST_MEASURES},
                  "val_rmse": float(r["stopping"]["best_val_rmse"])} for a, r in arms.items()]
        preds = {a: (trajectories(r, "val"), trajectories(r, "decision")) for a, r in arms.items()}
        c = best_offset(arms["mse"])
        offsets.append({"subset": subset, "seed": seed, "offset": c})
        preds["mse_offset"] = (trajectories(arms["mse"], "val", c), trajectories(arms["mse"], "decision", c))
        preds["oracle"] = (oracle_trajectories(arms["mse"], "val"), oracle_trajectories(arms["mse"], "decision"))
        key = {"subset": subset, "seed": seed}
        run_rows, curves = [], {}
        for arm, (val, dec) in preds.items():
            mats = matrices(val, dec, window)
            run_rows += [{**key, "arm": arm, **r} for r in policy_rows(mats, seed)]
            curves[arm] = k_curve(*mats["threshold"], D.THETAS, seed)
            kcurves.append({**key, "arm": arm, **curves[arm]})
            if arm != "oracle":
                phm.append({**key, "arm": arm, **phm_row(dec)})
                profiles.append({**key, "arm": arm, "error": error_profile(dec)})
                sweeps.append({**key, "arm": arm, **sweep(mats["threshold"][1])})
        kcurves.append({**key, "arm": "pinball", **pinball_k_curve({a: c for a, c in curves.items() if a.startswith("pinball_t")})})
        lives.setdefault(subset, lives_by_engine(subset, data_dir))
        dec_ids = set(split_engines_with_decision(np.array(sorted(lives[subset])), 0.2, seed)[2].tolist())
        tune_lives = np.array([n for u, n in lives[subset].items() if u not in dec_ids])
        dec_lives = np.array([lives[subset][u] for u in sorted(dec_ids)])
        mt, md, ages = age_matrices(tune_lives, dec_lives)
        run_rows += [{**key, "arm": "age", **r} for r in age_rows(mt, md, ages, seed)]
        kcurves.append({**key, "arm": "age", **k_curve(mt, md, ages, seed)})
        run_rows += [{**key, **r} for r in pinball_choice(run_rows)]
        rows += run_rows
    return {"rows": rows, "offsets": offsets, "kcurves": kcurves, "test": test, "ks_fine": list(KS_FINE), "phm": phm, "profiles": profiles, "sweeps": sweeps,
            "thetas": D.THETAS.tolist(), "rul_bins": RUL_BINS.tolist(),
            "settings": {"ks": list(KS), "lead": LEAD, "alpha": ALPHA, "lambdas": list(LAMBDAS), "n_boot": D.N_BOOT,
                         "rules": list(D.RULES), "offsets": [float(OFFSETS[0]), float(OFFSETS[-1])]}}


def pinball_choice(rows: Sequence[dict]) -> list[dict]:
    """The ``pinball`` arm of one run: per policy, rule and ``k``, the τ whose run had the lower
    validation cost at its tuned θ (a choice made on validation engines only)."""
    out = []
    for policy in POLICIES:
        for rule in D.RULES:
            for k in KS:
                cands = [r for r in rows if r["arm"].startswith("pinball_t") and (r["policy"], r["rule"], r["k"]) == (policy, rule, k)]
                best = min(cands, key=lambda r: (r["val_cost"], r["arm"]))
                out.append({**{kk: v for kk, v in best.items() if kk not in ("subset", "seed")}, "arm": "pinball",
                            "tau": float(best["arm"].removeprefix("pinball_t"))})
    return out


# --------------------------------------------------------------------------- tables


def shown_subsets(out: dict[str, Any], min_seeds: int = 2) -> list[str]:
    """The subsets of an analysis with at least ``min_seeds`` analysed seeds (what a page can show)."""
    return [s for s in DECISION_SUBSETS if len(out["seeds"].get(s, [])) >= min_seeds]


def runs_of(items: Sequence[dict], subset: str, arm: str) -> list[dict]:
    """The per-run items (``out["kcurves"]``, ``"sweeps"``, ``"profiles"``, ``"phm"``) of one subset and arm."""
    return [x for x in items if x["subset"] == subset and x["arm"] == arm]



def select(out: dict[str, Any], subset: str, policy: str = "threshold", rule: str = "margin", k: int = 10) -> dict[str, dict[int, dict]]:
    """``{arm: {seed: row}}`` of one subset, policy, rule and failure cost."""
    got: dict[str, dict[int, dict]] = {}
    for r in out["rows"]:
        if (r["subset"], r["policy"], r["rule"], r["k"]) == (subset, policy, rule, k):
            got.setdefault(r["arm"], {})[r["seed"]] = r
    return got


def cost_table(out: dict[str, Any], subset: str, policy: str = "threshold", rule: str = "margin", k: int = 10,
               arms: Sequence[str] = ARMS) -> list[dict[str, Any]]:
    """One row per arm: mean cost rate (per 1000 cycles) with its t-interval over seeds, missed
    failures per 100 engines, mean wasted life (cycles), mean θ, and the failures and engine-runs
    behind them; beside it the paired difference in cost rate against MSE and against AMNL."""
    by = select(out, subset, policy, rule, k)
    rows = []
    for arm in arms:
        if arm not in by or len(by[arm]) < 2:
            continue
        seeds = sorted(by[arm])
        v = lambda key, a=arm: np.array([by[a][s][key] for s in seeds])  # noqa: E731
        ci = t_interval(v("cost_rate"))
        row = {"arm": arm, "seeds": len(seeds), "cost_rate": ci["mean"], "lo": ci["lo"], "hi": ci["hi"],
               "missed": float(v("missed").mean()), "wasted": float(v("wasted").mean()), "theta": float(v("theta").mean()),
               "failures": int(v("failures").sum()), "engine_runs": int(v("engines").sum())}
        for ref in ("mse", "amnl"):
            if arm != ref and ref in by and sorted(by[ref]) == seeds:
                d = paired_difference(v("cost_rate"), np.array([by[ref][s]["cost_rate"] for s in seeds]))
                row[f"vs_{ref}"] = {key: d[key] for key in ("diff", "lo", "hi", "mde")}
        rows.append(row)
    return rows


def best_choice(out: dict[str, Any], subset: str, policy: str = "threshold", rule: str = "margin", k: int = 10) -> dict[str, Any]:
    """The model arm (oracle and age excluded) with the lowest mean cost rate, its mean θ and cost,
    and whether its interval against MSE excludes 0."""
    rows = [r for r in cost_table(out, subset, policy, rule, k) if r["arm"] not in ("oracle", "age")]
    best = min(rows, key=lambda r: r["cost_rate"])
    d = best.get("vs_mse")
    return {"arm": best["arm"], "theta": best["theta"], "cost_rate": best["cost_rate"],
            "beats_mse": bool(d is not None and d["hi"] < 0)}


def missed_at_waste(out: dict[str, Any], subset: str, arm: str, waste: float) -> dict[int, float]:
    """``{seed: missed failures per 100 engines}`` of one arm when θ is set so that the decision engines'
    mean wasted life is ``waste`` cycles (linear interpolation along the θ sweep of policy (a)).
    The trade-off at a matched cost in life, with no θ tuned at all."""
    got = {}
    for sw in out["sweeps"]:
        if (sw["subset"], sw["arm"]) == (subset, arm):
            w, m = np.asarray(sw["wasted"]), np.asarray(sw["missed"])
            order = np.argsort(w, kind="stable")  # wasted life grows with θ
            got[sw["seed"]] = float(np.interp(waste, w[order], m[order]))
    return got


def matched_waste(out: dict[str, Any], subset: str, missed: float = 10.0, arm: str = "mse") -> float:
    """The mean wasted life (cycles, whole) at which ``arm``'s seed-mean θ sweep misses ``missed``
    failures per 100 engines: where the trade-off is read, chosen on one rule for every arm."""
    runs = [sw for sw in out["sweeps"] if (sw["subset"], sw["arm"]) == (subset, arm)]
    w = np.mean([r["wasted"] for r in runs], axis=0)
    m = np.mean([r["missed"] for r in runs], axis=0)
    order = np.argsort(m, kind="stable")  # missed falls as θ (and the wasted life) grows
    return float(np.round(np.interp(missed, m[order], w[order])))


def tradeoff_table(out: dict[str, Any], subset: str, waste: float, arms: Sequence[str] = ARMS) -> list[dict[str, Any]]:
    """Missed failures per 100 engines at a matched mean wasted life, per arm: mean, t-interval over
    seeds and the paired difference against MSE."""
    base = missed_at_waste(out, subset, "mse", waste)
    rows = []
    for arm in arms:
        v = missed_at_waste(out, subset, arm, waste)
        if len(v) < 2:
            continue
        seeds = sorted(v)
        ci = t_interval(np.array([v[s] for s in seeds]))
        row = {"arm": arm, "seeds": len(seeds), "missed": ci["mean"], "lo": ci["lo"], "hi": ci["hi"]}
        if arm != "mse" and sorted(base) == seeds:
            d = paired_difference(np.array([v[s] for s in seeds]), np.array([base[s] for s in seeds]))
            row["vs_mse"] = {key: d[key] for key in ("diff", "lo", "hi", "mde")}
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- the file


def file_digest(paths: Iterable[Path]) -> dict[str, str]:
    """``{file name: first 16 hex digits of its SHA-256}`` of the run files an analysis read."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(paths)}


def output_path(results: Path | str | None = None) -> Path:
    """``<results>/decisions/decisions.json``."""
    return grid_root(GRID, results) / GRID / "decisions.json"


def write(results: Path | str | None = None, data_dir: str | None = None) -> dict[str, Any]:
    """Analyse every finished run of the grid and write :func:`output_path` (temp file, then rename)."""
    root = grid_root(GRID, results)
    pairs = load_grid(GRID, root, partial=True)
    out = analyse(pairs, data_dir)
    seeds = sorted({(r["subset"], r["seed"]) for r in out["rows"]})
    out["seeds"] = {s: [k for ss, k in seeds if ss == s] for s in DECISION_SUBSETS}
    out["run_files"] = file_digest(spec.path(root) for spec, _ in pairs)
    path = output_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    os.replace(tmp, path)
    return out


def load(results: Path | str | None = None) -> dict[str, Any]:
    """The analysis file, checked fresh against the run files (:func:`check_fresh`)."""
    path = output_path(results)
    if not path.is_file():
        raise FileNotFoundError(f"no {path}; write it with `python -m amnl_utils.analysis.decisions`")
    out = json.loads(path.read_text())
    check_fresh(out, grid_root(GRID, results))
    return out


def check_fresh(out: dict[str, Any], root: Path) -> None:
    """``RuntimeError`` naming the command to run when the grid's finished run files differ from those
    the analysis read (a run added, removed or changed)."""
    state = grid_status(GRID, root)
    if state["stale"] or state["corrupt"]:
        load_grid(GRID, root, partial=True)  # raises, naming the files and the command that fixes them
    now = file_digest(spec.path(root) for spec in state["fresh"])
    if now != out["run_files"]:
        added, gone = sorted(set(now) - set(out["run_files"])), sorted(set(out["run_files"]) - set(now))
        changed = sorted(k for k in set(now) & set(out["run_files"]) if now[k] != out["run_files"][k])
        raise RuntimeError(f"{output_path(root)} is out of date (runs added: {len(added)}, removed: {len(gone)}, "
                           f"changed: {len(changed)}); rewrite it with `python -m amnl_utils.analysis.decisions`")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m amnl_utils.analysis.decisions", description=__doc__.split("\n")[0])
    ap.add_argument("--results", help="results folder (default: $AMNL_RESULTS or the repository's results/)")
    ap.add_argument("--data-dir", help="C-MAPSS folder (default: $CMAPSS_DIR)")
    args = ap.parse_args(argv)
    out = write(args.results, args.data_dir)
    print(f"wrote {output_path(args.results)}: seeds {out['seeds']}, {len(out['rows'])} rows")


if __name__ == "__main__":
    main()
