"""Subscription payloads -> documents, one per log event.

:class:`BatchParser` reads the payloads of one batch in order, keeping per log stream what
Lambda's output needs to be understood:

* which invocation is running (``START`` .. ``REPORT``), so bare lines with no request id
  (``print``, stderr, tracebacks) are attributed to the request that encloses them;
* whether the environment is initialising (``INIT_START`` .. ``START``), so errors there
  are init errors;
* the error that the previous event opened, so a stack trace printed as several events is
  one error (the continuation events point at the first with ``log.record.parent_uid``).

:meth:`BatchParser.finish` then completes each invocation from everything the batch held:
the trace id, correlation id and cold start reach every document of the invocation, each
REPORT gets its ``lambda.outcome``, each error its ``exception.fingerprint``.

Pure: no I/O, no global state.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from lambdalens.decoding.payload import SubscriptionPayload
from lambdalens.parsing.document import (
    APP_LOG,
    END,
    EXTENSION,
    FAILURE_TYPES,
    INIT_ERROR,
    INIT_ERROR_TYPES,
    INIT_REPORT,
    INIT_START,
    OOM,
    PLATFORM,
    REPORT,
    START,
    TIMEOUT,
    UNHANDLED_ERROR,
    Document,
)
from lambdalens.parsing.extensions import (
    EXTENSION_FIRST_CHARS,
    EXTENSION_PREFIXES,
    TRACING_TARGETS,
    TRACING_TARGETS_START,
    ZAP_CALLERS,
    ZAP_LEVELS,
    json_extension,
    text_extension,
)
from lambdalens.parsing.fingerprint import fingerprint
from lambdalens.parsing.platform import (
    TEXT_PREFIXES,
    apply_platform_json,
    apply_platform_text,
    read_platform_report,
    read_platform_start,
    read_report,
    read_start,
)
from lambdalens.parsing.serialisable import (
    DEEP_JSON_MIN_CHARS,
    DEEP_OBJECTS_MIN_CHARS,
    depth_limited,
    too_deep,
)
from lambdalens.parsing.severity import EXACT_SEVERITY, SEVERITY_NUMBER, normalize_severity
from lambdalens.parsing.structured import apply_plain, apply_structured
from lambdalens.parsing.text_formats import (
    DOTNET_EXCEPTION_HEADER,
    DOTNET_FRAME,
    EXCEPTION_HEADER,
    GO_HANDLER_PANIC,
    GO_LOG,
    IMPORT_MODULE_ERROR,
    JAVA_CLASS_LOADING,
    JAVA_LAYOUT_FIRST,
    JAVA_LOG4J,
    LEADING_LEVEL,
    PROCESS_EXITED,
    PYTHON_EXCEPTION_LINE,
    PYTHON_TRACEBACK,
    PYTHON_UNHANDLED,
    REQUEST_ID,
    RUBY_ERROR_MARKERS,
    RUBY_LOGGER,
    RUNTIME_EXIT,
    RUNTIME_TRAILER,
    RUST_INVOKE_SPAN,
    RUST_PANIC,
    RUST_TRACING_FIRST,
    UNKNOWN_APPLICATION_ERROR,
    V8_FRAME_LINE,
    is_continuation,
    is_lambda_timeout,
    looks_like_request_id,
    read_rust_panic,
    read_rust_tracing,
    read_timeout,
    split_error_text,
    split_java_layout,
    split_python_prefix,
    split_tab_prefix,
)
from lambdalens.parsing.trace_header import trace_id_of

_NODE_ERROR_MARKERS = ("Invoke Error", "Uncaught Exception", "Unhandled Promise Rejection")
_OOM_TYPES = frozenset(
    {"Runtime.OutOfMemory", "java.lang.OutOfMemoryError", "MemoryError", "OutOfMemoryError"}
)
_FAILED_STATUSES = ("error", "failure", "timeout")
_INFO = SEVERITY_NUMBER["INFO"]
_ERROR_SEVERITIES = ("ERROR", "FATAL")
#: Event types that move a stream's lifecycle state (see ``BatchParser._track_lifecycle``).
_LIFECYCLE_TYPES = frozenset({START, INIT_START, INIT_ERROR, INIT_REPORT})
_V8_HEAP_REPORT = "<--- Last few GCs --->"
#: How the bare lines that _bare_marker reads start (runtimes' and Lambda's own lines)
_BARE_MARKERS = (
    "panic: ",
    RUST_PANIC,
    "FATAL ERROR: ",
    *RUBY_ERROR_MARKERS,
    IMPORT_MODULE_ERROR,
    GO_HANDLER_PANIC,
    "LAMBDA_WARNING: ",
    _V8_HEAP_REPORT,
    UNKNOWN_APPLICATION_ERROR,
)
#: Lines that the Go log fast path leaves to the general reader (Go's "<ts> <rest>" with this rest)
_GO_DECLINED = (GO_HANDLER_PANIC, *EXTENSION_PREFIXES)
# The start of such a line's rest: its level (as LEADING_LEVEL reads it), or one of those (one
# regex call for both: each call costs the hot path as much as the line's other steps)
_GO_REST_START = re.compile(
    LEADING_LEVEL.pattern + "|(?P<declined>" + "|".join(re.escape(p) for p in _GO_DECLINED) + ")", re.I
)
#: First characters of extension lines _classify looks at itself ("[" ones: _bracket_line, digits: _digit_line)
_EXTENSION_FIRST = EXTENSION_FIRST_CHARS - {"["}
#: First characters of a Java layout's line that _classify asks about (digits: _digit_line does)
_JAVA_LETTER_FIRST = JAVA_LAYOUT_FIRST - set("0123456789")
_PLATFORM_BY_FIRST_CHAR: dict[str, tuple[tuple[str, str], ...]] = {
    c: tuple((p, t) for p, t in TEXT_PREFIXES if p[0] == c) for c in "SERILT"
}

_iso_cache: dict[int, str] = {}
_MILLIS: tuple[str, ...] = tuple(f".{i:03d}Z" for i in range(1000))


def iso_ms(epoch_ms: int) -> str:
    """Epoch milliseconds -> ``2024-05-01T12:00:00.123Z`` (cached per second: the hot path)."""
    seconds = epoch_ms // 1000
    millis = epoch_ms - seconds * 1000
    prefix = _iso_cache.get(seconds)
    if prefix is None:
        if len(_iso_cache) > 50_000:
            _iso_cache.clear()
        try:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        except (OverflowError, OSError, ValueError):
            prefix = "1970-01-01T00:00:00"
        _iso_cache[seconds] = prefix
    return prefix + _MILLIS[millis]


def function_of(log_group: str, log_stream: str) -> tuple[str | None, str | None]:
    """(function name, version) from ``/aws/lambda/<name>`` and ``YYYY/MM/DD/[<version>]<id>``.

    Custom log groups (advanced logging controls) name the function in the stream:
    ``YYYY/MM/DD/<name>[<version>]<id>``. Lambda@Edge groups are ``/aws/lambda/<region>.<name>``.
    """
    name: str | None = None
    version: str | None = None
    open_at = log_stream.find("[")
    close_at = log_stream.find("]", open_at + 1) if open_at >= 0 else -1
    if close_at > open_at >= 0:
        version = log_stream[open_at + 1 : close_at] or None
        in_stream = log_stream[:open_at].rsplit("/", 1)[-1]
        if in_stream:
            name = in_stream
    if log_group.startswith("/aws/lambda/"):
        name = log_group[12:] or name
        if name and name.count(".") == 1 and name.split(".", 1)[0].count("-") == 2:  # Lambda@Edge
            name = name.split(".", 1)[1]
    return name, version


@dataclass(slots=True)
class _Stream:
    """What one log stream (one execution environment) has shown so far in the batch."""

    current: str | None = None  # request between START and REPORT
    # The stream has run requests at the same time (a START came while another request had no
    # REPORT yet): an execution environment of Lambda Managed Instances, which runs several
    # invocations at once. A line that names no request is then nobody's for certain, so the
    # stream has no ``current`` request for the rest of the batch.
    concurrent: bool = False
    in_init: bool = False  # INIT_START seen, START not yet
    init_id: str | None = None  # identifies the init attempt that init-phase documents belong to
    open_error: Document | None = None  # the error a continuation line would extend
    # ``open_error`` when it is a Python traceback printed one line per event whose closing
    # "<type>: <message>" line (Python prints the type last) has not arrived yet
    traceback_head: Document | None = None
    # The stack trace of ``open_error`` as the lines its continuation events added, joined into
    # the document when the error closes (see BatchParser._join_trace): appending each line to
    # the text instead would copy the trace so far once per line, quadratic in its length
    trace_lines: list[str] | None = None
    invocation: list[Document] | None = None  # the documents of ``current``
    # ``initializationType`` of the init in progress (on-demand, provisioned-concurrency, ...):
    # only JSON ``platform.initStart`` records say; the START that ends the init clears it
    init_type: str | None = None
    # The stream's base document (see BatchParser._base_document) and what it was made for
    base: Document | None = None
    base_owner: str = ""
    base_region: str | None = None


#: What each failure event type says of its invocation, and which wins: oom > timeout > error.
_FAILURE_OF = {TIMEOUT: "timeout", OOM: "oom", UNHANDLED_ERROR: "error", INIT_ERROR: "error"}
_FAILURE_RANK = {None: 0, "error": 1, "timeout": 2, "oom": 3}
#: Failure lines that an invocation Lambda reports as a success shows the function survived.
_SURVIVABLE = frozenset({UNHANDLED_ERROR, TIMEOUT, OOM})


@dataclass(slots=True)
class ParseStats:
    payloads: int = 0
    control_messages: int = 0
    events: int = 0
    salvaged: int = 0  # events kept raw because they could not be parsed


class BatchParser:
    """Parses the payloads of one batch; call :meth:`finish` once after the last :meth:`parse`.

    Parameters
    ----------
    region:
        ``cloud.region`` for payloads that do not say (the Kinesis record's ``awsRegion`` wins).
    observed_at_ms:
        ``observedTimestamp`` for every document (default: now).
    """

    def __init__(self, region: str | None = None, observed_at_ms: int | None = None) -> None:
        self.region = region
        self.observed = iso_ms(observed_at_ms if observed_at_ms is not None else int(time.time() * 1000))
        self.stats = ParseStats()
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._invocations: dict[tuple[str, str, str], list[Document]] = {}  # documents of each request
        self._earlier_attempts: list[list[Document]] = []  # of requests retried in the same batch
        self._errors: list[Document] = []

    # ------------------------------------------------------------------ payloads
    def parse(self, payload: SubscriptionPayload) -> list[Document]:
        """The documents of one payload (a ``CONTROL_MESSAGE`` gives none and is counted)."""
        self.stats.payloads += 1
        if payload.is_control:
            self.stats.control_messages += 1
            return []
        key = (payload.log_group, payload.log_stream)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        region = payload.region or self.region
        base = stream.base
        if base is None or stream.base_owner != payload.owner or stream.base_region != region:
            base = stream.base = self._base_document(payload.owner, region, *key)
            stream.base_owner = payload.owner
            stream.base_region = region
        docs: list[Document] = []
        read = self._read_event
        fast_paths = _FAST_PATHS
        append = docs.append
        # A payload's events are in time order, most within a second of the one before: the
        # "YYYY-MM-DDTHH:MM:SS" of the second being read is kept here, not looked up per event.
        second_ms = -1000  # the first millisecond of that second
        second = ""
        for event in payload.log_events:  # (an event's position in the payload: len(docs))
            doc = base.copy()
            try:
                message = event["message"]
                ts = event["timestamp"]
                event_id = event["id"]
                if (
                    type(message) is not str
                    or type(ts) is not int
                    or type(event_id) is not str
                    or not event_id
                ):
                    event_id = _irregular_event_id(event_id, message, ts, payload, len(docs))
                millis = ts - second_ms
                if not 0 <= millis < 1000:
                    millis = ts % 1000
                    second_ms = ts - millis
                    second = iso_ms(second_ms)[:19]
                doc["@timestamp"] = second + _MILLIS[millis]
                doc["body"] = message
                doc["log.record.uid"] = event_id
                # The commonest layouts have a fast path (see _FAST_PATHS); it declines what it
                # does not recognise, and a line that may continue a stack trace is never its.
                fast_path = fast_paths.get(message[0]) if message else None
                if (
                    fast_path is None
                    or stream.open_error is not None
                    or not fast_path(self, doc, message, stream, key)
                ):
                    read(doc, message, stream, key)
            except Exception as exc:  # never lose an event to a parser bug or a malformed event
                doc = self._salvage(base, event, payload, len(docs), exc)
            append(doc)
        self.stats.events += len(docs)
        return docs

    def _base_document(self, owner: str, region: str | None, group: str, stream_name: str) -> Document:
        """The fields every document of a log stream shares (copied for each event)."""
        name, version = function_of(group, stream_name)
        # Keys every document gets are laid out first (None until set), so the per-event copy
        # is born with room for them and the JSON reads in a natural order.
        base: Document = {
            "@timestamp": None,
            "observedTimestamp": self.observed,
            "body": None,
            "log.record.uid": None,
            "severity.text": None,
            "severity.number": None,
            "lambda.event_type": None,
            "cloud.provider": "aws",
        }
        if owner:
            base["cloud.account.id"] = owner
        if region:
            base["cloud.region"] = region
        base["aws.log.group"] = group
        base["aws.log.stream"] = stream_name
        base["faas.instance"] = stream_name
        if name:
            base["faas.name"] = name
            base["service.name"] = name
        if version:
            base["faas.version"] = version
        return base

    def _read_event(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> None:
        head = stream.open_error
        if head is not None:
            if is_continuation(message, head["body"]):
                self._continue_error(doc, message, head, stream)
                return
            if stream.traceback_head is head and self._close_traceback(doc, message, head, stream):
                return
            if stream.trace_lines is not None:
                self._join_trace(stream)
            stream.open_error = None
        self._complete(doc, self._classify(doc, message, stream), stream, key)

    def _complete(self, doc: Document, event_type: str, stream: _Stream, key: tuple[str, str]) -> None:
        """What every classified line needs: its request, lifecycle, severity, error and invocation."""
        request_id = doc.get("faas.invocation_id")
        if not request_id or request_id == "undefined":
            if request_id is not None:
                del doc["faas.invocation_id"]
            request_id = stream.current
            if request_id is not None and event_type != INIT_START:
                doc["faas.invocation_id"] = request_id
        if event_type in _LIFECYCLE_TYPES:
            self._track_lifecycle(doc, event_type, stream, request_id)
        severity = doc["severity.text"]
        if severity is None:
            severity = doc["severity.text"] = self._default_severity(doc, event_type)
        doc["severity.number"] = SEVERITY_NUMBER[severity]
        doc["lambda.event_type"] = event_type
        if "exception.type" in doc or "exception.message" in doc:
            self._errors.append(doc)
            if event_type in FAILURE_TYPES or event_type == APP_LOG or "exception.stacktrace" in doc:
                if stream.trace_lines is not None:
                    self._join_trace(stream)
                stream.open_error = doc
        if request_id is not None:
            invocation = stream.invocation
            if invocation is None or request_id != stream.current:
                invocation = self._invocation(key, request_id, stream, event_type == START)
            invocation.append(doc)
        if event_type == REPORT:
            stream.current = None
            stream.invocation = None

    def _invocation(
        self, key: tuple[str, str], request_id: str, stream: _Stream, start: bool = False
    ) -> list[Document]:
        """The documents of ``request_id`` so far (those :meth:`finish` completes).

        ``start``: for a START. Lambda retries a failed asynchronous invocation under the same
        request id, often in the same execution environment: a START for a request whose
        REPORT the stream has shown already begins a new attempt, completed on its own (its
        own cold start and outcome).
        """
        inv_key = (key[0], key[1], request_id)
        invocation = self._invocations.get(inv_key)
        if invocation is None:
            invocation = self._invocations[inv_key] = []
        elif start and any(d["lambda.event_type"] == REPORT for d in invocation):
            self._earlier_attempts.append(invocation)
            invocation = self._invocations[inv_key] = []
        if request_id == stream.current:
            stream.invocation = invocation
        return invocation

    def _attach(self, doc: Document, request_id: str, stream: _Stream, key: tuple[str, str]) -> None:
        invocation = stream.invocation
        if invocation is None or request_id != stream.current:
            invocation = self._invocation(key, request_id, stream)
        invocation.append(doc)

    # The fast paths below give exactly the document the generic path would: they only take
    # the layout they recognise (a request id that is set, not "undefined") and return False,
    # leaving ``doc`` untouched, for anything else.
    def _start_line(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        if not message.startswith("START RequestId:"):
            return False
        request_id = read_start(doc, message)
        if request_id is None:
            return False
        self._start(doc, request_id, stream, key)
        return True

    def _start(self, doc: Document, request_id: str, stream: _Stream, key: tuple[str, str]) -> None:
        """Complete a START (text or ``platform.start``) whose fields are read: what ``_complete``
        does for one."""
        if stream.in_init and stream.init_type != "provisioned-concurrency":
            doc["faas.coldstart"] = True  # this invocation waited for the init that preceded it
        _begin(stream, request_id)
        stream.in_init = False
        stream.init_id = None
        stream.init_type = None
        doc["severity.text"] = "INFO"
        doc["severity.number"] = _INFO
        doc["lambda.event_type"] = START
        self._invocation(key, request_id, stream, True).append(doc)

    def _end_line(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        if not message.startswith("END RequestId:") or len(message) > 53 or message[15:16] == " ":
            return False
        request_id = message[15:].rstrip()
        if not request_id or request_id == "undefined":
            return False
        doc["severity.text"] = "INFO"
        doc["severity.number"] = _INFO
        doc["lambda.event_type"] = END
        invocation = stream.invocation
        if invocation is not None and request_id == stream.current:
            doc["faas.invocation_id"] = stream.current  # (one string for all its documents)
            invocation.append(doc)
        else:
            doc["faas.invocation_id"] = request_id
            self._invocation(key, request_id, stream).append(doc)
        return True

    def _report_line(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        if not message.startswith("REPORT RequestId: ") or message.startswith("REPORT RequestId: undefined"):
            return False
        request_id = read_report(doc, message)
        if request_id is None:
            return False
        self._report(doc, request_id, stream, key)
        return True

    def _report(self, doc: Document, request_id: str, stream: _Stream, key: tuple[str, str]) -> None:
        """Complete a REPORT (text or ``platform.report``) whose fields are read: what
        ``_complete`` does for one."""
        if "lambda.status" in doc and doc["lambda.status"] in _FAILED_STATUSES:
            doc["severity.text"] = "ERROR"
            doc["severity.number"] = SEVERITY_NUMBER["ERROR"]
        else:
            doc["severity.text"] = "INFO"
            doc["severity.number"] = _INFO
        doc["lambda.event_type"] = REPORT
        if "exception.type" in doc:  # REPORT's "Error Type:"
            self._errors.append(doc)
        invocation = stream.invocation
        if invocation is not None and request_id == stream.current:
            doc["faas.invocation_id"] = stream.current  # (one string for all its documents)
            invocation.append(doc)
        else:
            self._invocation(key, request_id, stream).append(doc)
        stream.current = None
        stream.invocation = None

    @staticmethod
    def _track_lifecycle(doc: Document, event_type: str, stream: _Stream, request_id: str | None) -> None:
        """START / INIT_START move the stream's state; init-phase documents get ``lambda.init_id``."""
        if event_type == START:
            if stream.in_init and stream.init_type != "provisioned-concurrency":
                doc["faas.coldstart"] = True  # this invocation waited for the init that preceded it
            _begin(stream, request_id)
            stream.in_init = False
            stream.init_id = None
            stream.init_type = None
        elif event_type == INIT_START:
            stream.in_init = True
            stream.current = None
            stream.invocation = None
            stream.init_id = doc["log.record.uid"]
            doc.pop("faas.invocation_id", None)
        if event_type in (INIT_ERROR, INIT_START):
            if stream.init_id is None:
                stream.init_id = request_id or doc["log.record.uid"]
            doc["lambda.init_id"] = stream.init_id
        elif event_type == INIT_REPORT:
            if doc.get("lambda.phase") == "restore":
                doc["lambda.init_id"] = stream.init_id or doc["log.record.uid"]
            else:
                if stream.init_id is None:
                    stream.init_id = request_id or doc["log.record.uid"]
                doc["lambda.init_id"] = stream.init_id

    def _salvage(
        self, base: Document, event: object, payload: SubscriptionPayload, position: int, exc: Exception
    ) -> Document:
        """A document for an event that could not be parsed: the raw event kept as ``body``."""
        doc = base.copy()
        raw = event if isinstance(event, dict) else {}
        message = raw.get("message")
        doc["body"] = message if isinstance(message, str) else orjson.dumps(event, default=repr).decode()
        ts = raw.get("timestamp")
        try:
            doc["@timestamp"] = iso_ms(int(ts))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            doc["@timestamp"] = self.observed
        event_id = raw.get("id")
        if isinstance(event_id, str | int) and str(event_id):
            doc["log.record.uid"] = str(event_id)
        else:
            doc["log.record.uid"] = _synthetic_event_id(payload, position)
        doc["severity.text"] = "WARN"
        doc["severity.number"] = SEVERITY_NUMBER["WARN"]
        doc["lambda.event_type"] = APP_LOG
        doc["lambda.parse_error"] = f"{type(exc).__name__}: {exc}"[:500]
        self.stats.salvaged += 1
        return doc

    def _continue_error(self, doc: Document, message: str, head: Document, stream: _Stream) -> None:
        doc["log.record.parent_uid"] = head.get("log.record.parent_uid", head["log.record.uid"])
        doc["lambda.event_type"] = APP_LOG
        doc["severity.text"] = head["severity.text"]
        doc["severity.number"] = head["severity.number"]
        request_id = head.get("faas.invocation_id")
        if request_id:
            doc["faas.invocation_id"] = request_id
        lines = stream.trace_lines
        if lines is None:
            trace = head.get("exception.stacktrace")
            lines = stream.trace_lines = [trace] if trace else []
        line = message.rstrip("\n")
        lines.append(line)
        if line.startswith("FATAL ERROR: ") and head["body"].startswith("<--- Last few GCs"):
            head["exception.message"] = line[13:].strip()
        elif line.startswith(PYTHON_TRACEBACK):  # a chained exception's traceback: its type comes last
            stream.traceback_head = head

    @staticmethod
    def _join_trace(stream: _Stream) -> None:
        """Give the stream's open error the stack trace its continuation lines made."""
        lines = stream.trace_lines
        if lines is not None and stream.open_error is not None:
            stream.open_error["exception.stacktrace"] = "\n".join(lines)
        stream.trace_lines = None

    def _open_traceback(self, doc: Document, message: str, stream: _Stream) -> str:
        """``Traceback (most recent call last):`` printed without its exception line (a traceback
        printed one line per event): an error whose type and message arrive with its last line."""
        doc["exception.stacktrace"] = message.replace("\r", "\n").rstrip("\n")
        doc["severity.text"] = "ERROR"
        self._errors.append(doc)
        if stream.trace_lines is not None:
            self._join_trace(stream)
        stream.open_error = stream.traceback_head = doc
        return APP_LOG

    def _close_traceback(self, doc: Document, message: str, head: Document, stream: _Stream) -> bool:
        """The ``<type>: <message>`` line that ends the traceback ``head`` opened: it names the
        error. False for another line (the error ends without it). (For a Rust panic, the line
        after its first: its message.)"""
        if "exception.message" not in head and head["body"].startswith(RUST_PANIC):
            self._continue_error(doc, message, head, stream)
            head["exception.message"] = message.partition("\n")[0].rstrip("\r")
            stream.traceback_head = None
            return True
        m = PYTHON_EXCEPTION_LINE.match(message.partition("\n")[0].rstrip("\r"))
        if m is None:
            return False
        self._continue_error(doc, message, head, stream)
        head["exception.type"] = m["type"]
        if m["msg"] is None:
            head.pop("exception.message", None)
        else:
            head["exception.message"] = m["msg"]
        if head["lambda.event_type"] == APP_LOG and m["type"] in _OOM_TYPES:
            head["lambda.event_type"] = OOM
        stream.traceback_head = None
        return True

    # ------------------------------------------------------------------ classification
    def _json_line(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        """Fast path of a JSON object line (a third of the lines of JSON-format functions)."""
        try:
            obj = orjson.loads(message)
        except orjson.JSONDecodeError:
            return False
        if type(obj) is not dict:
            return False
        if len(message) > DEEP_JSON_MIN_CHARS and ("[" in message or len(message) > DEEP_OBJECTS_MIN_CHARS):
            deep = message  # long enough to nest deeper than attributes keep: see _bound_depth
        else:
            deep = None
        if "type" in obj:  # a platform record (START and REPORT are read here), or the general reader's
            kind = obj["type"]
            if kind == "platform.report" or kind == "platform.start":
                record = obj.get("record")
                if type(record) is dict:
                    if kind == "platform.report":
                        request_id = read_platform_report(doc, record)
                        if request_id is not None:
                            self._report(doc, request_id, stream, key)
                            return True
                    else:
                        request_id = read_platform_start(doc, record)
                        if request_id is not None:
                            self._start(doc, request_id, stream, key)
                            return True
            event_type = self._json_object(doc, obj, stream)
        elif not apply_plain(doc, obj):  # an error object, an unusual line: the general reader
            event_type = self._json_object(doc, obj, stream)
        elif (severity := doc["severity.text"]) in _ERROR_SEVERITIES:
            event_type = self._error_in_message(doc, stream)
        else:  # an application's line, no error in it: _complete for the commonest case
            if deep is not None:
                _bound_depth(doc, deep)
            invocation = stream.invocation
            # (a stream has an invocation only while its request is current, never None)
            if invocation is not None and doc.get("faas.invocation_id") == stream.current:
                doc["faas.invocation_id"] = stream.current  # (one string for all its documents)
                if severity is None:
                    doc["severity.text"] = "INFO"
                    doc["severity.number"] = _INFO
                else:
                    doc["severity.number"] = SEVERITY_NUMBER[severity]
                doc["lambda.event_type"] = APP_LOG
                invocation.append(doc)
            else:
                self._complete(doc, APP_LOG, stream, key)
            return True
        if deep is not None:
            _bound_depth(doc, deep)
        self._complete(doc, event_type, stream, key)
        return True

    def _json_object(self, doc: Document, obj: dict[str, Any], stream: _Stream) -> str:
        """A JSON log line: a ``platform.*`` record, a runtime's error object, or an application's."""
        kind = obj.get("type")
        if kind is not None and isinstance(kind, str) and kind.startswith("platform.") and "record" in obj:
            event_type = apply_platform_json(doc, obj)
            if event_type == INIT_START:
                record = obj["record"]
                init_type = record.get("initializationType") if type(record) is dict else None
                stream.init_type = init_type if type(init_type) is str else None
            return event_type
        if "ts" in obj and "msg" in obj and json_extension(obj) is not None:  # an extension's zap line
            apply_structured(doc, obj)
            return EXTENSION
        message = obj.get("message")
        runtime_error_shape = (
            ("errorType" in obj and "logger" not in obj and "exception" not in obj and "message" not in obj)
            or isinstance(message, dict)
            or message in _NODE_ERROR_MARKERS
        )
        is_error = apply_structured(doc, obj)
        if runtime_error_shape and is_error:
            return self._error_kind(doc, stream, UNHANDLED_ERROR)
        if not is_error and doc["severity.text"] in _ERROR_SEVERITIES:
            return self._error_in_message(doc, stream)
        return OOM if doc.get("exception.type") in _OOM_TYPES else APP_LOG

    def _error_in_message(self, doc: Document, stream: _Stream) -> str:
        """An ERROR/FATAL JSON record whose message is an exception's text: Java and .NET
        runtimes log an unhandled exception as a JSON record whose message is
        ``"<type>: <message>\\n   at ..."``."""
        text = doc.get("attributes", {}).get("message")
        if isinstance(text, str) and "\n" in text:
            exc_type, exc_message, trace = split_error_text(text)
            if exc_type is not None and trace is not None:
                doc["exception.type"] = exc_type
                if exc_message is not None:
                    doc["exception.message"] = exc_message
                doc["exception.stacktrace"] = trace
                return self._error_kind(doc, stream, UNHANDLED_ERROR)
        return OOM if doc.get("exception.type") in _OOM_TYPES else APP_LOG

    def _classify(self, doc: Document, message: str, stream: _Stream) -> str:
        first = message[:1]
        if first == "{":
            try:
                obj = orjson.loads(message)
            except orjson.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                event_type = self._json_object(doc, obj, stream)
                if len(message) > DEEP_JSON_MIN_CHARS and (
                    "[" in message or len(message) > DEEP_OBJECTS_MIN_CHARS
                ):
                    _bound_depth(doc, message)
                return event_type
        candidates = _PLATFORM_BY_FIRST_CHAR.get(first)
        if candidates is not None:
            for prefix, event_type in candidates:
                if message.startswith(prefix):
                    return apply_platform_text(doc, message, event_type)
            if first == "R" and message.startswith("RequestId: "):
                line_type = self._runtime_exit(doc, message, stream)
                if line_type is not None:
                    return line_type
        if first == "[":
            line_type = self._bracket_line(doc, message, stream)
            if line_type is not None:
                return line_type
        elif first.isdigit():
            line_type = self._digit_line(doc, message, stream)
            if line_type is not None:
                return line_type
        elif first in "DIWEFA" and message[1:4] == ", [":
            m = RUBY_LOGGER.match(message)
            if m is not None:
                return self._prefixed(doc, m["level"], m["rid"] or "", m["rest"], stream, normalise=True)
        if first in _EXTENSION_FIRST:
            line_type = self._extension_text(doc, message)
            if line_type is not None:
                return line_type
        if first in _JAVA_LETTER_FIRST and (first == "<" or message[8:9] == "-"):  # a request id first
            java = split_java_layout(message)
            if java is not None:
                return self._prefixed(doc, *java, stream)
        if first in RUST_TRACING_FIRST or RUST_INVOKE_SPAN in message:
            rust = read_rust_tracing(message)
            if rust is not None:
                level, request_id, trace_header, rest = rust
                if trace_header:
                    doc["traceId"] = trace_id_of(trace_header)
                if TRACING_TARGETS_START in rest and rest.startswith(
                    TRACING_TARGETS
                ):  # an extension's (Web Adapter)
                    if request_id:
                        doc["faas.invocation_id"] = request_id
                    return self._extension(doc, level)
                return self._prefixed(doc, level, request_id, rest, stream)
        return self._bare(doc, message, stream)

    @staticmethod
    def _extension(doc: Document, severity: str | None) -> str:
        """An extension's own line (see :mod:`lambdalens.parsing.extensions`), at its level."""
        if severity is not None:
            doc["severity.text"] = severity
        return EXTENSION

    def _extension_text(self, doc: Document, message: str) -> str | None:
        """EXTENSION for a text line of a known extension; None (``doc`` untouched) for another."""
        known = text_extension(message)
        return self._extension(doc, known[1]) if known is not None else None

    def _bracket_line(self, doc: Document, message: str, stream: _Stream) -> str | None:
        """Python runtime lines: ``[LEVEL]\\t<ts>\\t<request id>\\t...`` and ``[ERROR] <type>: ...``."""
        if message.startswith("[ERROR] "):
            return self._python_unhandled(doc, message, stream)
        parts = split_python_prefix(message)
        if parts is None:
            return self._extension_text(doc, message)
        level, request_id, rest = parts
        return self._prefixed(doc, level, request_id, rest, stream)

    def _digit_line(self, doc: Document, message: str, stream: _Stream) -> str | None:
        """Lines that start with a timestamp: Node.js / .NET, log4j, Go, ``Task timed out``."""
        if "Task timed out after " in message and is_lambda_timeout(message):
            return self._timeout(doc, message)
        parts = split_tab_prefix(message)
        if parts is not None:
            level, request_id, rest = parts
            if request_id in ZAP_LEVELS and rest.startswith(
                ZAP_CALLERS
            ):  # zap's console: <ts>\t<level>\t<caller>\t
                return self._extension(doc, normalize_severity(request_id))
            return self._prefixed(doc, level, request_id, rest, stream)
        m = JAVA_LOG4J.match(message)
        if m is not None:
            return self._prefixed(doc, m["level"], m["rid"] or "", m["rest"], stream, normalise=True)
        m = GO_LOG.match(message)
        if m is not None:  # Go's log package: "2024/05/01 12:00:00 message"
            rest = m["rest"]
            if rest.startswith(GO_HANDLER_PANIC):
                return self._go_handler_panic(doc, rest, stream)
            if rest.startswith(EXTENSION_PREFIXES):
                return self._extension_text(doc, message)
            level = "INFO"
            m2 = LEADING_LEVEL.match(rest)
            if m2 is not None:
                level = normalize_severity(m2.group(1)) or level
            kind = self._prefixed(doc, level, "", rest, stream)
            if kind == APP_LOG and "exception.type" in doc and "faas.invocation_id" not in doc:
                # aws-lambda-go logs the error object a handler returned: {"errorMessage", "errorType"}
                return self._error_kind(doc, stream, UNHANDLED_ERROR)
            return kind
        java = split_java_layout(message)
        if java is not None:
            return self._prefixed(doc, *java, stream)
        return self._extension_text(doc, message)  # the Datadog Go agent's "<ts> UTC | DD_EXTENSION | ..."

    # Fast paths of runtime text lines: the same readers as _classify, minus its dispatch, and
    # for the commonest line (an application's, of the invocation the stream is in) minus
    # everything that cannot apply to it (see _plain_line).
    def _bracket_fast(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        close = message.find("]\t", 1, 12)  # Python: [LEVEL]\t<ts>\t<request id>\t<rest>
        if close > 0 and not message.startswith("[ERROR] ") and "Task timed out after " not in message:
            parts = message.split("\t", 3)
            if len(parts) == 4 and self._plain_line(
                doc, EXACT_SEVERITY.get(message[1:close]), parts[2], parts[3], stream
            ):
                return True
        event_type = self._bracket_line(doc, message, stream) or self._bare(doc, message, stream)
        self._complete(doc, event_type, stream, key)
        return True

    def _digit_fast(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        if "Task timed out after " not in message:
            if (
                message[10:11] == "T" and message[4:5] == "-"
            ):  # Node.js, .NET: <ISO ts>\t<request id>\t<LEVEL>\t<rest>
                parts = message.split("\t", 3)
                if len(parts) == 4 and self._plain_line(
                    doc, EXACT_SEVERITY.get(parts[2]), parts[1], parts[3], stream
                ):
                    return True
            elif message[10:11] == " " and message[4:5] == "-":  # log4j: <ts> <request id> <LEVEL> <rest>
                m = JAVA_LOG4J.match(message)
                if m is not None and self._plain_line(
                    doc, EXACT_SEVERITY.get(m["level"]), m["rid"] or "", m["rest"], stream
                ):
                    return True
            elif message[2:3] == ":" or message[8:9] == "-":  # Logback's time first, a request id first
                java = split_java_layout(message)
                if java is not None and self._plain_line(
                    doc, EXACT_SEVERITY.get(java[0]), java[1], java[2], stream
                ):
                    return True
            elif message[4:5] == "/":  # Go's log package: <YYYY/MM/DD hh:mm:ss> <rest>
                m = GO_LOG.match(message)
                if m is not None:
                    rest = m["rest"]
                    m2 = _GO_REST_START.match(rest)  # its level, or the start of a line to decline
                    if m2 is None or m2.group("declined") is None:
                        level = (normalize_severity(m2.group(1)) if m2 is not None else None) or "INFO"
                        if self._plain_line(doc, level, "", rest, stream):
                            return True
        event_type = self._digit_line(doc, message, stream) or self._bare(doc, message, stream)
        self._complete(doc, event_type, stream, key)
        return True

    def _ruby_fast(self, doc: Document, message: str, stream: _Stream, key: tuple[str, str]) -> bool:
        """Ruby's Logger: ``I, [<ts> #<pid>]  INFO -- : <rest>`` (declines any other line)."""
        if message[1:4] != ", [" or "Task timed out after " in message:
            return False
        m = RUBY_LOGGER.match(message)
        return m is not None and self._plain_line(
            doc, EXACT_SEVERITY.get(m["level"]), m["rid"] or "", m["rest"], stream
        )

    @staticmethod
    def _plain_line(doc: Document, level: str | None, request_id: str, rest: str, stream: _Stream) -> bool:
        """A runtime's prefixed line, ``level`` and ``request_id`` read from its prefix, when it is
        the commonest kind: not an error, of the invocation the stream is in (the prefix names
        it, or none: a bare line). Fills ``doc`` as ``_prefixed`` and ``_complete`` would;
        False (``doc`` untouched) for any other line. (Callers have declined a line that says
        "Task timed out after ".)"""
        invocation = stream.invocation
        current = stream.current
        if invocation is None or current is None or level is None:
            return False
        if request_id != current and request_id:
            return False
        if (
            level in _ERROR_SEVERITIES
            or rest[:1] == "{"
            or "Error" in rest
            or "Exception" in rest
            or "Rejection" in rest  # (Node's markers: "Invoke Error", "Uncaught Exception" are taken above)
        ):
            return False
        doc["severity.text"] = level
        doc["faas.invocation_id"] = current  # (equal to the prefix's: one string for the invocation)
        doc["severity.number"] = SEVERITY_NUMBER[level]
        doc["lambda.event_type"] = APP_LOG
        invocation.append(doc)
        return True

    def _prefixed(
        self,
        doc: Document,
        level: str,
        request_id: str,
        rest: str,
        stream: _Stream,
        *,
        normalise: bool = False,
    ) -> str:
        severity = normalize_severity(level) if normalise else level
        if severity:
            doc["severity.text"] = severity
        if len(request_id) == 38 and request_id[0] == "<":  # log4j 1.x's <%X{AWSRequestId}>
            request_id = request_id[1:-1]
        if len(request_id) == 36 and looks_like_request_id(request_id):
            doc["faas.invocation_id"] = request_id
        if rest.startswith(_NODE_ERROR_MARKERS):
            brace = rest.find("{")
            if brace >= 0:
                try:
                    obj = orjson.loads(rest[brace:])
                except orjson.JSONDecodeError:
                    obj = None
                if isinstance(obj, dict):
                    apply_structured(doc, obj)
                    if len(rest) - brace > DEEP_JSON_MIN_CHARS:
                        _bound_depth(doc, rest[brace:])
                    if severity:
                        doc["severity.text"] = severity
            if "exception.type" not in doc:
                doc["exception.type"] = "Error"
                doc["exception.message"] = rest.split("\t", 1)[-1].strip()
            return self._error_kind(doc, stream, UNHANDLED_ERROR)
        if "Task timed out after " in rest and is_lambda_timeout(rest):
            return self._timeout(doc, rest)
        if rest[:1] == "{":
            try:
                obj = orjson.loads(rest)
            except orjson.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                is_error = apply_structured(doc, obj)
                if len(rest) > DEEP_JSON_MIN_CHARS and ("[" in rest or len(rest) > DEEP_OBJECTS_MIN_CHARS):
                    _bound_depth(doc, rest)
                if severity and normalize_severity(obj.get("level")) is None:
                    doc["severity.text"] = severity
                return self._error_kind(doc, stream, APP_LOG) if is_error else APP_LOG
        if severity in ("ERROR", "FATAL") or "Exception" in rest or "Error" in rest:
            return self._error_text(doc, severity, request_id, rest, stream)
        return APP_LOG

    def _error_text(
        self, doc: Document, severity: str | None, request_id: str, rest: str, stream: _Stream
    ) -> str:
        """A runtime-prefixed line whose text may hold an exception: its type, message and trace.

        .NET logs an unhandled exception as ``fail\tSystem.Exception: ...\n   at ...``
        (Exception.ToString(): frames indented three spaces), with no request id before its first
        invocation (an init's). An error a Node.js function logs itself (console.error(err):
        ``ERROR\tTypeError: ...\n    at ...``, V8's frames indented four) was caught: logged, not
        unhandled (Node's unhandled errors carry the runtime's markers, taken in _prefixed); so is
        a message with the exception on the next line (.NET's ``LogError(exception, message)``)."""
        exc_type, exc_message, trace = split_error_text(rest)
        after_message = exc_type is None
        if after_message:
            if severity not in _ERROR_SEVERITIES or "\n" not in rest:
                return APP_LOG
            exc_type, exc_message, trace = split_error_text(rest.partition("\n")[2])
            if exc_type is None or trace is None:
                return APP_LOG
        doc["exception.type"] = exc_type
        if exc_message is not None:
            doc["exception.message"] = exc_message
        if trace is not None:
            doc["exception.stacktrace"] = trace
        dotnet_trace = trace is not None and DOTNET_FRAME in trace
        if after_message or not dotnet_trace:
            return self._error_kind(doc, stream, APP_LOG)
        first = rest.split("\n", 1)[0].strip()
        if EXCEPTION_HEADER.match(first) is None and DOTNET_EXCEPTION_HEADER.match(first) is None:
            return self._error_kind(doc, stream, APP_LOG)
        return self._error_kind(doc, stream, UNHANDLED_ERROR if request_id else INIT_ERROR)

    def _python_unhandled(self, doc: Document, message: str, stream: _Stream) -> str | None:
        """The Python runtime's ``[ERROR] <type>: <message>`` record; None (``doc`` untouched)
        for a line the application printed with an ``[ERROR] `` prefix of its own."""
        m = PYTHON_UNHANDLED.match(message)
        if m is None or PYTHON_TRACEBACK not in message:  # (the runtime always writes the Traceback line)
            return None
        doc["exception.type"] = m["type"]
        doc["exception.message"] = m["msg"] or ""
        text = message.replace("\r", "\n")
        at = text.find("Traceback (most recent call last):")
        if at >= 0:
            doc["exception.stacktrace"] = text[at:].rstrip("\n")
        doc["severity.text"] = "ERROR"
        return self._error_kind(doc, stream, UNHANDLED_ERROR)

    def _timeout(self, doc: Document, message: str) -> str:
        request_id, seconds = read_timeout(message) or (None, None)
        if request_id is not None and REQUEST_ID.fullmatch(request_id):
            doc["faas.invocation_id"] = request_id
        doc["exception.type"] = "Sandbox.Timedout"
        doc["exception.message"] = f"Task timed out after {seconds} seconds" if seconds else "Task timed out"
        doc["severity.text"] = "ERROR"
        return TIMEOUT

    def _runtime_exit(self, doc: Document, message: str, stream: _Stream) -> str | None:
        """Lambda's ``RequestId: <id> Error: Runtime exited with error: ...`` (the error type on the
        next line): the runtime process ended, an error of the invocation the line names (of the
        init while one runs; an out-of-memory kill for ``signal: killed``). None (``doc``
        untouched) for a line of the function's own that starts with the same word."""
        m = RUNTIME_EXIT.match(message)
        if m is None or not (m["error"] or m["type"] or m["msg"] == PROCESS_EXITED):
            return None
        doc["faas.invocation_id"] = m["rid"]
        doc["exception.message"] = m["msg"]
        doc["exception.type"] = m["type"] or "Runtime.ExitError"
        doc["severity.text"] = "ERROR"
        if "signal: killed" in m["msg"] or doc["exception.type"] == "Runtime.OutOfMemory":
            return OOM
        if "Task timed out" in m["msg"]:
            return TIMEOUT
        return self._error_kind(doc, stream, UNHANDLED_ERROR)

    def _bare(self, doc: Document, message: str, stream: _Stream) -> str:
        """A line with no runtime prefix: a runtime's or Lambda's own (by its first words), an
        error printed as text, or the function's ``print``."""
        if "Task timed out after " in message and is_lambda_timeout(message):
            return self._timeout(doc, message)
        if message.startswith(_BARE_MARKERS):  # (one call for all the first words below)
            kind = self._bare_marker(doc, message, stream)
            if kind is not None:
                return kind
        newline = message.find("\n")
        if 0 < newline < len(message) - 2:  # a second line: Lambda's error type, under its message?
            m = RUNTIME_TRAILER.match(message)
            if m is not None:  # "Unknown application error occurred\nRuntime.Unknown", Ruby's Function<...>
                doc["exception.type"] = m["type"]
                return self._lambda_error(doc, m["msg"].removeprefix("Error: "), stream)
        if "Exception" in message or "Error" in message or "Traceback" in message or "Throwable" in message:
            exc_type, exc_message, trace = split_error_text(message)
            if exc_type is not None:
                doc["exception.type"] = exc_type
                if exc_message is not None:
                    doc["exception.message"] = exc_message
                if trace is not None:
                    doc["exception.stacktrace"] = trace
                doc["severity.text"] = "ERROR"
                # (a JavaScript error printed after a text of the function's own was logged by it)
                header_first = not message.startswith("Traceback") and (
                    message.startswith(exc_type) or V8_FRAME_LINE not in message
                )
                return self._error_kind(doc, stream, UNHANDLED_ERROR if header_first else APP_LOG)
            if message.startswith(PYTHON_TRACEBACK):
                return self._open_traceback(doc, message, stream)
        m2 = LEADING_LEVEL.match(message)
        if m2 is not None:
            severity = normalize_severity(m2.group(1))
            if severity:
                doc["severity.text"] = severity
        return APP_LOG

    def _lambda_warning(self, doc: Document, message: str, stream: _Stream) -> str:
        """The Python runtime's ``LAMBDA_WARNING: Unhandled exception. ...`` before the error it logs.
        The warning ends with a carriage return and no newline: where the runtime writes both to
        stdout (no telemetry descriptor) the error follows in the same event, the JSON log format's
        ``{"timestamp", "level": "ERROR", "errorMessage", "errorType", ...}`` or the text format's
        ``[ERROR] <type>: ...``; alone the warning is a WARN line."""
        cut = message.find("\r")
        error = message[cut + 1 :] if cut >= 0 else ""
        if error.startswith("{"):
            try:
                obj = orjson.loads(error)
            except orjson.JSONDecodeError:
                obj = None
            if type(obj) is dict and apply_structured(doc, obj):
                return self._error_kind(doc, stream, UNHANDLED_ERROR)
        elif error.startswith("[ERROR] "):
            kind = self._python_unhandled(doc, error, stream)
            if kind is not None:
                return kind
        doc["severity.text"] = "WARN"
        return APP_LOG

    def _import_module_error(self, doc: Document, message: str, stream: _Stream) -> str:
        """``Unable to import module '<module>': <error>`` as the runtimes printed it before they
        named the error (Node.js 4 - 6, Python 2.7 - 3.6; the stack follows in the same event):
        the function's code could not be loaded, an init error (``Runtime.ImportModuleError``, as
        the runtimes call it since) of the invocation that tried."""
        text = message.replace("\r", "\n").rstrip("\n")
        first, newline, _ = text.partition("\n")
        doc["exception.type"] = "Runtime.ImportModuleError"
        doc["exception.message"] = first
        if newline:
            doc["exception.stacktrace"] = text
        doc["severity.text"] = "ERROR"
        return self._error_kind(doc, stream, INIT_ERROR)

    def _go_handler_panic(self, doc: Document, text: str, stream: _Stream) -> str:
        """aws-lambda-go's last line when a handler panicked (``log.Fatal``, after it logged the
        panic's error object): the process exits, the invocation failed."""
        doc["exception.type"] = "panic"
        doc["exception.message"] = text.rstrip("\r\n")
        doc["severity.text"] = "FATAL"
        return self._error_kind(doc, stream, UNHANDLED_ERROR)

    def _bare_marker(self, doc: Document, message: str, stream: _Stream) -> str | None:
        """A bare line that starts with one of ``_BARE_MARKERS``: the runtimes' and Lambda's own
        lines; None (``doc`` untouched) when the rest does not follow."""
        if message.startswith("panic: "):  # Go
            doc["exception.type"] = "panic"
            doc["exception.message"] = message[7:].partition("\n")[0]
            doc["severity.text"] = "ERROR"
            return self._error_kind(doc, stream, UNHANDLED_ERROR)
        if message.startswith(RUST_PANIC):
            panic = read_rust_panic(message)
            return self._rust_panic(doc, message, *panic, stream) if panic is not None else None
        if message.startswith("FATAL ERROR: "):
            if "out of memory" not in message:
                return None
            doc["exception.type"] = "FATAL ERROR"
            doc["exception.message"] = message[13:].strip()
            doc["severity.text"] = "FATAL"
            return OOM
        if message.startswith(RUBY_ERROR_MARKERS):
            return self._ruby_error(doc, message, stream)
        if message.startswith(IMPORT_MODULE_ERROR):
            return self._import_module_error(doc, message, stream)
        if message.startswith(GO_HANDLER_PANIC):
            return self._go_handler_panic(doc, message, stream)
        if message.startswith("LAMBDA_WARNING: "):
            return self._lambda_warning(doc, message, stream)
        if message.startswith(_V8_HEAP_REPORT):  # Node.js heap exhaustion, V8's report follows
            doc["severity.text"] = "FATAL"
            doc["exception.type"] = "FatalProcessOutOfMemory"
            doc["exception.message"] = "JavaScript heap out of memory"
            return OOM
        if (
            message.rstrip("\r\n") == UNKNOWN_APPLICATION_ERROR
        ):  # Lambda's, with no type (else: RUNTIME_TRAILER)
            return self._lambda_error(doc, UNKNOWN_APPLICATION_ERROR, stream)
        return None

    def _lambda_error(self, doc: Document, text: str, stream: _Stream) -> str:
        """Lambda's line for an error the runtime posted: ``Unknown application error occurred`` and
        the type on the next line (``Runtime.Unknown``, Ruby's ``Function<NoMethodError>``), or none."""
        doc["exception.message"] = text
        doc["severity.text"] = "ERROR"
        return self._error_kind(doc, stream, UNHANDLED_ERROR)

    def _ruby_error(self, doc: Document, message: str, stream: _Stream) -> str:
        """What Ruby's runtime prints before the error object of an error (``Error raised from
        handler method``, ``Critical exception from handler``: the process then exits; ``Init
        error when loading handler <handler>``). The object is the next event, or follows in this
        one (one write: ``Critical exception from handler{"errorMessage", ...}``)."""
        brace = message.find("{")
        if brace >= 0:
            try:
                obj = orjson.loads(message[brace:])
            except orjson.JSONDecodeError:
                obj = None
            if type(obj) is dict and apply_structured(doc, obj):
                return self._error_kind(doc, stream, UNHANDLED_ERROR)
        doc["severity.text"] = "FATAL" if message.startswith("Critical") else "ERROR"
        return APP_LOG

    def _rust_panic(
        self, doc: Document, message: str, head: str, panic_message: str | None, stream: _Stream
    ) -> str:
        """A Rust panic: an unhandled error (the runtime fails the invocation it panicked in,
        or the process exits). Since Rust 1.73 its message is on the line after its first, a
        Lambda event of its own: the error is open for it (see _close_traceback)."""
        doc["exception.type"] = "panic"
        doc["severity.text"] = "ERROR"
        if panic_message is not None:
            doc["exception.message"] = panic_message
        text = message.replace("\r", "\n").rstrip("\n")
        doc["exception.stacktrace"] = text if "\n" in text else head
        kind = self._error_kind(doc, stream, UNHANDLED_ERROR)
        if panic_message is None:
            stream.traceback_head = doc  # (_complete opens the error: the next line is its message)
        return kind

    def _error_kind(self, doc: Document, stream: _Stream, default: str) -> str:
        """Refine an error's event type: init error, out of memory, or ``default``."""
        if default == APP_LOG:
            if doc.get("exception.type") in _OOM_TYPES:
                return OOM
            return APP_LOG
        exc_type = str(doc.get("exception.type") or "")
        message = str(doc.get("exception.message") or "")
        if doc.get("severity.text") not in ("ERROR", "FATAL"):
            doc["severity.text"] = "ERROR"
        if (
            exc_type in INIT_ERROR_TYPES
            or exc_type.startswith("Init<")
            or "Runtime.ImportModuleError" in message
            or message.startswith(JAVA_CLASS_LOADING)  # the Java runtime could not load the handler
        ):
            return INIT_ERROR
        if exc_type in _OOM_TYPES or "heap out of memory" in message:
            return OOM
        if stream.in_init and stream.current is None:
            return INIT_ERROR
        return default

    @staticmethod
    def _default_severity(doc: Document, event_type: str) -> str:
        if event_type in (APP_LOG, START):
            return "INFO"
        if event_type in FAILURE_TYPES:
            return "ERROR"
        if doc.get("lambda.status") in _FAILED_STATUSES:
            return "ERROR"
        if event_type == PLATFORM and doc.get("exception.type"):
            return "ERROR"
        attributes = doc.get("attributes")
        if attributes is not None and attributes.get("type") == "platform.logsDropped":
            return "WARN"
        return "INFO"

    # ------------------------------------------------------------------ batch end
    def finish(self) -> None:
        """Complete every invocation from what the whole batch showed; fingerprint errors."""
        for stream in self._streams.values():  # errors still open at the end of the batch
            if stream.trace_lines is not None:
                self._join_trace(stream)
        for invocation_docs in self._invocations.values():
            _complete_invocation(invocation_docs)
        for invocation_docs in self._earlier_attempts:
            _complete_invocation(invocation_docs)
        # The same bug repeats across invocations with the very same text: fingerprint it once.
        known: dict[tuple[object, object, object], str] = {}
        for doc in self._errors:
            parts = (doc.get("exception.type"), doc.get("exception.message"), doc.get("exception.stacktrace"))
            try:
                signature = known.get(parts)
            except TypeError:  # not text: nothing to share
                signature = None
            if signature is None:
                signature = fingerprint(*parts)
                with contextlib.suppress(TypeError):
                    known[parts] = signature
            doc["exception.fingerprint"] = signature
        self._invocations.clear()
        self._earlier_attempts.clear()
        self._errors.clear()


def _begin(stream: _Stream, request_id: str | None) -> None:
    """A START: its request becomes the stream's current one, unless the stream runs requests
    at the same time (see ``_Stream.concurrent``)."""
    if stream.current is not None and stream.current != request_id:
        stream.concurrent = True
    stream.current = None if stream.concurrent else request_id
    stream.invocation = None


#: Fast paths of ``BatchParser.parse``, by the line's first character: START, END and REPORT
#: (a third of all events), JSON lines and runtime text lines. Each returns False, ``doc``
#: untouched, for a line it does not take, which then goes through ``BatchParser._read_event``.
_FAST_PATHS: dict[str, Callable[[BatchParser, Document, str, _Stream, tuple[str, str]], bool]] = {
    "S": BatchParser._start_line,
    "E": BatchParser._end_line,
    "R": BatchParser._report_line,
    "{": BatchParser._json_line,
    "[": BatchParser._bracket_fast,
    **dict.fromkeys("0123456789", BatchParser._digit_fast),
    **dict.fromkeys("DIW", BatchParser._ruby_fast),
}


def _bound_depth(doc: Document, text: str) -> None:
    """Keep the ``attributes`` a JSON line gave writable: a part nested deeper than
    ``MAX_ATTRIBUTES_DEPTH`` is kept as its JSON text (the line itself stays whole in ``body``).
    Callers ask (inline, cheaply) only for a text that can nest that deep: longer than
    ``DEEP_JSON_MIN_CHARS`` with a ``[``, or longer than ``DEEP_OBJECTS_MIN_CHARS``."""
    attributes = doc.get("attributes")
    if attributes is not None and too_deep(text):
        doc["attributes"] = depth_limited(attributes)


def _synthetic_event_id(payload: SubscriptionPayload, position: int) -> str:
    """An id for an event that has none: its record (or stream) and its position in the payload,
    the same again when the record is redelivered."""
    where = payload.record_id or f"{payload.log_group}/{payload.log_stream}"
    return f"{where}:{position}"


def _irregular_event_id(
    event_id: object, message: object, ts: object, payload: SubscriptionPayload, position: int
) -> str:
    """The ``log.record.uid`` of an event whose id is not a non-empty string (moto and LocalStack
    deliver integers; an empty id gets a synthetic one like a missing id). Raises TypeError when
    the event cannot be parsed (the caller salvages it)."""
    if type(message) is not str or type(ts) is not int:
        raise TypeError("a log event needs an id, an integer timestamp and a string message")
    if type(event_id) is int:
        return str(event_id)
    if event_id == "":
        return _synthetic_event_id(payload, position)
    raise TypeError("a log event needs a string or integer id")


def _complete_invocation(docs: list[Document]) -> None:
    """Spread what one invocation's documents showed (trace, correlation id, cold start) to all of
    them, and give its REPORT ``lambda.outcome``."""
    trace_id = span_id = correlation = None
    coldstart: bool | None = None
    report: Document | None = None
    failure: str | None = None
    for doc in docs:
        event_type = doc["lambda.event_type"]
        if event_type != APP_LOG:  # most documents: nothing below concerns them
            if event_type == REPORT:
                report = doc
                if "lambda.init_duration_ms" in doc or "lambda.restore_duration_ms" in doc:
                    coldstart = True
                elif coldstart is None:
                    coldstart = False
                span_id = span_id or doc.get("spanId")
            elif event_type == START:
                if doc.get("spanId"):
                    span_id = doc["spanId"]
            elif event_type != END:
                seen = _FAILURE_OF.get(event_type)
                if (
                    seen is None
                    and event_type == PLATFORM
                    and str(doc.get("exception.type", "")).startswith("Runtime.")
                ):
                    seen = "error"
                if _FAILURE_RANK[seen] > _FAILURE_RANK[failure]:
                    failure = seen
        # (membership tests: most documents have none of these keys, and "in" is cheaper than get)
        if not trace_id and "traceId" in doc:
            trace_id = doc["traceId"]
        if not correlation and "correlation_id" in doc:
            correlation = doc["correlation_id"]
        if "faas.coldstart" in doc and doc["faas.coldstart"] is True:
            coldstart = True
    if trace_id and correlation and coldstart is not None:  # most invocations of structured loggers
        for doc in docs:
            if "traceId" not in doc:
                doc["traceId"] = trace_id
                if span_id and "spanId" not in doc:
                    doc["spanId"] = span_id
            if "correlation_id" not in doc:
                doc["correlation_id"] = correlation
            doc["faas.coldstart"] = coldstart
    elif trace_id or correlation:
        for doc in docs:
            if trace_id and "traceId" not in doc:
                doc["traceId"] = trace_id
                if span_id and "spanId" not in doc:
                    doc["spanId"] = span_id
            if correlation and "correlation_id" not in doc:
                doc["correlation_id"] = correlation
            if coldstart is not None:
                doc["faas.coldstart"] = coldstart
    elif coldstart is not None:
        for doc in docs:
            doc["faas.coldstart"] = coldstart
    if report is not None:
        if failure is not None and report.get("lambda.status") == "success":
            # Lambda says the invocation succeeded: the lines taken for its failure were errors
            # the function logged and survived (console.error(err) in Node's JSON format, .NET's
            # LogError(exception): the very shapes of the runtimes' own reports; a caught and
            # logged java.lang.OutOfMemoryError)
            for doc in docs:
                if doc["lambda.event_type"] in _SURVIVABLE:
                    doc["lambda.event_type"] = APP_LOG
        report["lambda.outcome"] = _outcome(report, failure)


def _outcome(report: Document, failure: str | None) -> str:
    """How an invocation ended, from its REPORT and the failures the batch showed for it."""
    status = report.get("lambda.status")
    error_type = report.get("exception.type")
    if status == "success" or (failure is None and error_type is None and status is None):
        # Lambda said so (REPORT "Status: success", platform.report): an error line the batch
        # showed for the invocation was one the function logged and survived. Without a status
        # (REPORT lines before 2024), nothing seen: most invocations, nothing below can apply.
        return "success"
    memory = report.get("lambda.memory_size_mb")
    used = report.get("lambda.max_memory_used_mb")
    memory_full = isinstance(memory, (int, float)) and isinstance(used, (int, float)) and used >= memory > 0
    if status == "timeout" or error_type == "Sandbox.Timedout":
        return "timeout"
    if error_type == "Runtime.OutOfMemory" or failure == "oom":
        return "oom"
    if status in ("error", "failure") or failure is not None:
        if failure == "timeout":
            return "timeout"
        return "oom" if memory_full else "error"
    return "success"


def parse_payloads(
    payloads: Iterable[SubscriptionPayload], region: str | None = None, observed_at_ms: int | None = None
) -> list[Document]:
    """Parse payloads as one batch and finish it: the documents of every event, in order."""
    parser = BatchParser(region=region, observed_at_ms=observed_at_ms)
    docs: list[Document] = []
    for payload in payloads:
        docs.extend(parser.parse(payload))
    parser.finish()
    return docs
