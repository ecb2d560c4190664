"""Certified equivalence (amnl_utils.engine.certification and .lineage), tested twice on real code changes.

A copy of the package is edited in a temporary folder and the engine is run from that copy against
a store of smoke runs made by the code in this repository:

* a harmless change (a function moved from one training module to another) changes the code hash,
  passes certification and makes the runs fresh again through the lineage file;
* a real change (a constant that decides the health labels) is refused, by run name, and the
  lineage file is left as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from amnl_utils import engine as E  # noqa: E402
from amnl_utils.engine import certification as C  # noqa: E402
from amnl_utils.engine import lineage as L  # noqa: E402
from amnl_utils.engine import store as R  # noqa: E402

PACKAGE = Path(R.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory, cmapss_dir) -> Path:
    """The three smoke runs, made by this repository's code, in a store of their own."""
    root = tmp_path_factory.mktemp("store")
    os.environ.setdefault("CMAPSS_DIR", str(cmapss_dir))
    E.run_grid("smoke", root, progress=False, isolate=False)
    return root


def _copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _package_copy(tmp: Path, edit) -> Path:
    """A copy of amnl_utils under ``tmp`` with ``edit(package_dir)`` applied; returns its parent."""
    shutil.copytree(PACKAGE, tmp / "amnl_utils", ignore=shutil.ignore_patterns("__pycache__"))
    edit(tmp / "amnl_utils")
    return tmp


def _engine(parent: Path, *args: str, cmapss_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(parent), "CMAPSS_DIR": str(cmapss_dir)}
    env.pop(R.ENV_VAR, None)
    return subprocess.run([sys.executable, "-m", "amnl_utils.engine", *args], env=env, cwd=parent,
                          capture_output=True, text=True, timeout=600)


def _move_ramp_slope(pkg: Path) -> None:
    """Move ``ramp_slope`` from core/weights.py to core/losses.py: no number can change."""
    weights, losses = pkg / "core" / "weights.py", pkg / "core" / "losses.py"
    src = weights.read_text()
    m = re.search(r"\ndef ramp_slope\(.*?\n(?=\n\ndef )", src, flags=re.S)
    assert m, "ramp_slope not found in core/weights.py"
    weights.write_text(src.replace(m.group(0), ""))
    los = losses.read_text().replace("linear_weight, ramp_slope\n", "linear_weight\n")
    los = los.replace("\n\nclass NonFinitePredictionError", "\n" + m.group(0) + "\n\n\nclass NonFinitePredictionError", 1)
    losses.write_text(los)


def _change_health_threshold(pkg: Path) -> None:
    """Health state 0 from RUL > 90 instead of > 80: other labels for the CE, so other runs."""
    constants = pkg / "core" / "constants.py"
    src = constants.read_text()
    assert "HEALTH_NORMAL_ABOVE: float = 80.0" in src
    constants.write_text(src.replace("HEALTH_NORMAL_ABOVE: float = 80.0", "HEALTH_NORMAL_ABOVE: float = 90.0"))


def _hash_of(parent: Path) -> str:
    return R.code_hash(parent / "amnl_utils")


def test_a_moved_function_is_certified_and_keeps_the_runs_fresh(smoke_store, tmp_path, cmapss_dir):
    store = _copy_store(smoke_store, tmp_path / "store")
    parent = _package_copy(tmp_path / "moved", _move_ramp_slope)
    old, new = R.code_hash(), _hash_of(parent)
    assert old != new  # the move changes the hash: without certification every run would be stale

    before = _engine(parent, "status", "--grid", "smoke", "--results", str(store), cmapss_dir=cmapss_dir)
    assert before.returncode == 1 and json.loads(before.stdout.splitlines()[0])["stale"] == 3

    out = _engine(parent, "certify", "--grid", "smoke", "--results", str(store), "--jobs", "2", cmapss_dir=cmapss_dir)
    assert out.returncode == 0, out.stderr
    assert f"certified {old} ≡ {new} on 3 runs (identical), 3 re-created" in out.stdout
    (entry,) = L.load_lineage(store)
    assert (entry["old"], entry["new"]) == (old, new)
    assert entry["tolerance_used"] is False and entry["processor"] == E.cpu_fingerprint()
    assert sorted(s for r in entry["sample"] for s in r["strata"]) == ["smoke/FD001/amnl", "smoke/FD001/mse",
                                                                       "smoke/FD001/scaled_mse"]
    assert all(r["identical"] and r["passed"] and r["same_processor"] is True for r in entry["sample"])

    after = _engine(parent, "status", "--grid", "smoke", "--results", str(store), cmapss_dir=cmapss_dir)
    assert after.returncode == 0, after.stdout + after.stderr
    assert json.loads(after.stdout.splitlines()[0]) == {"fresh": 3, "stale": 0, "corrupt": 0, "missing": 0}
    assert "certified equivalent" in after.stdout
    # and from this repository's side, the same lineage makes the runs fresh for the old hash too
    assert E.grid_status("smoke", store)["fresh"] and L.equivalent_hashes(old, store) == {old, new}


def test_a_changed_constant_is_refused_by_name(smoke_store, tmp_path, cmapss_dir):
    store = _copy_store(smoke_store, tmp_path / "store")
    parent = _package_copy(tmp_path / "changed", _change_health_threshold)
    out = _engine(parent, "certify", "--grid", "smoke", "--results", str(store), "--jobs", "2", cmapss_dir=cmapss_dir)
    assert out.returncode == 1
    assert "sample runs differ" in out.stderr and "re-run the grids" in out.stderr
    for spec in E.grid_runs("smoke"):
        assert spec.path(store).name in out.stderr  # every differing run is named
    assert not L.lineage_path(store).exists()  # nothing recorded
    status = _engine(parent, "status", "--grid", "smoke", "--results", str(store), cmapss_dir=cmapss_dir)
    assert status.returncode == 1 and json.loads(status.stdout.splitlines()[0])["stale"] == 3


def _made_elsewhere(store: Path) -> None:
    """Pretend the store's runs were made on another processor kind."""
    for spec in E.grid_runs("smoke"):
        path = spec.path(store)
        rec = json.loads(path.read_text())
        path.write_text(json.dumps({**rec, "cpu": {**rec["cpu"], "model_name": "another processor"}}))


def test_runs_from_another_processor_are_certified_by_old_and_new_code_agreeing_here(smoke_store, tmp_path, cmapss_dir):
    """The paired method: with the old code as baseline (here: this repository), each sample run is
    re-created by both, and the two must be bit-identical on this processor."""
    store = _copy_store(smoke_store, tmp_path / "store")
    _made_elsewhere(store)
    parent = _package_copy(tmp_path / "moved", _move_ramp_slope)
    out = _engine(parent, "certify", "--grid", "smoke", "--results", str(store), "--baseline", str(PACKAGE.parent),
                  cmapss_dir=cmapss_dir)
    assert out.returncode == 0, out.stderr
    assert "on 3 runs (paired), 6 re-created" in out.stdout
    (entry,) = L.load_lineage(store)
    assert entry["baseline"]["commit"] == f"folder {PACKAGE.parent}" and not entry["tolerance_used"]
    for row in entry["sample"]:
        assert row["method"] == "paired" and row["baseline_identical"] and row["same_processor"] is False
        assert row["original_reproduced_by_old_code"] is True  # it really was made here
    # without a baseline the same runs are held to the cross-processor tolerance, and the record says so
    again = _copy_store(smoke_store, tmp_path / "again")
    _made_elsewhere(again)
    out = _engine(parent, "certify", "--grid", "smoke", "--results", str(again), "--work", str(tmp_path / "w2"),
                  cmapss_dir=cmapss_dir)
    assert out.returncode == 0, out.stderr
    (entry,) = L.load_lineage(again)
    assert entry["tolerance_used"] and entry["methods"] == ["tolerance"]


def test_nothing_to_certify_when_every_run_is_fresh(smoke_store):
    assert E.certify(["smoke"], smoke_store, progress=False) == []


def test_the_sample_covers_every_stratum_and_reuses_shared_runs(monkeypatch):
    """On the committed store: one run per grid × subset × arm family, shared files drawn once."""
    root = R.default_root()
    monkeypatch.setattr(R, "code_hash", lambda *a, **k: "0" * 16)  # pretend the code changed
    strata = C.stale_strata(["headline", "schedules", "wmax"], root, "0" * 16)
    (by_hash,) = strata.values()
    assert len(by_hash) == 4 * 3 + 2 * 4 + 2 * 3  # headline, schedules (+ other schedules), wmax
    sample = C.draw_sample(by_hash, root, seed=0)
    covered = sorted(k for s in sample for k in s["strata"])
    assert covered == sorted(by_hash)
    assert len(sample) == 4 * 3 + 2  # the FD001/FD002 mse, scaled and amnl runs serve three grids
    again = C.draw_sample(by_hash, root, seed=0)
    assert [s["spec"] for s in again] == [s["spec"] for s in sample]  # a seeded draw


def test_arm_families():
    assert E.arm_family(E.TrainConfig(loss="amnl", w_max=1.0, schedule="step")) == "mse"
    assert E.arm_family(E.TrainConfig(loss="amnl", w_max=2.0)) == "amnl"
    assert E.arm_family(E.TrainConfig(loss="amnl", w_max=2.0, schedule="sigmoid")) == "amnl_schedule"
    assert E.arm_family(E.TrainConfig(loss="scaled_mse", w_max=3.0)) == "scaled_mse"


def test_a_broken_lineage_file_is_an_error(tmp_path):
    L.lineage_path(tmp_path).write_text('{"equivalences": [{"old": "a", "new": "b"}]}')
    with pytest.raises(L.LineageError, match="lacks"):
        L.equivalent_hashes("b", tmp_path)
    L.lineage_path(tmp_path).write_text("{not json")
    with pytest.raises(L.LineageError, match="git checkout"):
        L.load_lineage(tmp_path)
    with pytest.raises(ValueError, match="non-empty sample"):
        L.append_equivalence(tmp_path / "new", {"old": "a", "new": "b", "certified_at": "", "processor": {},
                                                "sample": [], "tolerance_used": False})


def test_equivalence_is_symmetric_and_transitive(tmp_path):
    for old, new in (("a", "b"), ("c", "b"), ("d", "e")):
        L.append_equivalence(tmp_path, {"old": old, "new": new, "certified_at": "t", "processor": {"model_name": "x"},
                                        "sample": [{"run": "r"}], "tolerance_used": False})
    assert L.equivalent_hashes("a", tmp_path) == {"a", "b", "c"}
    assert L.equivalent_hashes("e", tmp_path) == {"d", "e"}
    assert L.equivalent_hashes("z", tmp_path) == {"z"}
    assert [e["old"] for e in L.lineage_summary("b", tmp_path)] == ["a", "c"]


def test_a_baseline_certified_equivalent_to_the_runs_code_is_the_old_code(smoke_store, tmp_path, cmapss_dir):
    """The runs carry hash X; an earlier certification made Y ≡ X (a renovation); the baseline given
    now is that renovated code (hash Y). Its re-creations carry Y, which is the runs' code under the
    lineage, so the paired certification of the next change (hash Z) goes through."""
    store = _copy_store(smoke_store, tmp_path / "store")
    _made_elsewhere(store)
    renovated = _package_copy(tmp_path / "renovated", _move_ramp_slope)
    first = _engine(renovated, "certify", "--grid", "smoke", "--results", str(store), "--baseline", str(PACKAGE.parent),
                    "--work", str(tmp_path / "w1"), cmapss_dir=cmapss_dir)
    assert first.returncode == 0, first.stderr
    x, y = R.code_hash(), _hash_of(renovated)

    def _renovate_again(pkg: Path) -> None:
        _move_ramp_slope(pkg)
        constants = pkg / "core" / "constants.py"
        constants.write_text(constants.read_text() + "\n_NO_NUMBER_CHANGES = None\n")

    nxt = _package_copy(tmp_path / "next", _renovate_again)
    z = _hash_of(nxt)
    assert len({x, y, z}) == 3
    # the runs still carry X; the lineage says X ≡ Y; Z is certified with the renovated code (Y) as baseline
    out = _engine(nxt, "certify", "--grid", "smoke", "--results", str(store), "--baseline", str(renovated),
                  "--work", str(tmp_path / "w2"), cmapss_dir=cmapss_dir)
    assert out.returncode == 0, out.stderr
    entries = L.load_lineage(store)
    assert (entries[-1]["old"], entries[-1]["new"]) == (x, z) and entries[-1]["methods"] == ["paired"]
    assert all(r["baseline_identical"] for r in entries[-1]["sample"])
    assert L.equivalent_hashes(z, store) == {x, y, z}
