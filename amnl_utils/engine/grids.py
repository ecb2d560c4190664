"""The recipe and the named grids of training runs (the book's Methods page shows both).

A grid is a named list of :class:`RunSpec` (an arm label and a full :class:`TrainConfig`), the pairs
of arms its tables compare, and what it is for. Grids that ask for the same config share one run
file (see :mod:`amnl_utils.engine.store`). A new grid goes here, in :data:`GRIDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..core.constants import R_MAX, SUBSETS, W_MAX
from .config import TrainConfig
from .store import resolve_root, run_path

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
#: Seeds of the verdict grid: MSE and AMNL only, enough for a pooled near-failure difference of about
#: 10 % to be detectable (the scaled-MSE control stays at :data:`SEEDS`).
VERDICT_SEEDS: tuple[int, ...] = tuple(range(20))
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
        return run_path(root, self.config)


@dataclass(frozen=True)
class Grid:
    """A named list of runs, the pairs of arms its tables compare, and what it is for."""

    name: str
    about: str
    make: Callable[[], list[RunSpec]]
    pairs: tuple[tuple[str, str], ...] = ()
    tuning: bool = False
    arms: tuple[str, ...] = field(default=())
    #: A scratch grid (tests, probes) writes to the ignored scratch folder unless a results folder
    #: is named (:func:`amnl_utils.engine.store.resolve_root`); it is never committed or certified.
    scratch: bool = False

    def runs(self) -> list[RunSpec]:
        return self.make()


def _product(subsets: Iterable[str], seeds: Iterable[int], arms: dict[str, Callable[[str, int], TrainConfig]]) -> list[RunSpec]:
    # seed-major: a partial grid still has every subset × arm for its first seeds
    return [RunSpec(arm, make(subset, seed)) for seed in seeds for subset in subsets for arm, make in arms.items()]


def headline_arms(w_max: float = W_MAX) -> dict[str, Callable[[str, int], TrainConfig]]:
    """MSE, the scaled-MSE control and AMNL at ``w_max`` (linear schedule) on the final recipe."""
    return {
        "mse": lambda s, k: recipe(s, loss="mse", seed=k),
        "scaled_mse": lambda s, k: recipe(s, loss="scaled_mse", w_max=w_max, seed=k),
        "amnl": lambda s, k: recipe(s, loss="amnl", w_max=w_max, seed=k),
    }


def schedule_arms(w_max: float = W_MAX) -> dict[str, Callable[[str, int], TrainConfig]]:
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
#: Stage A ran before stage B moved the clip to norm 10, so it pins the clip at 1.
TUNE_A = {f"w{w}_u{u:g}": {"window": w, "rul_unit": u, "clip_norm": 1.0} for w in (30, 45, 60) for u in (R_MAX, 31.25)}
#: Stage B (window 45, RUL unit 31.25): with that unit, clipping at norm 1 binds on most steps; a
#: clip at 10 binds only on outliers. Then, on top of it, the two levers against the pass-to-pass
#: noise of the validation curve that stage A shows: an exponential moving average of the weights
#: (decay 0.995 per step, a horizon of about 200 steps), and the normalised cycle index as input.
TUNE_B = {
    "clip1": {"window": 45, "rul_unit": 31.25, "clip_norm": 1.0},
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


#: Stage D (after the first test read, so validation only): can the recipe alone bring FD003 closer
#: to the independent reproductions? The final recipe with early stopping, against a 60-cycle window,
#: weight averaging (EMA 0.995) and no cycle index; on FD004, the cycle index re-checked at 3 seeds.
TUNE_D: dict[str, dict[str, dict[str, Any]]] = {
    "FD003": {"recipe": {}, "w60": {"window": 60}, "ema": {"ema_decay": 0.995}, "nocycle": {"cycle_feature": False}},
    "FD004": {"recipe": {}, "nocycle": {"cycle_feature": False}},
}
#: The seeds of stage D (the issue asks for at least 3 per probe).
TUNE_D_SEEDS: tuple[int, ...] = (0, 1, 2)


def _tuning_d() -> list[RunSpec]:
    return [RunSpec(arm, recipe(s, loss="mse", seed=k, evaluate_test=False, **kw))
            for k in TUNE_D_SEEDS for s, variants in TUNE_D.items() for arm, kw in variants.items()]


def _tuning_c() -> list[RunSpec]:
    return [RunSpec(spec.arm, replace(spec.config, window=STAGE_A_WINDOWS[spec.config.subset]))
            for spec in _tuning_grid(TUNE_C, subsets=("FD002", "FD003"))()]


#: §14.5's subsets (one single-condition, one multi-condition with two fault modes) and its pinball τ's.
DECISION_SUBSETS: tuple[str, ...] = ("FD001", "FD004")
PINBALL_TAUS: tuple[float, ...] = (0.3, 0.4)


def decision_arms() -> dict[str, Callable[[str, int], TrainConfig]]:
    """§14.5's trained arms, each with the decision engines held out: MSE, AMNL (w_max = 2), the two
    density corrections (LDS, BMC) and the pinball loss at each of :data:`PINBALL_TAUS`."""
    arms: dict[str, Callable[[str, int], TrainConfig]] = {
        "mse": lambda s, k: recipe(s, loss="mse", seed=k, decision_fold=True),
        "amnl": lambda s, k: recipe(s, loss="amnl", w_max=W_MAX, seed=k, decision_fold=True),
        "lds": lambda s, k: recipe(s, loss="lds", seed=k, decision_fold=True),
        "bmc": lambda s, k: recipe(s, loss="bmc", seed=k, decision_fold=True),
    }
    for tau in PINBALL_TAUS:
        arms[f"pinball_t{tau:g}"] = lambda s, k, tau=tau: recipe(s, loss="pinball", quantile=tau, seed=k,
                                                                   decision_fold=True)
    return arms


GRIDS: dict[str, Grid] = {
    "smoke": Grid(
        "smoke", "3 tiny FD001 runs (MSE, scaled MSE, AMNL) for the tests",
        lambda: [RunSpec(arm, TrainConfig(subset="FD001", seed=0, max_epochs=2, patience=1, batch_size=64,
                                          max_steps_per_epoch=3, warmup_epochs=0.0, **kw))
                 for arm, kw in {"mse": {"loss": "mse"}, "scaled_mse": {"loss": "scaled_mse"},
                                 "amnl": {"loss": "amnl"}}.items()],
        pairs=(("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse")), scratch=True,
    ),
    "tune_a": Grid("tune_a", "window 30 / 45 / 60 cycles × RUL unit 125 / 31.25 cycles, whole validation "
                   "curves (MSE, seed 0, all subsets)", _tuning_grid(TUNE_A, seeds=(0,)), tuning=True),
    "tune_b": Grid("tune_b", "window 45, RUL unit 31.25: clip norm, weight averaging, the cycle-index input "
                   "(MSE, 2 seeds, FD001 and FD004)", _tuning_grid(TUNE_B, subsets=("FD001", "FD004")), tuning=True),
    "tune_c": Grid("tune_c", "the cycle-index input on FD002 (window 60) and FD003 (window 45), clip 10 (MSE, "
                   "2 seeds)", _tuning_c, tuning=True),
    "tune_d": Grid("tune_d", "after the first test read: FD003's recipe against window 60, weight averaging and "
                   "no cycle index; FD004 without the cycle index (MSE, early stopping, 3 seeds)", _tuning_d,
                   pairs=(("w60", "recipe"), ("ema", "recipe"), ("nocycle", "recipe")), tuning=True),
    "headline": Grid(
        "headline", "MSE, scaled MSE and AMNL (w_max = 2) on FD001-FD004, 10 seeds (§14.4)",
        lambda: _product(SUBSETS, SEEDS, headline_arms()),
        pairs=(("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse")),
    ),
    "verdict": Grid(
        "verdict", f"MSE and AMNL (w_max = 2) on FD001-FD004, {len(VERDICT_SEEDS)} seeds (the pooled verdict); "
        "seeds 0-9 are the headline grid's runs",
        lambda: _product(SUBSETS, VERDICT_SEEDS, {k: v for k, v in headline_arms().items() if k != "scaled_mse"}),
        pairs=(("amnl", "mse"),),
    ),
    "schedules": Grid(
        "schedules", f"MSE and five weight schedules at w_max = 2 on FD001 and {SECOND_SUBSET}, 10 seeds (§14.2)",
        lambda: _product(("FD001", SECOND_SUBSET), SEEDS, schedule_arms()),
        pairs=tuple((a, "linear") for a in ("constant", "exponential", "sigmoid", "step"))
        + tuple((a, "mse") for a in ("constant", "linear", "exponential", "sigmoid", "step")),
    ),
    "decisions": Grid(
        "decisions", "MSE, AMNL (w_max = 2), LDS, BMC and pinball (τ 0.3, 0.4) on FD001 and FD004 with a fifth of "
        "the training engines held out for decisions (fold = seed mod 5), 10 seeds (§14.5)",
        lambda: _product(DECISION_SUBSETS, SEEDS, decision_arms()),
        pairs=tuple((a, "mse") for a in ("amnl", "lds", "bmc", "pinball_t0.3", "pinball_t0.4"))
        + tuple((a, "amnl") for a in ("lds", "bmc", "pinball_t0.3", "pinball_t0.4")),
    ),
    "wmax": Grid(
        "wmax", f"AMNL at w_max = 1 ... 12 and scaled-MSE controls on FD001 and {SECOND_SUBSET}, 10 seeds (§14.3)",
        lambda: _product(("FD001", SECOND_SUBSET), SEEDS, w_max_arms()),
        pairs=tuple((f"amnl_w{w:g}", "amnl_w1") for w in W_MAX_VALUES[1:])
        + tuple((f"amnl_w{w:g}", "amnl_w2") for w in W_MAX_VALUES if w != W_MAX)
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


def grid_root(name: str, results: Path | str | None = None) -> Path:
    """The results folder of grid ``name``: ``results`` if given, else the scratch folder for a
    scratch grid and the committed store for every other (see :func:`~amnl_utils.engine.store.resolve_root`)."""
    return resolve_root(results, scratch=get_grid(name).scratch)
