"""Shared test helpers: the real-format samples under events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


@pytest.fixture
def events_dir() -> Path:
    return EVENTS
