"""Find every number in a JSON document that does not say what it is.

- A key named ``probability…`` or ``…_probability`` holding a number (or null) needs a sibling
  ``probability_kind`` (null only for a belief recorded without its kind); one holding an
  object needs ``kind`` inside it.
- ``low`` and ``high`` need sibling ``interval_kind`` and ``level``.
- A key ending in ``_ci`` (a pair) needs ``interval_kind`` and ``level`` beside it, or an
  ``interval`` object with ``kind`` and ``level`` on an enclosing object.
"""

from __future__ import annotations

from typing import Any

__all__ = ["unlabelled"]

_LABELS = ("_kind", "_note")


def _is_probability(key: str) -> bool:
    if key.endswith(_LABELS):
        return False
    return key.startswith("probability") or key.endswith("_probability")


def _labels_interval(node: dict[str, Any]) -> bool:
    found = node.get("interval")
    nested = isinstance(found, dict) and found.get("kind") and "level" in found
    return bool(nested) or bool(node.get("interval_kind") and "level" in node)


def unlabelled(
    document: Any, path: str = "$", enclosing: tuple[dict[str, Any], ...] = ()
) -> list[str]:
    """The paths of the numbers in ``document`` that carry no label (empty when all do)."""
    found: list[str] = []
    if isinstance(document, list):
        for i, item in enumerate(document):
            found += unlabelled(item, f"{path}[{i}]", enclosing)
        return found
    if not isinstance(document, dict):
        return found
    for key, value in document.items():
        where = f"{path}.{key}"
        if _is_probability(key):
            if isinstance(value, dict):
                if not value.get("kind"):
                    found.append(where)
            elif (value is None or isinstance(value, int | float)) and (
                "probability_kind" not in document  # null: recorded without one, said so
            ):
                found.append(where)
        if key in ("low", "high") and not (document.get("interval_kind") and "level" in document):
            found.append(where)
        if key.endswith("_ci") and not any(
            _labels_interval(node) for node in (document, *enclosing)
        ):
            found.append(where)
        found += unlabelled(value, where, (document, *enclosing))
    return found
