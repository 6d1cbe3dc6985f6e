"""Assertion tests of the CDK app: ``infra_support`` (next to this file) synthesizes it."""

from __future__ import annotations

import sys
from pathlib import Path

# The helpers next to this file import whatever pytest's import mode (prepend or importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))
