"""Invocation derivation: what counts as an invocation, a timeout, an OOM kill, an error."""

from __future__ import annotations

from lambdalens.metrics.invocations import epoch_ms, summarize
from lambdalens.metrics.samples import SampleLog


def test_timeout_shown_by_line_and_report_counts_once() -> None:
    log = SampleLog()
    docs = log.invocation(outcome="timeout", duration_ms=3000.0)
    summary = summarize(docs)
    assert len(summary.invocations) == 1
    (inv,) = summary.invocations.values()
    assert inv.timeout and not inv.error and inv.is_invocation
    assert inv.failure_doc is not None and inv.failure_doc["lambda.event_type"] == "timeout"


def test_timeout_line_without_report_is_a_failure_not_an_invocation() -> None:
    docs = SampleLog().invocation(outcome="timeout", report=False)
    (inv,) = summarize(docs).invocations.values()
    assert inv.timeout and not inv.is_invocation


def test_report_outcome_alone_is_enough() -> None:
    docs = SampleLog().invocation(outcome="oom", failure_line=False)
    (inv,) = summarize(docs).invocations.values()
    assert inv.oom and inv.outcome == "oom" and not inv.error
    assert inv.failure_doc is not None and inv.failure_doc["lambda.event_type"] == "report"


def test_unhandled_error_and_timeout_is_a_timeout_not_an_error() -> None:
    log = SampleLog()
    docs = log.invocation(outcome="timeout")
    error = {**docs[1], "lambda.event_type": "unhandled_error", "log.record.uid": "x1"}
    (inv,) = summarize([*docs, error]).invocations.values()
    assert inv.timeout and inv.unhandled_error and not inv.error


def test_init_error_line_and_failing_init_report_are_one_failure() -> None:
    log = SampleLog()
    summary = summarize(log.init_failure())
    assert len(summary.init_failures) == 1
    failure = summary.init_failures[0]
    assert failure.error_doc is not None and failure.report is not None
    assert failure.doc["exception.type"] == "Runtime.ImportModuleError"


def test_init_report_timeout_alone_is_an_init_failure() -> None:
    docs = SampleLog().init_failure()
    report = {**docs[2], "lambda.status": "timeout"}
    assert len(summarize([report]).init_failures) == 1


def test_repeated_document_counts_once() -> None:
    docs = SampleLog().invocation(outcome="error")
    summary = summarize(docs + docs)
    assert len(summary.documents) == len(docs)
    (inv,) = summary.invocations.values()
    assert len(inv.error_docs) == 1


def test_logged_error_is_kept_but_is_not_a_failure() -> None:
    log = SampleLog()
    doc = log.logged_error()
    (inv,) = summarize([doc]).invocations.values()
    assert not inv.failed and not inv.is_invocation and inv.error_docs == [doc]


def test_continuation_lines_are_not_logged_errors() -> None:
    doc = {**SampleLog().logged_error(), "log.record.parent_uid": "123"}
    assert summarize([doc]).invocations == {}


def test_documents_without_function_or_request_id_are_ignored() -> None:
    log = SampleLog()
    docs = log.invocation()
    stray = {k: v for k, v in docs[1].items() if k != "faas.invocation_id"}
    nameless = {k: v for k, v in docs[-1].items() if k != "faas.name"}
    assert summarize([stray, nameless]).invocations == {}


def test_epoch_ms_accepts_iso_and_numbers() -> None:
    assert epoch_ms("2024-05-01T12:00:00.123Z") == 1_714_564_800_123
    assert epoch_ms(1_714_564_800_123) == 1_714_564_800_123
    assert epoch_ms("not a date") is None
    assert epoch_ms(True) is None
