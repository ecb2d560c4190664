"""The book's prose claims, checked against the committed results (amnl_utils.findings)."""

from __future__ import annotations

import pytest

from amnl_utils import experiments as E
from amnl_utils import findings as F


def test_tuning_log_claims_hold_on_the_committed_results():
    out = F.methods_findings()
    assert out["windows_by_subset"].startswith("45 / 60 / 45 / 45")
    for key in ("a_w30_gap", "a_unit_gain", "b_clip_cost_fd001", "c_cycle_fd003", "verify_sentence"):
        assert out[key]
    assert float(out["a_unit_gain"]) > 0 and float(out["a_balance_u125"]) < 0.1


def test_a_broken_claim_is_reported_with_its_sentence(monkeypatch):
    monkeypatch.setitem(E.RECIPE, "FD002", {**E.RECIPE["FD002"], "window": 45})
    with pytest.raises(F.FindingError, match="the recipe's window on FD002 is 60 cycles"):
        F.tuning_a_findings()
    monkeypatch.setitem(E.BASE, "clip_norm", 1.0)
    with pytest.raises(F.FindingError, match="the recipe clips at 10"):
        F.tuning_b_findings()


def test_helpers():
    assert F.fmt_range([1.234, 2.0], 1) == "1.2 to 2.0"
    assert F.fmt_range([1.21, 1.24], 1, "cycles") == "1.2 cycles"
    F.check(True, "never raised")
    with pytest.raises(F.FindingError, match="'a sentence'"):
        F.check(False, "a sentence")
