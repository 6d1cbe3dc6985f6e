"""What only a real OpenSearch enforces, through the parser Lambda's handler (moto's S3 for the
dead-letter bucket, the integration tier's node for OpenSearch): the daily index and ``_id``
of every document, ``flat_object`` attributes, the mapping limits (total fields, depth), mapping
conflicts, field names, Lucene's term size, write blocks, ``_id`` validation. Each test says
which documents are indexed whole, which in their safe form, which are dead-lettered.

The parser writes no top-level field of its own invention (every key of a JSON line goes into
``attributes``): with the template in place, a line cannot reach ``index.mapping.total_fields``
or ``index.mapping.depth.limit``. Where the daily index was created without the template (the
parser wrote before ``lambdalens bootstrap`` ran, or with another ``INDEX_PREFIX``), OpenSearch
maps ``attributes`` dynamically and its default limits apply: those documents go to safe form.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from lambdalens.bench.workload import kinesis_record
from lambdalens.config import OpenSearchConfig
from lambdalens.handlers import parser as parser_handler
from lambdalens.indexing.bootstrap import bootstrap
from lambdalens.indexing.bulk_body import document_id
from lambdalens.indexing.client import BulkTransport, make_client
from lambdalens.indexing.dead_letter import DeadLetter, decode_dead_letters
from lambdalens.indexing.indexer import INDEXED, SAFE_FORM, BulkIndexer
from lambdalens.indexing.safe_form import CORE_FIELDS
from lambdalens.indexing.templates import mappings
from lambdalens.retry import Deadline
from testing_support import FakeContext, load_event

BUCKET = "lambdalens-dead-letters"
SAMPLE = "logs/powertools-python-structured.json"
#: The sample's first application line: Powertools for AWS Lambda (Python), as printed.
APP_LINE = 2


@pytest.fixture
def prefix() -> str:
    return f"mapping-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(opensearch_node: Any) -> OpenSearch:
    return OpenSearch(opensearch_node.url, timeout=30)


def lambdalens_client(url: str) -> Any:
    """The client lambdalens itself makes (no retries of its own, the parser's timeouts)."""
    return make_client(OpenSearchConfig(url, auth="none", timeout_seconds=30))


@pytest.fixture
def bootstrapped(opensearch_node: Any, prefix: str) -> str:
    """``prefix``, after ``lambdalens bootstrap`` made its templates on the node."""
    bootstrap(lambdalens_client(opensearch_node.url), index_prefix=prefix, replicas=0)
    return prefix


@pytest.fixture
def env(aws_env: None, opensearch_node: Any, prefix: str) -> dict[str, str]:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return {
        "OPENSEARCH_ENDPOINT": opensearch_node.url,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": BUCKET,
        "INDEX_PREFIX": prefix,
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "LambdaLens",
        "FUNCTION_ARCHITECTURES": "{}",
    }


def deliver(env: dict[str, str], *payloads: dict[str, Any]) -> dict[str, Any]:
    """The parser Lambda's answer to one Kinesis batch of ``payloads``."""
    event = {"Records": [kinesis_record(p, i) for i, p in enumerate(payloads)]}
    return parser_handler.handle(event, FakeContext(), parser_handler.build_runtime(env))  # type: ignore[no-any-return]


def powertools_json(line: dict[str, Any]) -> str:
    """A log line as Powertools for AWS Lambda (Python) writes it: compact, UTF-8 kept."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


def with_lines(extras: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The sample's invocation with one Powertools line per ``extras`` (its first application
    line, with those keys added) in place of its own lines; and the ids of those lines."""
    payload = load_event(SAMPLE)
    events = payload["logEvents"]
    line = events[APP_LINE]
    base = json.loads(line["message"])
    added = [
        {
            "id": str(int(line["id"]) + n),
            "timestamp": line["timestamp"] + n,
            "message": powertools_json({**base, **extra}) + "\n",
        }
        for n, extra in enumerate(extras)
    ]
    payload["logEvents"] = [*events[:APP_LINE], *added, *events[-2:]]  # ... END, REPORT
    return payload, [e["id"] for e in added]


def stored(client: OpenSearch, prefix: str) -> dict[str, dict[str, Any]]:
    """Every document under ``prefix``, by event id (``log.record.uid``): ``{"_index", "_id", "_source"}``."""
    client.indices.refresh(index=f"{prefix}-*")
    hits = client.search(index=f"{prefix}-*", body={"size": 10_000, "query": {"match_all": {}}})["hits"][
        "hits"
    ]
    out = {
        h["_source"]["log.record.uid"]: {"_index": h["_index"], "_id": h["_id"], "_source": h["_source"]}
        for h in hits
    }
    assert len(out) == len(hits), "one document per event"
    return out


def safe_forms(docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """event id -> ``lambda.rejection`` of the documents indexed in their safe form."""
    return {
        i: d["_source"]["lambda.rejection"] for i, d in docs.items() if "lambda.rejection" in d["_source"]
    }


def dead_letters() -> list[DeadLetter]:
    s3 = boto3.client("s3", region_name="us-east-1")
    out: list[DeadLetter] = []
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        out.extend(decode_dead_letters(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()))
    return out


def search_ids(client: OpenSearch, prefix: str, query: dict[str, Any]) -> list[str]:
    body = {"query": query, "_source": ["log.record.uid"]}
    hits = client.search(index=f"{prefix}-*", body=body)["hits"]["hits"]
    return sorted(h["_source"]["log.record.uid"] for h in hits)


def leaf_names(properties: dict[str, Any], parent: str = "") -> set[str]:
    names: set[str] = set()
    for name, mapping in properties.items():
        if "properties" in mapping:
            names |= leaf_names(mapping["properties"], f"{parent}{name}.")
        else:
            names.add(f"{parent}{name}")
    return names


def nested(depth: int) -> dict[str, Any]:
    """``{"l1": {"l2": ... {"l<depth>": "leaf"}}}``: ``depth`` levels of objects."""
    value: Any = "leaf"
    for level in range(depth, 0, -1):
        value = {f"l{level}": value}
    return value  # type: ignore[no-any-return]


def over_midnight(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with its invocation moved to run over midnight (UTC) of 2024-05-01: the
    sample's first three events on that day, the others on the next."""
    events = payload["logEvents"]
    midnight = int(datetime(2024, 5, 2, tzinfo=UTC).timestamp() * 1000)
    shift = midnight - events[APP_LINE + 1]["timestamp"]
    for event in events:
        event["timestamp"] += shift
    return payload


def day_of(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y.%m.%d")


# -- the daily index and the _id -----------------------------------------------------------------


def test_each_event_lands_in_the_daily_index_of_its_own_time_under_its_own_id(
    env: dict[str, str], client: OpenSearch, bootstrapped: str
) -> None:
    payload = over_midnight(load_event(SAMPLE))
    events = payload["logEvents"]

    assert deliver(env, payload) == {"batchItemFailures": []}

    docs = stored(client, bootstrapped)
    assert {i: d["_index"] for i, d in docs.items()} == {
        e["id"]: f"{bootstrapped}-{day_of(e['timestamp'])}" for e in events
    }
    assert {d["_index"] for d in docs.values()} == {
        f"{bootstrapped}-2024.05.01",
        f"{bootstrapped}-2024.05.02",
    }
    assert all(d["_id"] == document_id(d["_source"]) and d["_id"].endswith(f"-{i}") for i, d in docs.items())
    for index in (f"{bootstrapped}-2024.05.01", f"{bootstrapped}-2024.05.02"):
        mapping = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        assert mapping["attributes"] == {"type": "flat_object"}, index  # both made by the template

    assert deliver(env, payload) == {"batchItemFailures": []}  # Kinesis delivers it again
    assert stored(client, bootstrapped).keys() == docs.keys()
    assert client.count(index=f"{bootstrapped}-*")["count"] == len(events)


# -- flat_object --------------------------------------------------------------------------------

#: JSON keys an object mapping refuses (OpenSearch 2.19: empty, only dots, an empty part between
#: dots, only whitespace); a flat_object takes them.
ODD_KEYS: dict[str, str] = {"": "empty", ".": "dot", "...": "dots", "a..b": "double dot", " ": "blank"}


def test_flat_object_attributes_take_any_shape_are_searchable_and_add_no_field(
    env: dict[str, str], client: OpenSearch, bootstrapped: str
) -> None:
    payload, (order, wide, deep, odd, flat_order) = with_lines(
        [
            {"order": {"id": "A-1042", "lines": [{"sku": "BK-7", "qty": 2}]}},
            {f"f{i}": i % 10 for i in range(2500)},  # beyond the 2000 fields of the template
            {"payload": nested(30)},  # beyond the depth limit of 20
            {**ODD_KEYS, "_id": "not-the-id", "_source": "not-the-source"},
            {"order": "A-1042"},  # a string where another line has an object
        ]
    )

    assert deliver(env, payload) == {"batchItemFailures": []}

    docs = stored(client, bootstrapped)
    assert docs.keys() == {e["id"] for e in payload["logEvents"]}
    assert safe_forms(docs) == {}  # every line whole, attributes and all
    for index, data in client.indices.get_mapping(index=f"{bootstrapped}-*").items():
        assert leaf_names(data["mappings"]["properties"]) == leaf_names(mappings()["properties"]), index

    def term(field: str, value: str) -> list[str]:
        return search_ids(client, bootstrapped, {"term": {field: value}})

    assert term("attributes.order.id", "A-1042") == [order]
    assert term("attributes.order.lines.sku", "BK-7") == [order]
    assert term("attributes.order.lines.qty", "2") == [order]  # values are keywords: "2"
    assert term("attributes.order", "A-1042") == [flat_order]
    assert term("attributes.f2499", "9") == [wide]
    assert term(f"attributes.payload.{'.'.join(f'l{n}' for n in range(1, 31))}", "leaf") == [deep]
    assert term("attributes._id", "not-the-id") == [odd]
    assert term("attributes.a..b", "double dot") == [odd]
    assert term("attributes", "blank") == [odd]  # any value, at any path
    assert docs[odd]["_source"]["attributes"]["_source"] == "not-the-source"


# -- an index the template did not make -------------------------------------------------------


def test_without_the_template_opensearch_limits_and_conflicts_send_lines_to_safe_form(
    env: dict[str, str], client: OpenSearch, prefix: str
) -> None:
    extras: list[dict[str, Any]] = [
        {"order": "A-1042"},  # maps attributes.order as text (OpenSearch's default)
        {"order": {"id": 42}},  # an object where the mapping has text
        {f"f{i}": i % 10 for i in range(1100)},  # beyond the default 1000 fields
        {"payload": nested(25)},  # beyond the default depth of 20
        {"payload": nested(5)},
        *({key: name} for key, name in ODD_KEYS.items()),
    ]
    payload, ids = with_lines(extras)
    _, conflict, wide, deep, _, *odd = ids  # (the first and the shallow one stay whole)

    assert deliver(env, payload) == {"batchItemFailures": []}  # bootstrap never ran for prefix

    docs = stored(client, prefix)
    assert docs.keys() == {e["id"] for e in payload["logEvents"]}
    assert dead_letters() == []
    reasons = safe_forms(docs)
    assert reasons.keys() == {conflict, wide, deep, *odd}
    assert "failed to parse field [attributes.order] of type [text]" in reasons[conflict]
    assert "Limit of total fields [1000] has been exceeded" in reasons[wide]
    # (the cause, "depth of the field has exceeded" / "field name cannot be an empty string", is
    # in the item's error.caused_by, which the bulk request's filter_path leaves out)
    assert reasons[deep].startswith("rejected: HTTP 400 mapper_parsing_exception")
    assert all(reasons[i].startswith("rejected: HTTP 400 ") for i in odd)
    for doc_id, extra in zip(ids, extras, strict=True):
        source = docs[doc_id]["_source"]
        if doc_id not in reasons:
            assert source["attributes"].items() >= extra.items()
            continue
        assert "attributes" not in source
        assert json.loads(source["attributes_raw"]).items() >= extra.items()  # kept, as one text
        assert source["body"] == payload["logEvents"][APP_LINE + ids.index(doc_id)]["message"]
        assert set(source) <= {*CORE_FIELDS, "attributes_raw", "lambda.rejection"}


# -- Lucene's term limit, write blocks, _id -----------------------------------------------------


def test_an_attribute_value_beyond_lucenes_term_limit_is_indexed_in_safe_form(
    env: dict[str, str], client: OpenSearch, bootstrapped: str
) -> None:
    """flat_object indexes each value as one term: at most 32766 UTF-8 bytes. A line within
    MAX_BODY_CHARS can hold more (12,000 CJK characters are 36,000 bytes)."""
    payload, (large, fits) = with_lines([{"reply": "応答" * 6000}, {"reply": "応答" * 4000}])

    assert deliver(env, payload) == {"batchItemFailures": []}

    docs = stored(client, bootstrapped)
    reasons = safe_forms(docs)
    assert reasons.keys() == {large}
    assert 'immense term in field="attributes._value"' in reasons[large]
    assert json.loads(docs[large]["_source"]["attributes_raw"])["reply"] == "応答" * 6000
    assert docs[large]["_source"]["body"] == payload["logEvents"][APP_LINE]["message"]  # the line, whole
    assert docs[fits]["_source"]["attributes"]["reply"] == "応答" * 4000
    assert search_ids(client, bootstrapped, {"match": {"body": "Collecting payment"}}) == sorted(
        [large, fits]
    )


def test_a_write_blocked_daily_index_dead_letters_its_events_and_the_next_day_is_indexed(
    env: dict[str, str], client: OpenSearch, bootstrapped: str
) -> None:
    """A read-only index (UltraWarm, a write block) refuses every document, its safe form too."""
    payload = over_midnight(load_event(SAMPLE))
    events = payload["logEvents"]
    blocked = f"{bootstrapped}-2024.05.01"
    client.indices.create(index=blocked)
    client.indices.put_settings(index=blocked, body={"index.blocks.write": True})

    assert deliver(env, payload) == {"batchItemFailures": []}

    before = {e["id"] for e in events if day_of(e["timestamp"]) == "2024.05.01"}
    letters = dead_letters()
    assert {letter.document["log.record.uid"] for letter in letters if letter.document} == before
    assert {(letter.kind, letter.reason) for letter in letters} == {("document", "rejected")}
    assert all("cluster_block_exception" in letter.detail for letter in letters)
    assert stored(client, bootstrapped).keys() == {e["id"] for e in events} - before


def test_an_event_id_too_long_for_an_id_is_indexed_under_its_hash(
    env: dict[str, str], client: OpenSearch, bootstrapped: str
) -> None:
    """OpenSearch refuses a whole _bulk request (HTTP 400) for one _id over 512 bytes: an event
    id that long is hashed into the _id, and log.record.uid keeps it whole. (CloudWatch's ids
    are 56 digits; anything can put records on a Kinesis stream.)"""
    payload = load_event(SAMPLE)
    long_id = "9" * 513
    payload["logEvents"][APP_LINE]["id"] = long_id

    assert deliver(env, payload) == {"batchItemFailures": []}
    assert deliver(env, payload) == {"batchItemFailures": []}  # again: the same _id, a 409

    assert dead_letters() == []
    docs = stored(client, bootstrapped)
    assert docs.keys() == {e["id"] for e in payload["logEvents"]}
    assert len(docs[long_id]["_id"]) < 512 and long_id not in docs[long_id]["_id"]


# -- the template's own field limit --------------------------------------------------------------


def test_the_templates_field_limit_is_enforced_and_the_safe_form_gets_under_it(
    opensearch_node: Any, client: OpenSearch, bootstrapped: str
) -> None:
    """No parsed line can add top-level fields; a document from elsewhere that does (2100
    fields) meets the template's 2000, and the indexer's safe form keeps the core fields."""
    base: dict[str, Any] = {
        "@timestamp": "2024-05-01T12:00:01.221Z",
        "body": "a document with many top-level fields",
        "log.record.uid": "38236072758398828050021233006468772556581422225941725185",
        "lambda.event_type": "app_log",
    }
    wide: dict[str, Any] = {**base, **{f"extra_{i:04d}": i for i in range(2100)}}
    fine = {**base, "log.record.uid": "38236072758398828050021233006468772556581422225941725186"}
    transport = BulkTransport(lambdalens_client(opensearch_node.url))
    report = BulkIndexer(transport, index_prefix=bootstrapped).index([wide, fine], Deadline.after(30))

    assert report.status == [SAFE_FORM, INDEXED]
    assert "Limit of total fields [2000] has been exceeded" in report.reasons[0]
    docs = stored(client, bootstrapped)
    assert docs[wide["log.record.uid"]]["_source"] == {**base, "lambda.rejection": report.reasons[0][:1000]}
