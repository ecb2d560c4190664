"""The README's set-up is true: the Python it states is the one the pins and the Makefile use and
the one these tests run on, ``make`` refuses another with a message, and ``make test`` rebuilds the
book only when it is stale."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _makefile_python() -> str:
    return re.search(r"^SUPPORTED_PYTHON := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)


def test_the_stated_python_is_the_pinned_and_tested_one():
    version = _makefile_python()
    readme = (ROOT / "README.md").read_text()
    assert f"**Python {version}**" in readme
    assert f"--python-version {version}" in (ROOT / "Makefile").read_text()  # how constraints.txt is resolved
    assert re.search(rf'^requires-python = ">={re.escape(version)}"$', (ROOT / "pyproject.toml").read_text(), re.M)
    # the tests run on the stated version (CI runs them through make test, in the venv make built)
    assert "%d.%d" % sys.version_info[:2] == version


@needs_make
def test_make_refuses_another_python_with_a_message(tmp_path):
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\necho 3.9\n")
    fake.chmod(0o755)
    out = subprocess.run(["make", "-C", str(ROOT), "venv", f"PYTHON={fake}", f"VENV={tmp_path / 'venv'}"],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert f"is Python 3.9; the pins are for Python {_makefile_python()}" in out.stderr
    assert not (tmp_path / "venv").exists()  # nothing half-made


@needs_make
def test_make_test_builds_the_book_only_when_it_is_stale(tmp_path):
    if not (ROOT / ".venv" / ".installed").is_file() or not (ROOT / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("needs the environment make built (.venv and node_modules)")
    built = tmp_path / ".built"

    def dry_run() -> str:
        return subprocess.run(["make", "-C", str(ROOT), "-n", "test", f"BUILT={built}"],
                              capture_output=True, text=True, check=True).stdout

    assert "jupyter-book build" in dry_run() and "building it first" in dry_run()  # never built
    built.touch()
    future = time.time() + 3600  # newer than every source
    os.utime(built, (future, future))
    plan = dry_run()
    assert "jupyter-book build" not in plan and "book in _build/html is current" in plan
    assert "-m pytest" in plan


def _quiet_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("quiet_kernel", ROOT / "tools" / "quiet_kernel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quiet_kernel_adds_its_flag_once_and_refuses_other_files(tmp_path):
    tool = _quiet_tool()
    spec = tmp_path / "kernel.json"
    spec.write_text('{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]}')
    assert tool.quiet(spec) is True and tool.quiet(spec) is False
    assert json.loads(spec.read_text())["argv"].count(tool.FLAG) == 1 and not (tmp_path / "kernel.json.tmp").exists()
    (tmp_path / "other.json").write_text('{"argv": ["something"]}')
    with pytest.raises(SystemExit, match="not an ipykernel kernelspec"):
        tool.quiet(tmp_path / "other.json")
    with pytest.raises(SystemExit, match="run `make venv`"):
        tool.quiet(tmp_path / "missing.json")


def test_the_installed_kernel_starts_without_the_transport_warning():
    """The kernel the build, nbval and run_notebooks start prints nothing on its own stderr."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except Exception:  # noqa: BLE001 - any lookup failure means the environment lacks it
        pytest.skip("no python3 kernelspec installed (make venv installs one)")
    if _quiet_tool().FLAG not in spec.argv:
        pytest.fail(f"{spec.resource_dir}/kernel.json lacks {_quiet_tool().FLAG}: run `make venv`")
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"kernel-stderr-{os.getpid()}.log"
    with open(log, "w") as err:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(stderr=err)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    text = log.read_text()
    log.unlink()
    assert "without encryption" not in text and "WARNING" not in text, text
