"""Local spool: request bodies stream to disk here, hashed as they pass, never held in memory."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from gateway.errors import PayloadTooLarge


class SpoolWriter:
    """Writes one spooled object chunk by chunk, enforcing a size limit as it goes.

    The data lands in a temporary file and is moved into place by ``commit``; ``discard``
    (or an exception inside ``with``) removes it, so a failed upload leaves nothing behind.
    """

    def __init__(self, spool: Spool, relative: str, *, max_bytes: int) -> None:
        self._final = spool.root / relative
        self._final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._final.parent, prefix=".partial-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(tmp)
        self._hash = hashlib.sha256()
        self._max = max_bytes
        self.bytes = 0

    def write(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self.bytes > self._max:
            raise PayloadTooLarge(
                f"The file is larger than the limit of {self._max} bytes. Split the data into smaller files.",
                param="file",
            )
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def commit(self) -> Path:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self._final)
        return self._final

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is not None:
            self.discard()


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def writer(self, relative: str, *, max_bytes: int) -> SpoolWriter:
        return SpoolWriter(self, relative, max_bytes=max_bytes)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def remove(self, relative: str) -> None:
        target = self.root / relative
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
