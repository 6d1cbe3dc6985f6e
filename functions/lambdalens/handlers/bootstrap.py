"""The index set-up custom resource: CDK Provider framework ``onEvent`` handler.

``Create`` and ``Update`` run :func:`lambdalens.indexing.bootstrap.run_bootstrap` (idempotent:
an update that changes nothing writes nothing); ``Delete`` leaves OpenSearch alone — the
templates, the ISM policy and above all the log indices outlive the stack.

Resource properties (CloudFormation passes every scalar as a string):

==========================  =======================================================  ============
``Endpoint``                OpenSearch URL                                           required
``Auth``                    ``sigv4`` | ``aoss`` | ``basic`` | ``none``              ``sigv4``
``SecretArn``               Secrets Manager secret ``{username, password}`` (basic)
``Region``                  region for SigV4                                         ``AWS_REGION``
``IndexPrefix``             daily indices ``<prefix>-YYYY.MM.DD``                    ``lambda-logs``
``RetentionDays``           delete a daily index this many days after its creation   ``30``
``WarmAfterDays``           move it to warm first (``WarmMode``: ``ultrawarm`` |
                            ``allocation``, default ``ultrawarm``)
``Shards`` / ``Replicas``   per daily index                                          ``1`` / ``1``
``RefreshInterval``                                                                  ``5s``
``ParserRoleArn``           the parser's IAM role, mapped to ``lambdalens_writer``
``ReaderBackendRoles``      list of backend roles mapped to ``lambdalens_reader``
``FineGrainedAccessControl`` ``auto`` | ``true`` | ``false``                         ``auto``
==========================  =======================================================  ============

Returns ``{"PhysicalResourceId": "lambdalens-bootstrap:<host>/<prefix>", "Data": {...}}``
(``Fn::GetAtt``-able: ``IndexPattern``, ``IndexTemplate``, ``IsmPolicyId``, ``WriterRole``,
``ReaderRole``, ``Server``, ``Created``, ``Updated``, ``Unchanged``, ``Skipped``). A failure
raises with a message naming the endpoint and the step; the Provider framework reports it
to CloudFormation. Imports stay light: no Powertools, opensearch-py only when called.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from lambdalens.config import AUTH_MODES, Auth, OpenSearchConfig
from lambdalens.indexing.bootstrap import BootstrapError, BootstrapReport, run_bootstrap
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.indexing.templates import (
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_RETENTION_DAYS,
    BootstrapOptions,
    WarmMode,
)

logger = logging.getLogger("lambdalens.bootstrap")
logger.setLevel(logging.INFO)

PHYSICAL_ID_PREFIX: Final = "lambdalens-bootstrap:"
#: The resource type of the Dashboards import, served by this function too.
DASHBOARDS_RESOURCE_TYPE: Final = "Custom::LambdaLensDashboards"
_FGAC_VALUES: Final[Mapping[str, bool | None]] = {"auto": None, "true": True, "false": False}


class PropertyError(ValueError):
    """A resource property has a value the handler cannot use."""

    def __init__(self, name: str, expected: str, got: object) -> None:
        super().__init__(f"resource property {name} must be {expected}, got {got!r}")


def _text(props: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = props.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise PropertyError(name, "a string", value)
    return str(value).strip()


def _optional_int(props: Mapping[str, Any], name: str) -> int | None:
    text = _text(props, name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise PropertyError(name, "a whole number", props.get(name)) from None


def _int(props: Mapping[str, Any], name: str, default: int) -> int:
    value = _optional_int(props, name)
    return default if value is None else value


@dataclass(frozen=True)
class BootstrapProperties:
    """The custom resource's properties, validated."""

    config: OpenSearchConfig
    options: BootstrapOptions
    fgac: bool | None

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> BootstrapProperties:
        endpoint = _text(props, "Endpoint")
        if not endpoint:
            raise PropertyError("Endpoint", "the OpenSearch URL", props.get("Endpoint"))
        auth = (_text(props, "Auth", "sigv4") or "sigv4").lower()
        if auth not in AUTH_MODES:
            raise PropertyError("Auth", " | ".join(AUTH_MODES), props.get("Auth"))
        fgac_text = (_text(props, "FineGrainedAccessControl", "auto") or "auto").lower()
        if fgac_text not in _FGAC_VALUES:
            raise PropertyError("FineGrainedAccessControl", "auto | true | false", fgac_text)
        readers = props.get("ReaderBackendRoles") or []
        if isinstance(readers, str):
            readers = [r.strip() for r in readers.split(",") if r.strip()]
        if not isinstance(readers, list) or not all(isinstance(r, str) for r in readers):
            raise PropertyError("ReaderBackendRoles", "a list of backend roles", readers)
        serverless = auth == "aoss"
        try:
            config = OpenSearchConfig(
                endpoint=endpoint.rstrip("/"),
                auth=auth,  # type: ignore[arg-type]
                secret_arn=_text(props, "SecretArn"),
                region=_text(props, "Region"),
            )
            options = BootstrapOptions(
                index_prefix=_text(props, "IndexPrefix", DEFAULT_INDEX_PREFIX) or DEFAULT_INDEX_PREFIX,
                retention_days=_int(props, "RetentionDays", DEFAULT_RETENTION_DAYS),
                warm_after_days=_optional_int(props, "WarmAfterDays"),
                warm_mode=_warm_mode(_text(props, "WarmMode", "ultrawarm")),
                shards=None if serverless else _int(props, "Shards", 1),
                replicas=None if serverless else _int(props, "Replicas", 1),
                refresh_interval=None
                if serverless
                else _text(props, "RefreshInterval", DEFAULT_REFRESH_INTERVAL),
                parser_role_arn=_text(props, "ParserRoleArn"),
                reader_backend_roles=tuple(readers),
            )
        except PropertyError:
            raise
        except ValueError as exc:  # SettingsError (connection) or option validation
            raise ValueError(f"invalid resource properties: {exc}") from None
        return cls(config, options, _FGAC_VALUES[fgac_text])

    @property
    def auth(self) -> Auth:
        return self.config.auth

    @property
    def physical_id(self) -> str:
        """Stable for one endpoint and prefix: changing either replaces the resource (whose
        Delete is a no-op), anything else is an in-place update."""
        host = urlsplit(self.config.endpoint).netloc
        return f"{PHYSICAL_ID_PREFIX}{host}/{self.options.index_prefix}"


def _warm_mode(value: str | None) -> WarmMode:
    if value not in ("ultrawarm", "allocation"):
        raise PropertyError("WarmMode", "ultrawarm | allocation", value)
    return value  # type: ignore[return-value]


def make_client(config: OpenSearchConfig) -> Any:
    """The OpenSearch client (a seam for tests; imports opensearch-py on first use)."""
    from lambdalens.indexing.client import make_client as _make_client

    return _make_client(config)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Provider-framework ``onEvent``: bootstrap on Create/Update, nothing on Delete. The
    Dashboards import resource (``Custom::LambdaLensDashboards``) shares this function and is
    handled by :mod:`lambdalens.handlers.dashboards`."""
    if event.get("ResourceType") == DASHBOARDS_RESOURCE_TYPE:
        from lambdalens.handlers.dashboards import handler as dashboards_handler

        return dashboards_handler(event, context)
    request = str(event.get("RequestType", ""))
    if request == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        logger.info(
            "Delete of %s: OpenSearch left as it is (templates, ISM policy, roles, indices)", physical_id
        )
        return {"PhysicalResourceId": physical_id}
    if request not in ("Create", "Update"):
        raise ValueError(f"unknown RequestType {request!r} (expected Create, Update or Delete)")

    props = BootstrapProperties.parse(event.get("ResourceProperties") or {})
    endpoint = props.config.endpoint
    try:
        client = make_client(props.config)
        report = run_bootstrap(client, props.options, fgac=props.fgac, serverless=props.auth == "aoss")
    except BootstrapError as exc:
        _log_report(f"{request}: bootstrap of {endpoint} failed", exc.report)
        raise RuntimeError(f"lambdalens bootstrap of {endpoint} failed: {exc}") from None
    except ValueError as exc:  # make_client: no credentials / region, malformed secret
        raise RuntimeError(f"lambdalens bootstrap of {endpoint}: cannot create the client: {exc}") from None
    _log_report(f"{request}: bootstrap of {endpoint} done", report)
    return {"PhysicalResourceId": props.physical_id, "Data": _data(props.options, report)}


def _data(options: BootstrapOptions, report: BootstrapReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "IndexPattern": options.index_pattern,
        "IndexTemplate": options.index_template,
        "IsmPolicyId": options.ism_policy_id,
        "WriterRole": options.writer_role,
        "ReaderRole": options.reader_role,
        "Server": report.server,
        "Created": counts["created"],
        "Updated": counts["updated"],
        "Unchanged": counts["unchanged"],
        "Skipped": "; ".join(f"{s.kind.value} {s.name}: {s.detail}" for s in report.skipped()),
    }


def _log_report(message: str, report: BootstrapReport) -> None:
    logger.info("%s %s", message, json.dumps(report.as_dict(), sort_keys=True))
