"""``exception.fingerprint``: the same bug gets the same signature across invocations, containers
and redeploys; different bugs get different signatures — for every managed runtime.

Each runtime below writes its error the way the real runtime does (the shapes of the samples
in events/logs/). An *occurrence* fills in what changes from one invocation to the next:
request id, log stream (the container), timestamps, the numbers / ids / addresses / quoted
values inside the message, and line numbers (a redeploy that moved code). The documents come
from the parser end to end; :func:`lambdalens.parsing.fingerprint` is tested directly below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, fingerprint, parse_payloads
from lambdalens.parsing.fingerprint import frame_names
from lambdalens.parsing.structured import stack_text

EVENTS = Path(__file__).resolve().parents[2] / "events"
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
ERROR_TYPES = ("unhandled_error", "oom", "init_error")


@dataclass(frozen=True)
class Occurrence:
    """What differs between two occurrences of one bug."""

    request_id: str
    container: str  # the 32-hex part of the log stream name
    epoch_ms: int
    n: int  # a number in the message (account, port, index, ...)
    ref: str  # a quoted / id-like value in the message
    addr: str  # a hex address
    shift: int = 0  # lines the redeploy moved the code by


FIRST = Occurrence(
    request_id="c35f93e4-d61b-4771-958b-9f868a490b75",
    container="99581a093bf7599c20f639b9e7afb8ec",
    epoch_ms=1_714_551_641_000,
    n=7702,
    ref="A-1042",
    addr="0x18",
)
# the same code, a later invocation in another execution environment, other values
OTHER_CONTAINER = Occurrence(
    request_id="4517707e-5d9f-4cdf-9ee8-2dfe798a6c85",
    container="d6a6287513d4610f631f7dce12086f5f",
    epoch_ms=1_714_651_641_513,
    n=31,
    ref="ZX-9",
    addr="0xc000a1b2c0",
)
# a redeploy: the code moved down by 14 lines, a week later, new values again
REDEPLOYED = replace(
    OTHER_CONTAINER,
    request_id="fde24a4d-9a31-4603-9b32-b30f3a256669",
    container="1b7b257889732b9a6550105eee362c26",
    epoch_ms=1_715_256_441_077,
    n=550123,
    ref="q",
    addr="0x7f3c8c0a2a18",
    shift=14,
)
SAME_BUG = [FIRST, OTHER_CONTAINER, REDEPLOYED]


def iso(epoch_ms: int) -> str:
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- runtimes
# Each writer returns the events the runtime prints for one error of one invocation.
Writer = Callable[[Occurrence, dict[str, str]], list[str]]


def python_error(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """python3.12 text format: the runtime's one-event ``[ERROR]`` record, U+00A0 indentation."""
    s = o.shift
    sp, sp2 = "\u00a0\u00a0", "\u00a0\u00a0\u00a0\u00a0"
    return [
        f"[ERROR] {bug['type']}: {bug['message'].format(o=o)}\n"
        "Traceback (most recent call last):\n"
        f'{sp}File "/var/task/app.py", line {41 + s}, in lambda_handler\n'
        f"{sp2}order = {bug['func']}(payload)\n"
        f'{sp}File "/var/task/{bug["file"]}", line {18 + s}, in {bug["func"]}\n'
        f'{sp2}qty = int(payload["quantity"])'
    ]


PYTHON = {"type": "ValueError", "message": "invalid literal for int() with base 10: '{o.ref}'"}
PYTHON.update(func="parse_quantity", file="orders.py")


def node_error(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """nodejs20.x text format: ``ERROR\\tInvoke Error \\t{errorType, errorMessage, stack}``."""
    s = o.shift
    message = bug["message"].format(o=o)
    error = {
        "errorType": bug["type"],
        "errorMessage": message,
        "code": "ECONNREFUSED",
        "stack": [
            f"{bug['type']}: {message}",
            f"    at {bug['func']} (file:///var/task/lib/profile.mjs:{41 + s}:{32 + s})",
            f"    at async Runtime.handler (file:///var/task/index.mjs:{18 + s}:10)",
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
        ],
    }
    return [f"{iso(o.epoch_ms + 5)}\t{o.request_id}\tERROR\tInvoke Error \t{json.dumps(error)}\n"]


NODE = {"type": "Error", "message": "connect ECONNREFUSED 10.0.14.{o.n}:{o.n}", "func": "fetchProfile"}


def java_error(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """java21: the runtime's one-event ``<message>: <class>\\n<printStackTrace>``."""
    s = o.shift
    message = bug["message"].format(o=o)
    return [
        f"{message}: {bug['type']}\n{bug['type']}: {message}\n"
        f"\tat com.example.billing.InvoiceHandler.{bug['func']}(InvoiceHandler.java:{88 + s})\n"
        f"\tat com.example.billing.InvoiceHandler.handleRequest(InvoiceHandler.java:{47 + s})\n"
        f"\tat com.example.billing.InvoiceHandler.handleRequest(InvoiceHandler.java:{21 + s})\n"
        "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(Unknown Source)\n"
        "\tat java.base/java.lang.reflect.Method.invoke(Unknown Source)\n\n"
    ]


JAVA = {
    "type": "java.lang.IllegalStateException",
    "message": "Account {o.n} has no billing address (request {o.request_id})",
    "func": "resolveAddress",
}


def go_panic(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """provided.al2023: an unrecovered panic, one event per line (as Lambda splits stderr)."""
    s = o.shift
    return [
        f"panic: {bug['message'].format(o=o)}\n",
        f"[signal SIGSEGV: segmentation violation code=0x1 addr={o.addr} pc=0x6b{o.n:04x}]\n",
        f"goroutine {o.n % 97} [running]:\n",
        f"main.(*batcher).{bug['func']}({o.addr})\n",
        f"\t/build/cmd/audit/batcher.go:{71 + s} +0x{o.n % 256:x}\n",
        "main.handle.func1()\n",
        f"\t/build/cmd/audit/main.go:{44 + s} +0x25\n",
        "created by main.handle in goroutine 1\n",
        f"\t/build/cmd/audit/main.go:{42 + s} +0x1b1\n",
    ]


GO = {"message": "runtime error: invalid memory address or nil pointer dereference", "func": "flush"}


def dotnet_error(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """dotnet8 text format: ``Console.Error`` of the unhandled exception, logged as ``fail``."""
    s = o.shift
    return [
        f"{iso(o.epoch_ms + 19)}\t{o.request_id}\tfail\t{bug['type']}: {bug['message'].format(o=o)}\n"
        f"   at ShippingQuotes.QuoteService.{bug['func']}(Shipment shipment) in /src/ShippingQuotes/QuoteService.cs:line {87 + s}\n"
        f"   at ShippingQuotes.Function.FunctionHandler(QuoteRequest request, ILambdaContext context) in /src/ShippingQuotes/Function.cs:line {34 + s}\n"
        "   at lambda_method1(Closure, Stream, ILambdaContext, Stream)\n"
        "   at Amazon.Lambda.RuntimeSupport.Bootstrap.UserCodeLoader.Invoke(Stream lambdaData, ILambdaContext lambdaContext, Stream outStream) in /src/Repo/Libraries/src/Amazon.Lambda.RuntimeSupport/Bootstrap/UserCodeLoader.cs:line 145\n"
    ]


DOTNET = {
    "type": "System.InvalidOperationException",
    "message": "No carrier serves shipment '{o.ref}' ({o.n} parcels) for dangerous goods class {o.n}",
    "func": "SelectCarrier",
}


def ruby_error(o: Occurrence, bug: dict[str, str]) -> list[str]:
    """ruby3.3: ``Error raised from handler method`` then the pretty-printed error document."""
    s = o.shift
    error = {
        "errorMessage": bug["message"].format(o=o),
        "errorType": bug["type"],
        "stackTrace": [
            f"/var/lang/lib/ruby/3.3.0/net/http.rb:{1603 + s}:in `initialize'",
            f"/var/task/segments.rb:{22 + s}:in `{bug['func']}'",
            f"/var/task/lambda_function.rb:{9 + s}:in `lambda_handler'",
        ],
    }
    return ["Error raised from handler method", json.dumps(error, indent=2) + "\n"]


RUBY = {
    "type": "Function<Errno::ECONNREFUSED>",
    "message": 'Failed to open TCP connection to 10.0.3.{o.n}:5432 (Connection refused - connect(2) for "{o.ref}" port {o.n})',
    "func": "recipients_for",
}

RUNTIMES: dict[str, tuple[Writer, dict[str, str], dict[str, dict[str, str]]]] = {
    # runtime: (writer, the bug, {how another bug differs: changed fields})
    "python": (
        python_error,
        PYTHON,
        {
            "other-type": {"type": "TypeError"},
            "other-code-path": {"func": "parse_discount", "file": "discounts.py"},
            "other-message": {"message": "could not convert string to float: '{o.ref}'"},
        },
    ),
    "nodejs": (
        node_error,
        NODE,
        {
            "other-type": {"type": "TypeError"},
            "other-code-path": {"func": "fetchAvatar"},
            "other-message": {"message": "getaddrinfo ENOTFOUND profiles.internal"},
        },
    ),
    "java": (
        java_error,
        JAVA,
        {
            "other-type": {"type": "java.lang.IllegalArgumentException"},
            "other-code-path": {"func": "resolveCurrency"},
            "other-message": {"message": "Account {o.n} is suspended since {o.n} days"},
        },
    ),
    "go": (
        go_panic,
        GO,
        {
            "other-code-path": {"func": "add"},
            "other-message": {"message": "runtime error: index out of range [{o.n}] with length {o.n}"},
        },
    ),
    "dotnet": (
        dotnet_error,
        DOTNET,
        {
            "other-type": {"type": "System.ArgumentOutOfRangeException"},
            "other-code-path": {"func": "PriceQuote"},
            "other-message": {"message": "Carrier '{o.ref}' rejected the request: quota of {o.n} exceeded"},
        },
    ),
    "ruby": (
        ruby_error,
        RUBY,
        {
            "other-type": {"type": "Function<Errno::ETIMEDOUT>"},
            "other-code-path": {"func": "suppressed_addresses"},
            "other-message": {"message": "undefined method `[]' for nil"},
        },
    ),
}


def invocation_payload(runtime: str, o: Occurrence, bug: dict[str, str]) -> dict[str, object]:
    """One invocation of function ``<runtime>-fn`` in container ``o.container`` that hits ``bug``."""
    writer = RUNTIMES[runtime][0]
    messages = [
        f"START RequestId: {o.request_id} Version: $LATEST\n",
        *writer(o, bug),
        f"END RequestId: {o.request_id}\n",
        f"REPORT RequestId: {o.request_id}\tDuration: {o.n % 900 + 1}.25 ms\tBilled Duration: {o.n % 900 + 2} ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 97 MB\t\n",
    ]
    day = iso(o.epoch_ms)[:10].replace("-", "/")
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": f"/aws/lambda/{runtime}-fn",
        "logStream": f"{day}/[$LATEST]{o.container}",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": f"{o.epoch_ms}{i:04d}", "timestamp": o.epoch_ms + i, "message": m}
            for i, m in enumerate(messages)
        ],
    }


def errors_of(runtime: str, o: Occurrence, bug: dict[str, str]) -> list[Document]:
    """The error documents the parser makes of one invocation (each batch on its own)."""
    payload = invocation_payload(runtime, o, bug)
    docs = parse_payloads([payload_from_json(payload, RecordId("shardId-000000000000", o.request_id), b"")])
    return [d for d in docs if d["lambda.event_type"] in ERROR_TYPES]


def fingerprint_of(runtime: str, o: Occurrence, bug: dict[str, str]) -> str:
    errors = errors_of(runtime, o, bug)
    assert len(errors) == 1, f"{runtime}: one error per invocation, got {[e['body'][:60] for e in errors]}"
    value = errors[0]["exception.fingerprint"]
    assert FINGERPRINT.match(value), value
    return str(value)


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_same_bug_same_fingerprint_across_invocations_containers_and_redeploys(runtime: str) -> None:
    bug = RUNTIMES[runtime][1]
    bodies = [tuple(RUNTIMES[runtime][0](o, bug)) for o in SAME_BUG]
    assert len(set(bodies)) == len(SAME_BUG), "the occurrences really print different text"
    prints = {o.request_id: fingerprint_of(runtime, o, bug) for o in SAME_BUG}
    assert len(set(prints.values())) == 1, prints


@pytest.mark.parametrize(
    ("runtime", "variant"),
    [(runtime, variant) for runtime, (_, _, variants) in RUNTIMES.items() for variant in variants],
)
def test_different_bug_different_fingerprint(runtime: str, variant: str) -> None:
    _, bug, variants = RUNTIMES[runtime]
    other = {**bug, **variants[variant]}
    baseline = fingerprint_of(runtime, FIRST, bug)
    # the other bug keeps a stable signature of its own ...
    other_prints = {fingerprint_of(runtime, o, other) for o in SAME_BUG}
    assert len(other_prints) == 1
    # ... which is not the first bug's
    assert other_prints != {baseline}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_all_bugs_of_a_runtime_are_told_apart(runtime: str) -> None:
    _, bug, variants = RUNTIMES[runtime]
    prints = [fingerprint_of(runtime, FIRST, bug)]
    prints += [fingerprint_of(runtime, FIRST, {**bug, **change}) for change in variants.values()]
    assert len(set(prints)) == len(prints)


def test_same_bug_in_one_batch_from_several_containers() -> None:
    """One batch holding the bug from three containers: three error documents, one signature."""
    payloads = [
        payload_from_json(invocation_payload("java", o, JAVA), RecordId("shardId-000000000000", str(i)), b"")
        for i, o in enumerate(SAME_BUG)
    ]
    docs = parse_payloads(payloads)
    errors = [d for d in docs if d["lambda.event_type"] == "unhandled_error"]
    assert [e["faas.invocation_id"] for e in errors] == [o.request_id for o in SAME_BUG]
    assert len({e["exception.fingerprint"] for e in errors}) == 1


def invocation_errors(lines: list[str], o: Occurrence = FIRST) -> list[Document]:
    """The ``unhandled_error`` documents of one invocation that printed ``lines``."""
    messages = [
        f"START RequestId: {o.request_id} Version: $LATEST\n",
        *lines,
        f"END RequestId: {o.request_id}\n",
        f"REPORT RequestId: {o.request_id}\tDuration: 12.03 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 81 MB\t\n",
    ]
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders-api",
        "logStream": f"2024/05/01/[$LATEST]{o.container}",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": f"{o.epoch_ms}{i:04d}", "timestamp": o.epoch_ms + i, "message": m}
            for i, m in enumerate(messages)
        ],
    }
    docs = parse_payloads([payload_from_json(payload, RecordId("shardId-000000000000", o.request_id), b"")])
    return [d for d in docs if d["lambda.event_type"] == "unhandled_error"]


POWERTOOLS_FRAMES = [
    ("/opt/python/aws_lambda_powertools/logging/logger.py", 449, "decorate"),
    ("/opt/python/aws_lambda_powertools/tracing/tracer.py", 313, "decorate"),
    ("/var/task/app.py", 30, "lambda_handler"),
    ("/opt/python/aws_lambda_powertools/event_handler/api_gateway.py", 1966, "resolve"),
    ("/opt/python/aws_lambda_powertools/event_handler/api_gateway.py", 2057, "_resolve"),
    ("/opt/python/aws_lambda_powertools/event_handler/api_gateway.py", 2220, "_call_route"),
]


def python_error_event(frames: list[tuple[str, int, str]], key: str) -> str:
    sp, sp2 = "\u00a0\u00a0", "\u00a0\u00a0\u00a0\u00a0"
    lines = [f"[ERROR] KeyError: '{key}'", "Traceback (most recent call last):"]
    for file, line, func in frames:
        lines += [f'{sp}File "{file}", line {line}, in {func}', f"{sp2}..."]
    return "\n".join(lines)


def test_python_fingerprint_uses_the_frames_where_the_error_happened() -> None:
    """Python prints the innermost frame LAST. Behind Powertools (logger + tracer + event
    handler) the six outermost application frames are the same for every route: the
    fingerprint takes the innermost ones, so different bugs deep in the app differ."""
    order = python_error_event(
        [
            *POWERTOOLS_FRAMES,
            ("/var/task/routes/orders.py", 41, "get_order"),
            ("/var/task/repo.py", 18, "load_order"),
        ],
        "order",
    )
    customer = python_error_event(
        [
            *POWERTOOLS_FRAMES,
            ("/var/task/routes/customers.py", 22, "get_customer"),
            ("/var/task/repo.py", 33, "load_customer"),
        ],
        "customer",
    )
    (one,) = invocation_errors([order])
    (two,) = invocation_errors([customer])
    assert one["exception.fingerprint"] != two["exception.fingerprint"]
    # the same bug behind a moved line of the same stack is still one signature
    moved = python_error_event(
        [
            *POWERTOOLS_FRAMES,
            ("/var/task/routes/orders.py", 57, "get_order"),
            ("/var/task/repo.py", 26, "load_order"),
        ],
        "order",
    )
    (again,) = invocation_errors([moved], OTHER_CONTAINER)
    assert again["exception.fingerprint"] == one["exception.fingerprint"]


def go_recovered_panic(label: str, line: int, index: int) -> str:
    error = {
        "errorMessage": f"runtime error: index out of range [{index}] with length {index}",
        "errorType": "boundsError",
        "stackTrace": [
            {
                "path": "github.com/aws/aws-lambda-go@v1.47.0/lambda/errors.go",
                "line": 39,
                "label": "lambdaPanicResponse",
            },
            {
                "path": "github.com/aws/aws-lambda-go@v1.47.0/lambda/invoke_loop.go",
                "line": 122,
                "label": "callBytesHandlerFunc.func1",
            },
            {"path": "runtime/panic.go", "line": 770, "label": "gopanic"},
            {"path": "runtime/panic.go", "line": 114, "label": "goPanicIndex"},
            {"path": "github.com/example/stock/cmd/reserver/main.go", "line": line, "label": label},
        ],
    }
    return f"2024/05/01 07:40:02 {json.dumps(error, separators=(',', ':'))}\n"


def test_go_recovered_panic_fingerprint_uses_the_application_frame() -> None:
    """aws-lambda-go reports a recovered panic with ``stackTrace`` objects whose ``label`` has no
    package (``handle``) and whose library frames are known by their path (with a module
    version: ``aws-lambda-go@v1.47.0``): the application frame decides the signature, not the
    library's ``callBytesHandlerFunc.func1`` that every panic goes through."""
    in_handle = go_recovered_panic("handle", 58, 3)
    in_reserve = go_recovered_panic("reserveItems", 91, 5)
    prints = []
    for line in (in_handle, in_reserve):
        (error,) = invocation_errors(["2024/05/01 07:40:02 reserving 3 line items\n", line])
        prints.append(error["exception.fingerprint"])
    assert prints[0] != prints[1]
    # and the same panic at a moved line is still the same bug
    assert fingerprint(
        "boundsError", "x", stack_text(json.loads(in_handle[20:])["stackTrace"])
    ) == fingerprint(
        "boundsError", "x", stack_text(json.loads(go_recovered_panic("handle", 71, 9)[20:])["stackTrace"])
    )
    assert frame_names(stack_text(json.loads(in_reserve[20:])["stackTrace"]) or "") == [
        "main.go:reserveItems"
    ]


SAMPLE_ERRORS = [
    # (sample, event type, exception.type) of real-format samples: their errors are fingerprinted
    ("python-text-unhandled-error", "unhandled_error", "KeyError"),
    ("python-text-unhandled-error-legacy-cr", "unhandled_error", "ZeroDivisionError"),
    ("node-text-invoke-error", "unhandled_error", "TypeError"),
    ("java-text-unhandled-exception", "unhandled_error", "java.lang.IllegalStateException"),
    ("java-text-oom-heap", "oom", "java.lang.OutOfMemoryError"),
    ("go-text-panic-goroutine", "unhandled_error", "panic"),
    ("dotnet-text-unhandled-exception", "unhandled_error", "System.InvalidOperationException"),
    ("ruby-text-unhandled-error", "unhandled_error", "Function<NoMethodError>"),
]


@pytest.mark.parametrize(("case", "event_type", "exc_type"), SAMPLE_ERRORS, ids=[c[0] for c in SAMPLE_ERRORS])
def test_sample_errors_carry_the_fingerprint_of_their_type_message_and_trace(
    case: str, event_type: str, exc_type: str
) -> None:
    payload = json.loads((EVENTS / "logs" / f"{case}.json").read_text(encoding="utf-8"))
    docs = parse_payloads([payload_from_json(payload, RecordId("sample", case), b"")])
    (error,) = [d for d in docs if d["lambda.event_type"] == event_type and d["exception.type"] == exc_type]
    assert error["exception.fingerprint"] == fingerprint(
        error["exception.type"], error.get("exception.message"), error.get("exception.stacktrace")
    )


# --------------------------------------------------------------------------- fingerprint() directly

PY_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/var/task/app.py", line {a}, in lambda_handler\n'
    "    order = load_order(payload)\n"
    '  File "/var/task/store.py", line {b}, in load_order\n'
    '    return table.get_item(Key={{"pk": payload["order_id"]}})["Item"]\n'
    "KeyError: 'Item'"
)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            "order 5e083e15-69ee-44df-b92c-7efff2d0298d not found",
            "order 91b39379-7cae-47d6-9afc-10af66e5c71f not found",
            id="uuid",
        ),
        pytest.param(
            "trace 1-66322157-5aa638a8fe95e1bc5765e334 failed",
            "trace 1-663213d8-bd9b1c62a38ba8bde0573cc2 failed",
            id="xray-trace-id",
        ),
        pytest.param(
            "lock held since 2024-05-01T09:14:02.663Z",
            "lock held since 2025-11-03 10:12:41,017+0000",
            id="timestamp",
        ),
        pytest.param(
            # the SigV4 clock-skew error (a classic in Lambda) prints basic-format ISO 8601
            "Signature expired: 20240501T094112Z is now earlier than 20240501T094612Z (20240501T095112Z - 5 min.)",
            "Signature expired: 20240502T101502Z is now earlier than 20240502T102003Z (20240502T102503Z - 5 min.)",
            id="compact-iso-timestamp",
        ),
        pytest.param("read 4100 rows, expected 4096", "read 12 rows, expected 0", id="numbers"),
        pytest.param("took 3.25 s", "took 120.5 s", id="decimals"),
        pytest.param("bad object at 0x7f3c8c0a2a18", "bad object at 0x55d1e0", id="hex-address"),
        pytest.param("digest d714c8c5b76ccc19 mismatch", "digest e9ea2e757545c45f mismatch", id="hex-id"),
        pytest.param("no such key 'orders/2024/A-1042.json'", "no such key 'x'", id="single-quoted"),
        pytest.param(
            'table "orders-prod" missing', 'table "payments-staging-eu" missing', id="double-quoted"
        ),
        pytest.param(
            "AccessDenied on arn:aws:s3:::media-uploads/raw/IMG_2291.jpg",
            "AccessDenied on arn:aws:s3:::invoices-prod/2024/05/INV-2024-0412.pdf",
            id="arn",
        ),
        pytest.param("too   many\tspaces\n", "too many spaces", id="whitespace"),
    ],
)
def test_variable_parts_of_a_message_do_not_change_the_fingerprint(first: str, second: str) -> None:
    assert fingerprint("RuntimeError", first, None) == fingerprint("RuntimeError", second, None)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("connection refused", "connection reset by peer", id="words"),
        pytest.param("order not found", "customer not found", id="subject"),
        pytest.param("expected 3 rows", "expected 3 columns", id="unit"),
    ],
)
def test_a_different_message_shape_changes_the_fingerprint(first: str, second: str) -> None:
    assert fingerprint("RuntimeError", first, None) != fingerprint("RuntimeError", second, None)


def test_line_numbers_do_not_count_but_frames_do() -> None:
    base = fingerprint("KeyError", "'Item'", PY_TRACE.format(a=41, b=18))
    assert base == fingerprint("KeyError", "'Item'", PY_TRACE.format(a=63, b=7))
    other_file = PY_TRACE.format(a=41, b=18).replace("store.py", "cache.py")
    other_func = PY_TRACE.format(a=41, b=18).replace("load_order", "load_customer")
    assert (
        len(
            {
                base,
                fingerprint("KeyError", "'Item'", other_file),
                fingerprint("KeyError", "'Item'", other_func),
            }
        )
        == 3
    )


def test_runtime_frames_do_not_count() -> None:
    """Frames of the Lambda runtime change with runtime updates, not with the bug."""
    java = (
        "java.lang.IllegalStateException: no address\n"
        "\tat com.example.billing.InvoiceHandler.resolveAddress(InvoiceHandler.java:88)\n"
        "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(Unknown Source)\n"
    )
    updated = java.replace("DirectMethodHandleAccessor.invoke", "NativeMethodAccessorImpl.invoke0")
    assert fingerprint("java.lang.IllegalStateException", "no address", java) == fingerprint(
        "java.lang.IllegalStateException", "no address", updated
    )
    node = "Error: x\n    at handler (file:///var/task/index.mjs:3:9)\n    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"
    node_updated = node.replace("1173:29", "1206:11").replace("handleOnceNonStreaming", "handleOnceStreaming")
    assert fingerprint("Error", "x", node) == fingerprint("Error", "x", node_updated)


def test_type_matters_even_with_the_same_message_and_trace() -> None:
    trace = PY_TRACE.format(a=1, b=2)
    assert fingerprint("KeyError", "'Item'", trace) != fingerprint("IndexError", "'Item'", trace)


def test_fingerprint_format_and_missing_parts() -> None:
    for value in (
        fingerprint("KeyError", "'Item'", PY_TRACE.format(a=1, b=2)),
        fingerprint(None, None, None),
        fingerprint("", "", ""),
        fingerprint("Sandbox.Timedout", "Task timed out after 3.00 seconds", None),
    ):
        assert FINGERPRINT.match(value), value


def test_fingerprint_is_the_same_in_another_process() -> None:
    """Containers of lambdalens itself must agree: no per-process salt (hash randomisation)."""
    here = fingerprint("KeyError", "'order_id'", PY_TRACE.format(a=41, b=18))
    code = (
        "import sys; from lambdalens.parsing import fingerprint; "
        "print(fingerprint('KeyError', \"'order_id'\", sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, PY_TRACE.format(a=41, b=18)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert out.stdout.strip() == here
