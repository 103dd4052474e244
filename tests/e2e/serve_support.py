"""The real `ledger serve` for end-to-end tests: a subprocess on a free loopback port.

The server runs exactly as a user starts it (`ledger --db URL serve --port P`), in its
own process, so what it shares with the tests and with CLI imports is the database
alone. Requests go through urllib; refusals are returned, not raised.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEDGER = str(Path(sys.executable).with_name("ledger"))
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request(path, **kwargs)


@contextmanager
def running_server(url: str, *options: str, cwd: Path | None = None) -> Iterator[Server]:
    """`ledger --db URL serve --port P OPTIONS…` until the block ends (then Ctrl-C)."""
    port = free_port()
    process = subprocess.Popen(
        [LEDGER, "--db", url, "serve", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env={**os.environ, "LEDGER_USER": "server-process"},
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"ledger serve exited {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(server.base + "/api/checkpoint", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError("ledger serve did not answer in time") from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
