"""Real-shaped lambdalens documents (docs/document-schema.md) for tests, demos and
``lambdalens alerts test``: what the parser produces for the log lines of one invocation.

>>> log = SampleLog("orders-api")
>>> docs = log.invocation(outcome="timeout", duration_ms=3000.0)
>>> [d["lambda.event_type"] for d in docs]
['start', 'timeout', 'end', 'report']
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

DEFAULT_START_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z

SEVERITY = {"INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}


def iso(ms: int) -> str:
    """Epoch milliseconds -> ``2024-05-01T12:00:00.123Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def F(fields: dict[str, Any]) -> dict[str, Any]:
    """Dotted field names as keyword arguments (typed for mypy)."""
    return fields


def fingerprint_of(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class SampleLog:
    """Documents of one function's log stream, in time order; deterministic for its arguments."""

    def __init__(
        self,
        function: str = "orders-api",
        *,
        account: str = "123456789012",
        region: str = "us-east-1",
        start_ms: int = DEFAULT_START_MS,
        memory_mb: int = 128,
        version: str = "$LATEST",
        stream_id: str | None = None,
        seed: int = 0,
    ) -> None:
        self.function = function
        self.account = account
        self.region = region
        self.clock = start_ms
        self.memory_mb = memory_mb
        self.version = version
        self.seed = seed
        sid = stream_id or hashlib.md5(f"{function}{seed}".encode()).hexdigest()
        self.stream = f"{iso(start_ms)[:10].replace('-', '/')}/[{version}]{sid}"
        self._counter = 0

    def request_id(self) -> str:
        self._counter += 1
        return str(
            uuid.UUID(hashlib.md5(f"{self.function}/{self.seed}/{self._counter}".encode()).hexdigest())
        )

    def _doc(
        self, event_type: str, body: str, *, advance_ms: int = 1, severity: str = "INFO", **fields: Any
    ) -> dict[str, Any]:
        self.clock += advance_ms
        self._counter += 1
        salt = int(hashlib.md5(f"{self.function}/{self.seed}".encode()).hexdigest()[:8], 16)
        uid = f"{self.clock:d}".rjust(20, "0") + f"{salt:010d}{self._counter:026d}"
        doc: dict[str, Any] = {
            "@timestamp": iso(self.clock),
            "observedTimestamp": iso(self.clock + 1500),
            "body": body,
            "log.record.uid": uid,
            "severity.text": severity,
            "severity.number": SEVERITY[severity],
            "cloud.provider": "aws",
            "cloud.account.id": self.account,
            "cloud.region": self.region,
            "aws.log.group": f"/aws/lambda/{self.function}",
            "aws.log.stream": self.stream,
            "faas.name": self.function,
            "faas.version": self.version,
            "faas.instance": self.stream,
            "service.name": self.function,
            "lambda.event_type": event_type,
        }
        doc.update({k.replace("__", "."): v for k, v in fields.items() if v is not None})
        return doc

    def init_start(self) -> dict[str, Any]:
        return self._doc(
            "init_start",
            "INIT_START Runtime Version: python:3.12.v36\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:0e1f",
            **F({"lambda.runtime_version": "python:3.12.v36"}),
        )

    def invocation(
        self,
        *,
        outcome: str = "success",
        duration_ms: float = 120.25,
        billed_ms: float | None = None,
        init_ms: float | None = None,
        max_memory_mb: int = 64,
        error_type: str = "KeyError",
        error_message: str = "'customer_id'",
        request_id: str | None = None,
        app_lines: int = 1,
        report: bool = True,
        failure_line: bool = True,
        advance_ms: int = 1000,
    ) -> list[dict[str, Any]]:
        """START, app lines, the failure line (``timeout``/``oom``/``unhandled_error``), END, REPORT.

        ``outcome`` is ``success``, ``error``, ``timeout`` or ``oom``; ``init_ms`` makes it a cold
        start (INIT_START first, ``Init Duration`` in the REPORT).
        """
        rid = request_id or self.request_id()
        cold = init_ms is not None
        common: dict[str, Any] = {"faas.invocation_id": rid, "faas.coldstart": cold}
        docs: list[dict[str, Any]] = []
        self.clock += advance_ms
        if cold:
            docs.append(self.init_start())
        docs.append(self._doc("start", f"START RequestId: {rid} Version: {self.version}", **common))
        for i in range(app_lines):
            docs.append(
                self._doc(
                    "app_log",
                    f"[INFO]\t{iso(self.clock)}\t{rid}\tprocessing order {1000 + i}",
                    advance_ms=3,
                    **common,
                )
            )
        exc: dict[str, Any] = {}
        if outcome == "error":
            fp = fingerprint_of(self.function, error_type, "handler.py:42")
            exc = {
                "exception.type": error_type,
                "exception.message": error_message,
                "exception.fingerprint": fp,
            }
            if failure_line:
                body = f'[ERROR] {error_type}: {error_message}\nTraceback (most recent call last):\n  File "/var/task/handler.py", line 42, in handler'
                docs.append(
                    self._doc(
                        "unhandled_error",
                        body,
                        severity="ERROR",
                        advance_ms=int(duration_ms),
                        **common,
                        **exc,
                        **{"exception.stacktrace": body},
                    )
                )
        elif outcome == "timeout" and failure_line:
            seconds = duration_ms / 1000
            docs.append(
                self._doc(
                    "timeout",
                    f"{iso(self.clock)} {rid} Task timed out after {seconds:.2f} seconds",
                    severity="ERROR",
                    advance_ms=int(duration_ms),
                    **common,
                    **{
                        "exception.type": "Sandbox.Timedout",
                        "exception.message": f"Task timed out after {seconds:.2f} seconds",
                    },
                )
            )
        elif outcome == "oom" and failure_line:
            docs.append(
                self._doc(
                    "oom",
                    f"RequestId: {rid} Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
                    severity="ERROR",
                    advance_ms=int(duration_ms),
                    **common,
                    **{
                        "exception.type": "Runtime.OutOfMemory",
                        "exception.message": "Runtime exited with error: signal: killed",
                    },
                )
            )
        docs.append(self._doc("end", f"END RequestId: {rid}", **common))
        if report:
            billed = billed_ms if billed_ms is not None else float(-(-duration_ms // 1))
            used = self.memory_mb if outcome == "oom" else max_memory_mb
            status = {"success": "success", "error": "error", "timeout": "timeout", "oom": "error"}[outcome]
            body = (
                f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed:.0f} ms\t"
                f"Memory Size: {self.memory_mb} MB\tMax Memory Used: {used} MB\t"
                + (f"Init Duration: {init_ms:.2f} ms\t" if cold else "")
                + f"Status: {status}"
                + ("\tError Type: Runtime.OutOfMemory" if outcome == "oom" else "")
            )
            fields: dict[str, Any] = {
                **common,
                "lambda.status": status,
                "lambda.outcome": outcome,
                "lambda.duration_ms": float(duration_ms),
                "lambda.billed_duration_ms": float(billed),
                "lambda.memory_size_mb": self.memory_mb,
                "lambda.max_memory_used_mb": used,
                "lambda.init_duration_ms": init_ms,
            }
            if outcome == "oom":
                fields["exception.type"] = "Runtime.OutOfMemory"
            docs.append(self._doc("report", body, **fields))
        return docs

    def logged_error(
        self, message: str = "payment gateway refused card", error_type: str = "GatewayError"
    ) -> dict[str, Any]:
        """A handled error the application logged (``app_log`` at ERROR with a fingerprint)."""
        rid = self.request_id()
        return self._doc(
            "app_log",
            f"[ERROR]\t{iso(self.clock)}\t{rid}\t{error_type}: {message}",
            severity="ERROR",
            **F(
                {
                    "faas.invocation_id": rid,
                    "exception.type": error_type,
                    "exception.message": message,
                    "exception.fingerprint": fingerprint_of(self.function, error_type, "payments.py:77"),
                }
            ),
        )

    def init_failure(
        self,
        error_type: str = "Runtime.ImportModuleError",
        message: str = "Unable to import module 'handler': No module named 'requests'",
    ) -> list[dict[str, Any]]:
        """INIT_START, the init error line, the failing INIT_REPORT."""
        self.clock += 1000
        fp = fingerprint_of(self.function, error_type)
        return [
            self.init_start(),
            self._doc(
                "init_error",
                f"[ERROR] {error_type}: {message}",
                severity="ERROR",
                **F(
                    {"exception.type": error_type, "exception.message": message, "exception.fingerprint": fp}
                ),
            ),
            self._doc(
                "init_report",
                "INIT_REPORT Init Duration: 412.50 ms\tPhase: init\tStatus: error\tError Type: Runtime.Unknown",
                advance_ms=400,
                **F(
                    {
                        "lambda.status": "error",
                        "lambda.phase": "init",
                        "lambda.init_duration_ms": 412.5,
                        "exception.type": "Runtime.Unknown",
                    }
                ),
            ),
        ]
