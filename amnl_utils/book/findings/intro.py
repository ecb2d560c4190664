"""The introduction: one sentence per section's finding, each built from that section's findings.

The strings are plain text (``{glue:text}``): the links and emphasis around them live in intro.md.
"""

from __future__ import annotations

from .headline import headline_findings
from .schedules import schedules_findings
from .verdict import verdict_findings
from .wmax import wmax_findings


def book_findings(results=None) -> dict[str, str]:
    """``intro_headline``, ``intro_schedules``, ``intro_wmax`` and ``intro_verdict``: the book's
    findings, from :func:`~amnl_utils.book.findings.headline_findings`, the §14.2 / §14.3 findings
    and the pooled verdict."""
    h = headline_findings(results)
    out = {
        "intro_headline": (
            f"AMNL at w_max = 2 shows {h['h_amnl_mse']} (RMSE, NASA score, near-failure RMSE and late "
            f"predictions on the four subsets, {h['h_n_seeds']} seeds per arm). "
            f"The grid would have detected RMSE differences of {h['h_rel_mde_rmse']}, and its intervals still "
            f"allow near-failure effects of {h['h_bounds_nf_rmse_all']}."
        ),
        "intro_schedules": schedules_findings(results)["sched_answer"],
        "intro_wmax": wmax_findings(results)["wmax_answer"],
        "intro_verdict": verdict_findings(results)["v_answer"],
    }
    return out
