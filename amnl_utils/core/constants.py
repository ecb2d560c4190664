"""Named constants of the AMNL book, defined once (the Methods page of the book explains each)."""

from __future__ import annotations

#: RUL cap in cycles: labels are ``min(last_cycle - cycle, R_MAX)`` and the weight ramp ends here.
R_MAX: float = 125.0
#: Default top weight of the AMNL schedule (weight at RUL 0).
W_MAX: float = 2.0
#: Default window length in cycles (the common literature value). Each grid chooses its window per
#: subset on the validation engines and records it in every result file.
WINDOW: int = 30
#: The 14 informative sensors (1-based numbers as in the NASA readme).
SENSORS: tuple[int, ...] = (2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21)
#: Health-state thresholds on the capped RUL: 0 normal (RUL > 80), 1 degrading (30 < RUL ≤ 80),
#: 2 critical (RUL ≤ 30).
HEALTH_NORMAL_ABOVE: float = 80.0
HEALTH_CRITICAL_AT_OR_BELOW: float = 30.0
#: Near-failure threshold in cycles for the near-failure metrics.
NEAR_FAILURE: float = 30.0
#: A prediction more than this many cycles above the true RUL is "late".
LATE_BY: float = 10.0
#: The four C-MAPSS subsets.
SUBSETS: tuple[str, ...] = ("FD001", "FD002", "FD003", "FD004")
#: True-RUL buckets of every per-bucket table, metric and figure: (key, label, low, high] in cycles.
#: Near failure is the critical health state, healthy the normal one.
RUL_BUCKETS: tuple[tuple[str, str, float, float], ...] = (
    ("le30", "RUL ≤ 30", float("-inf"), HEALTH_CRITICAL_AT_OR_BELOW),
    ("30_80", "30 < RUL ≤ 80", HEALTH_CRITICAL_AT_OR_BELOW, HEALTH_NORMAL_ABOVE),
    ("gt80", "RUL > 80", HEALTH_NORMAL_ABOVE, float("inf")),
)
