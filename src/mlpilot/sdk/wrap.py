"""Track a predict function: as a decorator, or as a context manager around the call.

What a tracked call records: its inputs as features (a mapping passed positionally, and keyword
arguments; other positional arguments such as ``self`` or an array are not features), its output
as a score or a prediction, its latency in milliseconds, and — when it raises — a request with
status ``error`` and the exception's class name. The host's exception is then re-raised
unchanged. Recording never raises into the host.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter
from typing import Any, Literal, Protocol, TypeVar

__all__ = ["Call", "Output", "Track"]

F = TypeVar("F", bound=Callable[..., Any])
Output = Literal["auto", "score", "prediction"]


class _Logs(Protocol):
    def log_prediction(
        self,
        score: Any = None,
        prediction: Any = None,
        *,
        features: Mapping[str, Any] | None = None,
        entity_id: Any = None,
        model_version: str | None = None,
        latency_ms: float | None = None,
        status: str | None = None,
    ) -> None: ...

    def log_request(
        self,
        latency_ms: float | None = None,
        *,
        status: str | None = None,
        error_class: str | None = None,
        model_version: str | None = None,
    ) -> None: ...


class Call:
    """The record of one call inside ``with tracker.track(...) as call:`` — set ``score`` or
    ``prediction`` (and, if not given to ``track``, ``features`` and ``entity_id``)."""

    __slots__ = ("entity_id", "features", "model_version", "prediction", "score")

    def __init__(
        self, features: Mapping[str, Any] | None, entity_id: Any, model_version: str | None
    ) -> None:
        self.features = features
        self.entity_id = entity_id
        self.model_version = model_version
        self.score: Any = None
        self.prediction: Any = None


class Track:
    """What ``Tracker.track(...)`` returns: a decorator, and a context manager giving a Call."""

    __slots__ = ("_call", "_entity_key", "_exclude", "_logs", "_model_version", "_output",
                 "_start")  # fmt: skip

    def __init__(
        self,
        logs: _Logs,
        *,
        features: Mapping[str, Any] | None = None,
        entity_id: Any = None,
        entity_key: str | None = None,
        exclude: Iterable[str] = (),
        output: Output = "auto",
        model_version: str | None = None,
    ) -> None:
        self._logs = logs
        self._entity_key = entity_key
        self._exclude = tuple(exclude)
        self._output = output
        self._model_version = model_version
        self._call = Call(features, entity_id, model_version)
        self._start = 0.0

    # The context manager ---------------------------------------------------------------------

    def __enter__(self) -> Call:
        self._start = perf_counter()
        return self._call

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        latency_ms = (perf_counter() - self._start) * 1000.0
        call = self._call
        try:
            if kind is not None:
                if issubclass(kind, Exception):
                    self._failed(kind, latency_ms)
            elif call.score is None and call.prediction is None:
                self._logs.log_request(latency_ms, status="ok", model_version=call.model_version)
            else:
                self._logs.log_prediction(
                    call.score, call.prediction, features=call.features,
                    entity_id=call.entity_id, model_version=call.model_version,
                    latency_ms=latency_ms, status="ok",
                )  # fmt: skip
        except Exception:  # recording must never replace or hide the host's own outcome
            pass

    # The decorator ---------------------------------------------------------------------------

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def tracked_async(*args: Any, **kwargs: Any) -> Any:
                start = perf_counter()
                try:
                    result = await function(*args, **kwargs)
                except Exception as exc:
                    self._failed(type(exc), (perf_counter() - start) * 1000.0)
                    raise
                self._record(args, kwargs, result, (perf_counter() - start) * 1000.0)
                return result

            return tracked_async  # type: ignore[return-value]

        @functools.wraps(function)
        def tracked(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                self._failed(type(exc), (perf_counter() - start) * 1000.0)
                raise
            self._record(args, kwargs, result, (perf_counter() - start) * 1000.0)
            return result

        return tracked  # type: ignore[return-value]

    def _record(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any, latency_ms: float
    ) -> None:
        try:
            features: dict[str, Any] | None = None
            for arg in args:
                if isinstance(arg, Mapping):
                    features = dict(arg) if features is None else {**features, **arg}
            if kwargs:  # a fresh dict per call, no longer used by the function: ours to keep
                features = kwargs if features is None else {**features, **kwargs}
            entity = None
            if features:
                if self._entity_key is not None:
                    entity = features.pop(self._entity_key, None)
                for name in self._exclude:
                    features.pop(name, None)
            score, prediction = split_output(result, self._output)
            if score is None and prediction is None:  # an output we cannot store: the request
                self._logs.log_request(latency_ms, status="ok", model_version=self._model_version)
                return
            self._logs.log_prediction(
                score, prediction, features=features, entity_id=entity,
                model_version=self._model_version, latency_ms=latency_ms, status="ok",
            )  # fmt: skip
        except Exception:
            pass

    def _failed(self, kind: type[BaseException], latency_ms: float) -> None:
        with contextlib.suppress(Exception):
            self._logs.log_request(
                latency_ms, status="error", error_class=kind.__name__,
                model_version=self._call.model_version,
            )  # fmt: skip


def split_output(result: Any, output: Output) -> tuple[Any, Any]:
    """(score, prediction) from a predict function's result. ``auto``: a float in [0, 1] is a
    score; a bool, int, text or other float is a prediction; anything else neither."""
    if output == "score":
        return result, None
    if output == "prediction":
        return None, result
    if isinstance(result, (bool, int, str)):
        return None, result
    if isinstance(result, float):
        return (result, None) if 0.0 <= result <= 1.0 else (None, result)
    item = getattr(result, "item", None)  # a numpy scalar or a one-element array
    if callable(item) and getattr(result, "ndim", None) == 0:
        return split_output(item(), output)
    return None, None
