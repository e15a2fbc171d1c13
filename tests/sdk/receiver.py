"""A small real HTTP receiver (standard library) that speaks the ingest protocol, for the SDK's
protocol tests: it can answer 429 with Retry-After, 5xx, 4xx or slowly, on demand — failures the
real server cannot be made to produce at will. It stores records by id, as the server does."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """How to answer one request: a status, headers, a delay before answering (seconds)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reject: tuple[int, ...] = ()  # indexes of records to name as rejected in a 200 reply


@dataclass
class Hit:
    """One request as received."""

    at: float  # time.monotonic() on arrival
    status: int
    records: list[dict[str, Any]]
    headers: dict[str, str]
    path: str


class Receiver:
    """Answers POSTs with the scripted answers in order, then with ``default``."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.default = Answer()
        self.hits: list[Hit] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between header and body

            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        body = request.rfile.read(int(request.headers["Content-Length"]))
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        records = json.loads(body)["records"]
        with self.lock:
            answer = self.script.pop(0) if self.script else self.default
            self.hits.append(
                Hit(arrived, answer.status, records, dict(request.headers), request.path)
            )
        if answer.delay:
            time.sleep(answer.delay)
        reply: dict[str, Any] = {}
        if answer.status == 200:
            accepted = duplicates = 0
            rejected = []
            with self.lock:
                for index, record in enumerate(records):
                    if index in answer.reject:
                        rejected.append({"index": index, "id": record["id"], "reason": "bad"})
                    elif record["id"] in self.stored:
                        duplicates += 1
                    else:
                        self.stored[record["id"]] = record
                        accepted += 1
            reply = {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
        data = json.dumps(reply).encode()
        try:
            request.send_response(answer.status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:  # the client gave up waiting (a timeout test)
            pass

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def records(self) -> list[dict[str, Any]]:
        """Every record received, in arrival order (retries included)."""
        with self.lock:
            return [record for hit in self.hits for record in hit.records]

    def statuses(self) -> list[int]:
        with self.lock:
            return [hit.status for hit in self.hits]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
