"""``POST /api/v1/initiatives/{slug}/events``: production records into the event store.

The hot path stays cheap: the body is read with a size limit, parsed by orjson (or read as an
Arrow IPC stream), validated a column at a time into Arrow tables (server/records.py), and handed
to the single writer (server/writer.py), which answers once the batch is committed. No
per-record model objects anywhere.
"""

from __future__ import annotations

import asyncio
import queue
import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from mlpilot.errors import WorkspaceError
from mlpilot.server.auth import Action, access
from mlpilot.server.records import RECORD_TYPES, Batch, from_records
from mlpilot.server.records_arrow import from_arrow
from mlpilot.server.writer import IngestWriter

__all__ = ["ARROW_STREAM", "MAX_BODY_BYTES", "ingest_router"]

MAX_BODY_BYTES = 8 * 1024 * 1024  # the default; app.state.ingest_max_bytes overrides it
INFLATE_FACTOR = 4  # a gzip body may inflate to this many times the limit
ARROW_STREAM = "application/vnd.apache.arrow.stream"

ingest_router = APIRouter(tags=["ingest"])


_RECORD_SCHEMA = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(RECORD_TYPES)},
        "id": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "features": {"type": "object"},
    },
    "additionalProperties": True,
}
_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["records"],
                    "properties": {"records": {"type": "array", "items": _RECORD_SCHEMA}},
                }
            },
            ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_REPLY = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {"type": "array", "items": {"type": "object"}},
    },
}


@ingest_router.post(
    "/initiatives/{slug}/events",
    dependencies=[Depends(access(Action.INGEST))],
    openapi_extra=_OPENAPI,
    responses={
        200: {"description": "Committed", "content": {"application/json": {"schema": _REPLY}}},
        400: {"description": "The body cannot be read"},
        404: {"description": "No such initiative"},
        413: {"description": "The body is over the size limit"},
        429: {"description": "The writer's queue is full; retry after Retry-After seconds"},
        503: {"description": "The event store could not commit; nothing was stored, retry"},
    },
)
async def ingest_events(slug: str, request: Request) -> Response:
    """Store a batch of typed records (JSON or Arrow IPC); the reply comes after the commit and
    names every rejected record and why."""
    state = request.app.state
    limit = int(getattr(state, "ingest_max_bytes", MAX_BODY_BYTES))
    body = await _read(request, limit)  # each step raises HTTPException: 400, 404 or 413
    _check_initiative(state, slug)
    batch = _parse(request, body, limit)
    writer: IngestWriter = state.writer
    try:
        future = writer.submit(slug, batch)
    except WorkspaceError as exc:  # the server is shutting down
        return JSONResponse({"detail": str(exc)}, status_code=503)
    except queue.Full:
        wait = writer.retry_after()
        return JSONResponse(
            {"detail": f"the ingest queue is full; retry in {wait} s"},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    try:
        outcome = await asyncio.wrap_future(future)
    except Exception as exc:  # rolled back: nothing of the batch is stored, a retry is safe
        return JSONResponse(
            {"detail": f"the event store could not store the batch; retry ({exc})"},
            status_code=503,
        )
    reply = {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
    }
    return Response(orjson.dumps(reply), media_type="application/json")


async def _read(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_initiative(state: Any, slug: str) -> None:
    """404 for an unknown initiative (known ones are remembered: initiatives are not deleted)."""
    known: set[str] | None = getattr(state, "ingest_known", None)
    if known is None:
        known = state.ingest_known = set()
    if slug in known:
        return
    from mlpilot.errors import MlpilotError

    try:
        state.workspace.store.charter(slug)
    except MlpilotError as exc:
        raise HTTPException(404, str(exc)) from None
    known.add(slug)


def _parse(request: Request, body: bytes, limit: int) -> Batch:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body, limit * INFLATE_FACTOR)
    elif encoding not in ("identity", ""):
        raise HTTPException(400, f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    content_type = request.headers.get("content-type", "application/json").lower()
    if content_type.startswith(ARROW_STREAM):
        return _arrow(body)
    if not content_type.startswith("application/json"):
        raise HTTPException(
            400,
            f"unsupported Content-Type {content_type!r}; use application/json or {ARROW_STREAM}",
        )
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from None
    records = document.get("records") if type(document) is dict else None
    if type(records) is not list:
        raise HTTPException(400, 'the body must be {"records": [...]}, a list of record objects')
    return from_records(records)


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise HTTPException(400, f"the body is not valid gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise HTTPException(413, f"the body inflates to more than {limit} bytes")
    if not inflater.eof:
        raise HTTPException(400, "the gzip body is truncated")
    return data


def _arrow(body: bytes) -> Batch:
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(body).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise HTTPException(400, f"the body is not an Arrow IPC stream: {exc}") from None
    try:
        return from_arrow(table)
    except TypeError as exc:
        raise HTTPException(400, str(exc)) from None
