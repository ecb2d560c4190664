"""Where and with what a run was made: the git commit, library versions and the processor."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

#: The fields of :func:`cpu_fingerprint` that name a processor *kind*. The feature-flag hash is left
#: out: virtual machines of one kind expose slightly different flag lists (a hypervisor flag or two)
#: while running the same kernels; whether bits match is what ``verify`` and ``certify`` measure.
PROCESSOR_KIND: tuple[str, ...] = ("vendor", "model_name", "family_model_stepping")


def git_commit() -> str:
    """``git rev-parse HEAD`` of the package's repository, ``"unknown"`` outside one.

    ``"+dirty"`` is appended when ``amnl_utils/`` has uncommitted changes, so a result file never
    claims a commit whose code it was not produced by.
    """
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, cwd=here)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10, cwd=here
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    return commit + ("+dirty" if status.returncode == 0 and status.stdout.strip() else "")


def environment() -> dict[str, str]:
    """Library versions and platform, for the result files."""
    import torch  # lazy: provenance is read without torch (e.g. by `status`)

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpu_count": str(os.cpu_count()),
    }


def cpu_fingerprint() -> dict[str, str]:
    """The processor a run was made on: vendor, model name, family / model / stepping and a short
    hash of its feature flags (Linux ``/proc/cpuinfo``; elsewhere what :mod:`platform` knows).

    Floating-point kernels are chosen per processor, so the same code and seed give the same bits
    only on the same processor: two CPUs that differ here may drift apart in the last bit from the
    first step on, and a whole run then diverges (different passes selected)."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    flags = " ".join(sorted(info.get("flags", "").split()))
    return {
        "vendor": info.get("vendor_id", platform.machine()),
        "model_name": info.get("model name", platform.processor() or "unknown"),
        "family_model_stepping": "/".join(info.get(k, "?") for k in ("cpu family", "model", "stepping")),
        "flags_sha256": hashlib.sha256(flags.encode()).hexdigest()[:12] if flags else "unknown",
    }


def now() -> str:
    """The time in UTC, to the second, as ISO 8601 (the result files' timestamps)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def same_processor_kind(a: dict | None, b: dict | None) -> bool | None:
    """Whether two :func:`cpu_fingerprint` dicts name the same processor kind (:data:`PROCESSOR_KIND`);
    ``None`` when either is unknown (result files made before the fingerprint was recorded)."""
    if not a or not b:
        return None
    return all(a.get(k) == b.get(k) for k in PROCESSOR_KIND)
