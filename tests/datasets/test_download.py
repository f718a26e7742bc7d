"""Download and extraction, for real: a small HTTP server on 127.0.0.1 started by the test.

The server honours ``Range`` and can be told to cut a response off mid-transfer once, so the
resume path runs over a real socket (no mock of the HTTP client). Loopback only, bounded sizes.
"""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.download import DownloadError, download, extract
from datasets.fetch import fetch_spec
from datasets.imageio import load_rgb, pixel_sha256
from datasets.paths import hr_dir
from datasets.registry import DatasetError, DatasetSpec


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files``; cuts the body after ``server.cut_at`` bytes once per path in ``server.cut``."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        body = srv.files.get(self.path)
        srv.requests.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if self.path in srv.cut:
            srv.cut.discard(self.path)
            self.wfile.write(body[start: start + srv.cut_at])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture()
def server(monkeypatch):
    """A loopback HTTP server in a thread; yields it (``.files``, ``.cut``, ``.url(path)``)."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.cut, srv.cut_at, srv.requests, srv.honour_range = {}, set(), 0, [], True
    srv.url = lambda path: f"http://127.0.0.1:{srv.server_address[1]}{path}"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _png_bytes(seed: int, size=(24, 20)) -> bytes:
    """A small random RGB PNG."""
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    """An in-memory zip archive of ``members``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_download_resumes_after_cut(server, tmp_path):
    body = os.urandom(200_000)
    server.files["/a.bin"] = body
    server.cut.add("/a.bin")
    server.cut_at = 70_000
    dest = tmp_path / "a.bin"
    with pytest.raises(DownloadError, match=r"download failed after 70000 bytes.*run the same command again"):
        download(server.url("/a.bin"), dest, hashlib.sha256(body).hexdigest(), progress=False, timeout=5)
    assert not dest.exists() and (tmp_path / "a.bin.part").stat().st_size == 70_000
    download(server.url("/a.bin"), dest, hashlib.sha256(body).hexdigest(), progress=False, timeout=5)
    assert dest.read_bytes() == body and not (tmp_path / "a.bin.part").exists()
    assert server.requests[-1] == ("/a.bin", "bytes=70000-")  # resumed, not restarted


def test_download_restarts_when_server_ignores_range(server, tmp_path):
    body = os.urandom(50_000)
    server.files["/b.bin"] = body
    server.honour_range = False
    (tmp_path / "b.bin.part").write_bytes(b"x" * 1000)  # stale partial content
    download(server.url("/b.bin"), tmp_path / "b.bin", hashlib.sha256(body).hexdigest(), progress=False)
    assert (tmp_path / "b.bin").read_bytes() == body


def test_download_checksum_mismatch_deletes(server, tmp_path):
    server.files["/c.bin"] = b"hello"
    with pytest.raises(DownloadError, match=r"c\.bin: checksum mismatch .* was deleted"):
        download(server.url("/c.bin"), tmp_path / "c.bin", "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_404_and_unreachable(server, tmp_path):
    with pytest.raises(DownloadError, match=r"HTTP 404.*--mirror"):
        download(server.url("/missing.zip"), tmp_path / "m.zip", progress=False)
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(DownloadError, match=r"cannot download .*--mirror DIR"):
        download(f"http://127.0.0.1:{port}/x.zip", tmp_path / "x.zip", progress=False, timeout=2)
    assert list(tmp_path.iterdir()) == []


def _tar_with(tmp_path: Path, add) -> Path:
    """Write a tar archive whose members are added by ``add(tarfile)``."""
    path = tmp_path / "bad.tar"
    with tarfile.open(path, "w") as tf:
        add(tf)
    return path


def _file_info(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, io.BytesIO(data)


@pytest.mark.parametrize("kind, message", [
    ("zip-dotdot", r"member '\.\./evil\.png' escapes the target"),
    ("zip-absolute", r"member '/abs\.png' has an absolute path"),
    ("tar-dotdot", r"member 'ok/\.\./\.\./evil' escapes the target"),
    ("tar-symlink", r"member 'ok/link\.png' is a link"),
    ("tar-hardlink", r"member 'ok/hard\.png' is a link"),
])
def test_extract_rejects_unsafe_members(tmp_path, kind, message):
    if kind == "zip-dotdot":
        archive = tmp_path / "bad.zip"
        archive.write_bytes(_zip_bytes({"ok/a.png": b"a", "../evil.png": b"e"}))
    elif kind == "zip-absolute":
        archive = tmp_path / "bad.zip"
        archive.write_bytes(_zip_bytes({"ok/a.png": b"a", "/abs.png": b"e"}))
    elif kind == "tar-dotdot":
        archive = _tar_with(tmp_path, lambda tf: tf.addfile(*_file_info("ok/../../evil")))
    else:
        def add(tf):
            tf.addfile(*_file_info("ok/a.png"))
            link = tarfile.TarInfo("ok/link.png" if kind == "tar-symlink" else "ok/hard.png")
            link.type = tarfile.SYMTYPE if kind == "tar-symlink" else tarfile.LNKTYPE
            link.linkname = "/etc/passwd" if kind == "tar-symlink" else "ok/a.png"
            tf.addfile(link)
        archive = _tar_with(tmp_path, add)
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match=message):
        extract(archive, out)
    assert not out.exists() and not (tmp_path / "evil.png").exists() and not (tmp_path.parent / "evil").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [archive.name]  # no temp folder left


def test_zip_symlink_member_rejected(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("ok/link.png")
        info.external_attr = (0o120777 << 16)  # S_IFLNK
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match=r"member 'ok/link\.png' is a link"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fetch_online_archive_with_resume(server, tmp_path):
    """End to end: a dataset whose archive is cut off once; the second fetch resumes and verifies."""
    pngs = {f"Tiny/HR/img{i}.png": _png_bytes(i) for i in range(3)}
    archive = _zip_bytes(pngs)
    server.files["/tiny.zip"] = archive
    server.cut.add("/tiny.zip")
    server.cut_at = len(archive) // 2
    spec = DatasetSpec(
        name="tiny_online", role="test", citation="test", kind="archive",
        files=tuple(f"img{i}.png" for i in range(3)),
        sha256={f"img{i}.png": hashlib.sha256(pngs[f"Tiny/HR/img{i}.png"]).hexdigest() for i in range(3)},
        url=server.url("/tiny.zip"), archive_sha256=hashlib.sha256(archive).hexdigest(),
        archive_subdir="Tiny/HR", mirror_subdir="Tiny/HR",
    )
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        fetch_spec(spec, None, progress=False)
    assert not hr_dir("tiny_online").exists()
    out = fetch_spec(spec, None, progress=False)
    assert sorted(p.name for p in out.glob("*.png")) == ["img0.png", "img1.png", "img2.png"]
    for i in range(3):
        assert pixel_sha256(load_rgb(out / f"img{i}.png")) == pixel_sha256(
            np.asarray(Image.open(io.BytesIO(pngs[f"Tiny/HR/img{i}.png"]))))
    assert [r[1] for r in server.requests] == [None, f"bytes={len(archive) // 2}-"]


def test_fetch_online_tgz_with_other_suffix(server, tmp_path):
    """Like BSD200: the archive ships JPEGs under a subfolder; pixel checksums verify the PNGs."""
    rng = np.random.default_rng(5)
    jpgs, pix = {}, {}
    for i in range(2):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)).save(buf, "JPEG", quality=80)
        jpgs[f"{i}"] = buf.getvalue()
        pix[f"{i}"] = pixel_sha256(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        for stem, data in jpgs.items():
            info = tarfile.TarInfo(f"B/images/train/{stem}.jpg")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    server.files["/b.tgz"] = tgz.getvalue()
    spec = DatasetSpec(name="tiny_tgz", role="train", citation="test", kind="archive",
                       files=("0.png", "1.png"), sha256={"0.png": "0" * 64, "1.png": "0" * 64},
                       pixel_sha256=pix, url=server.url("/b.tgz"), archive_subdir="B/images/train",
                       mirror_subdir="B", archive_suffix=".jpg")
    out = fetch_spec(spec, None, progress=False)
    assert [pixel_sha256(load_rgb(out / f"{s}.png")) for s in "01"] == [pix["0"], pix["1"]]
