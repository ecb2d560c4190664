"""Find, verify and fetch the NASA C-MAPSS files (the book's Methods page, "Data").

Where the data live, first match wins:

1. the ``data_dir`` argument;
2. the environment variable ``CMAPSS_DIR``;
3. a per-user cache folder, ``<user cache>/amnl_utils/cmapss`` (``~/.cache`` on Linux,
   ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows).

Every data file is checked against the SHA-256 sum of NASA's original (``CMAPSS_SHA256``);
the parser in :mod:`amnl_utils.cmapss` checks the shape (26 numeric columns per row) again.
:func:`fetch_cmapss` downloads NASA's archive only when files are missing; it needs the
optional packages ``pooch`` and ``tqdm`` (``pip install "amnl_utils[data]"``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from amnl_utils.core.constants import SUBSETS

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


#: NASA PCoE's current public address of "6. Turbofan Engine Degradation Simulation Data Set"
#: (a zip holding a folder with ``CMAPSSData.zip``, which holds the text files).
NASA_URL = "https://phm-datasets.s3.amazonaws.com/NASA/6.+Turbofan+Engine+Degradation+Simulation+Data+Set.zip"
#: No mirror is listed: we found none whose archive we could confirm. Pass ``urls=`` to
#: :func:`fetch_cmapss` to add one; every extracted file must still match NASA's SHA-256 sums.
CMAPSS_URLS: tuple[str, ...] = (NASA_URL,)
#: Largest archive member we agree to unpack (the biggest text file is 10.4 MB).
MAX_MEMBER_BYTES = 256 * 1024 * 1024


class ChecksumError(ValueError):
    """A C-MAPSS file exists but is not byte-for-byte NASA's original."""


class UnsafeArchiveError(ValueError):
    """An archive member's path would land outside the target folder."""


class DownloadError(OSError):
    """No URL gave a complete archive with NASA's original files."""


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

    When the location is the default one (no ``data_dir``, no ``$CMAPSS_DIR``), the folder is
    this package's own cache and missing files are downloaded into it once
    (:func:`fetch_cmapss`, with a progress bar). A folder the reader named is never filled behind
    their back: missing files there raise ``FileNotFoundError`` naming them and the folder.
    A file whose SHA-256 is wrong raises :class:`ChecksumError` naming it.
    """
    folder = resolve_data_dir(data_dir)
    names = files_for(subsets)
    missing = missing_files(folder, names)
    if missing and data_dir is None and not os.environ.get(ENV_VAR, "").strip():
        fetch_cmapss(folder)
        missing = missing_files(folder, names)
    if missing:
        raise FileNotFoundError(
            f"C-MAPSS files missing in {folder}: {', '.join(missing)}. Call "
            f"amnl_utils.cmapss.download.fetch_cmapss() to download NASA's archive there, or set "
            f"{ENV_VAR} (or data_dir=) to a folder holding the original files"
        )
    if verify:
        for name in names:
            verify_file(folder / name)
    return folder


# --------------------------------------------------------------------------- fetch


def _pooch(progress: bool) -> Any:
    try:
        import pooch  # lazy: the [data] extra, needed only to download
    except ImportError as exc:
        raise ImportError(
            "downloading C-MAPSS needs pooch (and tqdm for the progress bar): "
            'pip install "amnl_utils[data]"'
        ) from exc
    if progress:
        try:
            import tqdm  # lazy: the [data] extra, needed only to download  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                'the download progress bar needs tqdm: pip install "amnl_utils[data]" '
                "(or call fetch_cmapss(progress=False))"
            ) from exc
    return pooch


def is_unsafe_member(name: str) -> bool:
    """True if a zip member name is absolute, has a drive letter, or climbs with ``..``."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return ".." in PurePosixPath(norm).parts


def _check_members(zf: zipfile.ZipFile, label: str) -> None:
    for info in zf.infolist():
        if is_unsafe_member(info.filename):
            raise UnsafeArchiveError(
                f"{label}: refusing member {info.filename!r}, its path escapes the target folder; "
                "the archive is not NASA's — do not unpack it, download from NASA_URL instead"
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise UnsafeArchiveError(
                f"{label}: member {info.filename!r} would unpack to {info.file_size} bytes "
                f"(limit {MAX_MEMBER_BYTES}); the archive is not NASA's"
            )


def _members_by_basename(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    return {PurePosixPath(i.filename.replace("\\", "/")).name: i for i in zf.infolist() if not i.is_dir()}


def extract_cmapss_archive(
    archive: str | os.PathLike[str], target: str | os.PathLike[str], names: Iterable[str]
) -> list[Path]:
    """Unpack ``names`` (e.g. ``"train_FD001.txt"``) from NASA's archive into ``target``.

    Accepts the official nesting (outer zip → ``…/CMAPSSData.zip`` → text files) and a flat zip
    holding the text files. Every member of every zip is checked first: any path that would
    escape ``target`` (``../x``, ``/etc/x``, ``C:\\x``) makes the whole archive refused with
    :class:`UnsafeArchiveError`. Files are written under their bare names only. Returns the paths.
    """
    archive, target = Path(archive), Path(target)
    wanted = list(names)
    label = archive.name
    try:
        with zipfile.ZipFile(archive) as outer:
            _check_members(outer, label)
            members = _members_by_basename(outer)
            source, source_label, inner = outer, label, None
            if not all(n in members for n in wanted):
                zips = [i for n, i in members.items() if n.lower().endswith(".zip")]
                zips.sort(key=lambda i: PurePosixPath(i.filename).name != "CMAPSSData.zip")
                if not zips:
                    raise ValueError(
                        f"{label} holds neither the C-MAPSS text files nor CMAPSSData.zip; it is not "
                        f"NASA's archive — download it from {NASA_URL}"
                    )
                source_label = f"{label}/{zips[0].filename}"
                inner = zipfile.ZipFile(io.BytesIO(outer.read(zips[0])))
                _check_members(inner, source_label)
                source, members = inner, _members_by_basename(inner)
            try:
                lacking = [n for n in wanted if n not in members]
                if lacking:
                    raise ValueError(f"{source_label} lacks {', '.join(lacking)}; it is not NASA's complete archive")
                target.mkdir(parents=True, exist_ok=True)
                out = []
                for name in wanted:
                    dest = target / name
                    with source.open(members[name]) as src, open(dest, "xb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    out.append(dest)
                return out
            finally:
                if inner is not None:
                    inner.close()
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"{label} is not a readable zip ({exc}); the download was probably cut short — "
            "call fetch_cmapss() again"
        ) from exc


def fetch_cmapss(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    urls: Sequence[str] = CMAPSS_URLS,
    progress: bool = True,
    timeout: float = 60.0,
    archive_sha256: str | None = None,
) -> Path:
    """Make sure all twelve C-MAPSS files are in the data folder, downloading them if missing.

    The folder is ``data_dir``, else ``$CMAPSS_DIR``, else the user cache (see module doc).
    Files already there must pass their SHA-256 check (a bad one raises :class:`ChecksumError`;
    nothing is overwritten). Missing files come from the first of ``urls`` that works: the
    archive is streamed by pooch (progress bar) into a temporary folder inside the data folder,
    unpacked safely, every extracted file checked against NASA's SHA-256, and only then moved
    into place, so a failure leaves no partial file behind. ``archive_sha256`` pins the
    archive itself when known (NASA publishes none, so by default the extracted files are what
    is verified). Raises :class:`DownloadError` listing what went wrong with each URL.
    Returns the data folder.
    """
    folder = resolve_data_dir(data_dir)
    names = files_for(SUBSETS)
    for name in names:
        if (folder / name).is_file():
            verify_file(folder / name)
    missing = missing_files(folder, names)
    if not missing:
        return folder
    if not urls:
        raise ValueError("fetch_cmapss needs at least one URL to download from")
    pooch = _pooch(progress)
    folder.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    last: BaseException | None = None
    logger = pooch.get_logger()
    for url in urls:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".cmapss-download-") as tmp:
            level = logger.level
            try:
                if progress:
                    print(f"Downloading C-MAPSS from {url} into {folder}", file=sys.stderr)
                # pooch's INFO log would advise pinning the archive hash of whatever arrived; the
                # extracted files are what we verify, so keep its log to warnings
                logger.setLevel("WARNING")
                archive = pooch.retrieve(
                    url,
                    known_hash=archive_sha256 and f"sha256:{archive_sha256}",
                    fname="CMAPSS.zip",
                    path=tmp,
                    progressbar=progress,
                    downloader=pooch.HTTPDownloader(progressbar=progress, chunk_size=1 << 16, timeout=timeout),
                )
                staged = extract_cmapss_archive(archive, Path(tmp) / "staged", missing)
                for path in staged:
                    try:
                        verify_file(path)
                    except ChecksumError as exc:
                        raise ChecksumError(f"in the archive from {url}: {exc}") from None
                for path in staged:
                    os.replace(path, folder / path.name)
                return folder
            except Exception as exc:  # noqa: BLE001 - every failure is reported below, none is hidden
                failures.append(f"  {url}: {type(exc).__name__}: {exc}")
                last = exc
            finally:
                logger.setLevel(level)
    raise DownloadError(
        f"could not fetch C-MAPSS into {folder} (missing: "
        f"{'all 12 files' if len(missing) == len(names) else ', '.join(missing)}); no file was written.\n"
        + "\n".join(failures)
        + f"\nCheck the network and call fetch_cmapss() again, or download {NASA_URL} by hand, unzip "
        f"the CMAPSSData.zip inside it and point {ENV_VAR} (or data_dir=) at that folder."
    ) from last
