"""Cross-check ``amnl_utils.cmapss`` against the public ``rul-datasets`` loader (version 0.18.0).

What it checks, per C-MAPSS subset, on the same NASA files (window 30 on both sides unless
a line says otherwise):

1. Agreement: the same train and test engines (ids and lengths), the same 14 sensors (their
   default channel indices mapped back to NASA's 1-based sensor numbers by matching columns),
   the same operating-condition partition on FD002/FD004 (our rounded three settings against
   their setting-1 intervals), and the same raw, un-normalised windows. For the raw comparison
   their reader runs with its scaling step replaced by the identity (everything else — the
   dev/val files it writes, run splitting, padding, windowing, labels — is theirs), and ours is
   the windowing of ``amnl_utils.cmapss`` on the raw sensor columns; ``prepare()`` is then checked
   to be exactly our z-score of those raw windows.
2. Conventions, each printed as a measured fact: normalisation, validation split, padding of
   test engines shorter than the window, the RUL label of the last training cycle, default
   window per subset, RUL cap.
3. Speed: wall time to prepare all four subsets, best of ``--repeat`` runs, data on disk:
   ours = ``prepare(subset, window=30)`` for FD001-FD004; theirs = ``CmapssReader(fd,
   window_size=30)`` + ``RulDataModule(...).prepare_data(); .setup()`` (dev, val and test
   splits) for fd 1-4. "Warm" = caches filled (their split files and scaler pickles on disk;
   our SHA-256 checks cached in the process); "cold" = their fresh data root (they write the
   dev/val files and fit the scaler) and our SHA-256 cache emptied. Printed as ratios.

Not part of the test suite: rul-datasets (with lightning, scikit-learn, h5py, requests) is not
a dependency of the book, so this lives in ``benchmarks/`` (which pytest does not collect).
Run it in its own virtual environment, outside the repository; torch goes in first, pinned, so
that pip never pulls a multi-GB CUDA build::

    python3 -m venv ../rulds-venv
    ../rulds-venv/bin/pip install torch==2.13.0          # a CPU wheel on a machine without CUDA
    ../rulds-venv/bin/pip install rul-datasets==0.18.0   # keeps the torch above
    ../rulds-venv/bin/pip install requests               # imported by rul_datasets.utils, not declared
    ../rulds-venv/bin/pip install -e . --no-deps         # amnl_utils (numpy already there)
    CMAPSS_DIR=/path/to/cmapss ../rulds-venv/bin/python benchmarks/compare_rul_datasets.py

rul-datasets would download C-MAPSS from its own mirror; instead the script copies the twelve
NASA files from ``$CMAPSS_DIR`` (read only) into a temporary data root laid out as it expects
(``<root>/CMAPSS/train_FD001.txt`` …), sets ``RUL_DATASETS_DATA_ROOT`` before importing it, and
deletes the temporary folder at the end. Everything but the timings is deterministic.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

# One thread for numpy/torch on both sides: comparable timings, modest CPU use on a shared machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

WINDOW = 30
FILES = [f"{kind}_FD00{i}.txt" for i in range(1, 5) for kind in ("train", "test", "RUL")]


def make_root(root: Path, data_dir: Path) -> Path:
    """A rul-datasets data root holding copies of the NASA files in ``<root>/CMAPSS``."""
    cmapss = root / "CMAPSS"
    cmapss.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(data_dir / name, cmapss / name)
    return cmapss


def rows_of(windows: np.ndarray) -> np.ndarray:
    """The rows of one run from its stride-1 windows ``(n, w, F)``: ``(n + w - 1, F)``."""
    return np.concatenate([windows[0], windows[1:, -1]])


def span(ids: np.ndarray) -> str:
    """Engine ids as ``a-b`` when consecutive, else a short list."""
    ids = np.asarray(ids)
    if ids.size and np.array_equal(ids, np.arange(ids[0], ids[0] + ids.size)):
        return f"{ids[0]}-{ids[-1]}"
    head = ", ".join(str(int(i)) for i in ids[:8])
    return f"{head}{', …' if ids.size > 8 else ''}"


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the NASA files (default: $CMAPSS_DIR)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side and mode; the best is kept")
    args = parser.parse_args()

    from amnl_utils import cmapss as D
    from amnl_utils.cmapss import download
    from amnl_utils.core.constants import R_MAX, SENSORS, SUBSETS

    data_dir = download.resolve_data_dir(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="rulds-compare-"))
    try:
        cmapss_root = make_root(work / "root", data_dir)
        os.environ["RUL_DATASETS_DATA_ROOT"] = str(work / "root")  # read once, when rul_datasets is imported
        warnings.simplefilter("ignore")  # their "splitting now" / "will be zero-padded" warnings; padding is measured
        try:
            from rul_datasets.reader import CmapssReader
        except ImportError as err:
            print(f"rul-datasets is not importable ({err}); set up its venv as the module docstring says.")
            return 2

        print(f"rul-datasets {version_of('rul-datasets')} (torch {version_of('torch')}, scikit-learn "
              f"{version_of('scikit-learn')}) vs amnl_utils.cmapss, NASA C-MAPSS files from {data_dir}")
        print(f"Window {WINDOW} on both sides unless stated. 'Their raw windows' = their reader with its scaling "
              "step replaced by the identity.\n")
        agree_rows, conv_rows = [], []
        for subset in SUBSETS:
            agree, conv = compare_subset(subset, data_dir, cmapss_root, CmapssReader, D, SENSORS, R_MAX)
            agree_rows.append((subset, agree))
            conv_rows.append((subset, conv))

        print("=" * 100)
        print("1. AGREEMENT (measured)")
        print("=" * 100)
        for subset, lines in agree_rows:
            print(subset)
            for line in lines:
                print("  " + line)
        print()
        print("=" * 100)
        print("2. CONVENTIONS THAT DIFFER (measured)")
        print("=" * 100)
        print_defaults(CmapssReader, D, data_dir)
        for subset, lines in conv_rows:
            print(subset)
            for line in lines:
                print("  " + line)
        print()
        print("=" * 100)
        print("3. SPEED (all four subsets, window 30, best of %d)" % max(args.repeat, 1))
        print("=" * 100)
        timing(args.repeat, data_dir, work, CmapssReader, D, download)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def version_of(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def their_reader(CmapssReader, fd: int, cmapss_root: Path, window: int | None = WINDOW, *, raw: bool = False,
                 ops_aware: bool = False):
    """A prepared ``CmapssReader`` on our data root; ``raw`` replaces its scaling by the identity."""
    reader = CmapssReader(fd, window_size=window, operation_condition_aware_scaling=ops_aware)
    reader._CMAPSS_ROOT = str(cmapss_root)  # the class attribute is fixed at import; pin it per instance
    if raw:
        reader._scale_features = lambda features, conditions: features
    reader.prepare_data()
    return reader


def their_runs(reader, split: str):
    """Their own parse of one split file: per-run arrays ``[unit, cycle, channels…]`` and settings."""
    return reader._load_features(reader._get_feature_path(split))


def stack(windows: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(windows) if windows else np.empty((0,))


def compare_subset(subset, data_dir, cmapss_root, CmapssReader, D, SENSORS, R_MAX):
    fd = int(subset[-1])
    agree: list[str] = []
    conv: list[str] = []
    raw = D.load_arrays(subset, data_dir)
    units = raw.train[:, 0].astype(np.int64)
    test_units = raw.test[:, 0].astype(np.int64)
    ids, lengths = D.engine_lengths(units)
    tids, tlengths = D.engine_lengths(test_units)
    train_ids, val_ids = D.split_engines(units, 0.2, 0)
    p = D.prepare(subset, window=WINDOW, data_dir=data_dir)

    r_raw = their_reader(CmapssReader, fd, cmapss_root, raw=True)
    r_def = their_reader(CmapssReader, fd, cmapss_root)  # their defaults, window forced to 30

    # ---------------------------------------------------------------- engines
    dev_runs, _ = their_runs(r_raw, "dev")
    val_runs, _ = their_runs(r_raw, "val")
    test_runs, _ = their_runs(r_raw, "test")
    dev_ids = np.array([int(r[0, 0]) for r in dev_runs])
    their_val_ids = np.array([int(r[0, 0]) for r in val_runs])
    their_ids = np.r_[dev_ids, their_val_ids]
    their_len = np.array([len(r) for r in dev_runs + val_runs])
    their_tids = np.array([int(r[0, 0]) for r in test_runs])
    their_tlen = np.array([len(r) for r in test_runs])
    same_train = np.array_equal(their_ids, ids) and np.array_equal(their_len, lengths)
    # their dev/val files are re-written with np.savetxt and fixed decimals: do they keep every digit?
    written = np.concatenate(dev_runs + val_runs)
    _, dev_set = their_runs(r_raw, "dev")
    _, val_set = their_runs(r_raw, "val")
    cols = [0, 1] + [c + 2 for c in r_raw.feature_select]
    roundtrip = max(float(np.abs(written - raw.train[:, cols]).max()),
                    float(np.abs(np.concatenate(dev_set + val_set) - raw.train[:, D.SETTING_COLUMNS]).max()))
    same_test = np.array_equal(their_tids, tids) and np.array_equal(their_tlen, tlengths)
    agree.append(
        f"engines      train {ids.size} ours / {their_ids.size} theirs (dev {dev_ids.size} + val "
        f"{their_val_ids.size}), same ids and lengths: {yes(same_train)}; test {tids.size} / {their_tids.size}, "
        f"same ids and lengths: {yes(same_test)}"
    )
    agree.append(
        f"split files  their dev_/val_FD00{fd}.txt (np.savetxt, fixed decimals) hold the train file's unit, cycle, "
        f"settings and 14 sensors exactly: max abs diff {roundtrip:g}"
    )

    # ---------------------------------------------------------------- sensors
    train_runs, _ = their_runs(r_raw, "train")
    their_cols = np.concatenate(train_runs)[:, 2:]
    mapped = []
    for j in range(their_cols.shape[1]):
        hits = [c for c in range(5, D.N_COLUMNS) if np.array_equal(their_cols[:, j], raw.train[:, c])]
        mapped.append(hits[0] - 4 if len(hits) == 1 else None)
    agree.append(
        f"sensors      their default channels {r_raw.feature_select} hold NASA sensors {tuple(mapped)}; "
        f"same as ours {tuple(SENSORS)}: {yes(tuple(mapped) == tuple(SENSORS))}"
    )

    # ---------------------------------------------------------------- operating conditions
    settings = np.r_[raw.train[:, D.SETTING_COLUMNS], raw.test[:, D.SETTING_COLUMNS]]
    ours_table = D.condition_table(raw.train[:, D.SETTING_COLUMNS])
    ours_cond = D.assign_conditions(settings, ours_table)
    bounds = CmapssReader._CONDITION_BOUNDARIES
    inside = np.array([(lo <= settings[:, 0]) & (settings[:, 0] <= hi) for lo, hi in bounds])  # (6, rows)
    outside = int((inside.sum(axis=0) != 1).sum())
    their_cond = inside.argmax(axis=0)
    table = np.zeros((len(ours_table), len(bounds)), np.int64)
    np.add.at(table, (ours_cond, their_cond), 1)
    bijective = bool(((table > 0).sum(axis=1) == 1).all() and ((table > 0).sum(axis=0) <= 1).all())
    used = int(((table > 0).sum(axis=0) > 0).sum())
    line = (
        f"conditions   ours {len(ours_table)} (rounded 3 settings), theirs {used} of their {len(bounds)} "
        f"setting-1 intervals; {settings.shape[0]} train+test rows, {outside} outside exactly one interval; "
        f"same partition: {yes(bijective and outside == 0)}"
    )
    if subset in D.MULTI_CONDITION:
        # Their condition-aware scaler (an option, off by default): per-condition min-max on dev rows.
        r_ops = their_reader(CmapssReader, fd, cmapss_root, ops_aware=True)
        dev_w, _ = r_ops.load_split("dev")
        dev_rows = np.concatenate([rows_of(w) for w in dev_w])
        is_dev = np.isin(units, dev_ids)
        cond_dev = D.assign_conditions(raw.train[is_dev][:, D.SETTING_COLUMNS], ours_table)
        dev_ok = dev_rows.shape[0] == int(is_dev.sum())
        worst = 0.0
        for k in range(len(ours_table)):
            block = dev_rows[cond_dev == k]
            worst = max(worst, float(np.abs(block.min(axis=0) + 1).max()), float(np.abs(block.max(axis=0) - 1).max()))
        line += (
            f"; with their operation_condition_aware_scaling=True each of our {len(ours_table)} conditions spans "
            f"[-1, 1] on every channel of the dev rows (max deviation {worst:.1e}, rows aligned: {yes(dev_ok)})"
        )
    agree.append(line)

    # ---------------------------------------------------------------- raw train/val windows
    feats = raw.train[:, list(D.SENSOR_COLUMNS)]
    rul_capped = D.rul_labels(units, raw.train[:, 1], None, R_MAX)
    rul_uncapped = D.rul_labels(units, raw.train[:, 1], None, np.inf)
    X_ours, y_ours, u_ours = D.sliding_windows(feats, units, rul_capped, WINDOW)
    _, y_unc, _ = D.sliding_windows(feats, units, rul_uncapped, WINDOW)
    dev_X, dev_y = r_raw.load_split("dev")
    val_X, val_y = r_raw.load_split("val")
    X_th = stack(dev_X + val_X)  # dev then val = file order, as ours
    y_th = stack(dev_y + val_y)
    same_shape = X_th.shape == X_ours.shape
    if same_shape:
        diff = np.abs(X_ours.astype(np.float64) - X_th)
        exact32 = bool(np.array_equal(X_ours, X_th.astype(np.float32)))
        rel = float((diff / np.maximum(np.abs(X_th), 1e-12)).max())
        agree.append(
            f"raw windows  train+val {X_ours.shape[0]} windows x {WINDOW} x {X_ours.shape[2]} both; identical after "
            f"casting theirs (float64) to float32: {yes(exact32)}; ours float32 vs theirs float64 max abs diff "
            f"{diff.max():.2e}, max rel {rel:.1e}"
        )
    else:
        agree.append(f"raw windows  train+val shapes differ: ours {X_ours.shape}, theirs {X_th.shape}")

    # prepare() = our z-score of the same raw windows (train and validation engines)
    norm = p.normaliser
    if subset in D.MULTI_CONDITION:
        cond_rows = D.assign_conditions(raw.train[:, D.SETTING_COLUMNS], norm.conditions)
    else:
        cond_rows = np.zeros(len(raw.train), np.int64)
    C_win, _, _ = D.sliding_windows(cond_rows[:, None].astype(np.float32), units, rul_capped, WINDOW)
    c = C_win[..., 0].astype(np.int64)
    # z-score THEIR float64 raw windows with prepare()'s statistics; prepare() rounds once, to float32
    Z = (X_th - norm.mean[c]) / norm.std[c] if same_shape else np.full(X_ours.shape, np.nan)
    is_tr = np.isin(u_ours, train_ids)
    z_diff = max(float(np.abs(Z[is_tr] - p.X_train).max()), float(np.abs(Z[~is_tr] - p.X_val).max()))
    z_rel = max(float((np.abs(Z[m] - X) / np.maximum(np.abs(Z[m]), 1.0)).max())
                for m, X in ((is_tr, p.X_train), (~is_tr, p.X_val)))
    y_same = np.array_equal(y_ours[is_tr], p.y_train) and np.array_equal(y_ours[~is_tr], p.y_val)
    agree.append(
        f"prepare()    its {p.X_train.shape[0]} train + {p.X_val.shape[0]} val windows = their raw windows "
        f"z-scored with prepare()'s statistics, up to float32 rounding (max abs diff {z_diff:.1e} z-units, "
        f"relative to max(|z|, 1) {z_rel:.1e}); same labels as our windowing: {yes(y_same)}"
    )

    # ---------------------------------------------------------------- test windows
    te_X, te_y = r_raw.load_split("test")
    te_th = stack(te_X)
    te_ours, _ = D.last_windows(raw.test[:, list(D.SENSOR_COLUMNS)], test_units, WINDOW)
    long = tlengths >= WINDOW
    same_long = bool(np.array_equal(te_ours[long], te_th[long].astype(np.float32)))
    same_real = all(
        np.array_equal(te_ours[i, WINDOW - n :], te_th[i, WINDOW - n :].astype(np.float32))
        for i, n in enumerate(tlengths) if n < WINDOW
    )
    cond_te = (D.assign_conditions(raw.test[:, D.SETTING_COLUMNS], norm.conditions)
               if subset in D.MULTI_CONDITION else np.zeros(len(raw.test), np.int64))
    ends_te = np.cumsum(tlengths) - 1
    rows_te = ends_te[long][:, None] - np.arange(WINDOW - 1, -1, -1)[None, :]
    z_te = (te_th[long] - norm.mean[cond_te[rows_te]]) / norm.std[cond_te[rows_te]]
    z_te_diff = float(np.abs(z_te - p.X_test[long]).max())
    short_note = (f"; the {int((~long).sum())} shorter engines: real cycles identical {yes(same_real)}, padding differs "
                  "(section 2)" if (~long).any() else "")
    agree.append(
        f"test windows {te_th.shape[0]} last windows theirs / {te_ours.shape[0]} ours; the {int(long.sum())} engines "
        f"with >= {WINDOW} cycles identical (float32): {yes(same_long)}, and prepare()'s X_test = their raw ones "
        f"z-scored (max abs diff {z_te_diff:.1e} z-units){short_note}"
    )
    y_te_th = np.concatenate(te_y)
    agree.append(
        f"test labels  theirs = ours = min(RUL file, 125): {yes(np.array_equal(y_te_th, p.y_test))} "
        f"({int((p.y_test_raw > 125).sum())} of {tids.size} RUL-file values above 125 capped by both)"
    )

    # ================================================================ conventions
    # normalisation (their defaults)
    dev_s, _ = r_def.load_split("dev")
    val_s, _ = r_def.load_split("val")
    te_s, _ = r_def.load_split("test")
    dev_rows = np.concatenate([rows_of(w) for w in dev_s])
    raw_dev = feats[np.isin(units, dev_ids)]
    lo, hi = raw_dev.min(axis=0), raw_dev.max(axis=0)
    minmax = 2 * (raw_dev - lo) / (hi - lo) - 1
    mm_diff = float(np.abs(dev_rows - minmax).max()) if dev_rows.shape == minmax.shape else float("nan")
    val_rows = np.concatenate([rows_of(w) for w in val_s])
    te_all = stack(te_s)
    conv.append(
        f"scaling      theirs (default): per-channel min-max to [-1, 1], fitted on all dev-engine rows together"
        f"{' — NOT per operating condition' if subset in D.MULTI_CONDITION else ''} (their dev rows vs "
        f"2(x-min)/(max-min)-1 with min/max over all dev rows: max abs diff {mm_diff:.1e}); their val rows span "
        f"[{val_rows.min():.2f}, {val_rows.max():.2f}], test windows [{te_all.min():.2f}, {te_all.max():.2f}]"
    )
    fit_rows = np.isin(units, train_ids)
    zr = (feats - norm.mean[cond_rows]) / norm.std[cond_rows]
    zmean = max(float(np.abs(zr[fit_rows & (cond_rows == k)].mean(axis=0)).max()) for k in range(len(norm.mean)))
    zstd = max(float(np.abs(zr[fit_rows & (cond_rows == k)].std(axis=0) - 1).max()) for k in range(len(norm.mean)))
    conv.append(
        f"             ours: z-score on our training engines, {len(norm.mean)} condition(s) "
        f"(|mean| <= {zmean:.0e}, |std-1| <= {zstd:.0e} on those rows)"
    )
    # validation split
    overlap = np.intersect1d(val_ids, their_val_ids).size
    conv.append(
        f"validation   theirs: the LAST {their_val_ids.size} of {ids.size} engines in file order (ids "
        f"{span(their_val_ids)}), int(0.8 x engines) dev; ours: seeded random {val_ids.size} (seed 0: "
        f"{span(val_ids)}); {overlap} engines in both validation sets; same count: {yes(val_ids.size == their_val_ids.size)}"
    )
    # labels
    diff_y = y_th - y_ours if same_shape else np.array([np.nan])
    last_th = np.array([y[-1] for y in dev_y + val_y])
    ends = np.cumsum(D.windows_per_engine(lengths, WINDOW)) - 1
    last_ours = y_ours[ends]
    formula = same_shape and np.array_equal(y_th, np.minimum(y_unc.astype(np.float64) + 1, 125))
    conv.append(
        f"labels       last training cycle labelled {sorted(set(last_th.tolist()))} by them in all {last_th.size} "
        f"engines (ours {sorted(set(last_ours.tolist()))}); theirs - ours = +1 on "
        f"{int((diff_y == 1).sum())} windows, 0 on {int((diff_y == 0).sum())} (all at the cap: "
        f"{yes(bool((y_ours[diff_y == 0] == 125).all()))}), other {int(((diff_y != 0) & (diff_y != 1)).sum())}; "
        f"theirs = min(ours uncapped + 1, 125) everywhere: {yes(bool(formula))}"
    )
    # padding of short test engines
    short = np.flatnonzero(~long)
    if short.size:
        k = int(short[np.argmin(tlengths[short])])
        L = int(tlengths[k])
        pad = WINDOW - L
        th_raw_zero = all(np.all(te_th[i, : WINDOW - tlengths[i]] == 0) for i in short)
        th_s_zero = all(np.all(te_all[i, : WINDOW - tlengths[i]] == 0) for i in short)
        ours_first = all(np.all(p.X_test[i, : WINDOW - tlengths[i]] == p.X_test[i, WINDOW - tlengths[i]]) for i in short)
        conv.append(
            f"padding      {short.size} test engines shorter than {WINDOW} (shortest: engine {int(tids[k])}, length "
            f"{L}, {pad} rows padded); theirs zero-pad in front: raw rows 0.0 {yes(th_raw_zero)}, after their "
            f"scaling 0.0 (= mid-range of [-1, 1]) {yes(th_s_zero)}; ours repeat the engine's first normalised "
            f"row: {yes(ours_first)}"
        )
    else:
        conv.append(f"padding      no test engine shorter than {WINDOW}: padding rules not exercised")
    return agree, conv


def print_defaults(CmapssReader, D, data_dir) -> None:
    """Their default window and RUL cap per subset against the shortest test engine."""
    from amnl_utils.core.constants import R_MAX as D_R_MAX  # lazy: the package is imported after the thread settings
    parts, caps, holds = [], set(), []
    for fd in (1, 2, 3, 4):
        raw = D.load_arrays(f"FD00{fd}", data_dir)
        _, tl = D.engine_lengths(raw.test[:, 0])
        reader = CmapssReader(fd)
        caps.add(reader.max_rul)
        parts.append(f"FD00{fd} {reader.window_size} (shortest test engine {int(tl.min())})")
        if reader.window_size == int(tl.min()):
            holds.append(f"FD00{fd}")
    print("defaults     their window per subset: " + ", ".join(parts) + f"; ours {WINDOW} everywhere "
          "(each grid may choose its own)")
    print("             their docstring: default window = length of the shortest test engine; holds for "
          f"{', '.join(holds) if holds else 'none of the four'}")
    print(f"RUL cap      theirs max_rul default {sorted(caps)} on CmapssReader (train and test labels); ours "
          f"{D_R_MAX:g}: same")


def timing(repeat: int, data_dir: Path, work: Path, CmapssReader, D, download) -> None:
    from rul_datasets import RulDataModule

    repeat = max(repeat, 1)
    subsets = ("FD001", "FD002", "FD003", "FD004")

    def ours() -> float:
        t0 = time.perf_counter()
        for s in subsets:
            D.prepare(s, window=WINDOW, data_dir=data_dir)
        return time.perf_counter() - t0

    def theirs(root: Path) -> float:
        t0 = time.perf_counter()
        for fd in (1, 2, 3, 4):
            reader = CmapssReader(fd, window_size=WINDOW)
            reader._CMAPSS_ROOT = str(root)
            dm = RulDataModule(reader, batch_size=256)
            dm.prepare_data()
            dm.setup()
        return time.perf_counter() - t0

    warm_root = work / "timing-warm"
    warm_cmapss = make_root(warm_root, data_dir)
    theirs(warm_cmapss)  # fill their caches once (split files, scalers)
    ours()  # fill our per-process SHA-256 cache
    t_ours_warm = min(ours() for _ in range(repeat))
    t_th_warm = min(theirs(warm_cmapss) for _ in range(repeat))
    cold = []
    for i in range(repeat):
        cold_cmapss = make_root(work / f"timing-cold-{i}", data_dir)  # copying is not timed
        cold.append(theirs(cold_cmapss))
    t_th_cold = min(cold)
    ours_cold = []
    for _ in range(repeat):
        download._VERIFIED.clear()  # forget the SHA-256 checks: the first prepare() of a process
        ours_cold.append(ours())
    t_ours_cold = min(ours_cold)
    print(f"{'':<6}{'ours s':>9}{'theirs s':>10}{'theirs/ours':>13}")
    print(f"{'warm':<6}{t_ours_warm:>9.3f}{t_th_warm:>10.3f}{t_th_warm / t_ours_warm:>12.1f}x")
    print(f"{'cold':<6}{t_ours_cold:>9.3f}{t_th_cold:>10.3f}{t_th_cold / t_ours_cold:>12.1f}x")
    print("warm: their split files and scalers cached on disk, our SHA-256 checks cached in the process;")
    print("      theirs = CmapssReader(fd, window_size=30) + RulDataModule.prepare_data() + setup() (dev, val, test "
          "as numpy lists);")
    print("      ours = prepare(subset, window=30) (train, val, test, near-failure windows, health states).")
    print("cold: theirs on a fresh data root (writes dev/val files, fits and pickles the scaler); ours with the "
          "SHA-256 checks of the 12 files redone.")
    print(f"machine: {os.cpu_count()} CPUs visible, 1 numpy/torch thread per side, Python "
          f"{sys.version.split()[0]}, numpy {np.__version__}; timings vary with machine load.")


if __name__ == "__main__":
    sys.exit(main())
