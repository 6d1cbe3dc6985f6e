"""The index pattern's fields: the index template's fields, their formats, the scripted fields.

* **Fields** come from :data:`lambdalens.indexing.templates.FIELD_TYPES` (the mapping of every
  daily index), typed the way Dashboards 2.x types what ``_field_caps`` reports: keyword and
  text are ``string``, numbers ``number``; only keyword, number, date and boolean fields are
  aggregatable (``body.keyword`` is the aggregatable twin of ``body``).
* **Formats**: durations in milliseconds (the Duration format), memory in MB, cost in US
  dollars, ids and messages as plain text; ``faas.invocation_id``, ``traceId`` and
  ``correlation_id`` link to the saved search of that invocation or transaction.
* **Scripted fields** (Painless, computed per document from aggregatable fields, empty outside
  REPORT documents): ``lambdalens.cold_start`` (1 or 0, shown as a percentage: its average is
  the cold-start rate), ``lambdalens.memory_utilization`` (max memory used / memory size),
  ``lambdalens.memory_used`` (shown in MB), ``lambdalens.estimated_cost_usd`` (the parser's
  price table: :mod:`lambdalens.metrics.pricing`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from lambdalens.dashboards.model import JsonObject, ScriptedField
from lambdalens.indexing.templates import FIELD_TYPES
from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable

#: OpenSearch field type -> Dashboards field type.
OSD_TYPES: Final[Mapping[str, str]] = {
    "keyword": "string",
    "text": "string",
    "date": "date",
    "double": "number",
    "integer": "number",
    "long": "number",
    "boolean": "boolean",
}
AGGREGATABLE_TYPES: Final = frozenset({"keyword", "date", "double", "integer", "long", "boolean"})
BYTES_PER_MB: Final = 1024 * 1024

DURATION_FIELDS: Final = (
    "lambda.duration_ms",
    "lambda.billed_duration_ms",
    "lambda.init_duration_ms",
    "lambda.restore_duration_ms",
    "lambda.billed_restore_duration_ms",
)
TEXT_FIELDS: Final = ("body", "exception.message", "exception.stacktrace", "log.record.uid", "spanId")

DURATION_FORMAT: Final[JsonObject] = {
    "id": "duration",
    "params": {
        "inputFormat": "milliseconds",
        "outputFormat": "asMilliseconds",
        "outputPrecision": 2,
        "showSuffix": True,
    },
}
MEGABYTES_FORMAT: Final[JsonObject] = {"id": "bytes", "params": {"pattern": "0,0.[0]b"}}
PERCENT_FORMAT: Final[JsonObject] = {"id": "percent", "params": {"pattern": "0,0.[00]%"}}
DOLLARS_FORMAT: Final[JsonObject] = {"id": "number", "params": {"pattern": "$0,0.[00000000]"}}
WHOLE_NUMBER_FORMAT: Final[JsonObject] = {"id": "number", "params": {"pattern": "0,0"}}
STRING_FORMAT: Final[JsonObject] = {"id": "string", "params": {"transform": False}}


def flat_fields() -> dict[str, str]:
    """Every mapped field and its OpenSearch type, multi-fields (``body.keyword``) included."""
    out: dict[str, str] = {}
    for name, mapping in FIELD_TYPES.items():
        out[name] = str(mapping["type"])
        for sub, sub_mapping in (mapping.get("fields") or {}).items():
            out[f"{name}.{sub}"] = str(sub_mapping["type"])
    return out


def is_aggregatable(name: str) -> bool:
    return flat_fields().get(name) in AGGREGATABLE_TYPES


def _field_spec(name: str, es_type: str, parent: str | None) -> JsonObject:
    aggregatable = es_type in AGGREGATABLE_TYPES
    spec: JsonObject = {
        "count": 0,
        "name": name,
        "type": OSD_TYPES.get(es_type, "unknown"),
        "esTypes": [es_type],
        "scripted": False,
        "searchable": True,
        "aggregatable": aggregatable,
        "readFromDocValues": aggregatable,
    }
    if parent is not None:
        spec["subType"] = {"multi": {"parent": parent}}
    return spec


#: The meta fields Dashboards lists for every index pattern (``metaFields``).
META_FIELDS: Final[tuple[JsonObject, ...]] = (
    {"count": 0, "name": "_id", "type": "string", "esTypes": ["_id"], "scripted": False, "searchable": True,
     "aggregatable": True, "readFromDocValues": False},
    {"count": 0, "name": "_index", "type": "string", "esTypes": ["_index"], "scripted": False, "searchable": True,
     "aggregatable": True, "readFromDocValues": False},
    {"count": 0, "name": "_score", "type": "number", "scripted": False, "searchable": False, "aggregatable": False,
     "readFromDocValues": False},
    {"count": 0, "name": "_source", "type": "_source", "esTypes": ["_source"], "scripted": False, "searchable": False,
     "aggregatable": False, "readFromDocValues": False},
    {"count": 0, "name": "_type", "type": "string", "scripted": False, "searchable": False, "aggregatable": False,
     "readFromDocValues": False},
)  # fmt: skip


def field_specs(scripted: Iterable[ScriptedField]) -> list[JsonObject]:
    """The ``fields`` of the index pattern: meta fields, mapped fields, scripted fields."""
    specs: list[JsonObject] = [dict(m) for m in META_FIELDS]
    for name, mapping in FIELD_TYPES.items():
        specs.append(_field_spec(name, str(mapping["type"]), None))
        for sub, sub_mapping in (mapping.get("fields") or {}).items():
            specs.append(_field_spec(f"{name}.{sub}", str(sub_mapping["type"]), name))
    for f in scripted:
        specs.append(
            {"count": 0, "name": f.name, "type": "number", "scripted": True, "script": f.script, "lang": "painless",
             "searchable": True, "aggregatable": True, "readFromDocValues": False}
        )  # fmt: skip
    return specs


def _link_format(search_id: str, query: str) -> JsonObject:
    """A Url format: the value stays as it is, and links to ``search_id`` with ``query``
    (``{{value}}`` is the value). Relative to Dashboards' ``/app/``, so any base path works."""
    state = f"_g=(time:(from:now-30d,to:now))&_a=(query:(language:kuery,query:'{query}'))"
    return {
        "id": "url",
        "params": {
            "type": "a",
            "urlTemplate": f"discover#/view/{search_id}?{state}",
            "labelTemplate": "{{value}}",
        },
    }


def field_formats(
    scripted: Iterable[ScriptedField], invocation_search: str, transaction_search: str
) -> dict[str, JsonObject]:
    """``fieldFormatMap`` of the index pattern (field -> format id and params)."""
    formats: dict[str, JsonObject] = {name: DURATION_FORMAT for name in DURATION_FIELDS}
    formats.update({name: STRING_FORMAT for name in TEXT_FIELDS})
    formats["lambda.memory_size_mb"] = WHOLE_NUMBER_FORMAT
    formats["lambda.max_memory_used_mb"] = WHOLE_NUMBER_FORMAT
    formats["faas.invocation_id"] = _link_format(invocation_search, 'faas.invocation_id:"{{value}}"')
    transaction = 'traceId:"{{value}}" or correlation_id:"{{value}}"'
    formats["traceId"] = _link_format(transaction_search, transaction)
    formats["correlation_id"] = _link_format(transaction_search, transaction)
    formats.update({f.name: f.format for f in scripted})
    return formats


# --- scripted fields ------------------------------------------------------------------------

_ON_REPORT: Final = "if (doc['lambda.event_type'].size() == 0 || doc['lambda.event_type'].value != 'report') { return null; } "


def _number(value: Decimal) -> str:
    """A price as a Painless double literal (plain notation, no exponent)."""
    return format(value.normalize(), "f") if value else "0.0"


def _painless_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cost_script(prices: PriceTable = DEFAULT_PRICES, arm64: Iterable[str] = ()) -> str:
    """Painless for the estimated cost of one REPORT: billed GB-seconds at the architecture's
    price plus the request price, as :func:`lambdalens.metrics.pricing.invocation_cost` computes
    it. OpenSearch does not know a function's architecture: ``arm64`` names the functions priced
    as arm64 (``FUNCTION_ARCHITECTURES``), every other is priced as x86_64."""
    names = ", ".join(_painless_string(n) for n in sorted(set(arm64)))
    x86 = _number(prices.gb_second["x86_64"])
    arm = _number(prices.gb_second.get("arm64", prices.gb_second["x86_64"]))
    return (
        _ON_REPORT
        + "if (doc['lambda.memory_size_mb'].size() == 0) { return null; } "
        + "double billed = doc['lambda.billed_duration_ms'].size() > 0 ? doc['lambda.billed_duration_ms'].value "
        + ": (doc['lambda.duration_ms'].size() > 0 ? Math.ceil(doc['lambda.duration_ms'].value) : 0); "
        + f"def arm64 = [{names}]; "
        + "String fn = doc['faas.name'].size() > 0 ? doc['faas.name'].value : ''; "
        + f"double rate = arm64.contains(fn) ? {arm} : {x86}; "
        + "return billed / 1000.0 * (doc['lambda.memory_size_mb'].value / 1024.0) * rate "
        + f"+ {_number(prices.per_request)};"
    )


def scripted_fields(
    prices: PriceTable = DEFAULT_PRICES, arm64: Iterable[str] = ()
) -> tuple[ScriptedField, ...]:
    memory = (
        _ON_REPORT
        + "if (doc['lambda.max_memory_used_mb'].size() == 0 || doc['lambda.memory_size_mb'].size() == 0 "
        "|| doc['lambda.memory_size_mb'].value == 0) { return null; } "
    )
    return (
        ScriptedField(
            "lambdalens.cold_start",
            _ON_REPORT + "return doc['faas.coldstart'].size() > 0 && doc['faas.coldstart'].value ? 1 : 0;",
            PERCENT_FORMAT,
            "1 for an invocation that followed an init, 0 for a warm one: its average is the cold-start rate",
        ),
        ScriptedField(
            "lambdalens.memory_utilization",
            memory + "return Math.round(doc['lambda.max_memory_used_mb'].value * 10000.0 "
            "/ doc['lambda.memory_size_mb'].value) / 10000.0;",
            PERCENT_FORMAT,
            "max memory used / memory size of an invocation (as the MemoryUtilization metric)",
        ),
        ScriptedField(
            "lambdalens.memory_used",
            _ON_REPORT + "if (doc['lambda.max_memory_used_mb'].size() == 0) { return null; } "
            f"return doc['lambda.max_memory_used_mb'].value * {BYTES_PER_MB}L;",
            MEGABYTES_FORMAT,
            "max memory used by an invocation, shown in MB",
        ),
        ScriptedField(
            "lambdalens.estimated_cost_usd",
            cost_script(prices, arm64),
            DOLLARS_FORMAT,
            "estimated cost of an invocation in US dollars (the parser's EstimatedCost)",
        ),
    )


def script_fields(script: str) -> set[str]:
    """The document fields a Painless script reads (``doc['name']``)."""
    return set(re.findall(r"doc\['([^']+)'\]", script))


def as_json(value: Any) -> str:
    """JSON text as Dashboards stores JSON-in-string attributes (compact, key order kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
