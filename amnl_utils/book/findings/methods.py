"""The Methods page: the recipe's tuning log (stages A-C), the processors that made the final grids
and the verify checks, with their claims."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from ...engine.grids import BASE, RECIPE, TUNE_D, TUNE_D_SEEDS, grid_runs
from ...engine.lineage import equivalent_hashes, load_lineage
from ...engine.runner import load_grid
from ...engine.store import code_hash, load_record, resolve_root
from ..loading import load_curves, load_summary
from ..tables import patience_table
from . import check, fmt_range


def _variant_frame(grid: str, results=None):
    """(subset × variant) means of the tuning measures, and the whole validation curves."""
    summary, _, _ = load_summary(grid, results)
    wide = summary.pivot_table(index=["subset", "arm"], columns="metric", values="mean")
    return wide, load_curves(grid, results)


def tuning_a_findings(results=None) -> dict[str, str]:
    """Numbers and checks of stage A (window × RUL unit; ``tune_a``)."""
    wide, curves = _variant_frame("tune_a", results)
    sel = wide["best_val_rmse"].unstack("arm")  # subset × variant
    subsets = list(sel.index)
    win = {w: sel[[f"w{w}_u125", f"w{w}_u31.25"]] for w in (30, 45, 60)}
    # window 30 is the worst on every subset (both units)
    w30_gap = (win[30].min(axis=1) - np.minimum(win[45].min(axis=1), win[60].min(axis=1)))
    check(bool((w30_gap > 0).all()), "a 30-cycle window is the worst on every subset")
    fd2 = sel.loc["FD002"]
    check(bool(fd2["w60_u125"] < fd2["w45_u125"] and fd2["w60_u31.25"] < fd2["w45_u31.25"]),
          "on FD002 a 60-cycle window beats 45 under both units")
    w45_60 = (win[60].min(axis=1) - win[45].min(axis=1)).drop("FD002")
    check(bool((w45_60 >= 0).all()), "elsewhere a 45-cycle window is at least as good as 60")
    for s in subsets:
        want = 60 if s == "FD002" else 45
        check(RECIPE[s]["window"] == want, f"the recipe's window on {s} is {want} cycles")
    # unit: R_max / 4 against R_max, cell by cell
    diffs = np.array([sel.loc[s, f"w{w}_u31.25"] - sel.loc[s, f"w{w}_u125"] for s in subsets for w in (30, 45, 60)])
    check(bool(diffs.mean() < 0), "a 31.25-cycle unit is better than 125 on average")
    bal = wide["balance_ratio"].unstack("arm")
    bal_u31 = bal[[c for c in bal.columns if c.endswith("u31.25")]].stack()
    bal_u125 = bal[[c for c in bal.columns if c.endswith("u125")]].stack()
    check(bool(bal_u125.max() < 0.1 and 0.5 < bal_u31.median() < 2.0),
          "with the unit 125 the RUL term's trunk gradient is under a tenth of the CE's; with 31.25 comparable")
    clip = wide["clipped_fraction"].unstack("arm")
    clip_u31 = clip[[c for c in clip.columns if c.endswith("u31.25")]].stack()
    check(all(RECIPE[s]["rul_unit"] == 31.25 for s in subsets), "the recipe regresses the RUL in units of 31.25 cycles")
    # patience: a third of the budget loses nothing on any subset
    pt = patience_table(curves[curves.arm.str.endswith("u31.25")], [3, 5, 10])
    by = pt.groupby(["subset", "patience"])["loss vs whole budget"].mean()
    budget = pt.groupby("subset")["budget"].max()
    third_loss = []
    for s in subsets:
        third = int(budget[s]) // 3
        check(RECIPE[s]["patience"] == third and RECIPE[s]["max_epochs"] == int(budget[s]),
              f"the recipe's budget and patience on {s} are those of stage A, patience a third of it")
        third_loss.append(float(pt.xs((s, third), level=("subset", "patience"))["loss vs whole budget"].max()))
    check(max(third_loss) <= 0.05, "a patience of a third of the budget costs at most a few hundredths of a cycle")
    check(by.xs(3, level="patience").max() > 5 * max(max(third_loss), 0.01), "a patience of 3 passes costs clearly more")
    best = wide["best_epoch"].unstack("arm")
    return {
        "a_w30_gap": fmt_range(w30_gap, 2),
        "a_w45_w60_gap": f"{w45_60.max():.2f}",
        "a_fd002_w60": f"{fd2['w60_u125']:.2f} and {fd2['w60_u31.25']:.2f}",
        "a_fd002_w45": f"{fd2['w45_u125']:.2f} and {fd2['w45_u31.25']:.2f}",
        "a_unit_gain": f"{-diffs.mean():.2f}",
        "a_unit_better": f"{int((diffs < 0).sum())} of {diffs.size}",
        "a_balance_u31": f"{bal_u31.median():.2f}",
        "a_balance_u125": f"{bal_u125.median():.2f}",
        "a_clip_u31": fmt_range(100 * clip_u31, 0, "%"),
        "a_best_pass_multi": fmt_range(best.loc[["FD002", "FD004"]].stack(), 0),
        "a_best_pass_single": fmt_range(best.loc[["FD001", "FD003"]].stack(), 0),
        "a_patience3_loss": f"{pt.xs(3, level='patience')['loss vs whole budget'].max():.2f}",
        "a_patience_third_loss": f"{max(third_loss):.2f}",
    }


def tuning_b_findings(results=None) -> dict[str, str]:
    """Numbers and checks of stage B (clip norm, weight averaging, cycle index; ``tune_b``)."""
    wide, curves = _variant_frame("tune_b", results)
    sel = wide["best_val_rmse"].unstack("arm")
    clip = wide["clipped_fraction"].unstack("arm")
    best = wide["best_epoch"].unstack("arm")
    cost = sel["clip10"] - sel["clip1"]
    check(bool(clip["clip1"].min() > 0.5 and clip[["clip10", "clip10_ema", "clip10_cycle"]].max().max() < 0.01),
          "a clip at norm 1 binds on most steps, a clip at 10 (almost) never")
    check(bool(cost.max() < 0.5), "a clip at 10 costs less than half a cycle of validation RMSE")
    check(BASE["clip_norm"] == 10.0, "the recipe clips at 10")
    ema_gap = sel["clip10_ema"] - sel["clip10"]
    check(bool((ema_gap > 0).all()), "weight averaging is worse on both subsets")
    check(all(RECIPE[s].get("ema_decay", 0.0) == 0.0 for s in RECIPE) and BASE.get("ema_decay", 0.0) == 0.0,
          "the recipe does not average weights")
    cyc = sel["clip10_cycle"] - sel["clip10"]
    check(bool(cyc["FD004"] < -0.3 and abs(cyc["FD001"]) < 0.3), "the cycle index helps FD004 and changes little on FD001")
    return {
        "b_clip1_bound": fmt_range(100 * clip["clip1"], 0, "%"),
        "b_clip_cost_fd001": f"{cost['FD001']:.2f}",
        "b_clip_cost_fd004": f"{cost['FD004']:.2f}",
        "b_ema_gap": fmt_range(ema_gap, 2),
        "b_ema_pass_fd001": f"{best.loc['FD001', 'clip10_ema']:.0f}",
        "b_cycle_fd004": f"{sel.loc['FD004', 'clip10_cycle']:.2f}",
        "b_nocycle_fd004": f"{sel.loc['FD004', 'clip10']:.2f}",
        "b_cycle_fd001": f"{sel.loc['FD001', 'clip10_cycle']:.2f}",
        "b_nocycle_fd001": f"{sel.loc['FD001', 'clip10']:.2f}",
    }


def tuning_c_findings(results=None) -> dict[str, str]:
    """Numbers and checks of stage C (the cycle index on FD002 and FD003; ``tune_c``)."""
    wide, _ = _variant_frame("tune_c", results)
    sel = wide["best_val_rmse"].unstack("arm")
    gain = sel["clip10"] - sel["clip10_cycle"]
    check(bool((gain > 0.5).all()), "the cycle index lowers the validation RMSE on FD002 and FD003 by over half a cycle")
    check(all(RECIPE[s]["cycle_feature"] for s in RECIPE), "the recipe feeds the cycle index on every subset")
    return {
        "c_cycle_fd002": f"{sel.loc['FD002', 'clip10_cycle']:.2f}",
        "c_nocycle_fd002": f"{sel.loc['FD002', 'clip10']:.2f}",
        "c_cycle_fd003": f"{sel.loc['FD003', 'clip10_cycle']:.2f}",
        "c_nocycle_fd003": f"{sel.loc['FD003', 'clip10']:.2f}",
    }


def _paired(comparisons, subset: str, arm: str, metric: str = "best_val_rmse") -> dict:
    row = comparisons[(comparisons.subset == subset) & (comparisons.a == arm) & (comparisons.metric == metric)]
    check(len(row) == 1, f"stage D compares {arm} with the recipe on {subset}")
    return row.iloc[0].to_dict()


def _signed(d: dict) -> str:
    return f"{d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}]".replace("-", "−")


def tuning_d_findings(results=None) -> dict[str, str]:
    """Numbers and checks of stage D (``tune_d``, validation only, after the first test read): FD003's
    recipe against a 60-cycle window, weight averaging and no cycle index; FD004 without the cycle
    index; and, from the verdict grid's MSE runs, how far FD003's validation RMSE tells its test RMSE."""
    from scipy import stats  # lazy: scipy is optional (the [book] extra)

    summary, comps, _ = load_summary("tune_d", results)
    wide = summary.pivot_table(index=["subset", "arm"], columns="metric", values="mean")
    sel = wide["best_val_rmse"].unstack("arm")
    n = {(r.subset, r.arm): int(r.n_seeds) for r in summary[summary.metric == "best_val_rmse"].itertuples()}
    check(min(n.values()) >= 3, "every stage D probe has at least 3 seeds")
    w60, ema, nocyc3 = (_paired(comps, "FD003", a) for a in ("w60", "ema", "nocycle"))
    nocyc4 = _paired(comps, "FD004", "nocycle")
    per_seed = {(spec.config.subset, spec.arm, spec.config.seed): rec["stopping"]["best_val_rmse"]
                for spec, rec in load_grid("tune_d", results)}
    w60_lower = [per_seed[("FD003", "w60", k)] < per_seed[("FD003", "recipe", k)] for k in TUNE_D_SEEDS]
    check(w60["diff"] < 0 and all(w60_lower), "a 60-cycle window gives FD003 a lower validation RMSE on every seed")
    check(w60["lo"] < 0 < w60["hi"], "with 3 seeds the window's difference is not measurable")
    check(ema["lo"] > 0, "weight averaging is measurably worse on FD003")
    check(nocyc3["lo"] < 0 < nocyc3["hi"] and nocyc4["lo"] < 0 < nocyc4["hi"],
          "with 3 seeds and early stopping the cycle index makes no measurable difference on FD003 or FD004")
    check(RECIPE["FD003"]["window"] == 45 and RECIPE["FD003"]["cycle_feature"] and RECIPE["FD004"]["cycle_feature"],
          "the recipe is unchanged: window 45 and the cycle index on FD003, the cycle index on FD004")
    # the probes' recipe arm re-made the verdict grid's first MSE runs: same training, test not read
    verdict = {(spec.config.subset, spec.config.seed): rec for spec, rec in load_grid("verdict", results)
               if spec.arm == "mse"}
    check(all(verdict[(s, k)]["stopping"]["best_val_rmse"] == per_seed[(s, "recipe", k)]
              for s in TUNE_D for k in TUNE_D_SEEDS),
          "the recipe arm's validation RMSE equals that of the verdict grid's runs of the same seeds")
    # how far FD003's validation RMSE predicts its test RMSE: the verdict grid's MSE runs
    recs = [rec for (subset, _), rec in sorted(verdict.items()) if subset == "FD003"]
    val = np.array([r["val"]["rmse"] for r in recs])
    test = np.array([r["test"]["rmse"] for r in recs])
    rho = float(stats.pearsonr(val, test)[0])
    half = stats.norm.ppf(0.975) / np.sqrt(len(val) - 3)  # Fisher's z-transform
    r_lo, r_hi = np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)
    check(r_hi < 0.9 and val.mean() < test.mean() - 0.5,
          "FD003's validation RMSE is a weak guide to its test RMSE, and on another scale (lower)")
    return {
        "d_seeds": f"{min(n.values())}",
        "d_recipe_fd003": f"{sel.loc['FD003', 'recipe']:.2f}",
        "d_w60": f"{sel.loc['FD003', 'w60']:.2f}",
        "d_w60_diff": _signed(w60),
        "d_ema_diff": _signed(ema),
        "d_nocycle_fd003": _signed(nocyc3),
        "d_nocycle_fd004": _signed(nocyc4),
        "d_w60_mde": f"{w60['mde']:.1f}",
        "d_val_seeds": f"{len(recs)}",
        "d_val_mean": f"{val.mean():.2f}",
        "d_test_mean": f"{test.mean():.2f}",
        "d_val_test_r": f"{rho:+.2f} (95 % interval {r_lo:+.2f} to {r_hi:+.2f})".replace("-", "−"),
    }


def methods_findings(results=None) -> dict[str, str]:
    """Everything the Methods page glues: the recipe's windows, the tuning log, the processors and
    the verify checks."""
    out = {"windows_by_subset": " / ".join(f"{RECIPE[s]['window']}" for s in RECIPE) + " (FD001 / FD002 / FD003 / FD004)"}
    out |= tuning_a_findings(results) | tuning_b_findings(results) | tuning_c_findings(results)
    out |= tuning_d_findings(results)
    out |= provenance_findings(results)
    return out


def _processor(cpu: dict) -> str:
    """A processor's model name as prose ("Intel(R) Xeon(R) Processor" -> "Intel Xeon")."""
    name = cpu["model_name"].replace("(R)", "").replace("(TM)", "").replace(" Processor", "")
    return " ".join(name.split())


#: The grids whose runs the book's conclusions rest on.
FINAL_GRIDS: tuple[str, ...] = ("headline", "schedules", "wmax", "verdict")


def provenance_findings(results=None) -> dict[str, str]:
    """Which processors made the final grids' runs, and what ``verify`` found on each.

    A run re-creates bit for bit only on the processor that made it, so each verify record must
    have re-made its runs on their own processor and found every one identical."""
    root = resolve_root(results)
    paths = {spec.path(root) for g in FINAL_GRIDS for spec in grid_runs(g)}
    cpus = Counter(_processor(load_record(p)["cpu"]) for p in paths if p.is_file())
    check(sum(cpus.values()) == len(paths), "every run of the final grids has its result file")
    parts = [f"{n} on an {name}" for name, n in cpus.most_common()]
    machines = "one machine" if len(cpus) == 1 else f"{len(cpus)} machines"
    out = {"machines_sentence": f"The {len(paths)} runs of the final grids were made on {machines}: "
                                f"{', '.join(parts)}."}
    checked = []
    for g in FINAL_GRIDS:
        path = root / g / "verify.json"
        if not path.is_file():
            continue
        v = json.loads(path.read_text())
        check(v["all_identical"], f"every re-run of the {g} sample was identical")
        check(all(r.get("same_cpu") is True for r in v["runs"]), f"the verified {g} runs were re-made on the processor that made them")
        drawn = "drawn at random from those made on that processor" if v.get("this_cpu_only") else "drawn at random"
        checked.append(f"{v['sample']} of the {g} runs ({drawn}) on {v['checked_at'][:10]} on an "
                       f"{_processor(v['cpu'])}")
    check(bool(checked), "at least one final grid has been verified")
    out["verify_sentence"] = (f"`verify` re-ran {'; '.join(checked)}: every one matched its file bit for bit "
                              "(predictions, curves and test metrics).")
    out["lineage_sentence"] = lineage_sentence(root)
    return out


def lineage_sentence(root) -> str:
    """What ``results/lineage.json`` certifies, in one paragraph: for each equivalence on the chain
    to the current code, the date, the sample and how its runs were judged. Checks that every
    sample run passed and that the current code hash is on the chain when committed runs carry
    another one."""
    current = code_hash()
    entries = [e for e in load_lineage(root) if e["old"] in equivalent_hashes(current, root)]
    if not entries:
        return ("The committed runs were made by the current training code; no change of it has needed a "
                "certified equivalence yet.")
    parts = []
    for e in entries:
        rows = e["sample"]
        check(all(r["passed"] for r in rows), f"every sample run of the equivalence {e['old']} ≡ {e['new']} passed")
        by = Counter(r["method"] for r in rows)
        strata = sum(len(r["strata"]) for r in rows)
        text = (f"On {e['certified_at'][:10]} the training code changed from hash `{e['old']}` to `{e['new']}` "
                f"without changing a number: `certify` re-created {len(rows)} runs on an {_processor(e['processor'])}, "
                f"one for each of {strata} strata (grid × subset × arm family; a run shared by several grids covers "
                f"each of them), in {e['wall_s'] / 60:.0f} min")
        said = []
        if by["identical"]:
            said.append(f"the {by['identical']} made on this processor kind matched their files bit for bit")
        if by["paired"]:
            reproduced = sum(bool(r.get("original_reproduced_by_old_code")) for r in rows if r["method"] == "paired")
            said.append(f"the {by['paired']} whose files name another or no processor were re-created here by the old "
                        f"code (commit `{e['baseline']['commit'][:7]}`) and by the new, and the two agreed bit for bit"
                        + ("" if reproduced else " (neither reproduces those files here: they were made on another "
                           "processor, whose last bits differ)"))
        if by["tolerance"]:
            said.append(f"the {by['tolerance']} made elsewhere agreed with their files within "
                        f"{e['tolerance']['max_abs_pred_cycles']:g} cycles")
        parts.append(text + ": " + "; ".join(said) + ".")
    return (" ".join(parts) + " `results/lineage.json` records each equivalence with its sample, and runs made "
            "under either hash count as fresh.")
