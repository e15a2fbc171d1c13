"""Browser tests of the dashboard: Playwright driving Debian's Chromium (never a downloaded
browser) against a real ``mlpilot serve`` process on the demo workspace.

The demo is built once for the package (``mlpilot demo``), tokens are created with
``mlpilot token create --json`` before the server starts (it then holds the workspace), and every
test gets a fresh browser context that records each URL the page requests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60  # how long the server may take to answer /healthz (a wait, not a check)


def _mlpilot(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mlpilot", "--home", str(home), *args],
        capture_output=True, text=True, check=False, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, f"mlpilot {' '.join(args)} failed: {done.stderr or done.stdout}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """The running server and the tokens made for it."""

    url: str
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlpilot serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"mlpilot serve did not answer {url}/healthz in {STARTUP_SECONDS} s")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("browser") / "demo"
    _mlpilot(home, "demo", str(home))
    tokens = {
        role: json.loads(_mlpilot(home, "token", "create", "--role", role, "--json"))["token"]
        for role in ("editor", "viewer")
    }
    port = _free_port()
    log = (home.parent / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpilot", "--home", str(home), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield Server(url, home, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# Package scope: Playwright's sync API keeps an asyncio loop running in this thread while it
# is open, which would make asyncio.run() fail in every later test of the session.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """A browser page in a fresh context, with every URL it requested and every error its
    scripts reported (console errors, uncaught exceptions, refused resources)."""

    page: Any
    requested: list[str]
    errors: list[str]


@pytest.fixture
def visit(browser: Any) -> Iterator[Visit]:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    try:
        yield Visit(page, requested, errors)
    finally:
        context.close()
