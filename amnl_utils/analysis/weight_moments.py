"""§14.3: moments of the linear AMNL weight, E[w] and E[w²], four ways.

For a true RUL uniform on ``[0, R_max]`` write ``u = y / R_max``, uniform on [0, 1]; the linear
weight is ``w = 1 + (w_max - 1)(1 - u) = w_max - (w_max - 1) u`` and

    E[w]  = (1 + w_max) / 2,
    E[w²] = ∫_0^1 (w_max - (w_max - 1) u)² du = (1 + w_max + w_max²) / 3.

Real training windows are not uniform in RUL: every window of a healthy engine carries the cap
``R_max`` (weight 1), so the real moments are smaller. The functions here compute the closed forms,
an exact rational integration (independent of the closed form), a seeded Monte Carlo estimate and the
moment over a given set of labels; the tests hold them to each other.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb
from typing import Any, Sequence

import numpy as np

from ..core.constants import R_MAX
from ..core.weights import check_rul, check_schedule_args, linear_weight


def uniform_mean_weight(w_max: float) -> float:
    """``E[w] = (1 + w_max) / 2`` for y uniform on ``[0, R_max]`` (linear schedule; no unit)."""
    check_schedule_args(R_MAX, w_max)
    return (1.0 + w_max) / 2.0


def uniform_second_moment(w_max: float) -> float:
    """``E[w²] = (1 + w_max + w_max²) / 3`` for y uniform on ``[0, R_max]`` (linear schedule).

    Independent of ``R_max``: only the fraction ``y / R_max`` enters the weight.
    """
    check_schedule_args(R_MAX, w_max)
    return (1.0 + w_max + w_max**2) / 3.0


def exact_uniform_moment(w_max: float | Fraction, power: int = 2) -> Fraction:
    """``E[w^power]`` for y uniform on ``[0, R_max]``, by exact integration in rational numbers.

    ``w = a + b u`` with ``a = w_max``, ``b = 1 - w_max`` and u uniform on [0, 1]; expanding the
    power binomially, ``∫_0^1 (a + b u)^p du = Σ_k C(p, k) a^(p-k) b^k / (k + 1)``. A float
    ``w_max`` is converted exactly (``Fraction(1.5) == 3/2``), so no rounding enters.
    """
    if not isinstance(power, int) or isinstance(power, bool) or power < 0:
        raise ValueError(f"power must be an integer >= 0, got {power!r}")
    check_schedule_args(R_MAX, float(w_max))
    a = Fraction(w_max)
    b = 1 - a
    return sum((comb(power, k) * a ** (power - k) * b**k / (k + 1) for k in range(power + 1)), Fraction(0))


def symbolic_moment(power: int = 2) -> Any:
    """``E[w^power]`` as a SymPy expression in the symbol ``w_max`` (needs sympy, which torch brings).

    Integrates ``(1 + (w_max - 1)(1 - u))^power`` over u in [0, 1] symbolically and factors it;
    ``symbolic_moment(2)`` is ``(w_max**2 + w_max + 1)/3``.
    """
    import sympy as sp  # lazy: sympy is needed only for the symbolic derivation

    if not isinstance(power, int) or isinstance(power, bool) or power < 0:
        raise ValueError(f"power must be an integer >= 0, got {power!r}")
    u = sp.Symbol("u", nonnegative=True)
    w_max = sp.Symbol("w_max", positive=True)
    return sp.factor(sp.integrate((1 + (w_max - 1) * (1 - u)) ** power, (u, 0, 1)))


def monte_carlo_moment(
    w_max: float, power: int = 2, n: int = 100_000, seed: int = 0, max_rul: float = R_MAX
) -> tuple[float, float]:
    """Seeded Monte Carlo estimate of ``E[w^power]`` for y uniform on ``[0, max_rul]`` cycles.

    Draws ``n`` RUL values with ``numpy.random.default_rng(seed)`` and averages
    ``linear_weight(y)^power``. Returns ``(estimate, standard error)``.
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    y = np.random.default_rng(seed).uniform(0.0, max_rul, size=int(n))
    v = linear_weight(y, max_rul=max_rul, w_max=w_max) ** power
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(n))


def label_moment(y: np.ndarray, w_max: float, power: int = 2, max_rul: float = R_MAX) -> float:
    """``mean(w(y_i)^power)`` over given labels y (N,) in cycles, e.g. the real training windows."""
    y = check_rul(y, "y")
    if y.size == 0:
        raise ValueError("y is empty; pass the RUL labels of at least one window")
    return float(np.mean(linear_weight(y, max_rul=max_rul, w_max=w_max) ** power))


def moment_table(
    y: np.ndarray, w_maxes: Sequence[float] = (1.0, 2.0, 3.0, 5.0, 10.0), n: int = 100_000, seed: int = 0,
    max_rul: float = R_MAX,
) -> list[dict[str, float]]:
    """§14.3's table, one row per ``w_max``: E[w] and E[w²] under the uniform assumption (closed form,
    exact integration, Monte Carlo) and over the real labels ``y`` (N,), with their ratio.

    Keys: ``w_max``, ``E[w] uniform``, ``E[w] real``, ``E[w²] formula``, ``E[w²] exact``,
    ``E[w²] Monte Carlo``, ``Monte Carlo s.e.``, ``E[w²] real``, ``real / uniform`` (of E[w²]).
    """
    rows = []
    for w_max in w_maxes:
        formula = uniform_second_moment(w_max)
        mc, se = monte_carlo_moment(w_max, 2, n=n, seed=seed, max_rul=max_rul)
        real = label_moment(y, w_max, 2, max_rul=max_rul)
        rows.append({
            "w_max": float(w_max),
            "E[w] uniform": uniform_mean_weight(w_max),
            "E[w] real": label_moment(y, w_max, 1, max_rul=max_rul),
            "E[w²] formula": formula,
            "E[w²] exact": float(exact_uniform_moment(w_max, 2)),
            "E[w²] Monte Carlo": mc,
            "Monte Carlo s.e.": se,
            "E[w²] real": real,
            "real / uniform": real / formula,
        })
    return rows
