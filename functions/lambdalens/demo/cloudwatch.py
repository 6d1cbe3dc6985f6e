"""CloudWatch Logs and its subscription filter to Kinesis, as the demo uses them.

Log events are written to CloudWatch Logs (moto). moto delivers subscription filters too,
but with small integer event ids that repeat across calls (AWS uses unique 56-digit ids),
so the demo delivers to Kinesis itself, exactly as CloudWatch does: one gzip-compressed
``DATA_MESSAGE`` JSON payload per delivery, events of one log stream, partition key = the
log stream.
"""

from __future__ import annotations

import gzip
import itertools
from collections import defaultdict
from typing import Any

import orjson

from lambdalens.demo.app import ACCOUNT, LogLine

FILTER_NAME = "lambdalens"


class CloudWatchLogs:
    def __init__(self, logs: Any, kinesis: Any, stream_name: str) -> None:
        self.logs = logs
        self.kinesis = kinesis
        self.stream_name = stream_name
        self._groups: set[str] = set()
        self._streams: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self.deliveries = 0

    def _ensure(self, group: str, stream: str) -> None:
        if group not in self._groups:
            self.logs.create_log_group(logGroupName=group)
            self._groups.add(group)
        if (group, stream) not in self._streams:
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._streams.add((group, stream))

    def put(self, lines: list[LogLine], max_events: int = 40) -> int:
        """Write ``lines`` (in time order) to CloudWatch Logs and deliver them to Kinesis."""
        by_stream: dict[tuple[str, str], list[LogLine]] = defaultdict(list)
        for line in lines:
            by_stream[(line.group, line.stream)].append(line)
        records = []
        for (group, stream), stream_lines in by_stream.items():
            self._ensure(group, stream)
            for i in range(0, len(stream_lines), max_events):
                chunk = stream_lines[i : i + max_events]
                self.logs.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[{"timestamp": line.timestamp, "message": line.message} for line in chunk],
                )
                payload = {
                    "messageType": "DATA_MESSAGE",
                    "owner": ACCOUNT,
                    "logGroup": group,
                    "logStream": stream,
                    "subscriptionFilters": [FILTER_NAME],
                    "logEvents": [
                        {
                            "id": f"{line.timestamp:020d}{next(self._ids):036d}",
                            "timestamp": line.timestamp,
                            "message": line.message,
                        }
                        for line in chunk
                    ],
                }
                records.append({"Data": gzip.compress(orjson.dumps(payload)), "PartitionKey": stream})
        for i in range(0, len(records), 500):
            self.kinesis.put_records(StreamName=self.stream_name, Records=records[i : i + 500])
        self.deliveries += len(records)
        return len(records)
