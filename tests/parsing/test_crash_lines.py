"""The lines a team sees exactly when something crashed are errors of their invocation: Lambda's
own lines when the runtime process ends (``RequestId: <id> Error: Runtime exited with error: ...``
and the error type on the next line) and when it reports an error the runtime posted
(``Unknown application error occurred``). A crash read as a harmless platform line is an error
nobody counts or alerts on.

The lines are as captured in public issue threads (see events/README.md, S65 - S68, and the
samples cpp-text-segfault, rust-text-exit-without-reason, go-text-invalid-entrypoint,
ruby-text-critical-exception)."""

from __future__ import annotations

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.metrics.invocations import summarize
from lambdalens.parsing import Document, parse_payloads

RID = "08ee2764-2382-407c-9a7d-bba5613fbd30"
T0 = 1_718_259_544_903
INIT_START = (
    "INIT_START Runtime Version: provided:al2023.v17\tRuntime Version ARN: "
    "arn:aws:lambda:us-east-1::runtime:6b44552cc7b2b158dd9a80c1b40bd1f83b7c004c0dfe0b201e510b7872dbd970\n"
)


def parse(messages: list[str]) -> list[Document]:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/crashy",
        "logStream": "2024/06/13/[$LATEST]7a0c2e9d41b35f68e1c0d2a4b6f8e913",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**55 + i), "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(raw, RecordId("crash", "0"), b"")], region="us-east-1")


def invocation(line: str) -> list[Document]:
    """START, ``line``, END, REPORT of one invocation of ``RID``."""
    return parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            line,
            f"END RequestId: {RID}\n",
            f"REPORT RequestId: {RID}\tDuration: 48.63 ms\tBilled Duration: 49 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 22 MB\t\n",
        ]
    )


EXITS = [
    # (line, exception.type, exception.message)
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited with error: exit status 1",
        id="exit-status-1",
    ),
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited with error: exit status 255\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited with error: exit status 255",
        id="exit-status-255",
    ),
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited with error: signal: segmentation fault\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited with error: signal: segmentation fault",
        id="segmentation-fault",
    ),
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited with error: signal: aborted (core dumped)\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited with error: signal: aborted (core dumped)",
        id="aborted",
    ),
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited without providing a reason\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited without providing a reason",
        id="without-a-reason",
    ),
    pytest.param(  # the type after a blank line, as copied from the console (cargo-lambda#572)
        f"RequestId: {RID} Error: Runtime exited without providing a reason\n\nRuntime.ExitError\n",
        "Runtime.ExitError",
        "Runtime exited without providing a reason",
        id="type-after-a-blank-line",
    ),
    pytest.param(
        f"RequestId: {RID} Error: Runtime exited with error: exit status 2\r\nRuntime.ExitError\r\n",
        "Runtime.ExitError",
        "Runtime exited with error: exit status 2",
        id="crlf",
    ),
    pytest.param(  # Ruby's runtime posts its error before it exits: the line names the Ruby type
        f"RequestId: {RID} Error: Unknown application error occurred\nFunction<NoMethodError>\n",
        "Function<NoMethodError>",
        "Unknown application error occurred",
        id="ruby-type",
    ),
    pytest.param(  # before 2019
        f"RequestId: {RID} Process exited before completing request\n\n",
        "Runtime.ExitError",
        "Process exited before completing request",
        id="process-exited",
    ),
]


@pytest.mark.parametrize(("line", "exc_type", "exc_message"), EXITS)
def test_a_runtime_exit_is_an_unhandled_error_of_the_invocation_it_names(
    line: str, exc_type: str, exc_message: str
) -> None:
    docs = invocation(line)
    exit_doc, report = docs[1], docs[3]
    assert exit_doc["lambda.event_type"] == "unhandled_error"
    assert exit_doc["severity.text"] == "ERROR"
    assert exit_doc["faas.invocation_id"] == RID
    assert exit_doc["exception.type"] == exc_type
    assert exit_doc["exception.message"] == exc_message
    assert exit_doc["exception.fingerprint"]
    assert report["lambda.outcome"] == "error"
    (summary,) = summarize(docs).invocations.values()
    assert summary.error and summary.failure_doc is exit_doc


def test_a_runtime_exit_after_the_report_still_fails_the_request_it_names() -> None:
    """Until 2022 Lambda printed the exit line after REPORT (aws/aws-lambda-dotnet#480)."""
    docs = parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            f"END RequestId: {RID}\n",
            f"REPORT RequestId: {RID}\tDuration: 631.51 ms\tBilled Duration: 700 ms\tMemory Size: 256 MB\t"
            "Max Memory Used: 18 MB\t\n",
            f"RequestId: {RID} Error: Runtime exited with error: exit status 137\nRuntime.ExitError\n",
        ]
    )
    assert docs[3]["lambda.event_type"] == "unhandled_error"
    assert docs[3]["faas.invocation_id"] == RID
    assert docs[2]["lambda.outcome"] == "error"


def test_signal_killed_is_an_out_of_memory_kill() -> None:
    docs = invocation(
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n"
    )
    assert docs[1]["lambda.event_type"] == "oom"
    assert docs[3]["lambda.outcome"] == "oom"


def test_a_runtime_exit_while_an_init_runs_is_an_init_error() -> None:
    docs = parse(
        [
            INIT_START,
            f"RequestId: {RID} Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n",
            "INIT_REPORT Init Duration: 20.31 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError\n",
        ]
    )
    assert docs[1]["lambda.event_type"] == "init_error"
    assert docs[1]["lambda.init_id"] == docs[2]["lambda.init_id"]


def test_a_missing_bootstrap_is_an_init_error_of_its_type() -> None:
    docs = invocation(
        f"RequestId: {RID} Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]\n"
        "Runtime.InvalidEntrypoint\n"
    )
    assert docs[1]["lambda.event_type"] == "init_error"
    assert docs[1]["exception.type"] == "Runtime.InvalidEntrypoint"
    assert (
        docs[1]["exception.message"]
        == "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
    )
    assert docs[3]["lambda.outcome"] == "error"


UNKNOWN = [
    # (line, exception.type or None)
    pytest.param(
        "Unknown application error occurred\nRuntime.Unknown\n", "Runtime.Unknown", id="runtime-unknown"
    ),
    pytest.param(  # Ruby (a captured `sls logs`, events/README S68)
        "Unknown application error occurred\nFunction<NoMethodError>\n", "Function<NoMethodError>", id="ruby"
    ),
    pytest.param(
        "Unknown application error occurred\nFunction<Aws::S3::Errors::NoSuchKey>\n",
        "Function<Aws::S3::Errors::NoSuchKey>",
        id="ruby-namespaced",
    ),
    pytest.param(
        "Unknown application error occurred\n", None, id="alone"
    ),  # dotnetcore3.1 (aws/aws-lambda-dotnet#932)
]


@pytest.mark.parametrize(("line", "exc_type"), UNKNOWN)
def test_unknown_application_error_is_an_unhandled_error(line: str, exc_type: str | None) -> None:
    docs = invocation(line)
    doc = docs[1]
    assert doc["lambda.event_type"] == "unhandled_error"
    assert doc["severity.text"] == "ERROR"
    assert doc["faas.invocation_id"] == RID
    assert doc.get("exception.type") == exc_type
    assert doc["exception.message"] == "Unknown application error occurred"
    assert docs[3]["lambda.outcome"] == "error"


def test_ruby_init_type_is_an_init_error() -> None:
    docs = parse([INIT_START, "Unknown application error occurred\nInit<LoadError>\n"])
    assert docs[1]["lambda.event_type"] == "init_error"
    assert docs[1]["exception.type"] == "Init<LoadError>"


@pytest.mark.parametrize(
    "line",
    [
        "Unknown application error occurred twice today, retrying\n",
        "RequestId: 42 processed in 12 ms\n",
        f"RequestId: {RID} took 3 retries\n",
    ],
)
def test_a_line_of_the_function_in_lambdas_words_is_the_functions_own(line: str) -> None:
    """Only Lambda's lines are crashes: a text of the function's that starts with the same words
    (and names no error type on a line of its own) is an application line."""
    doc = invocation(line)[1]
    assert doc["lambda.event_type"] == "app_log"
    assert doc["severity.text"] == "INFO"
    assert "exception.type" not in doc
