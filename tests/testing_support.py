"""Helpers shared by tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(relative: str) -> Any:
    """A file under events/ (real-format samples), parsed."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


class FakeContext:
    """A Lambda context with a deadline (``remaining_ms`` counts down in real time)."""

    def __init__(
        self, remaining_ms: int = 60_000, request_id: str = "5e1f6d7a-0c1b-4a43-9d57-0d1d2f8f5a10"
    ) -> None:
        self._end = time.monotonic() + remaining_ms / 1000
        self.aws_request_id = request_id
        self.function_name = "lambdalens-parser"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lambdalens-parser"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))
