"""The HTTP transport of the client: JSON over ``urllib`` (standard library only), errors
translated to mlpilot's hierarchy."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from mlpilot.errors import (
    AlreadyExistsError,
    MlpilotError,
    NotFoundError,
    ValidationError,
    WorkspaceError,
)

__all__ = ["Transport"]

TIMEOUT_SECONDS = 120.0  # monitor reports over large stores can take a while


def _detail(body: bytes) -> str:
    """The ``detail`` of an error reply, one line (FastAPI's 422 lists field problems)."""
    try:
        detail = json.loads(body.decode("utf-8")).get("detail")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return body.decode("utf-8", "replace").strip()[:300] or "(no detail)"
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail)


class Transport:
    """Requests to one server with one token."""

    def __init__(self, uri: str, token: str | None, timeout: float = TIMEOUT_SECONDS) -> None:
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError(
                f"invalid server URI {uri!r}; expected e.g. http://127.0.0.1:8520"
            )
        self.uri = uri.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Send one request; the decoded JSON reply, or an mlpilot error."""
        params = {k: _param(v) for k, v in (query or {}).items() if v is not None}
        url = self.uri + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode("utf-8"), "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return json.loads(reply.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise self._error(exc.code, _detail(exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WorkspaceError(
                f"cannot reach the mlpilot server at {self.uri}: {reason}"
            ) from None

    def _error(self, status: int, detail: str) -> MlpilotError:
        if status == 404:
            return NotFoundError(detail)
        if status == 422:
            return ValidationError(detail)
        if status == 409:
            return AlreadyExistsError(detail)
        if status == 401:
            return WorkspaceError(
                f"the server at {self.uri} needs a valid token: set MLPILOT_TOKEN "
                "(create one with 'mlpilot token create' on the server's machine)"
            )
        if status == 403:
            return WorkspaceError(f"the server at {self.uri} refused: {detail}")
        return MlpilotError(f"the server at {self.uri} answered {status}: {detail}")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
