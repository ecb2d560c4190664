"""§14.5's failure-cost slider: the cost rate of each arm against ``k``, and which arm and θ are
cheapest at the chosen ``k`` (policy (a), θ tuned on validation engines by the margin rule).

The payload is read from the decisions analysis file (:mod:`amnl_utils.analysis.decisions`, its
``kcurves``): per subset and arm the mean over seeds of the decision engines' cost rate and of the
tuned θ at every ``k`` of ``KS_FINE``. :func:`cost_readout` is the Python twin of the sentence the
script writes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...analysis.decisions import runs_of, shown_subsets
from ..findings.decisions import LABEL
from ..style import COLORS
from .framework import Slider, SliderFigure, slider_figure

#: The arms the slider draws: the arms the page's tables rank (pinball with τ chosen per run and k on
#: the validation engines, as the tables choose it) and age-based replacement; not the oracle (the floor).
SLIDER_ARMS: tuple[str, ...] = ("mse", "mse_offset", "amnl", "lds", "bmc", "pinball", "age")


def cost_payload(out: dict[str, Any], min_seeds: int = 2) -> dict[str, Any]:
    """``{ks, subsets: [{name, seeds, arms: [{arm, label, color, cost, theta}]}]}`` from an analysis file."""
    ks = [int(k) for k in out["ks_fine"]]
    subsets = []
    for subset in shown_subsets(out, min_seeds):
        arms = []
        for arm in SLIDER_ARMS:
            runs = runs_of(out["kcurves"], subset, arm)
            if not runs:
                continue
            arms.append({"arm": arm, "label": LABEL[arm], "color": COLORS[arm],
                         # at 4 decimals (enough to rank arms the readout prints alike), half up
                         "cost": [math.floor(1e4 * float(v) + 0.5) / 1e4 for v in np.mean([r["cost"] for r in runs], axis=0)],
                         "theta": [int(math.floor(float(v) + 0.5)) for v in np.mean([r["theta"] for r in runs], axis=0)]})
        subsets.append({"name": subset, "seeds": len(out["seeds"][subset]), "arms": arms})
    if not subsets:
        raise ValueError(f"no subset of the analysis has {min_seeds} or more seeds: nothing to draw")
    return {"ks": ks, "subsets": subsets}


def _cents(cost: float) -> str:
    """A cost rate at 2 decimals, half up (the script's ``cents``: the same float operations)."""
    return f"{math.floor(100 * cost + 0.5) / 100:.2f}"


def cost_readout(payload: dict[str, Any], k: int) -> str:
    """The sentence under the figure at failure cost ``k``: per subset the cheapest model arm with its
    cost rate and mean θ (age-based replacement is context, not a model)."""
    i = payload["ks"].index(int(k))
    parts = []
    for s in payload["subsets"]:
        models = [a for a in s["arms"] if a["arm"] != "age"]
        best = min(models, key=lambda a: (a["cost"][i], a["arm"]))
        age = next((a for a in s["arms"] if a["arm"] == "age"), None)
        text = (f"{s['name']}: {best['label']}, {_cents(best['cost'][i])} per 1000 cycles at θ ≈ {best['theta'][i]:.0f} cycles")
        if age is not None:
            text += f" (age-based {_cents(age['cost'][i])})"
        parts.append(text)
    return f"k = {int(k)}: the cheapest arm is " + "; ".join(parts) + "."


def cost_figure(out: dict[str, Any], k: int = 10, name: str = "failure cost") -> SliderFigure:
    """Kernel-free §14.5 figure: cost rate against k per arm, one stacked panel per subset, and the readout."""
    payload = cost_payload(out)
    ks = payload["ks"]
    return slider_figure(
        name, [Slider("k", "failure cost k", ks[0], ks[-1], 1, k, decimals=0, unit=" × a planned replacement")],
        payload, "cost_by_k",
        title="Which arm and threshold are cheapest depends on what a failure costs",
        caption="Cost rate per 1000 cycles of the decision engines against the failure cost k (policy (a), θ "
                "tuned on the validation engines; pinball's τ too, at each k, as in the tables), mean over seeds, "
                "one stacked panel per subset; the red line marks the chosen k.",
        readout=cost_readout(payload, k), width=720, height=300 * len(payload["subsets"]) + 40,
    )
