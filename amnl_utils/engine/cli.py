"""The command line of the experiment engine: ``python -m amnl_utils.engine <command>``.

``--results DIR`` or ``$AMNL_RESULTS`` choose the results folder (default: the repository's
``results/``)::

    python -m amnl_utils.engine list
    python -m amnl_utils.engine status    --grid headline
    python -m amnl_utils.engine run       --grid headline --jobs 2 [--aggregate]
    python -m amnl_utils.engine aggregate --grid headline [--partial]
    python -m amnl_utils.engine rerun     results/runs/FD001/mse_s0_<id>.json --out "$(mktemp -d)"
    python -m amnl_utils.engine verify    --grid headline --sample 3
    python -m amnl_utils.engine certify   --jobs 2

``run`` is resumable: a run whose file exists and was made by the current training code (or by code
the lineage file certifies equivalent) is skipped; a missing, cut-off (corrupt) or stale file is
(re-)run, and stray temporary files of interrupted writes are removed. ``status`` exits 1 when any
run is missing, corrupt or stale. ``aggregate`` refuses a grid with missing or stale runs unless
``--partial`` is given, and then marks its tables. ``certify`` re-creates a stratified sample after
a change to the training code and, if it matches, records the old and new code hash as equivalent
(:mod:`amnl_utils.engine.certification`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import store as R
from .aggregate import aggregate
from .certification import CertificationError, certifiable_grids, certify
from .config import TrainConfig
from .grids import GRIDS, grid_root
from .lineage import equivalent_hashes
from .reproduce import rerun, verify
from .runner import EXECUTORS, grid_status, run_grid, run_one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amnl_utils.engine", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the named grids and their run counts")
    p_status = sub.add_parser("status", help="fresh / stale / corrupt / missing runs of a grid")
    p_run = sub.add_parser("run", help="run the missing, corrupt and stale runs of a grid (resumable)")
    p_agg = sub.add_parser("aggregate", help="write summary.csv / comparisons.csv / summary.json")
    p_rerun = sub.add_parser("rerun", help="re-create one run from its result file into --out and compare")
    p_verify = sub.add_parser("verify", help="re-run a sample of a grid's committed runs and compare")
    p_cert = sub.add_parser("certify", help="after a training-code change: re-create a stratified sample of the "
                                            "stale runs and, if they match, record the code hashes as equivalent")
    p_one = sub.add_parser("_run-one", help=argparse.SUPPRESS)
    for p in (p_status, p_run, p_agg, p_verify):
        p.add_argument("--grid", required=True, choices=sorted(GRIDS))
    for p in (p_status, p_run, p_agg, p_verify, p_cert):
        p.add_argument("--results", default=None, help=f"results folder (default: ${R.ENV_VAR} or the repository's "
                                                       "results/; scratch grids: the ignored scratch/)")
    for p in (p_run, p_rerun, p_verify, p_one, p_cert):
        p.add_argument("--data-dir", default=None, help="C-MAPSS folder (default: $CMAPSS_DIR)")
    for p in (p_run, p_cert):
        p.add_argument("--jobs", type=int, default=1 if p is p_run else 2, help="parallel runs, one torch thread each")
    p_run.add_argument("--executor", choices=sorted(EXECUTORS), default="local",
                       help="local: child processes on this machine (default); submitit: jobs on a SLURM cluster")
    p_run.add_argument("--device", default=None, help="the device of each run under submitit, e.g. cuda (default: cpu)")
    p_run.add_argument("--submitit-folder", default=None, help="submitit's log folder (default: <results>/../submitit)")
    p_run.add_argument("--slurm", action="append", default=[], metavar="KEY=VALUE",
                       help="a submitit parameter, e.g. --slurm slurm_partition=gpu --slurm timeout_min=60 (repeatable)")
    p_cert.add_argument("--grid", action="append", choices=sorted(GRIDS),
                        help="certify over this grid (repeatable; default: every committed grid)")
    p_cert.add_argument("--seed", type=int, default=0, help="seed of the draw within each stratum")
    p_cert.add_argument("--work", default=None, help="folder for the re-created runs (default: scratch/certify; "
                                                     "an interrupted certification resumes from it)")
    p_cert.add_argument("--baseline", default=None, metavar="GIT_REF",
                        help="the old code as a git ref: runs made on another processor are re-created with it too, "
                             "and old and new code must agree bit for bit here")
    p_run.add_argument("--no-progress", action="store_true")
    p_run.add_argument("--aggregate", action="store_true", help="aggregate when done")
    p_agg.add_argument("--partial", action="store_true", help="aggregate an incomplete grid (tables are marked)")
    p_rerun.add_argument("result_file")
    p_rerun.add_argument("--out", required=True, help="folder for the re-created file")
    p_verify.add_argument("--sample", type=int, default=3)
    p_verify.add_argument("--record", action="store_true", help="write the outcome to <results>/<grid>/verify.json")
    p_verify.add_argument("--this-cpu", action="store_true",
                          help="sample only runs made on this processor (the ones that can match bit for bit)")
    p_one.add_argument("--config", required=True)
    p_one.add_argument("--out", required=True)
    p_one.add_argument("--commit", required=True)
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for name, g in GRIDS.items():
            print(f"{name}: {len(g.runs())} runs — {g.about}")
        return 0
    if args.cmd == "status":
        try:
            return _status(args.grid, args.results)
        except BrokenPipeError:  # `status | head`: the reader has seen enough; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    if args.cmd == "run":
        out = run_grid(args.grid, args.results, jobs=args.jobs, data_dir=args.data_dir, progress=not args.no_progress,
                       executor=args.executor, executor_options=_slurm_options(args))
        print(json.dumps(out))
        if args.aggregate:
            aggregate(args.grid, args.results)
        return 0
    if args.cmd == "aggregate":
        out = aggregate(args.grid, args.results, partial=args.partial)
        note = f" (PARTIAL: {out['n_runs']} of {out['n_expected']})" if out["partial"] else ""
        print(f"aggregated {out['n_runs']} runs of {args.grid} into {R.resolve_root(args.results) / args.grid}{note}")
        return 0
    if args.cmd == "rerun":
        print(json.dumps(rerun(args.result_file, args.out, data_dir=args.data_dir), indent=1))
        return 0
    if args.cmd == "verify":
        rows = verify(args.grid, args.sample, args.results, data_dir=args.data_dir, record=args.record,
                      this_cpu=args.this_cpu)
        for r in rows:
            tag = "identical" if r["identical"] else f"DIFFERS (max |Δ pred| {r['max_abs_pred_diff']:.4g} cycles)"
            if r["same_cpu"] is not True:
                tag += " [made on another processor]" if r["same_cpu"] is False else " [the file names no processor]"
            print(f"{r['run']}: {tag}")
        return 0 if all(r["identical"] for r in rows) else 1
    if args.cmd == "certify":
        try:
            entries = certify(args.grid, args.results, jobs=args.jobs, data_dir=args.data_dir, seed=args.seed,
                              work=args.work, baseline=args.baseline)
        except CertificationError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        if not entries:
            print(f"every run of {args.grid or certifiable_grids()} is fresh under code {R.code_hash()}: nothing to certify")
        for e in entries:
            print(f"certified {e['old']} ≡ {e['new']} on {len(e['sample'])} runs ({', '.join(e['methods'])}), "
                  f"{e['recreated']} re-created in {e['wall_s']:.0f} s")
        return 0
    if args.cmd == "_run-one":
        cfg = TrainConfig(**json.loads(args.config))
        run_one(cfg, args.out, data_dir=args.data_dir, threads=1, commit=args.commit)
        return 0
    return 2


def _status(grid: str, results: str | None) -> int:
    """Print a grid's run counts by state, then every stale / corrupt / missing run and stray
    temporary file; 0 when every run is fresh, 1 otherwise."""
    root = grid_root(grid, results)
    st = grid_status(grid, root)
    current = R.code_hash()
    by_lineage = sum(R.load_record(s.path(root))["code_hash"] != current for s in st["fresh"])
    print(json.dumps({k: len(v) for k, v in st.items()}))
    if by_lineage:
        print(f"{by_lineage} fresh run(s) were made by code certified equivalent to {current} "
              f"({root / 'lineage.json'}; hashes {sorted(equivalent_hashes(current, root) - {current})})")
    for kind in ("stale", "corrupt", "missing"):
        for spec in st[kind]:
            print(f"{kind}: {spec.path(root)}")
    strays = R.stray_temporaries(root)
    for tmp in strays:
        print(f"stray temporary file: {tmp} (an interrupted write; the next `run` removes it)")
    bad = any(st[k] for k in ("stale", "corrupt", "missing"))
    if bad:
        print(f"grid {grid} is not complete and fresh: run `python -m amnl_utils.engine run --grid {grid}` "
              "(or `certify` first if the training code changed without changing results)", file=sys.stderr)
    return 1 if bad or strays else 0


def _slurm_options(args: argparse.Namespace) -> dict:
    """``--slurm KEY=VALUE`` pairs (numbers parsed) and ``--submitit-folder`` for the submitit executor."""
    opts: dict = {"folder": args.submitit_folder} if args.submitit_folder else {}
    if args.device:
        opts["device"] = args.device
    params = {}
    for item in args.slurm:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--slurm takes KEY=VALUE, got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    if params:
        opts["parameters"] = params
    return opts


if __name__ == "__main__":
    sys.exit(main())
