"""lambdalens — log observability for AWS Lambda.

The package is the pipeline, one folder per stage::

    decoding/   Kinesis / CloudWatch Logs subscription records -> payloads
    parsing/    payload log events -> OpenSearch documents (one per event)
    indexing/   documents -> OpenSearch bulk requests, retries, dead letters
    handlers/   AWS Lambda entry points (thin adapters over the library)
    cli/        the ``lambdalens`` command (thin adapter over the library)
"""

__version__ = "0.1.0"
