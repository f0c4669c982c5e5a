"""Real servers on 127.0.0.1 for the remote-store tests and benchmarks.

* :class:`FaultyHTTPServer`: a threaded HTTP server over a directory that answers ``GET``
  (with ``Range``) and ``HEAD``, and can wait before each answer, answer with an error,
  close the connection mid-body or hang, for requests whose path matches a pattern.
* :func:`moto_s3`: moto's standalone S3 server (``moto[server]``), a real S3-protocol
  endpoint, with the ``storage_options`` s3fs needs to reach it.
* :func:`gcs_emulator`: ``gcp-storage-emulator``, a GCS JSON-API server, with the
  ``storage_options`` gcsfs needs to reach it.

Nothing on the client side is replaced: chunkzip, fsspec, s3fs and aiohttp talk to these
servers over sockets.
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import unquote, urlsplit


class Faults:
    """What the server does wrong, for requests whose path matches ``pattern``.

    ``mode``: ``"status"`` (answer ``status``), ``"close"`` (send half the body, then close),
    ``"hang"`` (wait ``hang`` seconds before answering); ``times`` faulty answers, then
    good ones again (-1: forever).
    """

    def __init__(self) -> None:
        self.delay = 0.0
        self.pattern: str | None = None
        self.mode = "status"
        self.status = 500
        self.hang = 5.0
        self.times = 0
        self.lock = threading.Lock()
        self.requests: list[str] = []  # paths asked for, in order
        self.inflight = 0
        self.max_inflight = 0  # most requests answered at the same time
        #: (time.perf_counter() on arrival, method, path, Range header or "") of every request
        self.log: list[tuple[float, str, str, str]] = []

    def set(self, pattern: str, mode: str = "status", times: int = -1, status: int = 500,
            hang: float = 5.0) -> None:
        with self.lock:
            self.pattern, self.mode, self.times, self.status, self.hang = pattern, mode, times, status, hang

    def clear(self) -> None:
        with self.lock:
            self.pattern, self.times = None, 0
            self.requests.clear()
            self.log.clear()
            self.max_inflight = 0

    def take(self, path: str) -> str | None:
        """The fault for this request (and count it), or None."""
        with self.lock:
            self.requests.append(path)
            if self.pattern is None or self.times == 0 or not re.search(self.pattern, path):
                return None
            if self.times > 0:
                self.times -= 1
            return self.mode


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    root = ""
    faults: Faults

    def log_message(self, *args) -> None:  # quiet
        pass

    def _file(self) -> str | None:
        rel = posixpath.normpath(unquote(urlsplit(self.path).path)).lstrip("/")
        if rel.startswith(".."):
            return None
        full = os.path.join(self.root, *rel.split("/"))
        return full if os.path.isfile(full) else None

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        faults = self.faults
        faults.log.append((time.perf_counter(), self.command, self.path, self.headers.get("Range", "")))
        # counted while the answer is held back: the client is waiting for all of these
        with faults.lock:
            faults.inflight += 1
            faults.max_inflight = max(faults.max_inflight, faults.inflight)
        try:
            if faults.delay:
                time.sleep(faults.delay)
        finally:
            with faults.lock:
                faults.inflight -= 1
        self._respond(body)

    def _respond(self, body: bool) -> None:
        faults = self.faults
        fault = faults.take(self.path)
        if fault == "hang":
            time.sleep(faults.hang)
        if fault == "status":
            self.send_response(faults.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self._file()
        if path is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        status, extra = 200, {}
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            n = len(data)
            if m and m.group(1) == "" and m.group(2):  # suffix
                lo, hi = max(n - int(m.group(2)), 0), n
            elif m and m.group(1):
                lo = int(m.group(1))
                hi = min(int(m.group(2)) + 1, n) if m.group(2) else n
            else:
                lo, hi = 0, n
            if lo >= n and n:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{n}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, extra = 206, {"Content-Range": f"bytes {lo}-{hi - 1}/{n}"}
            data = data[lo:hi]
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if not body:
            return
        if fault == "close":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients that gave up (timeouts, faults)
            super().handle_error(request, client_address)


class FaultyHTTPServer:
    """Serve ``root`` on 127.0.0.1 in a background thread; ``.url`` is its base URL."""

    def __init__(self, root: str, delay: float = 0.0) -> None:
        self.faults = Faults()
        self.faults.delay = delay
        handler = type("Handler", (_Handler,), {"root": os.fspath(root), "faults": self.faults})
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FaultyHTTPServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        """No faults, no delay, empty logs."""
        self.faults.clear()
        self.faults.delay = 0.0

    @contextlib.contextmanager
    def fresh(self) -> Iterator[None]:
        """A test's span, with the server :meth:`reset` before it and after it."""
        self.reset()
        try:
            yield
        finally:
            self.reset()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto_s3() -> Iterator[dict]:
    """Run moto's S3 server on 127.0.0.1; yield the s3fs ``storage_options`` for it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        yield {"key": "testing-key-id", "secret": "testing-secret-value",
               "client_kwargs": {"endpoint_url": endpoint, "region_name": "eu-west-1"}}
    finally:
        server.stop()


@contextlib.contextmanager
def gcs_emulator(bucket: str) -> Iterator[dict]:
    """Run ``gcp-storage-emulator`` (a GCS JSON API server, in memory) on 127.0.0.1 with
    ``bucket`` made; yield the gcsfs ``storage_options`` for it (anonymous, its endpoint).

    The emulator parses multipart uploads with Python's e-mail parser, which drops a
    final ``\r`` of the object's bytes when the client ends lines with ``\n`` (gcsfs
    does; real GCS keeps every byte). The server here reads those uploads exactly
    instead; the client side is untouched.
    """
    from gcp_storage_emulator import server as emulator
    from gcp_storage_emulator.server import create_server

    original = emulator._read_data

    def read_data(handler, query):
        content_type = handler.headers.get("Content-Type") or ""
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        if not content_type.startswith("multipart/related") or boundary is None:
            return original(handler, query)
        raw = emulator._decode_raw_data(emulator._read_raw_data(handler), handler)
        return _multipart_related(raw, boundary.group(1).encode())

    import http.server
    import types

    class Backlogged(http.server.HTTPServer):
        # one request at a time, as the emulator is written; but the default listen
        # backlog (5) drops the connections of a concurrent batch, each then waiting
        # for a 1 s SYN retransmission
        request_queue_size = 256

    port = _free_port()
    emulator._read_data = read_data
    emulator.server = types.SimpleNamespace(HTTPServer=Backlogged)  # the module's name for http.server
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
    server.start()
    try:
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "token": "anon", "project": "cz-test"}
    finally:
        server.stop()
        emulator._read_data, emulator.server = original, http.server


def _multipart_related(raw: bytes, boundary: bytes) -> dict:
    """The two parts of a ``multipart/related`` upload (JSON metadata, then the object's
    bytes, everything up to the closing delimiter), with ``\r\n`` or ``\n`` lines."""
    import json

    dash = b"--" + boundary
    nl = b"\r\n" if raw.startswith(dash + b"\r\n") else b"\n"
    start = raw.index(dash) + len(dash) + len(nl)
    meta_end = raw.index(nl + dash, start)
    meta = raw[start:meta_end].partition(nl + nl)[2]
    end = raw.rindex(nl + dash + b"--")
    head, _, content = raw[meta_end + len(nl) + len(dash) + len(nl):end].partition(nl + nl)
    ctype = re.search(rb"(?im)^content-type:[ \t]*([^\r\n;]+)", head)
    return {"meta": json.loads(meta), "content": content,
            "content-type": ctype.group(1).decode().strip() if ctype else "application/octet-stream"}


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of ``upstream`` (host, port) that, while
    ``cut_after`` is set, closes any connection whose client has sent more than that many
    bytes of a ``PUT`` request: an upload dropped mid-body, as a failing network does."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.cut_after: int | None = None
        self.cuts = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            up = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, up, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        sent, is_put = 0, False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client:
                    if data.startswith(b"PUT "):
                        sent, is_put = 0, True
                    elif data[:8].split(b" ")[0].isalpha() and data[:8].split(b" ")[0].isupper():
                        is_put = data.startswith(b"PUT ")
                    sent += len(data)
                    limit = self.cut_after
                    if is_put and limit is not None and sent > limit:
                        dst.sendall(data[: max(limit - (sent - len(data)), 0)])
                        self.cuts += 1
                        break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._stop = True
        self._sock.close()
