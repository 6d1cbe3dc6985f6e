"""The alerting entry point: documents of a batch -> SNS alerts, without storms.

``AlertEngine(settings, sns_client, table, lambda_client).process(documents, deadline)``:

1. derive signals (timeouts, OOM kills, init errors, unhandled and logged errors, invocations
   near their timeout, duration regressions) from the documents;
2. claim each signal once in DynamoDB, so a redelivered record neither re-alerts nor counts
   twice;
3. count fingerprints (first/last seen, count) -> ``new_error`` when one is first seen or
   not seen for ``ALERT_FINGERPRINT_REARM_HOURS``; count failures in time buckets ->
   ``error_burst`` at ``ALERT_ERROR_BURST_COUNT`` within ``ALERT_ERROR_BURST_WINDOW_MINUTES``;
4. one alert per (function, kind, fingerprint) per quiet period; what comes after is held
   back and sent as one digest when the period ends;
5. publish with retries inside the deadline. Nothing raises out of :meth:`AlertEngine.process`:
   failures are logged and counted in the :class:`AlertOutcome`.

If the state table cannot be used, the engine falls back to in-memory rate limiting of the
timeout / out-of-memory / init-error / near-timeout alerts (per container), and says so in the log.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdalens.alerts import detect
from lambdalens.alerts.detect import Signal, detect_signals
from lambdalens.alerts.kinds import SEVERITY, AlertKind, Severity
from lambdalens.alerts.message import Alert, Redact, render
from lambdalens.alerts.publisher import Publisher, RemainingMs, RetryPolicy
from lambdalens.alerts.settings import AlertSettings
from lambdalens.alerts.state import AlertState, DueDigest
from lambdalens.metrics.functions import FunctionConfigCache
from lambdalens.metrics.invocations import (
    F_ACCOUNT,
    F_DURATION,
    F_EXC_MESSAGE,
    F_EXC_TYPE,
    F_LOG_GROUP,
    F_LOG_STREAM,
    F_MEMORY_SIZE,
    F_REGION,
    F_VERSION,
    BatchSummary,
    Document,
    num,
    summarize,
    text,
)
from lambdalens.retry import Deadline

logger = logging.getLogger(__name__)

#: Which alert kinds each signal kind can lead to.
_NEEDS: dict[str, frozenset[AlertKind]] = {
    detect.TIMEOUT: frozenset({AlertKind.TIMEOUT, AlertKind.ERROR_BURST}),
    detect.OUT_OF_MEMORY: frozenset({AlertKind.OUT_OF_MEMORY, AlertKind.ERROR_BURST}),
    detect.INIT_ERROR: frozenset({AlertKind.INIT_ERROR, AlertKind.ERROR_BURST}),
    detect.ERROR: frozenset({AlertKind.NEW_ERROR, AlertKind.ERROR_BURST}),
    detect.LOGGED_ERROR: frozenset({AlertKind.NEW_ERROR}),
    detect.NEAR_TIMEOUT: frozenset({AlertKind.NEAR_TIMEOUT}),
    detect.DURATION_REGRESSION: frozenset({AlertKind.DURATION_REGRESSION}),
}
#: Signal kinds that are alerts by themselves (gated per function).
_DIRECT: dict[str, AlertKind] = {
    detect.TIMEOUT: AlertKind.TIMEOUT,
    detect.OUT_OF_MEMORY: AlertKind.OUT_OF_MEMORY,
    detect.INIT_ERROR: AlertKind.INIT_ERROR,
    detect.NEAR_TIMEOUT: AlertKind.NEAR_TIMEOUT,
    detect.DURATION_REGRESSION: AlertKind.DURATION_REGRESSION,
}
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}
NO_GROUP = "-"
DURATION_SAMPLES_PER_BATCH = 50
DURATION_SAMPLES_PER_MINUTE = 100
BASELINE_CACHE_MS = 60_000
FINGERPRINT_RETENTION_S = 30 * 86_400


def no_deadline() -> int:
    """A deadline that never comes (CLI, tests)."""
    return 10**9


@dataclass(slots=True)
class AlertOutcome:
    """What one :meth:`AlertEngine.process` call did.

    ``published``: alerts and digests sent; ``failed``: alerts that could not be sent (publish
    failures, no time left, state errors); ``suppressed``: occurrences held back by a quiet
    period (they reach a digest); ``duplicates``: occurrences already seen (redelivery).
    """

    published: int = 0
    failed: int = 0
    suppressed: int = 0
    duplicates: int = 0
    digests: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, other: AlertOutcome) -> None:
        self.published += other.published
        self.failed += other.failed
        self.suppressed += other.suppressed
        self.duplicates += other.duplicates
        self.digests += other.digests
        for k, v in other.kinds.items():
            self.kinds[k] = self.kinds.get(k, 0) + v


@dataclass(slots=True)
class _Candidate:
    kind: AlertKind
    function: str
    group: str
    signals: list[Signal]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def first(self) -> Signal:
        return min(self.signals, key=lambda s: s.timestamp_ms)

    @property
    def latest(self) -> Signal:
        return max(self.signals, key=lambda s: s.timestamp_ms)


class AlertEngine:
    """Turns the documents of a batch into SNS alerts.

    Parameters
    ----------
    settings:
        :meth:`AlertSettings.from_env`. Alerting is off (``process`` returns an empty outcome)
        when ``ALERT_TOPIC_ARN`` is not set.
    sns_client:
        boto3 SNS client (see :mod:`lambdalens.alerts.clients` for deadline-friendly timeouts).
    table:
        boto3 DynamoDB ``Table`` resource of ``ALERT_STATE_TABLE``.
    lambda_client:
        boto3 Lambda client for ``GetFunctionConfiguration`` (timeouts for ``near_timeout``);
        None disables near-timeout alerts unless ``configs`` is given.
    configs:
        A shared :class:`FunctionConfigCache` (share the one the metrics use).
    redact:
        Applied to error messages before they are stored or sent.

    Create it once per container (module scope of the handler): it caches function
    configurations and duration baselines across invocations.
    """

    def __init__(
        self,
        settings: AlertSettings,
        sns_client: Any,
        table: Any,
        lambda_client: Any | None = None,
        *,
        configs: FunctionConfigCache | None = None,
        redact: Redact | None = None,
        clock_ms: Callable[[], int] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.state = AlertState(table, clock_ms)
        self.publisher = Publisher(sns_client, settings.topic_arn or "", retry, sleep)
        self.configs = (
            configs
            if configs is not None
            else (FunctionConfigCache(lambda_client) if lambda_client else None)
        )
        self.redact = redact
        self._baselines: dict[tuple[str, int], tuple[int, list[float]]] = {}
        self._local_gates: dict[tuple[str, str], int] = {}
        self._handled: set[tuple[str, str, str]] = set()

    # -- entry point ------------------------------------------------------------------------
    def process(
        self,
        documents: Iterable[Document],
        deadline: RemainingMs | None = None,
        *,
        summary: BatchSummary | None = None,
    ) -> AlertOutcome:
        """Alert on the documents of the records processed successfully in this invocation.

        ``deadline`` returns the milliseconds left (``context.get_remaining_time_in_millis``);
        work stops ``RetryPolicy.reserve_ms`` before it. Never raises.
        """
        outcome = AlertOutcome()
        if not self.settings.enabled:
            return outcome
        budget = self.publisher.policy.deadline(deadline or no_deadline)
        self._handled = set()
        try:
            summary = summary if summary is not None else summarize(documents)
            signals = [
                s
                for s in detect_signals(
                    summary,
                    self.configs,
                    self.settings.timeout_ratio,
                    AlertKind.NEW_ERROR in self.settings.kinds,
                )
                if _NEEDS[s.kind] & self.settings.kinds
            ]
        except Exception:
            logger.exception("lambdalens alerts: could not derive signals from the batch")
            outcome.failed += 1
            return outcome
        try:
            signals += self._regressions(summary, budget)
            self._process(signals, budget, outcome)
            self._send_due_digests(budget, outcome)
        except Exception:
            logger.exception(
                "lambdalens alerts: alert state unavailable; rate limiting in memory for this batch"
            )
            try:
                self._fallback(signals, budget, outcome)
            except Exception:
                logger.exception("lambdalens alerts: fallback failed")
                outcome.failed += 1
        return outcome

    # -- main path -----------------------------------------------------------------------------
    def _process(self, signals: list[Signal], deadline: Deadline, outcome: AlertOutcome) -> None:
        s = self.settings
        if not signals:
            return
        if deadline.expired():
            # Claiming now would lose these occurrences: leave them unclaimed, say so.
            logger.error("lambdalens alerts: no time left to alert on %d occurrences", len(signals))
            outcome.failed += 1
            return
        fresh_keys = self.state.claim([sig.claim_key for sig in signals], s.dedup_hours * 3600)
        fresh = [sig for sig in signals if sig.claim_key in fresh_keys]
        seen: set[tuple[str, str]] = set()
        for sig in signals:
            if sig.claim_key not in fresh_keys and sig.claim_key not in seen:
                outcome.duplicates += 1
            seen.add(sig.claim_key)
        candidates: list[_Candidate] = []
        direct: dict[tuple[AlertKind, str], list[Signal]] = defaultdict(list)
        for sig in fresh:
            kind = _DIRECT.get(sig.kind)
            if kind is not None and kind in s.kinds:
                direct[(kind, sig.function)].append(sig)
        candidates += [_Candidate(kind, fn, NO_GROUP, sigs) for (kind, fn), sigs in direct.items()]
        candidates += self._new_errors(fresh, outcome)
        candidates += self._bursts(fresh)
        candidates.sort(key=lambda c: (_SEVERITY_ORDER[SEVERITY[c.kind]], c.function, c.kind, c.group))
        for candidate in candidates:
            self._gate_and_publish(candidate, deadline, outcome)

    def _new_errors(self, fresh: list[Signal], outcome: AlertOutcome) -> list[_Candidate]:
        s = self.settings
        groups: dict[tuple[str, str], list[Signal]] = defaultdict(list)
        for sig in fresh:
            if sig.fingerprint and sig.kind in (detect.FAILURES | detect.NEW_ERROR_SOURCES):
                groups[(sig.function, sig.fingerprint)].append(sig)
        out = []
        for (fn, fp), sigs in sorted(groups.items()):
            latest = max(sigs, key=lambda x: x.timestamp_ms)
            info = self._occurrence(latest)
            info["kind"] = latest.kind
            seen = self.state.count_fingerprint(
                fn,
                fp,
                len(sigs),
                latest.timestamp_ms,
                info,
                max(FINGERPRINT_RETENTION_S, 2 * s.rearm_ms / 1000),
            )
            if AlertKind.NEW_ERROR not in s.kinds:
                continue
            sources = [x for x in sigs if x.kind in detect.NEW_ERROR_SOURCES]
            if not sources:
                continue
            first = min(sources, key=lambda x: x.timestamp_ms)
            is_new = (
                seen.previous_last_seen is None or first.timestamp_ms - seen.previous_last_seen > s.rearm_ms
            )
            if is_new:
                details = {
                    "first_seen_ms": seen.first_seen
                    if seen.previous_last_seen is not None
                    else first.timestamp_ms,
                    "total_count": seen.count,
                    "rearmed": seen.previous_last_seen is not None,
                    "last_seen_ms": seen.previous_last_seen,
                }
                out.append(_Candidate(AlertKind.NEW_ERROR, fn, fp, sources, details))
            else:
                # Not new: it still counts toward the digest of a running quiet period.
                gate = self.state.suppress_if_open(
                    fn, AlertKind.NEW_ERROR.value, fp, len(sources), self._occurrence(latest)
                )
                if gate is not None:
                    outcome.suppressed += len(sources)
                    if gate.first_suppression:
                        self.state.schedule_digest(fn, AlertKind.NEW_ERROR.value, fp, gate.period_end)
        return out

    def _bursts(self, fresh: list[Signal]) -> list[_Candidate]:
        s = self.settings
        if AlertKind.ERROR_BURST not in s.kinds:
            return []
        window = s.burst_window_ms
        bucket = 60_000 if window >= 60_000 else window
        n_buckets = max(1, math.ceil(window / bucket))
        failures: dict[str, dict[str, Signal]] = defaultdict(dict)
        for sig in fresh:
            if sig.kind in detect.FAILURES:
                failures[sig.function].setdefault(sig.key, sig)
        out = []
        for fn, by_key in sorted(failures.items()):
            sigs = list(by_key.values())
            counts: dict[int, int] = defaultdict(int)
            for sig in sigs:
                counts[sig.timestamp_ms // bucket * bucket] += 1
            self.state.add_burst(fn, counts, window / 1000 * 2 + 3600)
            last = max(counts)
            total = self.state.burst_count(fn, last - (n_buckets - 1) * bucket, last)
            if total >= s.error_burst_count:
                out.append(_Candidate(AlertKind.ERROR_BURST, fn, NO_GROUP, sigs, {"window_count": total}))
        return out

    def _regressions(self, summary: BatchSummary, deadline: Deadline) -> list[Signal]:
        s = self.settings
        if AlertKind.DURATION_REGRESSION not in s.kinds:
            return []
        groups: dict[tuple[str, int], list[tuple[Document, float, str]]] = defaultdict(list)
        for inv in summary.invocations.values():
            report = inv.report
            if report is None or inv.timeout or inv.oom:
                continue
            duration = num(report, F_DURATION)
            memory = num(report, F_MEMORY_SIZE)
            if duration is None:
                continue
            groups[(inv.function, int(memory or 0))].append((report, duration, inv.invocation_id))
        out: list[Signal] = []
        for (fn, memory), rows in sorted(groups.items()):
            if deadline.expired():
                break
            newest = max(inv_ts for inv_ts in (_ts(r) for r, _, _ in rows))
            baseline = self._baseline(fn, memory, newest)
            if len(baseline) >= s.regression_min_samples:
                median = statistics.median(baseline)
                for report, duration, rid in rows:
                    if (
                        duration >= s.regression_min_ms
                        and median > 0
                        and duration > s.regression_factor * median
                    ):
                        details = {
                            "duration_ms": duration,
                            "median_ms": median,
                            "samples": len(baseline),
                            "factor": duration / median,
                            "memory_mb": memory,
                        }
                        out.append(
                            Signal(detect.DURATION_REGRESSION, fn, rid, _ts(report), report, None, details)
                        )
            durations = [d for _, d, _ in rows]
            step = max(1, len(durations) // DURATION_SAMPLES_PER_BATCH)
            sample = durations[::step][:DURATION_SAMPLES_PER_BATCH]
            minute = newest // 60_000 * 60_000
            ttl = s.regression_baseline_minutes * 60 + 3600
            self.state.add_duration_samples(fn, memory, minute, sample, DURATION_SAMPLES_PER_MINUTE, ttl)
            self._baselines[(fn, memory)][1].extend(sample)
        return out

    def _baseline(self, function: str, memory: int, newest_ms: int) -> list[float]:
        now = self.state.now_ms()
        cached = self._baselines.get((function, memory))
        if cached is not None and now - cached[0] < BASELINE_CACHE_MS:
            return cached[1]
        since = newest_ms - self.settings.regression_baseline_minutes * 60_000
        samples = self.state.duration_samples(function, memory, since // 60_000 * 60_000)
        self._baselines[(function, memory)] = (now, samples)
        return samples

    # -- gating and publishing ------------------------------------------------------------------
    def _occurrence(self, sig: Signal) -> dict[str, Any]:
        info = sig.occurrence(self.settings.message_max_chars)
        if info.get("message") and self.redact is not None:
            info["message"] = self.redact(str(info["message"]))[: self.settings.message_max_chars]
        return info

    def _gate_and_publish(self, candidate: _Candidate, deadline: Deadline, outcome: AlertOutcome) -> None:
        s = self.settings
        kind, fn, group = candidate.kind, candidate.function, candidate.group
        n = len(candidate.signals)
        self._handled.add((fn, kind.value, group))
        if deadline.expired():
            logger.error("lambdalens alerts: no time left for the %s alert of %s", kind.value, fn)
            outcome.failed += 1
            return
        gate = self.state.open_or_suppress(
            fn, kind.value, group, n, s.quiet_ms, self._occurrence(candidate.latest)
        )
        if not gate.opened:
            outcome.suppressed += n
            if gate.first_suppression:
                self.state.schedule_digest(fn, kind.value, group, gate.period_end)
            return
        alert = self._alert(candidate, gate.previous_suppressed)
        if self.publisher.publish(render(alert, s, self.redact), deadline) is not None:
            outcome.published += 1
            outcome.kinds[kind.value] = outcome.kinds.get(kind.value, 0) + 1
        else:
            outcome.failed += 1
            self.state.reopen(fn, kind.value, group, gate.period_start, gate.previous_suppressed + n)

    def _alert(self, candidate: _Candidate, previous_suppressed: int) -> Alert:
        sig = candidate.first
        doc = sig.doc
        details = {**sig.details, **candidate.details}
        message = text(doc, F_EXC_MESSAGE)
        if message is None and doc.get("lambda.event_type") not in ("report", "init_report"):
            message = text(doc, "body")
        return Alert(
            kind=candidate.kind,
            function=candidate.function,
            time_ms=sig.timestamp_ms,
            account=text(doc, F_ACCOUNT),
            region=text(doc, F_REGION),
            request_id=sig.request_id,
            error_type=text(doc, F_EXC_TYPE),
            message=message,
            fingerprint=candidate.group if candidate.group != NO_GROUP else sig.fingerprint,
            log_group=text(doc, F_LOG_GROUP),
            log_stream=text(doc, F_LOG_STREAM),
            version=text(doc, F_VERSION),
            count=len(candidate.signals),
            previous_suppressed=previous_suppressed,
            details=details,
        )

    def _send_due_digests(self, deadline: Deadline, outcome: AlertOutcome, limit: int = 10) -> None:
        if deadline.expired():
            return
        for due in self.state.due_digests(limit):
            if deadline.expired():
                return
            self._send_digest(due, deadline, outcome)

    def _send_digest(self, due: DueDigest, deadline: Deadline, outcome: AlertOutcome) -> None:
        old = self.state.take_digest(due, self.settings.quiet_ms)
        if old is None:
            return
        count = int(old.get("suppressed", 0))
        alert = digest_alert(due.kind, due.function, due.group, count, old)
        if self.publisher.publish(render(alert, self.settings, self.redact), deadline) is not None:
            outcome.published += 1
            outcome.digests += 1
        else:
            outcome.failed += 1
            self.state.restore_digest(due.function, due.kind, due.group, count)

    # -- degraded mode ----------------------------------------------------------------------------
    def _fallback(self, signals: list[Signal], deadline: Deadline, outcome: AlertOutcome) -> None:
        """No state table: rate limit per container, for the kinds that need no history."""
        now = int(time.time() * 1000)
        groups: dict[tuple[str, AlertKind], list[Signal]] = defaultdict(list)
        for sig in signals:
            kind = _DIRECT.get(sig.kind)
            if (
                kind is not None
                and kind in self.settings.kinds
                and kind is not AlertKind.DURATION_REGRESSION
                and (sig.function, kind.value, NO_GROUP) not in self._handled
            ):
                groups[(sig.function, kind)].append(sig)
        for (fn, kind), sigs in sorted(groups.items()):
            key = (fn, kind.value)
            if self._local_gates.get(key, 0) > now:
                outcome.suppressed += len(sigs)
                continue
            if deadline.expired():
                outcome.failed += 1
                continue
            self._local_gates[key] = now + self.settings.quiet_ms
            alert = self._alert(_Candidate(kind, fn, NO_GROUP, sigs), 0)
            if self.publisher.publish(render(alert, self.settings, self.redact), deadline) is not None:
                outcome.published += 1
                outcome.kinds[kind.value] = outcome.kinds.get(kind.value, 0) + 1
            else:
                outcome.failed += 1


def _ts(doc: Document) -> int:
    from lambdalens.metrics.invocations import F_TIMESTAMP, epoch_ms

    return epoch_ms(doc.get(F_TIMESTAMP)) or 0


def digest_alert(kind: str, function: str, group: str, count: int, gate: Mapping[str, Any]) -> Alert:
    """The digest of a quiet period, from its gate item (which remembers the latest occurrence)."""

    def s(key: str) -> str | None:
        value = gate.get(key)
        return str(value) if value not in (None, "") else None

    return Alert(
        kind=AlertKind(kind),
        function=function,
        time_ms=int(gate.get("last_time") or gate.get("period_end") or 0),
        account=s("account"),
        region=s("region"),
        request_id=s("last_request_id"),
        error_type=s("error_type"),
        message=s("message"),
        fingerprint=group if group != NO_GROUP else s("fingerprint"),
        log_group=s("log_group"),
        log_stream=s("log_stream"),
        version=s("version"),
        count=count,
        digest=True,
    )
