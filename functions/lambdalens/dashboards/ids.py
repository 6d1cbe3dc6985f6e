"""Stable saved-object ids and titles, derived from the index prefix only.

Importing the same objects again updates them in place (Dashboards keys saved objects by type
and id), and two pipelines with different prefixes in one Dashboards tenant keep apart:

* the index pattern is ``lambdalens-<prefix>`` (title ``<prefix>-*``);
* every other object is ``lambdalens-<prefix>-<name>``: the dashboards
  ``lambdalens-lambda-logs-overview`` and ``lambdalens-lambda-logs-function``, the saved
  searches ``…-timeouts``, ``…-invocation``, and so on.

Titles carry the prefix in brackets when it is not the default one.
"""

from __future__ import annotations

import re
from typing import Final

from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX

OVERVIEW: Final = "overview"
FUNCTION_DRILL_DOWN: Final = "function"

_UNSAFE: Final = re.compile(r"[^a-z0-9_.+-]")


def _slug(prefix: str) -> str:
    return _UNSAFE.sub("-", prefix.lower())


def index_pattern_id(prefix: str = DEFAULT_INDEX_PREFIX) -> str:
    """The saved-object id of the index pattern of ``<prefix>-*``."""
    return f"lambdalens-{_slug(prefix)}"


def object_id(name: str, prefix: str = DEFAULT_INDEX_PREFIX) -> str:
    """The saved-object id of the object ``name`` (a search, visualisation or dashboard)."""
    return f"{index_pattern_id(prefix)}-{name}"


def index_pattern_title(prefix: str = DEFAULT_INDEX_PREFIX) -> str:
    return f"{prefix}-*"


def title(text: str, prefix: str = DEFAULT_INDEX_PREFIX) -> str:
    """``text``, with ``[prefix]`` appended for a prefix other than the default."""
    return text if prefix == DEFAULT_INDEX_PREFIX else f"{text} [{prefix}]"
