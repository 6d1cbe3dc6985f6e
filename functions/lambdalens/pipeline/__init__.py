"""The pipeline: one batch of Kinesis records through decoding, parsing, redaction,
indexing and dead-lettering, with an outcome per record. The Lambda handler, ``lambdalens
redrive`` and ``lambdalens demo`` all run batches through :func:`process_records`."""

from lambdalens.pipeline.batch import BatchOutcome, Pipeline, RecordOutcome, process_records

__all__ = ["BatchOutcome", "Pipeline", "RecordOutcome", "process_records"]
