"""The introduction: one short sentence per section's finding, each built from that section's findings.

The strings are plain text (``{glue:text}``): the links and emphasis around them live in intro.md.
"""

from __future__ import annotations

from .closing import closing_findings
from .headline import headline_findings
from .schedules import schedules_findings
from .verdict import verdict_findings
from .wmax import wmax_findings


def book_findings(results=None) -> dict[str, str]:
    """``intro_headline``, ``intro_schedules``, ``intro_wmax``, ``intro_verdict`` and ``intro_bottom``: the book's
    findings, from :func:`~amnl_utils.book.findings.headline_findings`, the §14.2 / §14.3 findings
    the pooled verdict and the closing page's bottom line."""
    h, sched, w = headline_findings(results), schedules_findings(results), wmax_findings(results)
    out = {
        "intro_headline": (f"AMNL at w_max = 2 against plain MSE on the four subsets, {h['h_n_seeds']} seeds per arm, "
                           f"shows {h['h_amnl_mse']} (RMSE, NASA score, near-failure RMSE, late predictions)."),
        "intro_schedules": f"The linear ramp is the simplest schedule; trained, {sched['sched_short']}.",
        "intro_wmax": (f"Under Adam a larger w_max changes the direction of the update, not its size; trained, "
                       f"{w['wmax_short']}."),
        "intro_verdict": verdict_findings(results)["v_answer"],
        "intro_bottom": closing_findings(results)["c_bottom"],
    }
    return out
