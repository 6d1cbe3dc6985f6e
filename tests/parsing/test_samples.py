"""Every real-format sample under events/logs/ parses into the documents its .expect.json describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import EVENT_TYPES, parse_payloads

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "events" / "logs").glob("*.expect.json"))


def parse_sample(path: Path) -> list[dict[str, Any]]:
    payload = json.loads(path.with_name(path.name.replace(".expect.json", ".json")).read_text())
    return parse_payloads(
        [payload_from_json(payload, RecordId("sample", path.stem), b"")], region="us-east-1"
    )


def mismatches(expected: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    out = []
    for key, want in expected.items():
        got = doc.get(key)
        if key == "attributes" and isinstance(want, dict):
            for akey, avalue in want.items():
                if (got or {}).get(akey) != avalue:
                    out.append(f"attributes.{akey}: want {avalue!r}, got {(got or {}).get(akey)!r}")
        elif got != want:
            out.append(f"{key}: want {want!r}, got {got!r}")
    return out


def test_there_are_samples_for_every_event_type() -> None:
    seen = {e["lambda.event_type"] for path in SAMPLES for e in json.loads(path.read_text())}
    assert seen == EVENT_TYPES


@pytest.mark.parametrize("expect_path", SAMPLES, ids=[p.name.replace(".expect.json", "") for p in SAMPLES])
def test_sample_parses_as_expected(expect_path: Path) -> None:
    expected = json.loads(expect_path.read_text())
    docs = parse_sample(expect_path)
    assert len(docs) == len(expected), "one document per log event"
    problems = []
    for i, (want, doc) in enumerate(zip(expected, docs, strict=True)):
        for problem in mismatches(want, doc):
            problems.append(f"event {i} ({doc['body'][:60]!r}): {problem}")
    assert not problems, "\n".join(problems)
    for doc in docs:
        assert doc["lambda.event_type"] in EVENT_TYPES
        assert isinstance(doc["body"], str)
        assert doc["severity.number"] in (1, 5, 9, 13, 17, 21)
