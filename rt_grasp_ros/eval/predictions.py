"""Prediction files: JSON lines ``{"id": "<sample id>", "text": "<model answer>"}``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rt_grasp_ros.data.records import iter_jsonl
from rt_grasp_ros.errors import DatasetError


def read_predictions(path: str | Path) -> dict[str, str]:
    """Read a predictions file into ``id -> answer text``.

    Extra keys are allowed (and ignored). Raises DatasetError naming the line of invalid
    JSON, a missing or non-text ``id``/``text``, or an id given twice.
    """
    answers: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for where, line_no, row in iter_jsonl(path, "predictions"):
        if not isinstance(row, dict):
            raise DatasetError(
                f'{where}: expected an object {{"id": ..., "text": ...}}, got {row!r}'
            )
        for key in ("id", "text"):
            if not isinstance(row.get(key), str):
                raise DatasetError(
                    f"{where}: field {key!r} must be a string, got {row.get(key)!r}"
                )
        sid = row["id"]
        if sid in answers:
            raise DatasetError(f"{where}: id {sid!r} was already given on line {first_line[sid]}")
        answers[sid] = row["text"]
        first_line[sid] = line_no
    return answers


def write_predictions(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write prediction rows (each with at least ``id`` and ``text``) as JSON lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            if not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str):
                raise ValueError(f"a prediction row needs string 'id' and 'text', got {row!r}")
            f.write(json.dumps(row) + "\n")
