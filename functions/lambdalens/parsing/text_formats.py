"""Runtime text line formats and the error texts they carry.

* Python runtime logging:   ``[INFO]\\t2024-05-01T12:00:00.123Z\\t<request id>\\tmessage``
* Python unhandled error:   ``[ERROR] KeyError: 'x'\\nTraceback (most recent call last):\\n  File ...``
  (older runtimes separate lines with ``\\r`` and indent with U+00A0)
* Node.js / .NET:           ``2024-05-01T12:00:00.123Z\\t<request id>\\tINFO\\tmessage`` (.NET: ``info``, ``fail``)
* Node.js errors:           ``...\\tERROR\\tInvoke Error \\t{"errorType": ..., "stack": [...]}`` and
  ``Uncaught Exception`` / ``Unhandled Promise Rejection``
* Timeouts:                 ``2024-05-01T12:00:03.005Z <request id> Task timed out after 3.00 seconds``
* Java log4j2 (Lambda appender pattern): ``2024-05-01 12:00:00 <request id> INFO  Class - message``
* Ruby Logger:              ``I, [2024-05-01T12:00:00.123456 #8]  INFO -- : message``
* Platform error lines:     ``RequestId: <id> Error: Runtime exited with error: signal: killed\\nRuntime.ExitError``
* Rust ``tracing`` (lambda_runtime's default subscriber): `` INFO Lambda runtime invoke{requestId="<id>" xrayTraceId="Root=..."}: message``
* Rust panics:              ``thread 'main' panicked at src/main.rs:10:5:`` then the message on the next line

Every pattern here runs on text a function printed (up to 256 KB per event): each is written
to take linear time on any input (anchored, possessive quantifiers where a run is followed by
something it could also match, no adjacent unbounded runs of overlapping characters).
"""

from __future__ import annotations

import re

from lambdalens.parsing.severity import normalize_severity

REQUEST_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIMEOUT_TEXT = "Task timed out after "
_TIMEOUT_SECONDS = re.compile(r"(?P<secs>[\d.]+) seconds")
#: The error type Lambda prints on the line after a runtime's error: ``Runtime.ExitError``,
#: ``Runtime.InvalidEntrypoint``, Ruby's ``Function<NoMethodError>`` / ``Init<LoadError>``
_LAMBDA_ERROR_TYPE = r"[\w.]++(?:<[\w:.]*+>)?+"
#: Lambda's line when the runtime process ended during an invocation (or the init retried in it):
#: ``RequestId: <id> Error: Runtime exited with error: exit status 1`` (``signal: killed``,
#: ``Runtime exited without providing a reason``, ``Couldn't find valid bootstrap(s): [...]``; before
#: 2019 ``RequestId: <id> Process exited before completing request``), the error type on the next line
RUNTIME_EXIT = re.compile(
    r"^RequestId: (?P<rid>\S++)[ \n](?P<error>Error: )?(?P<msg>[^\r\n]*+)\r?+(?:\n++(?P<type>"
    + _LAMBDA_ERROR_TYPE
    + "))?"
)
# "<ts> <request id> <LEVEL> <rest>"; the request id is empty outside an invocation ("<ts>  INFO ...",
# two separators)
JAVA_LOG4J = re.compile(
    r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,:]\d+)?Z?\s++(?:(?P<rid>[0-9a-fA-F-]{36}|\S++)\s++|(?<=\s\s))"
    r"(?P<level>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s+(?P<rest>.*)",
    re.S,
)
# Other Java layouts, with their level: Logback's default ``HH:mm:ss.SSS [thread] LEVEL logger - msg``;
# a pattern that starts with the request id (``%X{AWSRequestId} %-5p %c{1}:%L - %m%n``, log4j 1.x's
# ``<%X{AWSRequestId}>`` in brackets); ``%d{ISO8601} <%X{AWSRequestId}> [%t] %-5p ...``. A time or a
# request id comes before the level (a bare "ERROR ..." is no Java layout's).
JAVA_LAYOUT = re.compile(
    r"^(?:(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d++)?+Z?+|\d\d:\d\d:\d\d[.,]\d{3}) )?+"
    r"(?:<?+(?P<rid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})>?+ )?+"
    r"(?:\[[^\]\n]{1,80}+\] )?+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL) ++(?P<rest>.*)",
    re.S,
)
#: The first characters of a line of JAVA_LAYOUT that no other reader takes: a request id's, its bracket
JAVA_LAYOUT_FIRST = frozenset("0123456789abcdefABCDEF<")


def split_java_layout(message: str) -> tuple[str, str, str] | None:
    """A line of one of the JAVA_LAYOUT layouts -> (severity, request id or "", rest)."""
    m = JAVA_LAYOUT.match(message)
    if m is None or (m["ts"] is None and m["rid"] is None):
        return None
    return m["level"], m["rid"] or "", m["rest"]


RUBY_LOGGER = re.compile(
    r"^[DIWEFA], \[[^\]]*\]\s+(?P<level>[A-Z]+)(?: (?P<rid>[0-9a-fA-F-]{36}))? -- [^:]*: (?P<rest>.*)", re.S
)
#: What Ruby's runtime prints before the error object of a handler's error, a critical one (the
#: process exits) and an init's (``LambdaLogger.log_error(exception:, message:)``)
RUBY_ERROR_MARKERS = (
    "Error raised from handler method",
    "Critical exception from handler",
    "Init error when loading handler",
)
GO_LOG = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?P<rest>.*)", re.S)
# A Java / .NET / JS exception header: "java.lang.IllegalStateException: msg", "System.Exception: msg";
# also as the JVM prints an uncaught exception ("Exception in thread "main" ...") and the .NET
# host a crashing process's ("Unhandled exception. System.Exception: ...", older .NET Core
# "Unhandled Exception: ...")
EXCEPTION_HEADER = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" |Unhandled [Ee]xception[.:] )?(?P<type>(?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Fault)"
    r"|[A-Z][\w]*(?:Exception|Error))(?::\s?(?P<msg>[^\n]*))?$"
)
JAVA_TYPE = re.compile(r"(?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*")
#: How the Java runtime reports a handler class it cannot load (``Class not found: example.Hello:
#: java.lang.ClassNotFoundException``, ``Error loading class example.Handler: ...: class
#: java.lang.NoClassDefFoundError``): the function's init failed
JAVA_CLASS_LOADING = ("Class not found: ", "Error loading class ")
#: How .NET's Exception.ToString() starts a frame line ("   at Ns.Type.Method() in /src/F.cs:line 9");
#: V8 indents its frames four spaces ("    at fn (file:///var/task/index.mjs:12:11)"), Java a tab.
DOTNET_FRAME = "\n   at "
#: The first line of Exception.ToString() whatever the type's name ("MyShop.Payments.PaymentDeclined:
#: ...", nested types with "+", generic ones with a backtick): taken with .NET's frames below only
DOTNET_EXCEPTION_HEADER = re.compile(
    r"^(?:Unhandled [Ee]xception[.:] )?(?P<type>(?:[A-Za-z_][\w+`]*+\.)++[A-Za-z_][\w+`]*+)(?:: (?P<msg>[^\n]*+))?$"
)
_DOTNET_TRACE_STARTS = ("   at ", " ---> ")
_V8_FRAME = "    at "
V8_FRAME_LINE = "\n" + _V8_FRAME
#: "<type>: <message>" at the end of the line V8's frames follow (a text may come before it)
_V8_ERROR_IN_LINE = re.compile(
    r"(?:^|(?<=\s))(?P<type>(?:[A-Z][\w$]*)?(?:Error|Exception))(?:: (?P<msg>.*))?$"
)
PYTHON_TRACEBACK = "Traceback (most recent call last):"
# The last line of a Python traceback: "KeyError: 'x'", "botocore.exceptions.ClientError: ...",
# "StopIteration". Python qualifies every exception type but the built-in ones (and __main__'s),
# whose names end in one of these words.
PYTHON_EXCEPTION_LINE = re.compile(
    r"(?P<type>(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*|[A-Za-z_]\w*(?:Error|Exception|Warning|Interrupt|Exit|Iteration|Group))"
    r"(?::[ ]?(?P<msg>.*))?$"
)
PYTHON_UNHANDLED = re.compile(r"^\[ERROR\] (?P<type>[\w.<>]+)(?:: ?(?P<msg>[^\r\n]*))?")
#: Lambda's line for an error a runtime posted without printing it: ``Unknown application error
#: occurred`` and the error type on the next line (``Runtime.Unknown``, ``Function<NoMethodError>``);
#: also ``Error: <message>`` and a ``Runtime.*`` type
RUNTIME_TRAILER = re.compile(
    r"^(?P<msg>[^\n]++)\n(?P<type>Runtime\.\w++|(?:Function|Init)<[\w:.]++>)\r?+\n?+$"
)
UNKNOWN_APPLICATION_ERROR = "Unknown application error occurred"
PROCESS_EXITED = "Process exited before completing request"
GO_PANIC = re.compile(r"^panic: (?P<msg>[^\n]*)")
#: How the runtimes before 2019 (Node.js 4 - 6, Python 2.7 - 3.6) printed a module they could not load
IMPORT_MODULE_ERROR = "Unable to import module '"
#: aws-lambda-go's ``log.Fatal`` when a handler panicked (the panic's error object was logged before)
GO_HANDLER_PANIC = "calling the handler function resulted in a panic, the process should exit"
LEADING_LEVEL = re.compile(r"^\[?(TRACE|DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b[\]:]?", re.I)
# A Go frame line: "main.handle.func1()", "github.com/x/y.(*T).Method(0xc000...)"
GO_FRAME = re.compile(r"^(?:[\w/-]++\.)++(?:\(\*?\w++\)\.)?+\w++(?:\.\w++)*+\([^\n]*\)$")

# Rust: the tracing crate's text format as aws-lambda-rust-runtime's default subscriber writes it
# (lambda_runtime::tracing::init_default_subscriber: no time, no target): the level right-aligned
# in five columns (" INFO", " WARN", "ERROR"), then the spans the event is in, then the message.
# The runtime runs every invocation in a span "Lambda runtime invoke" that names the request and
# its X-Ray trace header. Colour codes come with it where a dependency of the function turns on
# tracing-subscriber's "ansi" feature.
_RUST_TRACING = re.compile(r"^ ?(?P<level>TRACE|DEBUG|INFO|WARN|ERROR) (?P<rest>.*)", re.S)
_RUST_INVOKE_SPAN = re.compile(
    r'Lambda runtime invoke\{requestId="(?P<rid>[^"]*+)"(?: xrayTraceId="(?P<trace>[^"]*+)")?\}'
)
# The spans after the runtime's, up to the message: ":send_operation{operation=\"PutItem\"}:dispatch: "
_RUST_MORE_SPANS = re.compile(r'(?::[\w-]++(?:\{(?:[^"}]++|"(?:[^"\\]++|\\.)*+")*+\})?+)*+: ')
_ANSI_SGR = re.compile(r"\x1b\[[0-9;]*+m")
#: The first characters of a Rust tracing line (a padded level, an unpadded one, a colour code).
RUST_TRACING_FIRST = frozenset(" TDIWE\x1b")
_RUST_PADDED = (" INFO ", " WARN ")
_RUST_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "WARN", "ERROR"})
#: How the runtime's span starts in a line (found anywhere in it: see read_rust_tracing)
RUST_INVOKE_SPAN = "Lambda runtime invoke{"
_RUST_GLUED_SPAN = " " + RUST_INVOKE_SPAN


def read_rust_tracing(message: str) -> tuple[str, str, str | None, str] | None:
    """`` INFO Lambda runtime invoke{requestId="<id>" xrayTraceId="<header>"}: <message>`` ->
    (severity, request id or "", X-Ray trace header or None, message); None for another line.
    A line outside the runtime's span (printed during init, or by a subscriber of the
    function's own) has no request id; its message is what follows the level."""
    text = _ANSI_SGR.sub("", message) if "\x1b[" in message else message
    m = _RUST_TRACING.match(text)
    if m is not None:
        level, rest = m["level"], m["rest"]
    else:  # text the function printed without a newline comes first: "helloERROR Lambda runtime invoke{..."
        at = text.find(_RUST_GLUED_SPAN)
        level = text[at - 5 : at].lstrip() if at >= 5 else ""
        if level not in _RUST_LEVELS:
            return None
        rest = text[at + 1 :]
    span = _RUST_INVOKE_SPAN.match(rest)
    if span is None:
        return level, "", None, rest
    after = _RUST_MORE_SPANS.match(rest, span.end())
    if after is not None:
        text = rest[after.end() :]
    else:  # a span of an unusual name: the message follows the first ": "
        tail = rest[span.end() :]
        cut = tail.find(": ")
        text = tail[cut + 2 :] if cut >= 0 else tail
    return level, span["rid"], span["trace"], text


# A Rust panic as the standard library prints it: since Rust 1.73 "thread '<name>' panicked at
# <file>:<line>:<col>:" with the message on the next line (a Lambda event of its own, as every
# line a provided runtime prints), before 1.73 "thread '<name>' panicked at '<message>', <file>:<line>:<col>"
RUST_PANIC = "thread '"
_RUST_PANIC_HEAD = re.compile(r"^thread '[^'\n]*+' panicked at (?P<at>[^\n]*+)\n?+(?P<msg>[^\n]*+)")


def read_rust_panic(message: str) -> tuple[str, str | None] | None:
    """A Rust panic's first line -> (its first line, the message or None when it is on the
    next line); None for another line."""
    m = _RUST_PANIC_HEAD.match(message)
    if m is None:
        return None
    at = m["at"].rstrip("\r")
    head = message[: m.start("at")] + at
    if at.startswith("'"):  # before Rust 1.73: at '<message>', <location>
        text, sep, _ = at[1:].rpartition("', ")
        return head, (text if sep else at[1:])
    msg = m["msg"].rstrip("\r")
    return head, (msg or None)


_CONTINUATION_PREFIXES = (
    "Caused by:",
    "Traceback (most recent call last):",
    "goroutine ",
    "[signal ",
    "created by ",
    "Suppressed:",
    "During handling of the above exception",
    "The above exception was the direct cause",
    "--- End of ",
    "<--- ",
    "exit status ",
    "stack backtrace:",  # a Rust panic's
    "note: run with `RUST_BACKTRACE=",
    "note: Run with `RUST_BACKTRACE=",  # (before Rust 1.73)
    "note: Some details are omitted",
)


def looks_like_request_id(value: str) -> bool:
    """A UUID-shaped request id (cheap check first, the hot path calls this for every line)."""
    return len(value) == 36 and value[8] == "-" and value[13] == "-" and value[18] == "-" and value[23] == "-"


_LAMBDA_TIMEOUT_END = re.compile(r"[\d.]+ seconds\s*\Z")


def is_lambda_timeout(message: str) -> bool:
    """Does the line end as Lambda's timeout line does (``Task timed out after 3.00 seconds``)?
    An application's own text with the words ("Task timed out after 5 seconds waiting for
    the lock") goes on after them."""
    at = message.find(TIMEOUT_TEXT)
    return at >= 0 and _LAMBDA_TIMEOUT_END.match(message, at + len(TIMEOUT_TEXT)) is not None


def read_timeout(message: str) -> tuple[str | None, str | None] | None:
    """``[<ts>] [<request id>] Task timed out after <N> seconds`` -> (request id, seconds) as
    printed (either may be None); None without the timeout text. The request id is the word
    right before the text (checked by the caller)."""
    at = message.find(TIMEOUT_TEXT)
    if at < 0:
        return None
    m = _TIMEOUT_SECONDS.match(message, at + len(TIMEOUT_TEXT))
    before = message[:at].rstrip()
    word = before[-36:]
    request_id = word if len(before) == 36 or before[-37:-36].isspace() else None
    return request_id, (m["secs"] if m is not None else None)


def split_python_prefix(message: str) -> tuple[str, str, str] | None:
    """``[LEVEL]\\t<ts>\\t<request id>\\t<rest>`` -> (severity, request id, rest)."""
    close = message.find("]\t", 1, 12)
    if close < 0:
        return None
    parts = message.split("\t", 3)
    if len(parts) < 4:
        return None
    level = normalize_severity(message[1:close])
    if level is None:
        return None
    return level, parts[2], parts[3]


def split_tab_prefix(message: str) -> tuple[str, str, str] | None:
    """``<ISO ts>\\t<request id>\\t<LEVEL>\\t<rest>`` (Node.js, .NET) -> (severity, request id, rest)."""
    if len(message) < 25 or message[4] != "-" or message[10] != "T":
        return None
    parts = message.split("\t", 3)
    if len(parts) < 4:
        if len(parts) == 3 and parts[0].endswith(
            "Z"
        ):  # "<ts>\t<request id>\t<message>" (console.log in old Node)
            return "INFO", parts[1], parts[2]
        return None
    level = normalize_severity(parts[2])
    if level is None:
        if parts[0].endswith("Z"):
            return "INFO", parts[1], "\t".join(parts[2:])
        return None
    return level, parts[1], parts[3]


_V8_OOM_REPORT = ("[", "<---", "FATAL ERROR:", "-----", "Security context:")


def is_continuation(message: str, head: str = "") -> bool:
    """Does this event continue the error that ``head`` (the message that opened it) started?"""
    if not message or message[0] in " \t\r\n\u00a0" or message.strip() == "":
        return not message.startswith(_RUST_PADDED)  # a Rust tracing line: " INFO ..."
    if head.startswith("<--- Last few GCs") and message.startswith(_V8_OOM_REPORT):
        return True
    if message.startswith(_CONTINUATION_PREFIXES):
        return True
    first = message.rstrip("\r\n")
    return bool(GO_FRAME.match(first))


def split_error_text(text: str) -> tuple[str | None, str | None, str | None]:
    """An exception printed as text -> (type, message, stack trace).

    Handles Java/.NET/JS headers followed by ``at`` frames and Python tracebacks.
    """
    text = text.replace("\r", "\n")
    first, _, rest = text.partition("\n")
    m = EXCEPTION_HEADER.match(first.strip())
    if m:
        return m.group("type"), m.group("msg"), text if rest else None
    if rest.startswith(_DOTNET_TRACE_STARTS):  # .NET: a type of any name, frames indented three spaces
        m = DOTNET_EXCEPTION_HEADER.match(first.strip())
        if m:
            return m.group("type"), m.group("msg"), text
    # A JavaScript error with V8's frames below: JavaScript's base "Error: <message>" (a name the
    # header above does not take alone, as plain text says "Error: ..." too), or an error logged
    # after a text of the application's (console.error("charge failed", err))
    if rest.startswith(_V8_FRAME):
        m = _V8_ERROR_IN_LINE.search(first)
        if m is not None:
            return m["type"], m["msg"] or None, text
    # The Java runtime prints an unhandled exception as "<message>: <type>\n<type>: <message>\n\tat ..."
    # (the type as Class.toString() writes it for some: "class java.lang.NoClassDefFoundError")
    message, sep, exc_type = first.rstrip().rpartition(": ")
    exc_type = exc_type.removeprefix("class ")
    if sep and rest.startswith(exc_type) and JAVA_TYPE.fullmatch(exc_type):
        return exc_type, message, rest
    if "Traceback (most recent call last):" in text:
        from lambdalens.parsing.structured import last_exception_line

        trace = text[text.index("Traceback (most recent call last):") :]
        last_type, last_message = last_exception_line(trace)
        return last_type, last_message, trace
    return None, None, None
