"""§14.4: the one-step walkthrough and the headline grid (MSE, scaled MSE, AMNL on FD001-FD004)."""

from __future__ import annotations

from . import check
from .methods import tuning_a_findings


def check_first_step(l_rul: float, ce: float, g_rul: float, g_ce: float, l_rul_cycles: float) -> dict[str, str]:
    """The one-step walkthrough of §14.4: its numbers, and the claims the prose makes about them.

    l_rul: the RUL term in the recipe's unit; ce: the cross-entropy; g_rul, g_ce: their trunk
    gradient norms (0.5-weighted); l_rul_cycles: the same RUL loss in cycles².
    """
    from ..experiments import recipe

    check(0.3 < l_rul / ce < 10, "at the first step the RUL term and the cross-entropy are of the same order")
    check(l_rul_cycles / ce > 1000, "in cycles² the RUL term would be over a thousand times the cross-entropy")
    check(g_rul > g_ce, "at the first step the RUL term sends the larger gradient to the trunk")
    return {
        "rul_unit": f"{recipe('FD001').rul_unit:g}",
        "step_l_rul": f"{l_rul:.2f}",
        "step_ce": f"{ce:.2f}",
        "step_l_rul_cycles": f"{l_rul_cycles:,.0f} cycles²",
        "step_balance": f"{g_rul / g_ce:.0f}",
        "train_balance": tuning_a_findings()["a_balance_u31"],
    }
