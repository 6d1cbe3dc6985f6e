"""What ``lambdalens bootstrap`` puts into OpenSearch, as pure builders (no I/O).

* two component templates — ``<prefix>-settings`` (shards, replicas, refresh interval, field
  limit) and ``<prefix>-mappings`` (every field of docs/document-schema.md) — composed by the
  index template ``<prefix>`` for the daily indices ``<prefix>-*``;
* the ISM policy ``<prefix>-retention``: delete an index ``retention_days`` after its
  creation, optionally moving it to warm nodes first (no rollover needed: daily indices age
  by their creation date), attached to new ``<prefix>-*`` indices by its ``ism_template``;
* where fine-grained access control is on, the security roles ``lambdalens_writer`` (the
  parser) and ``lambdalens_reader`` (the CLI's search commands), and their role mappings.

:data:`FIELD_TYPES` is the mapping in one flat table, key for key the table of
docs/document-schema.md (tests check that), plus the safe-form fields the indexer adds to a
document OpenSearch rejected for its content.

Example::

    options = BootstrapOptions(index_prefix="lambda-logs", retention_days=14)
    body = ism_policy(options)  # -> {"policy": {...}} for PUT _plugins/_ism/policies/<id>
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX

#: A JSON object (request or response body).
JsonObject = dict[str, Any]

#: Where a warm index goes: ``allocation`` moves it to nodes started with
#: ``node.attr.temp: warm`` (self-managed OpenSearch); ``ultrawarm`` migrates it to
#: UltraWarm storage (Amazon OpenSearch Service; the index becomes read-only).
WarmMode = Literal["allocation", "ultrawarm"]
WARM_MODES: Final[tuple[WarmMode, ...]] = ("allocation", "ultrawarm")
WARM_NODE_ATTRIBUTE: Final = ("temp", "warm")

#: Bumped whenever a body below changes; stored as the templates' ``version``.
TEMPLATE_VERSION: Final = 1
#: Above any catch-all template (``*``, priority 0) so that ours wins for ``<prefix>-*``.
INDEX_TEMPLATE_PRIORITY: Final = 200
ISM_TEMPLATE_PRIORITY: Final = 100
DEFAULT_RETENTION_DAYS: Final = 30
DEFAULT_TOTAL_FIELDS_LIMIT: Final = 2000
DEFAULT_REFRESH_INTERVAL: Final = "5s"
#: Longest ``body`` kept in ``body.keyword``. OpenSearch counts ``ignore_above`` in UTF-16 code
#: units (a character of 4 UTF-8 bytes is two of them; a unit is at most 3 UTF-8 bytes), so what
#: it keeps is at most 24573 bytes, under Lucene's 32766-byte term limit.
BODY_KEYWORD_IGNORE_ABOVE: Final = 8191
#: Longest value kept by a keyword field (ids, names, and strings mapped dynamically).
KEYWORD_IGNORE_ABOVE: Final = 1024

WRITER_ROLE: Final = "lambdalens_writer"
READER_ROLE: Final = "lambdalens_reader"
MANAGED_BY: Final = "lambdalens bootstrap"

_INDEX_PREFIX_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,200}$")
_INTERVAL_RE: Final = re.compile(r"^(-1|\d+(nanos|micros|ms|s|m|h|d))$")
_ROLE_SUFFIX_RE: Final = re.compile(r"[^a-zA-Z0-9_-]")

KEYWORD: Final[JsonObject] = {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}
TEXT: Final[JsonObject] = {"type": "text"}
DATE: Final[JsonObject] = {"type": "date", "format": "strict_date_optional_time||epoch_millis"}
DOUBLE: Final[JsonObject] = {"type": "double"}
INTEGER: Final[JsonObject] = {"type": "integer"}
BOOLEAN: Final[JsonObject] = {"type": "boolean"}
FLAT_OBJECT: Final[JsonObject] = {"type": "flat_object"}
TEXT_WITH_KEYWORD: Final[JsonObject] = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": BODY_KEYWORD_IGNORE_ABOVE}},
}

#: Every field of a lambdalens document and its mapping (docs/document-schema.md).
FIELD_TYPES: Final[Mapping[str, JsonObject]] = {
    "@timestamp": DATE,
    "observedTimestamp": DATE,
    "body": TEXT_WITH_KEYWORD,
    "log.record.uid": KEYWORD,
    "log.record.parent_uid": KEYWORD,
    "severity.text": KEYWORD,
    "severity.number": INTEGER,
    "traceId": KEYWORD,
    "spanId": KEYWORD,
    "correlation_id": KEYWORD,
    "cloud.provider": KEYWORD,
    "cloud.account.id": KEYWORD,
    "cloud.region": KEYWORD,
    "aws.log.group": KEYWORD,
    "aws.log.stream": KEYWORD,
    "faas.name": KEYWORD,
    "faas.version": KEYWORD,
    "faas.instance": KEYWORD,
    "faas.invocation_id": KEYWORD,
    "faas.coldstart": BOOLEAN,
    "service.name": KEYWORD,
    "lambda.event_type": KEYWORD,
    "lambda.status": KEYWORD,
    "lambda.outcome": KEYWORD,
    "lambda.phase": KEYWORD,
    "lambda.runtime_version": KEYWORD,
    "lambda.runtime_version_arn": KEYWORD,
    "lambda.init_id": KEYWORD,
    "lambda.duration_ms": DOUBLE,
    "lambda.billed_duration_ms": DOUBLE,
    "lambda.init_duration_ms": DOUBLE,
    "lambda.restore_duration_ms": DOUBLE,
    "lambda.billed_restore_duration_ms": DOUBLE,
    "lambda.memory_size_mb": INTEGER,
    "lambda.max_memory_used_mb": INTEGER,
    "exception.type": KEYWORD,
    "exception.message": TEXT,
    "exception.stacktrace": TEXT,
    "exception.fingerprint": KEYWORD,
    "attributes": FLAT_OBJECT,
    # Written by the parser when a line could not be parsed (the document keeps its body).
    "lambda.parse_error": TEXT,
    # The safe form of a document OpenSearch rejected for its content: the reason, and the
    # structured attributes as one string (searchable, but never a mapping conflict again).
    "lambda.rejection": KEYWORD,
    "attributes_raw": TEXT,
    # A message longer than MAX_BODY_CHARS, cut for indexing (the whole of it is dead-lettered).
    "lambda.truncated": BOOLEAN,
    "lambda.original_length": INTEGER,
}

#: Fields the parser or the indexer writes that docs/document-schema.md does not list.
FIELDS_BEYOND_SCHEMA_DOC: Final[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class BootstrapOptions:
    """Everything bootstrap creates depends on these; invalid values raise :class:`ValueError`.

    ``shards``, ``replicas`` and ``refresh_interval`` may be ``None`` to leave the cluster's
    default (OpenSearch Serverless rejects them). ``parser_role_arn`` is the IAM role of the
    parser Lambda, mapped to :data:`WRITER_ROLE` as a backend role where fine-grained access
    control is on; ``reader_backend_roles`` are mapped to :data:`READER_ROLE`.
    """

    index_prefix: str = DEFAULT_INDEX_PREFIX
    retention_days: int = DEFAULT_RETENTION_DAYS
    warm_after_days: int | None = None
    warm_mode: WarmMode = "allocation"
    shards: int | None = 1
    replicas: int | None = 1
    refresh_interval: str | None = DEFAULT_REFRESH_INTERVAL
    total_fields_limit: int = DEFAULT_TOTAL_FIELDS_LIMIT
    parser_role_arn: str | None = None
    reader_backend_roles: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _INDEX_PREFIX_RE.match(self.index_prefix):
            raise ValueError(
                f"index prefix must be a lowercase OpenSearch index name, got {self.index_prefix!r}"
            )
        if isinstance(self.retention_days, bool) or self.retention_days < 1:
            raise ValueError(f"retention days must be 1 or more, got {self.retention_days!r}")
        if self.warm_after_days is not None and not 1 <= self.warm_after_days < self.retention_days:
            raise ValueError(
                f"warm-after days must be between 1 and the retention ({self.retention_days}) - 1, "
                f"got {self.warm_after_days!r}"
            )
        if self.warm_mode not in WARM_MODES:
            raise ValueError(f"warm mode must be one of {', '.join(WARM_MODES)}, got {self.warm_mode!r}")
        if self.shards is not None and self.shards < 1:
            raise ValueError(f"shards must be 1 or more, got {self.shards!r}")
        if self.replicas is not None and self.replicas < 0:
            raise ValueError(f"replicas must be 0 or more, got {self.replicas!r}")
        if self.refresh_interval is not None and not _INTERVAL_RE.match(self.refresh_interval):
            raise ValueError(
                f"refresh interval must be a time value such as 5s or 1m (or -1), got {self.refresh_interval!r}"
            )
        if self.total_fields_limit < len(FIELD_TYPES) + 50:
            raise ValueError(
                f"total fields limit must leave room for the schema, got {self.total_fields_limit!r}"
            )
        if self.parser_role_arn is not None and not self.parser_role_arn.strip():
            raise ValueError("parser role ARN must not be empty")

    @property
    def index_pattern(self) -> str:
        return f"{self.index_prefix}-*"

    @property
    def settings_component(self) -> str:
        return f"{self.index_prefix}-settings"

    @property
    def mappings_component(self) -> str:
        return f"{self.index_prefix}-mappings"

    @property
    def index_template(self) -> str:
        return self.index_prefix

    @property
    def ism_policy_id(self) -> str:
        return f"{self.index_prefix}-retention"

    @property
    def writer_role(self) -> str:
        """``lambdalens_writer``; ``lambdalens_writer_<prefix>`` for another prefix, so that two
        pipelines in one cluster do not overwrite each other's role."""
        return _role_name(WRITER_ROLE, self.index_prefix)

    @property
    def reader_role(self) -> str:
        return _role_name(READER_ROLE, self.index_prefix)


def _role_name(base: str, prefix: str) -> str:
    if prefix == DEFAULT_INDEX_PREFIX:
        return base
    return f"{base}_{_ROLE_SUFFIX_RE.sub('_', prefix)}"


def _meta(what: str) -> JsonObject:
    return {"managed_by": MANAGED_BY, "description": what, "schema": "docs/document-schema.md"}


def nest(flat: Mapping[str, JsonObject]) -> JsonObject:
    """``{"a.b": m}`` -> ``{"a": {"properties": {"b": m}}}``: the object form OpenSearch
    stores (documents use dotted keys; OpenSearch expands them into these objects)."""
    properties: JsonObject = {}
    for name, mapping in flat.items():
        *parents, leaf = name.split(".")
        level = properties
        for parent in parents:
            node = level.setdefault(parent, {"properties": {}})
            if "properties" not in node:
                raise ValueError(f"field {name!r} is below {parent!r}, which is not an object")
            level = node["properties"]
        if leaf in level:
            raise ValueError(f"field {name!r} is mapped twice")
        level[leaf] = _copy(mapping)
    return properties


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def mappings() -> JsonObject:
    """The mappings of a lambdalens index: the schema's fields, and any other string as a
    ``keyword`` (not the default ``text`` + ``.keyword`` pair, which doubles the cost)."""
    return {
        "dynamic": True,
        "date_detection": False,
        "numeric_detection": False,
        "dynamic_templates": [
            {
                "strings_as_keyword": {
                    "match_mapping_type": "string",
                    "mapping": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE},
                }
            }
        ],
        "properties": nest(FIELD_TYPES),
    }


def index_settings(options: BootstrapOptions) -> JsonObject:
    """The ``index`` settings object (``None`` options are left to the cluster default)."""
    index: JsonObject = {}
    if options.shards is not None:
        index["number_of_shards"] = options.shards
    if options.replicas is not None:
        index["number_of_replicas"] = options.replicas
    if options.refresh_interval is not None:
        index["refresh_interval"] = options.refresh_interval
    index["mapping"] = {"total_fields": {"limit": options.total_fields_limit}}
    return {"index": index}


def settings_component_template(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _component_template/<prefix>-settings``."""
    return {
        "template": {"settings": index_settings(options)},
        "version": TEMPLATE_VERSION,
        "_meta": _meta(f"index settings of {options.index_pattern}"),
    }


def mappings_component_template(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _component_template/<prefix>-mappings``."""
    return {
        "template": {"mappings": mappings()},
        "version": TEMPLATE_VERSION,
        "_meta": _meta(f"field mappings of {options.index_pattern}"),
    }


def index_template(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _index_template/<prefix>``: the two component templates for ``<prefix>-*``."""
    return {
        "index_patterns": [options.index_pattern],
        "composed_of": [options.settings_component, options.mappings_component],
        "priority": INDEX_TEMPLATE_PRIORITY,
        "version": TEMPLATE_VERSION,
        "_meta": _meta(f"lambdalens log documents, one index per day ({options.index_pattern})"),
    }


def _warm_action(mode: WarmMode) -> JsonObject:
    if mode == "ultrawarm":
        return {"warm_migration": {}}
    attribute, value = WARM_NODE_ATTRIBUTE
    return {"allocation": {"require": {attribute: value}, "wait_for": False}}


def ism_policy(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _plugins/_ism/policies/<prefix>-retention``.

    States ``hot`` (-> ``warm`` after ``warm_after_days`` when set) -> ``delete`` after
    ``retention_days``. Ages count from the index's creation, so no rollover is needed.
    """
    delete_after = f"{options.retention_days}d"
    to_delete = {"state_name": "delete", "conditions": {"min_index_age": delete_after}}
    states: list[JsonObject] = []
    if options.warm_after_days is None:
        states.append({"name": "hot", "actions": [], "transitions": [to_delete]})
        description = f"lambdalens: delete {options.index_pattern} indices {delete_after} after creation"
    else:
        warm_after = f"{options.warm_after_days}d"
        states.append(
            {
                "name": "hot",
                "actions": [],
                "transitions": [{"state_name": "warm", "conditions": {"min_index_age": warm_after}}],
            }
        )
        states.append(
            {"name": "warm", "actions": [_warm_action(options.warm_mode)], "transitions": [to_delete]}
        )
        description = (
            f"lambdalens: move {options.index_pattern} indices to warm ({options.warm_mode}) {warm_after} "
            f"after creation, delete them after {delete_after}"
        )
    states.append({"name": "delete", "actions": [{"delete": {}}], "transitions": []})
    return {
        "policy": {
            "description": f"{description} ({MANAGED_BY})",
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": [options.index_pattern], "priority": ISM_TEMPLATE_PRIORITY}],
        }
    }


def writer_role(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _plugins/_security/api/roles/lambdalens_writer``: what the parser needs to
    create daily indices and bulk-index into them, nothing more."""
    return {
        "description": f"lambdalens parser: writes log documents to {options.index_pattern} ({MANAGED_BY})",
        "cluster_permissions": ["cluster_monitor", "indices:data/write/bulk*"],
        "index_permissions": [
            {
                "index_patterns": [options.index_pattern],
                "allowed_actions": ["create_index", "indices:data/write/*", "indices:admin/mapping/put"],
            }
        ],
    }


def reader_role(options: BootstrapOptions) -> JsonObject:
    """Body of ``PUT _plugins/_security/api/roles/lambdalens_reader``: search the log indices
    (the CLI's search commands and Dashboards users)."""
    return {
        "description": f"lambdalens: searches log documents in {options.index_pattern} ({MANAGED_BY})",
        "cluster_permissions": ["cluster_composite_ops_ro"],
        "index_permissions": [
            {
                "index_patterns": [options.index_pattern],
                "allowed_actions": ["read", "indices:admin/mappings/get", "indices:admin/resolve/index"],
            }
        ],
    }


#: The keys ``PUT _plugins/_security/api/rolesmapping/<role>`` accepts (GET adds others).
ROLE_MAPPING_KEYS: Final = ("backend_roles", "and_backend_roles", "hosts", "users", "description")


def merged_role_mapping(existing: Mapping[str, Any] | None, backend_roles: Sequence[str]) -> JsonObject:
    """Body of ``PUT _plugins/_security/api/rolesmapping/<role>``: the existing mapping with
    ``backend_roles`` added (existing backend roles, users and hosts are kept, in order)."""
    body: JsonObject = {}
    for key in ROLE_MAPPING_KEYS:
        value = (existing or {}).get(key)
        if value is not None and value != "":
            body[key] = list(value) if isinstance(value, list) else value
    merged: list[str] = list(body.get("backend_roles", []))
    for role in backend_roles:
        if role not in merged:
            merged.append(role)
    body["backend_roles"] = merged
    body.setdefault("hosts", [])
    body.setdefault("users", [])
    return body
