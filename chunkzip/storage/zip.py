"""Zip file store: a whole hierarchy in one ``.zip`` file (as zarr-python's ``ZipStore``)."""
from __future__ import annotations

import os
import struct
import threading
import warnings
import zipfile
import zlib
from typing import Any, Iterable, Iterator

from .base import Store, _slice_range, validate_key

_MODES = ("r", "w", "a", "x")
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader: 30 bytes


class ZipStore(Store):
    """Keys as members of a zip file.

    Parameters
    ----------
    path : str or os.PathLike
        The zip file.
    mode : {'r', 'w', 'a', 'x'}
        ``'r'`` read only; ``'w'`` a new file (replacing one that is there); ``'a'``
        read and add to an existing file (created when missing); ``'x'`` a new file,
        failing if it exists.
    compression : int
        ``zipfile.ZIP_STORED`` (default: chunks are compressed already, and stored
        members are read in place, ranges included) or ``zipfile.ZIP_DEFLATED``, ...
    allowZip64 : bool
        Allow files over 4 GiB.

    Notes
    -----
    A zip file cannot remove or replace a member in place: writing a key again appends
    a new member that hides the old one (the file grows), and deleting a stored key
    raises ``NotImplementedError``. Close the store (or use it as a context manager) to
    write the zip's central directory; until then other readers do not see the file.
    Pickling a writable store first writes that directory, and the copy re-opens the file
    in mode ``'a'`` (never ``'w'``, which would empty it).

    Examples
    --------
    >>> import chunkzip as cz
    >>> with cz.storage.ZipStore('data.zip', mode='w') as store:  # doctest: +SKIP
    ...     cz.array([1, 2, 3], store=store)
    """

    def __init__(self, path: str | os.PathLike, mode: str = "a", compression: int = zipfile.ZIP_STORED,
                 allowZip64: bool = True) -> None:  # noqa: N803 - the zipfile/zarr-python name
        if mode not in _MODES:
            raise ValueError(f"ZipStore mode must be one of {_MODES}, got {mode!r}")
        self.path = os.path.abspath(os.fspath(path))
        self.mode = mode
        self.compression = compression
        self.allowZip64 = allowZip64
        self.read_only = mode == "r"
        self._lock = threading.RLock()
        self._zf: zipfile.ZipFile | None = zipfile.ZipFile(self.path, mode, compression=compression,
                                                           allowZip64=allowZip64)
        self._fd: int | None = None  # for positional reads of stored members (mode 'r')
        self._places: dict[str, tuple[int, int, int]] = {}  # key -> (data offset, size, crc)

    # ------------------------------------------------------------------ helpers
    def _file(self) -> zipfile.ZipFile:
        if self._zf is None:
            raise ValueError(f"{self!r} is closed")
        return self._zf

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError(f"{self!r} was opened with mode='r': it is read-only; open it with mode='a' "
                                  "to add to it")
        self._file()

    def _place(self, key: str) -> tuple[int, int, int] | None:
        """Where a stored (uncompressed) member's bytes are in the file (read-only mode only),
        or None when ``key`` is absent or compressed."""
        place = self._places.get(key)
        if place is not None:
            return place
        zf = self._file()
        info = zf.NameToInfo.get(key)
        if info is None or info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            return None
        if self._fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        head = os.pread(self._fd, _LOCAL_HEADER.size, info.header_offset)
        fields = _LOCAL_HEADER.unpack(head) if len(head) == _LOCAL_HEADER.size else None
        if fields is None or fields[0] != zipfile.stringFileHeader:
            raise zipfile.BadZipFile(f"{self.path}: bad local header for member {key!r}")
        offset = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        place = (offset, info.file_size, info.CRC)
        self._places[key] = place
        return place

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> bytes | None:
        if self.read_only:
            place = self._place(key)
            if place is not None:
                offset, size, crc = place
                data = os.pread(self._fd, size, offset)
                if len(data) != size or zlib.crc32(data) != crc:
                    raise zipfile.BadZipFile(f"{self.path}: member {key!r} is truncated or corrupt (bad CRC-32)")
                return data
        with self._lock:
            zf = self._file()
            if key not in zf.NameToInfo:
                return None
            return zf.read(key)

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        """Bytes ``[start, start + length)`` of ``key``; a stored member is read in place,
        only the bytes asked for."""
        if self.read_only:
            place = self._place(key)
            if place is not None:
                offset, size, _crc = place
                lo = max(size + start, 0) if start < 0 else min(start, size)
                hi = size if length is None else min(lo + max(length, 0), size)
                return os.pread(self._fd, hi - lo, offset + lo) if hi > lo else b""
        v = self.get(key)
        return None if v is None else _slice_range(v, start, length)

    def list_prefix(self, prefix: str) -> Iterator[str]:
        with self._lock:
            names = list(self._file().NameToInfo)  # one entry per key, duplicates collapsed
        return iter([k for k in names if k.startswith(prefix) and not k.endswith("/")])

    def list_dir(self, prefix: str) -> list[str]:
        n = len(prefix)
        return sorted({k[n:].split("/", 1)[0] for k in self.list_prefix(prefix)})

    def getsize(self, key: str = "") -> int:
        """Bytes of member ``key``; for a path that is no member (``""`` for the root),
        the total below it (uncompressed sizes, from the zip directory)."""
        with self._lock:
            infos = self._file().NameToInfo
            info = infos.get(key) if key else None
            if info is not None:
                return info.file_size
            prefix = key.rstrip("/") + "/" if key else ""
            return sum(i.file_size for k, i in infos.items() if k.startswith(prefix) and not k.endswith("/"))

    def size_prefix(self, prefix: str) -> int:
        with self._lock:
            return sum(i.file_size for k, i in self._file().NameToInfo.items()
                       if k.startswith(prefix) and not k.endswith("/"))

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._file().NameToInfo

    # ------------------------------------------------------------------ writing
    def set(self, key: str, value: bytes) -> None:
        self._check_writable()
        validate_key(key)
        info = zipfile.ZipInfo(key, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = self.compression
        info.external_attr = 0o644 << 16
        with self._lock, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # a rewrite hides the old member
            self._file().writestr(info, bytes(value) if not isinstance(value, bytes) else value)

    def set_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        with self._lock:
            for k, v in items:
                self.set(k, v)

    def delete(self, key: str) -> None:
        self._check_writable()
        if key in self:
            raise NotImplementedError(f"{self!r}: a zip file cannot delete member {key!r}; copy what you keep "
                                      "to a new store instead (chunkzip.copy_store)")

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Write the central directory (writable modes) and close the file."""
        with self._lock:
            if self._zf is not None:
                self._zf.close()
                self._zf = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def flush(self) -> None:
        """Write the central directory so that other readers see every member (the store
        stays open for more writes)."""
        with self._lock:
            if self._zf is not None and not self.read_only:
                self._zf.close()
                self._zf = zipfile.ZipFile(self.path, "a", compression=self.compression,
                                           allowZip64=self.allowZip64)
                self.mode = "a"

    @property
    def closed(self) -> bool:
        return self._zf is None

    def __enter__(self) -> "ZipStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict:
        self.flush()
        return {"path": self.path, "mode": "r" if self.read_only else "a", "compression": self.compression,
                "allowZip64": self.allowZip64}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], mode=state["mode"], compression=state["compression"],
                      allowZip64=state["allowZip64"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZipStore) and other.path == self.path

    def __hash__(self) -> int:
        return hash(("zip", self.path))

    def __repr__(self) -> str:
        return f"ZipStore({self.path!r}, mode={self.mode!r})"
