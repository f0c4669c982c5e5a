"""Directory store: one file per key, written atomically."""
from __future__ import annotations

import itertools
import os
import stat
import sys
import threading
from typing import Iterator

from .base import Store, validate_key

_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_counter = itertools.count()  # next() on it is atomic under the GIL
# reads: a FIFO must not block the open; a symlink is followed (to a regular file only)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _pread(fd: int, length: int, start: int) -> bytes:
    """``length`` bytes at ``start`` (fewer at the end of the file)."""
    if length <= 0:
        return b""
    data = os.pread(fd, length, start)
    while len(data) < length:  # pread may return short reads (e.g. signals)
        more = os.pread(fd, length - len(data), start + len(data))
        if not more:
            break
        data += more
    return data


class FileRanges:
    """An open file for ranged reads (:meth:`LocalStore.open_ranges`)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size = fd, size

    def read(self, start: int, length: int | None = None) -> bytes:
        """Bytes ``[start, start + length)`` (fewer at the end of the file); a negative
        ``start`` counts from the end, ``length`` None reads to the end."""
        if start < 0:
            start = max(self.size + start, 0)
        if length is None:
            length = max(self.size - start, 0)
        return _pread(self.fd, length, start)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "FileRanges":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalStore(Store):
    """Keys as files below a root directory (``a/b/c`` → ``root/a/b/c``).

    Every write goes to a temporary file in the target directory and is moved into place
    with ``os.replace``, so a reader (or a process killed mid-write) sees the old value or
    the new one, never a torn file. Keys that would leave the root are refused.

    Parameters
    ----------
    root : str or os.PathLike
        The directory; created on the first write.
    read_only : bool
        Refuse writes.
    """

    _TMP_PREFIX = ".cztmp-"
    blocking_io = True

    def __init__(self, root: str | os.PathLike, read_only: bool = False) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.read_only = read_only
        self._made: set[str] = set()  # directories known to exist (saves a mkdir per write)

    @property
    def path(self) -> str:
        """The root directory (zarr-python 2's ``DirectoryStore.path``)."""
        return self.root

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *validate_key(key).split("/"))

    def local_paths(self, keys: list[str]) -> list[bytes]:
        """File-system paths (bytes) of ``keys``, for readers that open the files
        themselves.  The keys are *not* validated: only for keys built by chunkzip
        (a validated array prefix plus chunk indices), never for user keys."""
        root = self.root + os.sep
        if os.sep != "/":
            return [os.fsencode(root + k.replace("/", os.sep)) for k in keys]
        enc, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        return [(root + k).encode(enc, errors) for k in keys]

    def write_targets(self, keys: list[str]) -> tuple[list[bytes], bytes] | None:
        """For batch writers that create the files themselves (``_ext._write``): the
        paths of ``keys`` with their directories made (once per store), and a tag that
        makes temporary names (``.cztmp-<tag>-<name>``, hidden from listings) unique to
        this process and call.  None when the store cannot be written that way.  The
        keys are *not* validated: only for keys chunkzip builds, as :meth:`local_paths`."""
        if self.read_only or os.sep != "/":
            return None
        for d in {k.rpartition("/")[0] for k in keys}:
            directory = os.path.join(self.root, d) if d else self.root
            if directory not in self._made:
                os.makedirs(directory, exist_ok=True)
                self._check_inside(directory)
                self._made.add(directory)
        tag = f"{os.getpid()}-{threading.get_ident()}-{next(_counter)}"
        return self.local_paths(keys), tag.encode()

    def _open_value(self, key: str) -> tuple[int, os.stat_result] | None:
        """An open descriptor of file ``key`` and its stat; None when absent. A key that
        is a directory, a FIFO, a device or anything else but a regular file raises
        OSError: it is not a value, and reading it could hang or never end (FIFOs are
        opened non-blocking, so even the open cannot hang)."""
        path = self._path(key)
        try:
            fd = os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:  # (Windows) opening a directory fails
            raise IsADirectoryError(f"{self!r}: key {key!r} is a directory, not a stored value") from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(f"{self!r}: key {key!r} is a directory, not a stored value")
            if not stat.S_ISREG(st.st_mode):
                raise OSError(f"{self!r}: key {key!r} is not a regular file (a FIFO, device or socket); refused")
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def get(self, key: str) -> bytes | None:
        """The file's bytes (at most the size ``fstat`` gives); None when absent; OSError
        for what is not a regular file (see :meth:`_open_value`)."""
        return self._read(key, None)

    def get_bounded(self, key: str, max_nbytes: int) -> bytes | None:
        """As :meth:`get`, but a file larger than ``max_nbytes`` is a ValueError before
        anything is read: a huge or sparse file cannot exhaust memory."""
        return self._read(key, max_nbytes)

    def _read(self, key: str, max_nbytes: int | None) -> bytes | None:
        opened = self._open_value(key)
        if opened is None:
            return None
        fd, st = opened
        try:
            size = st.st_size
            if max_nbytes is not None and size > max_nbytes:
                raise ValueError(f"{self!r}: key {key!r} holds {size} bytes, more than a valid value can "
                                 f"({max_nbytes}); refused unread")
            data = os.read(fd, size + 1)  # one byte more than fstat said: growth shows
            if len(data) == size:
                return data
            parts = [data]
            n = len(data)
            while n <= size:
                b = os.read(fd, size + 1 - n)
                if not b:
                    break
                parts.append(b)
                n += len(b)
            if n != size:
                raise OSError(f"{self!r}: key {key!r} changed size while being read")
            return b"".join(parts)
        finally:
            os.close(fd)

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        """Bytes ``[start, start + length)`` of file ``key`` with one ``os.pread`` (a
        negative ``start`` counts from the end: one ``fstat`` more); None when absent;
        OSError for what is not a regular file."""
        return self.get_ranges([(key, start, length)])[0]

    def get_ranges(self, ranges) -> list:
        """Ranged reads in a batch: each file is opened once for all its ranges
        (consecutive ranges of one key, as a shard's inner chunks come), through the same
        regular-file check as :meth:`get`."""
        out: list = []
        fd, fd_key, size = -1, None, 0
        try:
            for key, start, length in ranges:
                if key != fd_key:
                    if fd >= 0:
                        os.close(fd)
                        fd = -1
                    fd_key = key
                    opened = self._open_value(key)
                    if opened is not None:
                        fd, size = opened[0], opened[1].st_size
                if fd < 0:
                    out.append(None)
                    continue
                if start < 0:
                    start = max(size + start, 0)
                if length is None:
                    length = max(size - start, 0)
                out.append(_pread(fd, length, start))
        finally:
            if fd >= 0:
                os.close(fd)
        return out

    def open_ranges(self, key: str) -> "FileRanges | None":
        """File ``key`` opened once (through the regular-file check of :meth:`get`) for
        several ranged reads where each depends on the one before (a shard's index, then
        its inner chunks); None when absent. Use as a context manager."""
        opened = self._open_value(key)
        return None if opened is None else FileRanges(opened[0], opened[1].st_size)

    def set(self, key: str, value: bytes) -> None:
        self._check_writable()
        self._write(self._path(key), value)

    def _write(self, path: str, value: bytes) -> None:
        """Write ``value`` to ``path`` atomically: a new temporary file in the same
        directory, then ``os.replace``.  The temporary name is unique per process and
        thread (``O_EXCL`` guards against leftovers of a crashed process with the same
        pid), which is much cheaper than ``tempfile.mkstemp``'s random names."""
        directory = os.path.dirname(path)
        if directory not in self._made:
            os.makedirs(directory, exist_ok=True)
            self._check_inside(directory)
            self._made.add(directory)
        tmp = f"{directory}{os.sep}{self._TMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{next(_counter)}"
        try:
            fd = os.open(tmp, _TMP_FLAGS, 0o666)
        except FileNotFoundError:  # removed behind our back (e.g. by another process): make it again
            os.makedirs(directory, exist_ok=True)
            fd = os.open(tmp, _TMP_FLAGS, 0o666)
        except FileExistsError:  # a leftover with our name: fall back to a random one
            import tempfile

            fd, tmp = tempfile.mkstemp(prefix=self._TMP_PREFIX, dir=directory)
        try:
            try:
                view = memoryview(value)
                if view.nbytes:
                    view = view.cast("B")
                n = os.write(fd, view)
                while n < len(view):
                    n += os.write(fd, view[n:])
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _check_inside(self, directory: str) -> None:
        """Refuse a directory that resolves outside the root (a symlinked directory in
        the store): writes and deletions must not land elsewhere."""
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(directory)
        if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
            raise PermissionError(f"{self!r}: {directory!r} resolves to {real!r}, outside the store root; "
                                  "refusing to write there")

    def delete(self, key: str) -> None:
        self._check_writable()
        path = self._path(key)
        directory = os.path.dirname(path)
        if directory not in self._made and os.path.isdir(directory):
            self._check_inside(directory)
            self._made.add(directory)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            pass

    def list_prefix(self, prefix: str) -> Iterator[str]:
        # walk only the deepest directory the prefix names
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = os.path.join(self.root, *head.split("/")) if head else self.root
        if not os.path.isdir(base):
            return
        for dirpath, _dirs, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.root)
            rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in files:
                if name.startswith(self._TMP_PREFIX):
                    continue
                key = rel + name
                if key.startswith(prefix):
                    yield key

    def remove_stale_temp_files(self, prefix: str = "", recursive: bool = True, min_age: float = 60.0) -> int:
        """Delete temporary files that killed writers left below ``prefix``; return how many.

        Only this store's own temporary names (``.cztmp-*``) are touched, and only those
        older than ``min_age`` seconds whose writer is gone: its pid (part of the name)
        no longer runs on this machine, or the file is over an hour old (a writer on
        another machine sharing the directory). ``recursive=False`` looks only in the
        directory ``prefix`` names (cheap enough for every open for writing).
        """
        import time

        head = prefix.rstrip("/")
        base = os.path.join(self.root, *head.split("/")) if head else self.root
        if not os.path.isdir(base):
            return 0
        now = time.time()
        removed = 0
        dirs = (d for d, _, _ in os.walk(base)) if recursive else iter([base])
        for directory in dirs:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for e in entries:
                if not e.name.startswith(self._TMP_PREFIX) or not e.is_file(follow_symlinks=False):
                    continue
                try:
                    age = now - e.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                if age < min_age or (age < 3600 and _pid_alive(e.name[len(self._TMP_PREFIX):].split("-", 1)[0])):
                    continue
                try:
                    os.unlink(e.path)
                    removed += 1
                except OSError:
                    pass
        return removed

    def getsize(self, key: str = "") -> int:
        """Bytes of ``key``; for a directory (``""`` for the root), the total below it."""
        path = self._path(key) if key else self.root
        if os.path.isdir(path):
            return self.size_prefix(key.rstrip("/") + "/" if key else "")
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def list_dir(self, prefix: str) -> list[str]:
        """Names directly below ``prefix``: one directory read, not a walk of the subtree
        (a group's listing then does not visit its arrays' chunk files)."""
        if prefix and not prefix.endswith("/"):
            return super().list_dir(prefix)
        base = os.path.join(self.root, *validate_key(prefix[:-1]).split("/")) if prefix else self.root
        try:
            with os.scandir(base) as it:
                entries = [e for e in it if not e.name.startswith(self._TMP_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return []
        # a directory counts only when it holds a key (deletes leave empty directories behind)
        return sorted(e.name for e in entries if not e.is_dir() or self._holds_file(e.path))

    def _holds_file(self, directory: str) -> bool:
        for _dirpath, _dirs, files in os.walk(directory):
            if any(not f.startswith(self._TMP_PREFIX) for f in files):
                return True
        return False

    def size_prefix(self, prefix: str) -> int:
        total = 0
        for k in self.list_prefix(prefix):
            try:
                total += os.path.getsize(self._path(k))
            except OSError:
                pass
        return total

    def rmdir(self, path: str = "") -> None:
        """Delete every key below ``path`` and the emptied directories."""
        super().rmdir(path)
        top = self._path(path.strip("/")) if path.strip("/") else self.root
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda t: -len(t[0])):
            if dirpath != self.root:
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        self._made.clear()

    def clear_prefix(self, prefix: str) -> None:
        """Delete every key under ``prefix`` (used by mode='w')."""
        self._check_writable()
        for key in list(self.list_prefix(prefix)):
            self.delete(key)

    def __reduce__(self) -> tuple:
        # just the root (absolute) and the mode: small, and re-opens the files anywhere
        return (type(self), (self.root, True) if self.read_only else (self.root,))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"


DirectoryStore = LocalStore


class NestedDirectoryStore(LocalStore):
    """A :class:`LocalStore` whose Zarr v2 arrays use ``/`` between chunk indices, so
    chunk ``(i, j)`` is the file ``i/j`` (zarr-python 2's ``NestedDirectoryStore``).

    Arrays created in it without ``dimension_separator=`` get ``"/"``; v3 arrays use
    ``/`` anyway.
    """

    dimension_separator = "/"


def _pid_alive(pid: str) -> bool:
    """Whether process ``pid`` (a decimal string) runs here; True when unknown."""
    if not pid.isdigit():
        return True  # a random mkstemp name: only the age decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True
