"""``lambdalens demo``: the whole pipeline on this machine, with no AWS account.

A small serverless application (``view-post``, ``new-post``, ``request-processor``,
``post-analysis``) writes real-format Lambda logs to CloudWatch Logs (moto), which are
delivered to Kinesis as a subscription filter would; a Kinesis event-source emulator calls
the real parser handler; documents land in a local OpenSearch (the real single-node
OpenSearch when Java 17+ is there, else the in-memory stand-in), metrics in the handler's EMF
output, alerts on SNS (read back from SQS). Then the report and the failing
transaction's timeline, traced back to its root cause.
"""
