"""SNS alerts on what the documents of a batch show, rate limited with state in DynamoDB.

Public API::

    settings = AlertSettings.from_env()
    engine = AlertEngine(settings, sns_client, state_table, lambda_client, configs=cache, redact=redact)
    outcome = engine.process(documents, context.get_remaining_time_in_millis)   # never raises
    outcome.published, outcome.failed, outcome.suppressed, outcome.duplicates

    render(Alert(...), settings, redact) -> AlertMessage     # subject, text, markdown, JSON
    AlertState(table).list_fingerprints(function=None)       # for ``lambdalens fingerprints``

See docs/metrics-and-alerts.md for every alert kind, a sample message, and the table's key schema.
"""

from lambdalens.alerts.engine import AlertEngine, AlertOutcome
from lambdalens.alerts.kinds import SEVERITY, AlertKind, Severity
from lambdalens.alerts.message import Alert, AlertMessage, render
from lambdalens.alerts.publisher import Publisher, RetryPolicy
from lambdalens.alerts.settings import AlertSettings
from lambdalens.alerts.state import AlertState

__all__ = [
    "SEVERITY",
    "Alert",
    "AlertEngine",
    "AlertKind",
    "AlertMessage",
    "AlertOutcome",
    "AlertSettings",
    "AlertState",
    "Publisher",
    "RetryPolicy",
    "Severity",
    "render",
]
