"""What each runtime prints when a function crashes is the error of its invocation (or of its
init), with the type the runtime names: the shapes below are the runtimes' own (their source and
public captures: events/README.md), in the forms the general reader used to miss."""

from __future__ import annotations

import json

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, parse_payloads

RID = "21bafabc-c617-42e6-9ec4-357d988e5505"
T0 = 1_612_857_600_412


def parse(messages: list[str]) -> list[Document]:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/crashy",
        "logStream": "2021/02/09/[$LATEST]4f1d2e8c9b0a47e3a5c6d7e8f9012345",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**55 + i), "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(raw, RecordId("crash", "0"), b"")], region="us-east-1")


def invocation(*lines: str) -> list[Document]:
    """START, ``lines``, END, REPORT of one invocation of ``RID``."""
    return parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            *lines,
            f"END RequestId: {RID}\n",
            f"REPORT RequestId: {RID}\tDuration: 32.80 ms\tBilled Duration: 33 ms\tMemory Size: 1024 MB\t"
            "Max Memory Used: 40 MB\t\n",
        ]
    )


# --------------------------------------------------------------------------- Ruby

RUBY_ERROR = json.dumps(
    {
        "errorMessage": "undefined method `upcase' for nil:NilClass",
        "errorType": "Function<NoMethodError>",
        "stackTrace": ["/var/task/handler.rb:4:in `shout'"],
    },
    indent=2,
)


@pytest.mark.parametrize(
    ("marker", "severity"),
    [("Error raised from handler method", "ERROR"), ("Critical exception from handler", "FATAL")],
)
def test_ruby_marker_and_its_error_object_in_one_event_are_the_error(marker: str, severity: str) -> None:
    """Ruby's runtime writes the marker and the error object (``LambdaLogger.log_error``); as one
    write they are one event (``Critical exception from handler{...}``, a captured 2020 log)."""
    for line in (marker + RUBY_ERROR, marker + "\n" + RUBY_ERROR):
        doc = invocation(line)[1]
        assert doc["lambda.event_type"] == "unhandled_error"
        assert doc["severity.text"] == "ERROR"
        assert doc["exception.type"] == "Function<NoMethodError>"
        assert doc["exception.message"] == "undefined method `upcase' for nil:NilClass"
        assert doc["exception.stacktrace"] == "/var/task/handler.rb:4:in `shout'"
    marker_doc, error_doc = invocation(marker, RUBY_ERROR)[1:3]  # two events: the marker, then the object
    assert (marker_doc["lambda.event_type"], marker_doc["severity.text"]) == ("app_log", severity)
    assert "exception.type" not in marker_doc
    assert error_doc["lambda.event_type"] == "unhandled_error"


def test_ruby_init_marker_with_its_error_object_is_an_init_error() -> None:
    error = json.dumps(
        {"errorMessage": "cannot load such file -- lambda_function", "errorType": "Init<LoadError>"}, indent=2
    )
    docs = parse(
        [
            "INIT_START Runtime Version: ruby:3.3.v8\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:x\n",
            "Init error when loading handler lambda_function.lambda_handler" + error,
        ]
    )
    assert docs[1]["lambda.event_type"] == "init_error"
    assert docs[1]["exception.type"] == "Init<LoadError>"


# --------------------------------------------------------------------------- Go

GO_PANIC_ERROR = (
    '2024/05/01 07:40:02 {"errorMessage":"runtime error: index out of range [3] with length 3",'
    '"errorType":"boundsError","stackTrace":[{"path":"github.com/aws/aws-lambda-go@v1.46.0/lambda/errors.go",'
    '"line":39,"label":"lambdaPanicResponse"}],"shouldExit":true}\n'
)


@pytest.mark.parametrize(
    "line",
    [
        "2024/05/01 07:40:02 calling the handler function resulted in a panic, the process should exit\n",
        "calling the handler function resulted in a panic, the process should exit\n",  # log.SetFlags(0)
    ],
)
def test_go_handler_panic_line_is_the_invocations_crash(line: str) -> None:
    """aws-lambda-go recovers a handler's panic, logs its error object, then ``log.Fatal``s this
    line and exits: a FATAL error of the invocation (it was an INFO application line)."""
    docs = invocation(GO_PANIC_ERROR, line)
    doc = docs[2]
    assert doc["lambda.event_type"] == "unhandled_error"
    assert doc["severity.text"] == "FATAL"
    assert doc["exception.type"] == "panic"
    assert (
        doc["exception.message"]
        == "calling the handler function resulted in a panic, the process should exit"
    )
    assert doc["faas.invocation_id"] == RID
    assert docs[1]["exception.type"] == "boundsError"  # the panic's own error, logged before
    assert docs[-1]["lambda.outcome"] == "error"


# --------------------------------------------------------------------------- modules that cannot load


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(  # nodejs6.10 (2018, captured in public issues: events/README S70)
            "Unable to import module 'index': Error\n    at Function.Module._resolveFilename (module.js:469:15)\n"
            "    at Function.Module._load (module.js:417:25)\n",
            "Unable to import module 'index': Error",
            id="node-legacy",
        ),
        pytest.param(  # python2.7 / 3.6 printed it bare
            "Unable to import module 'lambda_function': No module named requests\n",
            "Unable to import module 'lambda_function': No module named requests",
            id="python-legacy",
        ),
    ],
)
def test_a_module_the_old_runtimes_could_not_import_is_an_init_error(line: str, message: str) -> None:
    """Before 2019 the runtimes loaded the code at the first invocation and printed this bare line
    between its START and END: the init failed (it was an application line, or a logged error)."""
    docs = invocation(line)
    doc = docs[1]
    assert doc["lambda.event_type"] == "init_error"
    assert doc["severity.text"] == "ERROR"
    assert doc["exception.type"] == "Runtime.ImportModuleError"
    assert doc["exception.message"] == message
    assert doc["faas.invocation_id"] == RID
    assert doc["lambda.init_id"] == RID
    assert docs[-1]["lambda.outcome"] == "error"


# --------------------------------------------------------------------------- Java: the handler class


def test_a_handler_class_that_does_not_load_is_an_init_error_of_the_missing_class() -> None:
    """java8 loaded the handler at the first invocation; a class it cannot define is reported as
    ``Error loading class ...: class java.lang.NoClassDefFoundError`` (Class.toString()), the cause
    below (aws/aws-sdk-java#1116, 2017)."""
    doc = invocation(
        "Error loading class com.acme.LambdaHandler: com/acme/DynamoDBInsertHandler: class java.lang.NoClassDefFoundError\n"
        "java.lang.NoClassDefFoundError: com/acme/DynamoDBInsertHandler\n"
        "\tat java.lang.ClassLoader.defineClass1(Native Method)\n"
        "\tat java.lang.ClassLoader.defineClass(ClassLoader.java:763)\n"
        "Caused by: java.lang.ClassNotFoundException: com.acme.DynamoDBInsertHandler\n"
        "\tat java.net.URLClassLoader.findClass(URLClassLoader.java:381)\n\t... 13 more\n\n"
    )[1]
    assert doc["lambda.event_type"] == "init_error"
    assert doc["exception.type"] == "java.lang.NoClassDefFoundError"
    assert (
        doc["exception.message"]
        == "Error loading class com.acme.LambdaHandler: com/acme/DynamoDBInsertHandler"
    )
    assert doc["exception.stacktrace"].startswith(
        "java.lang.NoClassDefFoundError: com/acme/DynamoDBInsertHandler\n"
    )


def test_a_class_not_found_in_the_json_log_format_is_an_init_error() -> None:
    doc = invocation(
        '{"errorMessage":"Class not found: example.Hello","errorType":"java.lang.ClassNotFoundException"}'
    )[1]
    assert doc["lambda.event_type"] == "init_error"
    assert doc["exception.type"] == "java.lang.ClassNotFoundException"


def test_an_exception_of_the_handler_is_still_unhandled() -> None:
    doc = invocation(
        "Index 3 out of bounds for length 3: java.lang.ArrayIndexOutOfBoundsException\n"
        "java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 3\n"
        "\tat example.Hello.handleRequest(Hello.java:12)\n\n"
    )[1]
    assert doc["lambda.event_type"] == "unhandled_error"


# --------------------------------------------------------------------------- .NET

DOTNET_TS = "2025-02-11T10:00:59.612Z"


def test_dotnet_exception_before_the_first_invocation_is_an_init_error() -> None:
    """Amazon.Lambda.RuntimeSupport writes an init's unhandled exception with the request id it
    has then: none (``<ts>\t\tfail\t...``); so it is the init's even in a batch that does not
    hold the stream's INIT_START (aws/aws-lambda-dotnet#1399, 2022)."""
    doc = parse(
        [
            f"{DOTNET_TS}\t\tfail\tAmazon.Lambda.RuntimeSupport.ExceptionHandling.LambdaValidationException: "
            "Could not find the specified handler assembly with the file name 'LambdaTest, Culture=neutral, "
            "PublicKeyToken=null'. The assembly should be located in the root of your uploaded .zip file.\n"
            "   at Amazon.Lambda.RuntimeSupport.Bootstrap.UserCodeLoader.Init(Action`1 customerLoggingAction) "
            "in /src/Bootstrap/UserCodeLoader.cs:line 85\n",
            "INIT_REPORT Init Duration: 210.12 ms\tPhase: init\tStatus: error\tError Type: Runtime.Unknown\n",
        ]
    )[0]
    assert doc["lambda.event_type"] == "init_error"
    assert doc["exception.type"] == "Amazon.Lambda.RuntimeSupport.ExceptionHandling.LambdaValidationException"
    assert "faas.invocation_id" not in doc


def test_dotnet_exception_of_a_type_named_without_the_suffix() -> None:
    """Exception.ToString() names the type whatever it is called; .NET's frames below say it."""
    doc = invocation(
        f"{DOTNET_TS}\t{RID}\tfail\tShop.Payments.PaymentDeclined: card expired\n"
        "   at Shop.Payments.Gateway.Charge(Order order) in /src/Gateway.cs:line 58\n"
        "   at Shop.Function.FunctionHandler(SQSEvent evnt, ILambdaContext context) in /src/Function.cs:line 31\n"
    )[1]
    assert doc["lambda.event_type"] == "unhandled_error"
    assert doc["exception.type"] == "Shop.Payments.PaymentDeclined"
    assert doc["exception.message"] == "card expired"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(  # ILambdaLogger.LogError(exception, message): the message, the exception below
            f"{DOTNET_TS}\t{RID}\tfail\tPayment declined for order 1042\n"
            "System.Net.Http.HttpRequestException: Response status code does not indicate success: 402.\n"
            "   at Shop.Payments.GatewayClient.ChargeAsync(Order order) in /src/GatewayClient.cs:line 58\n",
            id="dotnet-log-error",
        ),
        pytest.param(  # console.error("Payment declined ...\n", err) in Node.js
            f"{DOTNET_TS}\t{RID}\tERROR\tPayment declined for order 1042\n"
            "HttpRequestException: Response status code does not indicate success: 402.\n"
            "    at chargeAsync (file:///var/task/gateway.mjs:58:11)\n",
            id="node-message-then-error",
        ),
    ],
)
def test_an_exception_logged_below_its_message_is_a_logged_error_with_its_type(line: str) -> None:
    docs = invocation(line)
    doc = docs[1]
    assert doc["lambda.event_type"] == "app_log"
    assert doc["severity.text"] == "ERROR"
    assert doc["exception.type"].endswith("HttpRequestException")
    assert doc["exception.message"] == "Response status code does not indicate success: 402."
    assert doc["exception.stacktrace"].startswith(doc["exception.type"])
    assert doc["exception.fingerprint"]


def test_an_error_line_with_a_second_line_that_is_no_exception_has_none() -> None:
    doc = invocation(f"{DOTNET_TS}\t{RID}\tfail\tQuery failed\nSELECT * FROM orders WHERE id = 7\n")[1]
    assert (doc["lambda.event_type"], doc["severity.text"]) == ("app_log", "ERROR")
    assert "exception.type" not in doc


# --------------------------------------------------------------------------- Python's LAMBDA_WARNING

WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in "
    "rare cases, a Lambda runtime update can cause unexpected function behavior. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            '{"timestamp": "2024-03-14T09:12:31Z", "level": "ERROR", "errorMessage": "\'invoice_id\'", '
            f'"errorType": "KeyError", "requestId": "{RID}", "stackTrace": ["  File \\"/var/task/app.py\\", '
            'line 18, in handler\\n    invoice = load(event[\\"invoice_id\\"])\\n"]}\n',
            id="json-log-format",
        ),
        pytest.param(
            "[ERROR] KeyError: 'invoice_id'\rTraceback (most recent call last):\r\u00a0\u00a0File "
            '"/var/task/app.py", line 18, in handler\r\u00a0\u00a0\u00a0\u00a0invoice = load(event["invoice_id"])\n',
            id="text-log-format",
        ),
    ],
)
def test_python_warning_and_the_error_that_follows_it_in_one_event_are_the_error(error: str) -> None:
    """The Python runtime (2023 - 2024) wrote the warning, ending in a carriage return, and then the
    error to stdout: without the telemetry descriptor both are one event (it was a WARN line)."""
    docs = invocation(WARNING + error)
    doc = docs[1]
    assert doc["lambda.event_type"] == "unhandled_error"
    assert doc["severity.text"] == "ERROR"
    assert doc["exception.type"] == "KeyError"
    assert doc["exception.message"] == "'invoice_id'"
    assert "app.py" in doc["exception.stacktrace"]
    assert doc["faas.invocation_id"] == RID
    assert docs[-1]["lambda.outcome"] == "error"


def test_python_warning_alone_is_a_warning() -> None:
    doc = invocation(WARNING + "\n")[1]
    assert (doc["lambda.event_type"], doc["severity.text"]) == ("app_log", "WARN")
    assert "exception.type" not in doc
