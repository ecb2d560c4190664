"""Find / verify / fetch, end to end against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from amnl_utils.cmapss import download as dl

pytest.importorskip("pooch", reason='fetch_cmapss needs pooch: pip install "amnl_utils[data]"')

FOLDER = "6. Turbofan Engine Degradation Simulation Data Set"


def _nested_archive(
    files: dict[str, bytes], extra_inner: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_STORED
) -> bytes:
    """Outer zip → ``<FOLDER>/CMAPSSData.zip`` → the text files, as NASA ships them."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", compression, compresslevel=1 if compression else None) as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)
        for name, blob in (extra_inner or {}).items():
            zf.writestr(name, blob)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{FOLDER}/CMAPSSData.zip", inner.getvalue())
    return outer.getvalue()


@pytest.fixture(scope="module")
def real_files(cmapss_dir: Path) -> dict[str, bytes]:
    return {name: (cmapss_dir / name).read_bytes() for name in dl.CMAPSS_SHA256}


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        if path.startswith("/cut/"):  # announce the full length, send half, hang up
            blob = self.routes.get(path[len("/cut") :], b"")
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob[: len(blob) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if path not in self.routes:
            self.send_error(404)
            return
        blob = self.routes[path]
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(blob)))
        self.end_headers()
        self.wfile.write(blob)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(real_files: dict[str, bytes]) -> Iterator[tuple[str, dict[str, bytes]]]:
    routes: dict[str, bytes] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    good = _nested_archive(real_files, compression=zipfile.ZIP_DEFLATED)
    routes["/good.zip"] = good
    routes["/truncated.zip"] = good[: len(good) // 3]
    routes["/evil.zip"] = _nested_archive(real_files, {"../evil.txt": b"x"})
    routes["/absolute.zip"] = _nested_archive(real_files, {"/amnl_evil.txt": b"x"})
    routes["/no-rul.zip"] = _nested_archive({k: v for k, v in real_files.items() if k != "RUL_FD002.txt"})
    altered = dict(real_files)
    blob = bytearray(altered["test_FD003.txt"])
    blob[500] = ord("9") if blob[500] != ord("9") else ord("8")
    altered["test_FD003.txt"] = bytes(blob)
    routes["/altered.zip"] = _nested_archive(altered)
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _fetch(target: Path, *urls: str):
    return dl.fetch_cmapss(target, urls=urls, progress=False, timeout=5)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- location


def test_location_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CMAPSS_DIR", str(tmp_path / "env"))
    assert dl.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert dl.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("CMAPSS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if os.name == "posix" and not dl.sys.platform == "darwin":
        assert dl.resolve_data_dir() == tmp_path / "cache" / "amnl_utils" / "cmapss"
    assert dl.resolve_data_dir().parts[-2:] == ("amnl_utils", "cmapss")


def test_find_reports_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing in .*train_FD001\.txt.*fetch_cmapss"):
        dl.find_cmapss(tmp_path, ("FD001",))


def test_default_cache_is_filled_but_a_named_folder_is_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fetched: list[Path] = []
    monkeypatch.setattr(dl, "fetch_cmapss", lambda folder: fetched.append(Path(folder)))
    monkeypatch.setattr(dl, "user_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv("CMAPSS_DIR", raising=False)
    # default location: the cache is filled (here the fake fetch writes nothing, so still missing)
    with pytest.raises(FileNotFoundError, match="missing in"):
        dl.find_cmapss(subsets=("FD001",))
    assert fetched == [tmp_path / "cache"]
    # a folder the reader named (argument or CMAPSS_DIR) is never downloaded into
    with pytest.raises(FileNotFoundError):
        dl.find_cmapss(tmp_path / "mine", ("FD001",))
    monkeypatch.setenv("CMAPSS_DIR", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError):
        dl.find_cmapss(subsets=("FD001",))
    assert fetched == [tmp_path / "cache"]


def test_real_files_verify(cmapss_dir: Path) -> None:
    assert dl.find_cmapss(cmapss_dir) == cmapss_dir
    assert len(dl.CMAPSS_SHA256) == 12


def test_flipped_byte_names_file(cmapss_dir: Path, tmp_path: Path) -> None:
    for name in dl.files_for(("FD002",)):
        shutil.copyfile(cmapss_dir / name, tmp_path / name)
    path = tmp_path / "RUL_FD002.txt"
    blob = bytearray(path.read_bytes())
    blob[0] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(dl.ChecksumError, match=r"RUL_FD002\.txt in .*SHA-256 mismatch.*expected c851dd96a6ea"):
        dl.find_cmapss(tmp_path, ("FD002",))


def test_unsafe_member_names() -> None:
    for bad in ("../x", "a/../../x", "/etc/passwd", "C:\\x", "..\\x", "a\\..\\..\\x"):
        assert dl.is_unsafe_member(bad), bad
    for ok in ("CMAPSSData/train_FD001.txt", "6. Turbofan Engine/CMAPSSData.zip", "x..y.txt"):
        assert not dl.is_unsafe_member(ok), ok


# --------------------------------------------------------------------------- fetch end to end


def test_fetch_good_archive(server, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "data"
    assert _fetch(target, f"{base}/good.zip") == target
    assert _listing(target) == sorted(dl.CMAPSS_SHA256)  # no archive, no temp folder left
    dl.find_cmapss(target)
    # a second call finds everything in place and downloads nothing (no URL is reachable)
    assert _fetch(target, f"{base}/missing.zip") == target


def test_fetch_only_missing_files_and_falls_back(server, cmapss_dir: Path, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "partial"
    target.mkdir()
    shutil.copyfile(cmapss_dir / "train_FD001.txt", target / "train_FD001.txt")
    _fetch(target, f"{base}/nowhere.zip", f"{base}/good.zip")  # first URL 404s, mirror works
    assert _listing(target) == sorted(dl.CMAPSS_SHA256)


def test_fetch_refuses_corrupt_existing_file(server, cmapss_dir: Path, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "corrupt"
    target.mkdir()
    (target / "test_FD004.txt").write_bytes(b"1 1\n")
    with pytest.raises(dl.ChecksumError, match=r"test_FD004\.txt.*delete it"):
        _fetch(target, f"{base}/good.zip")
    assert _listing(target) == ["test_FD004.txt"]


@pytest.mark.parametrize("route", ["/evil.zip", "/absolute.zip"])
def test_fetch_refuses_path_traversal(server, tmp_path: Path, route: str) -> None:
    base, _ = server
    target = tmp_path / "t" / "data"
    with pytest.raises(dl.DownloadError, match=r"UnsafeArchiveError.*escapes the target folder"):
        _fetch(target, base + route)
    assert _listing(target) == []
    assert not (tmp_path / "t" / "evil.txt").exists()


def test_fetch_interrupted_transfer_leaves_nothing(server, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "cut"
    with pytest.raises(dl.DownloadError, match=r"no file was written") as err:
        _fetch(target, f"{base}/cut/good.zip")
    assert f"{base}/cut/good.zip" in str(err.value), "the error must name the URL that failed"
    assert _listing(target) == []


def test_fetch_truncated_archive_leaves_nothing(server, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "trunc"
    with pytest.raises(dl.DownloadError, match=r"not a readable zip.*cut short"):
        _fetch(target, f"{base}/truncated.zip")
    assert _listing(target) == []


def test_fetch_altered_member_names_file(server, tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "altered"
    with pytest.raises(dl.DownloadError, match=r"ChecksumError.*test_FD003\.txt.*SHA-256 mismatch"):
        _fetch(target, f"{base}/altered.zip")
    assert _listing(target) == []


def test_fetch_incomplete_archive_names_lacking_file(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(dl.DownloadError, match=r"lacks RUL_FD002\.txt"):
        _fetch(tmp_path / "lack", f"{base}/no-rul.zip")
    assert _listing(tmp_path / "lack") == []


def test_archive_checksum_pin(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(dl.DownloadError, match="hash"):
        dl.fetch_cmapss(tmp_path / "pin", urls=[f"{base}/good.zip"], progress=False, timeout=5, archive_sha256="0" * 64)
    assert _listing(tmp_path / "pin") == []


def test_flat_archive_is_accepted(real_files: dict[str, bytes], tmp_path: Path) -> None:
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CMAPSSData/RUL_FD001.txt", real_files["RUL_FD001.txt"])
    out = dl.extract_cmapss_archive(archive, tmp_path / "x", ["RUL_FD001.txt"])
    assert [p.name for p in out] == ["RUL_FD001.txt"]
    dl.verify_file(out[0])
