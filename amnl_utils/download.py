"""Find, verify and fetch the NASA C-MAPSS files (SPEC §3).

Where the data live, first match wins:

1. the ``data_dir`` argument;
2. the environment variable ``CMAPSS_DIR``;
3. a per-user cache folder, ``<user cache>/amnl_utils/cmapss`` (``~/.cache`` on Linux,
   ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows).

Every data file is checked against the SHA-256 sum of NASA's original (``CMAPSS_SHA256``);
the parser in :mod:`amnl_utils.data` checks the shape (26 numeric columns per row) again.
:func:`fetch_cmapss` downloads NASA's archive only when files are missing; it needs the
optional packages ``pooch`` and ``tqdm`` (``pip install "amnl_utils[data]"``).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from amnl_utils.constants import SUBSETS

#: Environment variable that points at a folder holding the C-MAPSS text files.
ENV_VAR = "CMAPSS_DIR"

#: SHA-256 of the twelve data files of NASA's original distribution ("CMAPSSData").
CMAPSS_SHA256: dict[str, str] = {
    "RUL_FD001.txt": "a19c8ec94931949d0485bdc35118206e9c81c4547b422efb9cf86f4ceddbceca",
    "RUL_FD002.txt": "c851dd96a6ea6998d3c4a8f834d3c8013aa90e93a6ed950dc826ad0655b2906b",
    "RUL_FD003.txt": "df1e0566306b174a2de41c67a3e7a51877889598b78643fc3e5685259091b7cb",
    "RUL_FD004.txt": "196b836b85a95ac7fdbbf29c5fdf1657382eafa445644d114ffaaf50dc2975e1",
    "test_FD001.txt": "3cda7109ce17bafb5443f2ac926cfcf88154b941b8c4cf95eb55d1ddd6f52851",
    "test_FD002.txt": "de7b5bf7e998a985c378488480528b7c02cff1406a46740def362dda8d9b4e02",
    "test_FD003.txt": "299babd63c8d987cef079c4a425429f33b3a34797d803bbe2ad48c29dbd0d790",
    "test_FD004.txt": "1dc675fff0624bac10786927c6715b37d1297657137400d2b1a3138d777a3ba5",
    "train_FD001.txt": "963b5e22825b34d8b21c69e1aeb4af3e647050eb672ee8834ba4b5d91d2de0f8",
    "train_FD002.txt": "dac6c4dbc4e7c1bdeb5747da3d313d05c395bb99801b44a002b26a2ba13d788f",
    "train_FD003.txt": "2abbe9968cc5e8eb091980f51b20f62bb4127336d3482cb52071d53bf23329e2",
    "train_FD004.txt": "27ef6160b6a1dcb2613a88de9c239f763b223f02cdc41dc5cdedc5dc189b6218",
}


class ChecksumError(ValueError):
    """A C-MAPSS file exists but is not byte-for-byte NASA's original."""


def subset_files(subset: str) -> tuple[str, str, str]:
    """File names ``(train, test, RUL)`` of one subset, e.g. ``"FD001"``."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown C-MAPSS subset {subset!r}; expected one of {', '.join(SUBSETS)}")
    return (f"train_{subset}.txt", f"test_{subset}.txt", f"RUL_{subset}.txt")


def files_for(subsets: Iterable[str] = SUBSETS) -> list[str]:
    """All file names the given subsets need, in a stable order."""
    return [name for s in subsets for name in subset_files(s)]


def user_cache_dir() -> Path:
    """The per-user cache folder for the data: ``<platform cache>/amnl_utils/cmapss``.

    Follows the platform convention (as ``platformdirs``/``pooch.os_cache`` do) without
    needing either package, so the folder is the same whether or not they are installed.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "amnl_utils" / "cmapss"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder to read C-MAPSS from: ``data_dir``, else ``$CMAPSS_DIR``, else the user cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return user_cache_dir()


def sha256_file(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


# (resolved path, size, mtime_ns) of files already verified in this process: hashing 45 MB
# again on every prepare() call would dominate its run time.
_VERIFIED: set[tuple[str, int, int]] = set()


def verify_file(path: str | os.PathLike[str], expected: str | None = None) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has the SHA-256 of NASA's original.

    ``expected`` defaults to the known sum for the file's name (``CMAPSS_SHA256``).
    """
    path = Path(path)
    if expected is None:
        if path.name not in CMAPSS_SHA256:
            raise ValueError(f"{path.name} is not a C-MAPSS data file; no known SHA-256 for it")
        expected = CMAPSS_SHA256[path.name]
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return
    got = sha256_file(path)
    if got != expected:
        raise ChecksumError(
            f"{path.name} in {path.parent}: SHA-256 mismatch (got {got[:12]}…, expected "
            f"{expected[:12]}…); the file is corrupted or not the NASA original — delete it and "
            f"call fetch_cmapss() again or point {ENV_VAR} at a good copy"
        )
    _VERIFIED.add(key)


def missing_files(data_dir: Path, names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are not regular files in ``data_dir``."""
    return [n for n in names if not (data_dir / n).is_file()]


def find_cmapss(
    data_dir: str | os.PathLike[str] | None = None,
    subsets: Sequence[str] = SUBSETS,
    *,
    verify: bool = True,
) -> Path:
    """Locate the C-MAPSS folder holding ``subsets`` and (by default) verify its files.

    Raises ``FileNotFoundError`` naming the missing files and the folder searched, and
    :class:`ChecksumError` naming the first file whose SHA-256 is wrong. Downloads nothing
    (see :func:`fetch_cmapss`).
    """
    folder = resolve_data_dir(data_dir)
    names = files_for(subsets)
    missing = missing_files(folder, names)
    if missing:
        raise FileNotFoundError(
            f"C-MAPSS files missing in {folder}: {', '.join(missing)}. Call "
            f"amnl_utils.download.fetch_cmapss() to download NASA's archive there, or set "
            f"{ENV_VAR} (or data_dir=) to a folder holding the original files"
        )
    if verify:
        for name in names:
            verify_file(folder / name)
    return folder
