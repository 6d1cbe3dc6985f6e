"""Redrive: find what the parser could not index and replay it, idempotently.

Two places hold what did not make it into OpenSearch:

* the event source mapping's **on-failure SQS queue** — batches Lambda gave up on after its
  retries (OpenSearch down for longer than the retry budget, a bug that failed the whole
  invocation). Each message names a shard range; :class:`SqsRedrive` reads the range back
  from Kinesis while it is retained and runs it through the parser's pipeline;
* the **S3 dead-letter bucket** — records that could not be decoded and documents OpenSearch
  rejected even in safe form, kept whole. :class:`S3Redrive` replays them after a fix.

Both go through the same :class:`~lambdalens.pipeline.Pipeline` the parser Lambda runs, so a
replayed event becomes exactly the document a first delivery would have made, in the same
index under the same ``_id``: running a redrive twice indexes nothing twice (409).
"""

from lambdalens.redrive.onfailure import FailedBatch, NotAnOnFailureRecord, parse_on_failure
from lambdalens.redrive.progress import Progress
from lambdalens.redrive.report import Counts, RedriveReport, SourceResult
from lambdalens.redrive.s3 import S3Redrive, letter_record, read_entries
from lambdalens.redrive.sqs import SqsRedrive
from lambdalens.redrive.stream import RangeReader, lambda_event_record

__all__ = [
    "Counts",
    "FailedBatch",
    "NotAnOnFailureRecord",
    "Progress",
    "RangeReader",
    "RedriveReport",
    "S3Redrive",
    "SourceResult",
    "SqsRedrive",
    "lambda_event_record",
    "letter_record",
    "parse_on_failure",
    "read_entries",
]
