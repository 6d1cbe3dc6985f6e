"""Alert state in DynamoDB: claims, fingerprints, quiet-period gates, burst windows, duration
baselines and pending digests — one table, partition key ``pk`` (S), sort key ``sk`` (S),
TTL attribute ``expires_at`` (epoch seconds).

======================================  ==============================  =========================================
item                                    pk / sk                         attributes
======================================  ==============================  =========================================
claim (idempotency of an occurrence)    ``seen#<fn>`` / ``<kind>#<id>``   expires_at (+ ALERT_DEDUP_HOURS)
fingerprint                             ``fp#<fn>`` / ``<fingerprint>``   first_seen, last_seen (epoch ms), count,
                                                                        error_type, message, request_id, kind
quiet-period gate                       ``gate#<fn>`` / ``<kind>#<grp>``  period_start, period_end (ms), suppressed,
                                                                        last occurrence (request id, time, ...)
burst bucket (event time)               ``burst#<fn>`` / ``<bucket ms>``  count
duration samples (event time)           ``dur#<fn>#<MB>`` / ``<minute>``  samples (list of ms)
pending digest                          ``digest`` / ``<end>#<kind>#<grp>#<fn>``  (the gate to flush when the period ends)
======================================  ==============================  =========================================

Every write that decides something is conditional: a claim is written only once, a gate opens
only when its period is over, a digest is taken only while the gate still holds that period.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

Key = tuple[str, str]


def conditional_failed(exc: BaseException) -> bool:
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return int(value)
    return default


def _clean_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB refuses empty strings in keys and floats: drop Nones, make numbers Decimal."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if v is None or v == "":
            continue
        out[k] = Decimal(str(v)) if isinstance(v, float) else v
    return out


@dataclass(frozen=True, slots=True)
class FingerprintSeen:
    """A fingerprint's item after counting ``n`` new occurrences. ``previous_last_seen`` is
    None when it had never been seen."""

    first_seen: int
    previous_last_seen: int | None
    count: int


@dataclass(frozen=True, slots=True)
class GateResult:
    """``opened``: this occurrence opens a quiet period (send the alert). ``previous_suppressed``:
    occurrences held back during the previous period and not yet sent as a digest."""

    opened: bool
    period_start: int
    period_end: int
    previous_suppressed: int = 0
    first_suppression: bool = False


@dataclass(frozen=True, slots=True)
class DueDigest:
    sk: str
    period_end: int
    kind: str
    group: str
    function: str


class AlertState:
    """The DynamoDB side of alerting. ``table`` is a boto3 ``Table`` resource."""

    def __init__(self, table: Any, clock_ms: Callable[[], int] | None = None) -> None:
        self.table = table
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))

    def now_ms(self) -> int:
        return self._clock_ms()

    # -- claims ---------------------------------------------------------------------------
    def claim(self, keys: Iterable[Key], ttl_seconds: float) -> set[Key]:
        """Record occurrences; return those never recorded before (the fresh ones).

        A BatchGetItem finds those already claimed (100 keys a call), a batch writer records
        the rest. A Kinesis record is never processed by two invocations at once, so the
        redelivery of the same documents always sees the claims of the first delivery.
        """
        wanted = list(dict.fromkeys(keys))
        existing: set[Key] = set()
        client = self.table.meta.client
        for i in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self.table.name: {
                    "Keys": [{"pk": pk, "sk": sk} for pk, sk in wanted[i : i + 100]],
                    "ProjectionExpression": "pk, sk",
                }
            }
            for _ in range(8):
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table.name, []):
                    existing.add((str(item["pk"]), str(item["sk"])))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05)
        fresh = [k for k in wanted if k not in existing]
        if fresh:
            expires = int(self.now_ms() / 1000 + ttl_seconds)
            with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
                for pk, sk in fresh:
                    batch.put_item(Item={"pk": pk, "sk": sk, "expires_at": expires})
        return set(fresh)

    # -- fingerprints ---------------------------------------------------------------------
    def count_fingerprint(
        self,
        function: str,
        fingerprint: str,
        n: int,
        seen_ms: int,
        info: Mapping[str, Any],
        retention_s: float,
    ) -> FingerprintSeen:
        """Add ``n`` occurrences seen at ``seen_ms`` (event time) and say what was known before."""
        key = {"pk": f"fp#{function}", "sk": fingerprint}
        names = {"#c": "count", "#f": "first_seen", "#l": "last_seen"}
        extra = _clean_item(info)
        sets = ", ".join(f"#x{i} = :x{i}" for i in range(len(extra)))
        for i, k in enumerate(extra):
            names[f"#x{i}"] = k
        values: dict[str, Any] = {
            ":n": n,
            ":zero": 0,
            ":t": seen_ms,
            ":exp": int(seen_ms / 1000 + retention_s),
        }
        values.update({f":x{i}": v for i, v in enumerate(extra.values())})
        update = "SET #c = if_not_exists(#c, :zero) + :n, #f = if_not_exists(#f, :t), #l = :t, expires_at = :exp, function_name = :fn"
        values[":fn"] = function
        if sets:
            update += ", " + sets
        try:
            old = self.table.update_item(
                Key=key,
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(#l) OR #l <= :t",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            # An older occurrence arriving late: count it, keep last_seen.
            new = self.table.update_item(
                Key=key,
                UpdateExpression="SET #c = if_not_exists(#c, :zero) + :n",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":n": n, ":zero": 0},
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return FingerprintSeen(
                _int(new.get("first_seen"), seen_ms),
                _int(new.get("last_seen"), seen_ms),
                _int(new.get("count")),
            )
        previous = _int(old.get("last_seen"), -1)
        return FingerprintSeen(
            _int(old.get("first_seen"), seen_ms),
            previous if previous >= 0 else None,
            _int(old.get("count")) + n,
        )

    def list_fingerprints(self, function: str | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        """Known fingerprints (of one function, or all with a scan), most recently seen first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while len(items) < limit:
            if function is not None:
                response = self.table.query(
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": f"fp#{function}"},
                    **kwargs,
                )
            else:
                response = self.table.scan(
                    FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": "fp#"}, **kwargs
                )
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
        out: list[dict[str, Any]] = []
        for item in items[:limit]:
            out.append(
                {
                    "function": str(item.get("function_name") or str(item["pk"])[3:]),
                    "fingerprint": str(item["sk"]),
                    "count": _int(item.get("count")),
                    "first_seen": _int(item.get("first_seen")),
                    "last_seen": _int(item.get("last_seen")),
                    "error_type": item.get("error_type"),
                    "message": item.get("message"),
                    "kind": item.get("kind"),
                    "request_id": item.get("request_id"),
                }
            )
        out.sort(key=lambda r: r["last_seen"], reverse=True)
        return out

    # -- quiet-period gates -----------------------------------------------------------------
    def open_or_suppress(
        self, function: str, kind: str, group: str, n: int, quiet_ms: int, last: Mapping[str, Any]
    ) -> GateResult:
        """Open a quiet period (when none is running) for ``n`` occurrences, or hold them back.

        The alert sent on opening stands for the ``n`` occurrences of this batch; later ones are
        held back. Opening returns what the previous period held back that no digest has sent.
        """
        now = self.now_ms()
        key = {"pk": f"gate#{function}", "sk": f"{kind}#{group}"}
        info = _clean_item(last)
        names = {f"#x{i}": k for i, k in enumerate(info)}
        info_values = {f":x{i}": v for i, v in enumerate(info.values())}
        info_set = "".join(f", #x{i} = :x{i}" for i in range(len(info)))
        with_names: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        expires = int((now + 2 * quiet_ms) / 1000) + 86_400
        try:
            old = self.table.update_item(
                Key=key,
                UpdateExpression="SET period_start = :now, period_end = :end, suppressed = :held, expires_at = :exp"
                + info_set,
                ConditionExpression="attribute_not_exists(period_end) OR period_end <= :now",
                **with_names,
                ExpressionAttributeValues={
                    ":now": now,
                    ":end": now + quiet_ms,
                    ":held": 0,
                    ":exp": expires,
                    **info_values,
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
            return GateResult(True, now, now + quiet_ms, _int(old.get("suppressed")))
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
        try:
            new = self.table.update_item(
                Key=key,
                UpdateExpression="ADD suppressed :n SET expires_at = :exp" + info_set,
                ConditionExpression="period_end > :now",
                **with_names,
                ExpressionAttributeValues={":n": n, ":now": now, ":exp": expires, **info_values},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            # The period ended between the two calls: try to open again (once).
            return (
                self.open_or_suppress(function, kind, group, n, quiet_ms, last)
                if quiet_ms > 0
                else GateResult(True, now, now)
            )
        return GateResult(
            False,
            _int(new.get("period_start")),
            _int(new.get("period_end")),
            first_suppression=_int(new.get("suppressed")) == n,
        )

    def suppress_if_open(
        self, function: str, kind: str, group: str, n: int, last: Mapping[str, Any]
    ) -> GateResult | None:
        """Hold back ``n`` occurrences if a quiet period is running (else do nothing: None)."""
        now = self.now_ms()
        info = _clean_item(last)
        names = {f"#x{i}": k for i, k in enumerate(info)}
        extra: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            new = self.table.update_item(
                Key={"pk": f"gate#{function}", "sk": f"{kind}#{group}"},
                UpdateExpression="ADD suppressed :n"
                + ("" if not info else " SET " + ", ".join(f"#x{i} = :x{i}" for i in range(len(info)))),
                ConditionExpression="period_end > :now",
                ExpressionAttributeValues={
                    ":n": n,
                    ":now": now,
                    **{f":x{i}": v for i, v in enumerate(info.values())},
                },
                ReturnValues="ALL_NEW",
                **extra,
            )["Attributes"]
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            return None
        return GateResult(
            False,
            _int(new.get("period_start")),
            _int(new.get("period_end")),
            first_suppression=_int(new.get("suppressed")) == n,
        )

    def restore_digest(self, function: str, kind: str, group: str, count: int) -> None:
        """A digest could not be published: put its count back on the (new) period and schedule
        it again for that period's end."""
        new = self.table.update_item(
            Key={"pk": f"gate#{function}", "sk": f"{kind}#{group}"},
            UpdateExpression="ADD suppressed :n",
            ExpressionAttributeValues={":n": count},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        self.schedule_digest(function, kind, group, _int(new.get("period_end")))

    def reopen(self, function: str, kind: str, group: str, period_start: int, held: int) -> None:
        """Undo an opening whose alert could not be published: end the period now and keep
        ``held`` occurrences for the next alert's digest."""
        try:
            self.table.update_item(
                Key={"pk": f"gate#{function}", "sk": f"{kind}#{group}"},
                UpdateExpression="SET period_end = :start, suppressed = :held",
                ConditionExpression="period_start = :start",
                ExpressionAttributeValues={":start": period_start, ":held": held},
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise

    # -- digests ---------------------------------------------------------------------------
    def schedule_digest(self, function: str, kind: str, group: str, period_end: int) -> None:
        self.table.put_item(
            Item={
                "pk": "digest",
                "sk": f"{period_end:013d}#{kind}#{group}#{function}",
                "expires_at": int(period_end / 1000) + 7 * 86_400,
            }
        )

    def due_digests(self, limit: int = 10) -> list[DueDigest]:
        """Pending digests whose quiet period has ended, oldest first."""
        now = self.now_ms()
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND sk < :upper",
            ExpressionAttributeValues={":pk": "digest", ":upper": f"{now:013d}~"},
            Limit=limit,
        )
        out = []
        for item in response.get("Items", []):
            sk = str(item["sk"])
            parts = sk.split("#", 3)
            if len(parts) == 4 and int(parts[0]) <= now:
                out.append(DueDigest(sk, int(parts[0]), parts[1], parts[2], parts[3]))
        return out

    def take_digest(self, due: DueDigest, quiet_ms: int) -> dict[str, Any] | None:
        """Claim a due digest: if the gate still holds that period with occurrences held back,
        open the next period (so the digest is itself rate limited) and return the old gate
        item; else None. Either way the pending entry is removed."""
        now = self.now_ms()
        try:
            old: dict[str, Any] | None = self.table.update_item(
                Key={"pk": f"gate#{due.function}", "sk": f"{due.kind}#{due.group}"},
                UpdateExpression="SET period_start = :now, period_end = :end, suppressed = :zero",
                ConditionExpression="period_end = :pe AND suppressed > :zero AND period_end <= :now",
                ExpressionAttributeValues={
                    ":now": now,
                    ":end": now + quiet_ms,
                    ":zero": 0,
                    ":pe": due.period_end,
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            old = None
        self.table.delete_item(Key={"pk": "digest", "sk": due.sk})
        return old

    # -- bursts ------------------------------------------------------------------------------
    def add_burst(self, function: str, buckets: Mapping[int, int], ttl_seconds: float) -> None:
        for start, n in buckets.items():
            self.table.update_item(
                Key={"pk": f"burst#{function}", "sk": f"{start:013d}"},
                UpdateExpression="ADD #c :n SET expires_at = :exp",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":n": n, ":exp": int(start / 1000 + ttl_seconds)},
            )

    def burst_count(self, function: str, first_bucket: int, last_bucket: int) -> int:
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": f"burst#{function}",
                ":a": f"{first_bucket:013d}",
                ":b": f"{last_bucket:013d}",
            },
        )
        return sum(_int(item.get("count")) for item in response.get("Items", []))

    # -- duration baselines -------------------------------------------------------------------
    def duration_samples(self, function: str, memory_mb: int, since_ms: int) -> list[float]:
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND sk >= :a",
            ExpressionAttributeValues={":pk": f"dur#{function}#{memory_mb}", ":a": f"{since_ms:013d}"},
        )
        return [float(v) for item in response.get("Items", []) for v in item.get("samples", [])]

    def add_duration_samples(
        self,
        function: str,
        memory_mb: int,
        minute_ms: int,
        samples: list[float],
        cap: int,
        ttl_seconds: float,
    ) -> None:
        """Append samples to the minute's item unless it already holds ``cap`` of them."""
        try:
            self.table.update_item(
                Key={"pk": f"dur#{function}#{memory_mb}", "sk": f"{minute_ms:013d}"},
                UpdateExpression="SET samples = list_append(if_not_exists(samples, :empty), :s), expires_at = :exp",
                ConditionExpression="attribute_not_exists(samples) OR size(samples) < :cap",
                ExpressionAttributeValues={
                    ":empty": [],
                    ":s": [Decimal(str(round(s, 3))) for s in samples],
                    ":cap": cap,
                    ":exp": int(minute_ms / 1000 + ttl_seconds),
                },
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
