"""The server-side media store: files named by the sha256 of their bytes.

Used by the admin to keep uploads and generated pictures and to serve them at
``/media/<sha256>``. Writes go to a temporary name in the same file system,
are fsynced and then renamed, so a reader never sees half a file and a crash
leaves at most a stray temporary file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CacheFullError, ContentError, MediaError

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def check_sha256(sha: str) -> str:
    """The hash itself, or ``MediaError`` when it is not 64 lowercase hex digits
    (a hash is used as a file name, so nothing else may pass)."""
    if not isinstance(sha, str) or not SHA256_RE.match(sha):
        raise MediaError(f"not a sha256 hex digest: {sha!r:.80}")
    return sha


@contextmanager
def disk_errors(what: str) -> Iterator[None]:
    """Translate OSError while writing into the package's errors, once, here."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise CacheFullError(f"disk full while writing {what}") from exc
        raise ContentError(f"cannot write {what}: {exc}") from exc


def fsync_dir(path: Path) -> None:
    """Make a rename durable (the directory entry lives in the directory)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename still happened
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until everything is written (os.write may write less)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that after a crash it holds either the
    old or the new bytes, and the new ones once this returns."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class MediaStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / ".tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(exist_ok=True)

    def path(self, sha: str) -> Path:
        check_sha256(sha)
        return self.root / sha[:2] / sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def size(self, sha: str) -> int:
        try:
            return self.path(sha).stat().st_size
        except FileNotFoundError as exc:
            raise MediaError(f"no media {sha}") from exc

    def read(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError as exc:
            raise MediaError(f"no media {sha}") from exc

    def delete(self, sha: str) -> bool:
        try:
            self.path(sha).unlink()
            return True
        except FileNotFoundError:
            return False

    def hashes(self) -> Iterator[str]:
        for shard in sorted(self.root.iterdir()):
            if shard.is_dir() and len(shard.name) == 2:
                for file in sorted(shard.iterdir()):
                    if SHA256_RE.match(file.name):
                        yield file.name

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self._commit(lambda fd: (write_all(fd, data), sha)[1])
        return sha

    def put_file(self, source: Path | str, *, max_bytes: int | None = None) -> str:
        """Copy a file in, hashing while streaming (uploads may be large)."""
        try:
            src = open(source, "rb")
        except OSError as exc:
            raise MediaError(f"cannot read {source}: {exc}") from exc

        def copy(fd: int) -> str:
            digest, total = hashlib.sha256(), 0
            while chunk := src.read(CHUNK):
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise MediaError(f"{source} is larger than {max_bytes} bytes")
                digest.update(chunk)
                write_all(fd, chunk)
            return digest.hexdigest()

        with src:
            return self._commit(copy)

    def _commit(self, write: Callable[[int], str]) -> str:
        """Write through ``write(fd) -> sha`` into a temporary file, then rename
        it to its hash (or drop it when that content is already stored)."""
        with disk_errors("media"):
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with disk_errors("media"):
                try:
                    sha = write(fd)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                final = self.path(sha)
                if final.is_file():
                    tmp.unlink()
                    return sha
                final.parent.mkdir(exist_ok=True)
                os.chmod(tmp, 0o644)
                os.replace(tmp, final)
                fsync_dir(final.parent)
            return sha
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
