"""§14.5's decision maths, worked by hand: the threshold and lead-time policies, cost rates,
age-based replacement, the tuning rules and the PHM metrics."""

from __future__ import annotations

import numpy as np
import pytest

from amnl_utils.core.decisions import (
    age_matrix,
    alpha_lambda,
    cost_rate,
    first_at_or_below,
    outcomes,
    policy_matrix,
    prognostic_horizon,
    summarise,
    tune,
)

# true RUL 5, 4, 3, 2, 1, 0 at the six predictions
PRED = np.array([9.0, 7.0, 4.0, 6.0, 2.0, 1.0])


def test_threshold_policy_by_hand():
    failed, wasted = outcomes(5, PRED, thetas=np.array([0.0, 1.0, 2.0, 4.0, 5.0, 9.0]))
    # θ 0: never ≤ 0 → failure; θ 1: first ≤ 1 at RUL 0 → too late; θ 2: at RUL 1; θ 4 and 5: at
    # RUL 3 (the later 6 does not undo the alarm); θ 9: at once, RUL 5
    assert failed.tolist() == [True, True, False, False, False, False]
    assert wasted.tolist() == [0, 0, 1, 3, 3, 5]


def test_lead_time_policy_by_hand():
    # θ 2, L 2: order at the first prediction ≤ 4 (RUL 3), the part is there at RUL 1, prediction 2 ≤ 2 → replace
    assert [v.tolist() for v in outcomes(5, PRED, np.array([2.0]), lead=2)] == [[False], [1]]
    # θ 1, L 2: order at the first ≤ 3 (RUL 1); the part would come at RUL -1 → failure
    assert outcomes(5, PRED, np.array([1.0]), lead=2)[0].tolist() == [True]
    # θ 5, L 3: order at once (9 ≤ 8? no; 7 ≤ 8 at RUL 4), part at RUL 1, 2 ≤ 5 → replace at RUL 1, not 3
    assert outcomes(5, PRED, np.array([5.0]), lead=3)[1].tolist() == [1]
    np.testing.assert_array_equal(outcomes(5, PRED, lead=0)[1], outcomes(5, PRED)[1])


def test_first_at_or_below_uses_the_first_alarm():
    assert first_at_or_below(PRED, np.array([10.0, 6.5, 4.0, 0.5])).tolist() == [0, 2, 2, 6]


def test_cost_rate_by_hand():
    m = policy_matrix([(5, PRED), (3, np.array([3.0, 2.0, 1.0, 0.0]))], window=10, thetas=np.array([1.0, 2.0]))
    # engine 1: life 15; θ 1 fails (used 15), θ 2 replaces at RUL 1 (used 14)
    # engine 2 (perfect): life 13; θ 1 replaces at RUL 1 (used 12), θ 2 at RUL 2 (used 11)
    assert m["used"].tolist() == [[15, 14], [12, 11]]
    np.testing.assert_allclose(cost_rate(m, k=10), [(10 + 1) / 27, 2 / 25])
    s = summarise(m, 0, k=10)
    assert s == {"cost_rate": pytest.approx(1000 * 11 / 27), "missed": 50.0, "wasted": 0.5, "engines": 2, "failures": 1}


def test_age_based_replacement_by_hand():
    m = age_matrix(np.array([10, 20]), np.array([15]))
    assert m["failed"].tolist() == [[True], [False]] and m["used"].tolist() == [[10], [15]]
    assert cost_rate(m, k=5)[0] == pytest.approx(6 / 25)


def test_oracle_tunes_to_one_cycle_early():
    traj = [(r, np.arange(r, -1, -1.0)) for r in (50, 80, 120)]
    m = policy_matrix(traj, window=30)
    for rule in ("plain", "bootstrap"):
        j = tune(m, k=10, rule=rule)
        assert j == 1 and summarise(m, j, 10)["wasted"] == 1.0


def test_tuning_rules_ties_and_errors():
    m = {"failed": np.zeros((3, 4), bool), "used": np.full((3, 4), 10), "wasted": np.zeros((3, 4))}
    assert tune(m, 5, "plain") == 3  # every θ ties: the largest, the safest
    a, b = tune(m, 5, "bootstrap", seed=1), tune(m, 5, "bootstrap", seed=1)
    assert a == b == 3
    with pytest.raises(ValueError, match="unknown tuning rule"):
        tune(m, 5, "median")
    with pytest.raises(ValueError, match="k must be"):
        cost_rate(m, 0.5)


def test_bootstrap_rule_weighs_a_lone_late_engine_by_how_often_it_appears():
    # four engines predicted exactly, one 6 cycles late; a failure costs k = 3
    traj = [(100, np.arange(100, -1, -1.0)) for _ in range(4)] + [(100, np.arange(100, -1, -1.0) + 6)]
    m = policy_matrix(traj, window=30)
    plain, boot = tune(m, 3, "plain"), tune(m, 3, "bootstrap")
    assert plain == 7  # the edge: just enough for the late engine
    assert summarise(m, plain, 3)["failures"] == 0
    assert boot in (1, 7)  # either covers the late engine or accepts its failure, never in between


def test_alpha_lambda_and_prognostic_horizon_by_hand():
    r = np.arange(200, -1, -1.0)  # true RUL 200 … 0: the stretch ≤ 125 starts at RUL 125
    perfect = np.minimum(r, 125)
    assert alpha_lambda(200, perfect, 0.5) and alpha_lambda(200, perfect, 0.0)
    late = perfect + 20  # at λ 0.5, r* = 62 or 63: 20 late is outside ±20 %
    assert not alpha_lambda(200, late, 0.5)
    assert alpha_lambda(200, late, 0.0)  # at r* 125 the band is ±25
    assert prognostic_horizon(200, perfect) == 125.0
    worse = perfect.copy()
    worse[-41] = perfect[-41] + 30  # 30 cycles off at true RUL 40: the horizon starts after it
    assert prognostic_horizon(200, worse) == 39.0
    assert prognostic_horizon(200, perfect + 30) == 0.0


@pytest.mark.parametrize("args, match", [
    ((5, np.ones(5)), "needs 6 predictions"), ((-1, np.ones(0)), "rul_start must be"),
    ((2, np.array([1.0, np.nan, 0.0])), "non-finite"),
])
def test_bad_trajectories_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        outcomes(*args)


def test_margin_rule_adds_what_leave_one_engine_out_prefers():
    # five engines, each predicted exactly but shifted by its own lateness (0, 0, 0, 0, 6 cycles late),
    # a failure costs k = 50: without the late engine θ 1 looks best, so leaving it out shows a miss;
    # the margin rule therefore keeps θ past the late engine's edge, and a sixth, later engine is
    # caught only by the rules that add a margin beyond the worst engine seen
    base = np.arange(100, -1, -1.0)
    traj = [(100, base), (100, base), (100, base + 2), (100, base + 4), (100, base + 6)]
    m = policy_matrix(traj, window=30)
    plain, margin = tune(m, 50, "plain"), tune(m, 50, "margin")
    assert plain == 7  # just past the latest engine: 6 cycles late needs θ ≥ 7
    assert margin > plain  # engines 2 cycles apart: the next one is likely later still
    assert summarise(m, margin, 50)["failures"] == 0


def test_margin_rule_adds_nothing_when_engines_agree():
    traj = [(r, np.arange(r, -1, -1.0)) for r in (80, 100, 120, 140)]
    m = policy_matrix(traj, window=30)
    assert tune(m, 10, "margin") == tune(m, 10, "plain") == 1
