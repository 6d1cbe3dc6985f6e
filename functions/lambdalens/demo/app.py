"""The demo's serverless application and the real-format logs its functions print.

The classic story: ``new-post`` (Node.js, JSON log format, Powertools for TypeScript)
accepts a post — one of them with a bad authentication token it lets through in permissive
mode — and queues it; ``request-processor`` (Python, Powertools) publishes it to an SNS
topic; ``post-analysis`` (Java, log4j2) consumes it and, for that post, fails two hops
downstream. ``view-post`` (Python, text format) serves reads. Injected along the way: cold
starts, a timeout, an out-of-memory kill, an init error.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from lambdalens.parsing import iso_ms

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Stream:
    """One execution environment: its log stream and whether it has initialised."""

    function: str
    name: str
    warm: bool = False


@dataclass
class LogLine:
    group: str
    stream: str
    timestamp: int
    message: str


@dataclass
class Expected:
    """What the demo must find: the injected failures and the failing transaction."""

    timeouts: dict[str, int] = field(default_factory=dict)
    oom: dict[str, int] = field(default_factory=dict)
    init_errors: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    cold_starts: dict[str, int] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    failing_correlation_id: str = ""
    root_cause_function: str = "new-post"
    root_cause_request_id: str = ""

    def add(self, counter: dict[str, int], function: str) -> None:
        counter[function] = counter.get(function, 0) + 1


def _rid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _trace(rng: random.Random, ms: int) -> str:
    return f"1-{ms // 1000:08x}-{rng.getrandbits(96):024x}"


class Application:
    """Generates the logs of ``transactions`` post submissions and ``reads`` post views."""

    def __init__(self, seed: int = 42, start_ms: int = 0) -> None:
        self.rng = random.Random(seed)
        self.now = start_ms
        self.lines: list[LogLine] = []
        self.expected = Expected()
        self.streams: dict[str, list[Stream]] = {}

    # ---------------------------------------------------------------- plumbing
    def _stream(self, function: str, fresh: bool = False) -> Stream:
        pool = self.streams.setdefault(function, [])
        if fresh or not pool or (len(pool) < 3 and self.rng.random() < 0.02):
            stream = Stream(
                function,
                f"{iso_ms(self.now)[:10].replace('-', '/')}/[$LATEST]{self.rng.getrandbits(128):032x}",
            )
            pool.append(stream)
            return stream
        return self.rng.choice(pool)

    def _emit(self, stream: Stream, message: str, gap: tuple[int, int] = (1, 12)) -> int:
        self.now += self.rng.randint(*gap)
        self.lines.append(LogLine(f"/aws/lambda/{stream.function}", stream.name, self.now, message))
        return self.now

    def _report(self, stream: Stream, rid: str, duration: float, memory: int, used: int, init: float | None,
                status: str = "", error_type: str = "", trace: str | None = None) -> None:  # fmt: skip
        line = (
            f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
            f"Memory Size: {memory} MB\tMax Memory Used: {used} MB\t"
        )
        if init is not None:
            line += f"Init Duration: {init:.2f} ms\t"
        if status:
            line += f"Status: {status}\t"
            if error_type:
                line += f"Error Type: {error_type}\t"
        if trace:
            line += f"\nXRAY TraceId: {trace}\tSegmentId: {self.rng.getrandbits(64):016x}\tSampled: true\t"
        self._emit(stream, line + "\n")

    def _cold(self, stream: Stream, runtime: str) -> float | None:
        if stream.warm:
            return None
        stream.warm = True
        self.expected.add(self.expected.cold_starts, stream.function)
        self._emit(
            stream,
            f"INIT_START Runtime Version: {runtime}\tRuntime Version ARN: arn:aws:lambda:{REGION}::runtime:"
            f"{self.rng.getrandbits(256):064x}\n",
        )
        return self.rng.uniform(180, 900)

    # ---------------------------------------------------------------- functions
    def view_post(self, timeout: bool = False) -> None:
        """Python 3.12, text log format, the runtime's logging prefix and bare prints."""
        s = self._stream("view-post")
        init = self._cold(s, "python:3.12.v36")
        rid = _rid(self.rng)
        self.expected.add(self.expected.invocations, "view-post")
        start = self._emit(s, f"START RequestId: {rid} Version: $LATEST\n")
        post = self.rng.randint(1, 5000)
        self._emit(s, f"[INFO]\t{iso_ms(self.now)}\t{rid}\tGET /posts/{post}\n")
        if timeout:
            self.expected.add(self.expected.timeouts, "view-post")
            self._emit(
                s, f"[WARNING]\t{iso_ms(self.now)}\t{rid}\tcache miss for post {post}, querying replica\n"
            )
            self.now = start + 3000
            self._emit(s, f"{iso_ms(self.now)} {rid} Task timed out after 3.00 seconds\n", (3, 4))
            self._emit(s, f"END RequestId: {rid}\n")
            self._report(s, rid, 3000.0, 256, 71, init, status="timeout")
            return
        self._emit(s, f"loaded post {post} from cache\n")
        self._emit(s, f"[INFO]\t{iso_ms(self.now)}\t{rid}\t200 OK ({self.rng.randint(300, 9000)} bytes)\n")
        self._emit(s, f"END RequestId: {rid}\n", (20, 140))
        self._report(s, rid, self.now - start + self.rng.uniform(0, 1), 256, self.rng.randint(60, 90), init)

    def new_post(self, correlation: str, trace: str, bad_token: bool = False) -> str:
        """Node.js 20, JSON log format (platform.* records), Powertools for TypeScript."""
        s = self._stream("new-post")
        rid = _rid(self.rng)
        self.expected.add(self.expected.invocations, "new-post")
        cold = not s.warm
        if cold:
            s.warm = True
            self.expected.add(self.expected.cold_starts, "new-post")
            record = {"initializationType": "on-demand", "phase": "init", "runtimeVersion": "nodejs:20.v48",
                      "functionName": "new-post", "functionVersion": "$LATEST"}  # fmt: skip
            self._emit(s, self._platform("platform.initStart", record))
        tracing = {"spanId": f"{self.rng.getrandbits(64):016x}", "type": "X-Amzn-Trace-Id",
                   "value": f"Root={trace};Parent={self.rng.getrandbits(64):016x};Sampled=1"}  # fmt: skip
        start = self._emit(
            s, self._platform("platform.start", {"requestId": rid, "version": "$LATEST", "tracing": tracing})
        )
        base = {"service": "posts-api", "sampling_rate": 0, "xray_trace_id": trace, "correlation_id": correlation,
                "function_request_id": rid, "cold_start": cold}  # fmt: skip
        user = f"user-{self.rng.randint(100, 999)}"
        if bad_token:
            self._emit(s, self._pt("WARN", "Authorization token signature invalid; accepted because AUTH_PERMISSIVE=true", base,
                                   {"user": "unknown", "token_kid": "test-key-1"}))  # fmt: skip
            user = ""
        self._emit(
            s, self._pt("INFO", "Post accepted", base, {"post_id": correlation[:8], "author": user or None})
        )
        self._emit(s, self._pt("INFO", "Queued for processing", base, {"queue": "post-requests"}), (5, 40))
        duration = self.now - start + self.rng.uniform(0, 2)
        self._emit(
            s,
            self._platform(
                "platform.runtimeDone", {"requestId": rid, "status": "success", "tracing": tracing}
            ),
        )
        metrics = {"durationMs": round(duration, 3), "billedDurationMs": int(duration) + 1, "memorySizeMB": 512,
                   "maxMemoryUsedMB": self.rng.randint(80, 120)}  # fmt: skip
        if cold:
            metrics["initDurationMs"] = round(self.rng.uniform(200, 600), 3)
        self._emit(
            s,
            self._platform(
                "platform.report",
                {"requestId": rid, "metrics": metrics, "tracing": tracing, "status": "success"},
            ),
        )
        return rid

    def request_processor(self, correlation: str, trace: str, oom: bool = False) -> None:
        """Python 3.12, Powertools for AWS Lambda (Python) structured logs; publishes to SNS."""
        s = self._stream("request-processor")
        init = self._cold(s, "python:3.12.v36")
        rid = _rid(self.rng)
        self.expected.add(self.expected.invocations, "request-processor")
        start = self._emit(s, f"START RequestId: {rid} Version: $LATEST\n")
        base = {"service": "post-pipeline", "cold_start": init is not None, "function_name": "request-processor",
                "function_memory_size": "256", "function_request_id": rid, "correlation_id": correlation,
                "xray_trace_id": trace}  # fmt: skip
        self._emit(s, self._pp("INFO", "Processing post request", base, {"location": "handler:31"}))
        if oom:
            self.expected.add(self.expected.oom, "request-processor")
            self._emit(
                s, self._pp("INFO", "Rendering preview images", base, {"location": "render:88", "images": 48})
            )
            self.now += 1800
            self._emit(
                s, f"RequestId: {rid} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n"
            )
            self._emit(s, f"END RequestId: {rid}\n")
            self._report(
                s,
                rid,
                self.now - start,
                256,
                256,
                init,
                status="error",
                error_type="Runtime.OutOfMemory",
                trace=trace,
            )
            s.warm = False  # the environment is gone
            self.streams["request-processor"].remove(s)
            return
        self._emit(
            s,
            self._pp(
                "INFO", "Published to post-events", base, {"location": "publish:54", "topic": "post-events"}
            ),
            (8, 60),
        )
        self._emit(s, f"END RequestId: {rid}\n")
        self._report(
            s,
            rid,
            self.now - start + self.rng.uniform(0, 1),
            256,
            self.rng.randint(70, 110),
            init,
            trace=trace,
        )

    def request_processor_init_error(self) -> None:
        """A deploy that forgot a dependency: ImportModuleError at init, retried in the invoke phase."""
        s = self._stream("request-processor", fresh=True)
        s.warm = True
        self.expected.add(self.expected.init_errors, "request-processor")
        self.expected.add(self.expected.cold_starts, "request-processor")  # its invocation waits for an init
        self.expected.add(self.expected.invocations, "request-processor")
        self._emit(
            s,
            f"INIT_START Runtime Version: python:3.12.v36\tRuntime Version ARN: arn:aws:lambda:{REGION}::runtime:{self.rng.getrandbits(256):064x}\n",
        )
        error = "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'PIL'\nTraceback (most recent call last):"
        self._emit(s, error)
        self._emit(
            s,
            "INIT_REPORT Init Duration: 412.33 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n",
        )
        rid = _rid(self.rng)
        start = self._emit(s, f"START RequestId: {rid} Version: $LATEST\n")
        self._emit(s, error)
        self._emit(
            s,
            "INIT_REPORT Init Duration: 398.71 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ImportModuleError\n",
        )
        self._emit(s, f"END RequestId: {rid}\n")
        self._report(
            s, rid, self.now - start, 256, 38, None, status="error", error_type="Runtime.ImportModuleError"
        )
        self.streams["request-processor"].remove(s)

    def post_analysis(self, correlation: str, trace: str, author_missing: bool = False) -> None:
        """Java 21, log4j2 with the Lambda appender; the SNS consumer two hops downstream."""
        s = self._stream("post-analysis")
        init = self._cold(s, "java:21.v23")
        rid = _rid(self.rng)
        self.expected.add(self.expected.invocations, "post-analysis")
        start = self._emit(s, f"START RequestId: {rid} Version: $LATEST\n")
        ts = iso_ms(self.now)
        self._emit(
            s,
            f"{ts[:10]} {ts[11:19]} {rid} INFO  AnalysisHandler - analysing post correlationId={correlation}\n",
        )
        if author_missing:
            self.expected.add(self.expected.errors, "post-analysis")
            self._emit(
                s,
                'Cannot invoke "String.length()" because "author" is null: java.lang.NullPointerException\n'
                'java.lang.NullPointerException: Cannot invoke "String.length()" because "author" is null\n'
                "\tat com.example.analysis.AuthorScore.score(AuthorScore.java:42)\n"
                "\tat com.example.analysis.AnalysisHandler.handleRequest(AnalysisHandler.java:67)\n"
                "\tat com.example.analysis.AnalysisHandler.handleRequest(AnalysisHandler.java:21)\n",
                (20, 90),
            )
            self._emit(s, f"END RequestId: {rid}\n")
            self._report(s, rid, self.now - start, 1024, self.rng.randint(180, 240), init, trace=trace)
            return
        ts = iso_ms(self.now)
        self._emit(
            s,
            f"{ts[:10]} {ts[11:19]} {rid} INFO  AnalysisHandler - score={self.rng.uniform(0, 1):.3f}\n",
            (30, 400),
        )
        self._emit(s, f"END RequestId: {rid}\n")
        self._report(
            s,
            rid,
            self.now - start + self.rng.uniform(0, 1),
            1024,
            self.rng.randint(150, 260),
            init,
            trace=trace,
        )

    # ---------------------------------------------------------------- formats
    def _platform(self, kind: str, record: Mapping[str, object]) -> str:
        return orjson.dumps({"time": iso_ms(self.now), "type": kind, "record": record}).decode()

    def _pt(self, level: str, message: str, base: dict[str, object], extra: dict[str, object]) -> str:
        """A Powertools for TypeScript line, as the JSON log format application record."""
        return orjson.dumps(
            {"level": level, "message": message, "timestamp": iso_ms(self.now), **base, **extra}
        ).decode()

    def _pp(self, level: str, message: str, base: dict[str, object], extra: dict[str, object]) -> str:
        """A Powertools for AWS Lambda (Python) line."""
        ts = iso_ms(self.now).replace("T", " ").replace("Z", "+0000").replace(".", ",")
        return (
            orjson.dumps({"level": level, "message": message, "timestamp": ts, **base, **extra}).decode()
            + "\n"
        )

    # ---------------------------------------------------------------- story
    def run(self, transactions: int = 120, reads: int = 300) -> list[LogLine]:
        """Interleave reads and submissions; inject each failure once."""
        failing = transactions // 2
        oom_at = transactions // 3
        init_error_at = (2 * transactions) // 3
        timeout_at = reads // 2
        read_every = max(1, reads // max(1, transactions))
        r = 0
        for t in range(transactions):
            for _ in range(read_every):
                if r < reads:
                    self.view_post(timeout=r == timeout_at)
                    r += 1
            correlation = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            trace = _trace(self.rng, self.now)
            bad = t == failing
            rid = self.new_post(correlation, trace, bad_token=bad)
            if bad:
                self.expected.failing_correlation_id = correlation
                self.expected.root_cause_request_id = rid
            if t == init_error_at:
                self.request_processor_init_error()
            self.request_processor(correlation, trace, oom=t == oom_at)
            if t != oom_at:
                self.post_analysis(correlation, trace, author_missing=bad)
        while r < reads:
            self.view_post()
            r += 1
        return self.lines
