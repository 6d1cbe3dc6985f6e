"""Import an export file through Dashboards' saved-objects API, and read what it answered.

``POST <dashboards>/api/saved_objects/_import[?overwrite=true]`` with the ``osd-xsrf`` header
and the file as the multipart field ``file`` (a ``.ndjson`` file name), optionally
``securitytenant: global|private`` (multi-tenancy). On Amazon OpenSearch Service the
Dashboards URL is ``https://<domain endpoint>/_dashboards`` and requests are signed for service
``es`` (or use the master user with basic auth). Authentication is the CLI's and the
bootstrap's: :func:`lambdalens.indexing.client.make_client` for the Dashboards URL.

Dashboards answers 200 even when objects fail: ``success: false`` and per-object ``errors``
(``conflict`` for an existing id without ``overwrite``, ``missing_references``,
``unsupported_type``, ``unknown``). While an object has a conflict or a missing reference,
Dashboards writes **none** of the objects (the others are listed as successes it would
create); :class:`ImportReport` says so. Ids are stable, so importing again with ``overwrite``
updates the same objects and never duplicates them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from lambdalens.config import OpenSearchConfig

IMPORT_PATH: Final = "/api/saved_objects/_import"
XSRF_HEADER: Final = "osd-xsrf"
TENANT_HEADER: Final = "securitytenant"
FILE_NAME: Final = "lambdalens-dashboards.ndjson"
#: Errors Dashboards resolves interactively: while one is there, it writes nothing.
BLOCKING_ERRORS: Final = frozenset({"conflict", "ambiguous_conflict", "missing_references"})


class ImportFailed(Exception):
    """The import request failed as a whole (no per-object answer); ``status`` is the HTTP
    status, 0 when there was no answer."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def dashboards_base(url: str) -> str:
    """The Dashboards URL for ``url``: an Amazon OpenSearch Service domain endpoint without a
    path gets ``/_dashboards`` (where its Dashboards lives); any other URL is kept."""
    parts = urlsplit(url.rstrip("/"))
    host = parts.hostname or ""
    if parts.path in ("", "/") and host.endswith((".es.amazonaws.com", ".es.amazonaws.com.cn")):
        return f"{url.rstrip('/')}/_dashboards"
    return url.rstrip("/")


def multipart(data: bytes, filename: str = FILE_NAME) -> tuple[bytes, str]:
    """``data`` as a ``multipart/form-data`` body with one file field ``file``; the body and its
    content type (with the boundary)."""
    boundary = f"lambdalens-{uuid.uuid4().hex}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class ObjectOutcome:
    """What became of one object: ``created``, ``overwritten``, ``not written`` (another
    object's conflict stopped the import) or ``failed`` (``error`` says why)."""

    type: str
    id: str
    title: str
    action: str
    error: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"type": self.type, "id": self.id, "title": self.title, "action": self.action}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class ImportReport:
    """Dashboards' answer, object by object (in the file's order)."""

    success: bool
    outcomes: list[ObjectOutcome] = field(default_factory=list)
    tenant: str | None = None

    @property
    def written(self) -> bool:
        return any(o.action in ("created", "overwritten") for o in self.outcomes)

    def failed(self) -> list[ObjectOutcome]:
        return [o for o in self.outcomes if o.action == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.action] = out.get(o.action, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "tenant": self.tenant,
            "counts": self.counts(),
            "objects": [o.as_dict() for o in self.outcomes],
        }

    def summary(self) -> str:
        counts = ", ".join(f"{n} {action}" for action, n in self.counts().items()) or "nothing"
        if self.success:
            return f"imported: {counts}"
        if any("--overwrite" in o.error for o in self.failed()) and not self.written:
            return (
                f"nothing written: {counts} (objects exist already: import with --overwrite to update them)"
            )
        return f"import failed: {counts}"

    def render(self) -> str:
        width = max((len(o.type) for o in self.outcomes), default=0)
        lines = [
            f"  {o.action:<12} {o.type:<{width}}  {o.id}  {o.title}" + (f"  ({o.error})" if o.error else "")
            for o in self.outcomes
        ]
        return "\n".join([*lines, self.summary()])


def describe_error(error: Mapping[str, Any]) -> str:
    """One line for a per-object error of Dashboards' import answer."""
    kind = str(error.get("type", "unknown"))
    if kind == "conflict":
        return "exists already: import with --overwrite to update it"
    if kind == "ambiguous_conflict":
        return "matches several existing objects: delete the copies in Saved objects and import again"
    if kind == "missing_references":
        refs = ", ".join(f"{r.get('type')} {r.get('id')}" for r in error.get("references") or [])
        return f"references objects that are neither in the file nor in Dashboards: {refs}"
    if kind == "unsupported_type":
        return "this Dashboards has no such saved-object type"
    status = error.get("statusCode")
    message = " ".join(str(error.get("message") or kind).split())[:300]
    return f"{message} (HTTP {status})" if status else message


def read_answer(answer: Mapping[str, Any], objects: Sequence[Mapping[str, Any]]) -> ImportReport:
    """An :class:`ImportReport` from Dashboards' 200 answer, for the ``objects`` sent."""
    successes = {(str(r.get("type")), str(r.get("id"))): r for r in answer.get("successResults") or []}
    errors = {(str(e.get("type")), str(e.get("id"))): e for e in answer.get("errors") or []}
    blocked = any(str((e.get("error") or {}).get("type")) in BLOCKING_ERRORS for e in errors.values())
    outcomes: list[ObjectOutcome] = []
    for obj in objects:
        key = (str(obj.get("type")), str(obj.get("id")))
        title = str((obj.get("attributes") or {}).get("title") or "")
        if key in errors:
            outcomes.append(
                ObjectOutcome(*key, title, "failed", describe_error(errors[key].get("error") or {}))
            )
        elif key in successes and blocked:
            outcomes.append(
                ObjectOutcome(*key, title, "not written", "another object's error stopped the import")
            )
        elif key in successes:
            outcomes.append(
                ObjectOutcome(*key, title, "overwritten" if successes[key].get("overwrite") else "created")
            )
        else:
            outcomes.append(ObjectOutcome(*key, title, "failed", "Dashboards did not answer for it"))
    return ImportReport(success=bool(answer.get("success")) and not blocked, outcomes=outcomes)


def _reason(info: Any) -> str:
    if isinstance(info, Mapping):
        message = info.get("message") or info.get("error") or info
        return " ".join(str(message).split())[:300]
    if isinstance(info, bytes):
        return " ".join(info.decode("utf-8", "replace").split())[:300]
    return " ".join(str(info).split())[:300]


def _failure(status: int, info: Any, url: str) -> ImportFailed:
    reason = _reason(info)
    if status in (401, 403):
        return ImportFailed(f"Dashboards at {url} refused the credentials (HTTP {status}): {reason}", status)
    if status == 404:
        return ImportFailed(
            f"no saved-objects import API at {url}{IMPORT_PATH} (HTTP 404): is it the Dashboards URL? {reason}",
            status,
        )
    return ImportFailed(f"import into {url} failed (HTTP {status}): {reason}", status)


def post_import(
    client: Any, url: str, data: bytes, *, overwrite: bool, tenant: str | None
) -> Mapping[str, Any]:
    """Send the request through an opensearch-py ``client`` made for the Dashboards ``url``."""
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    body, content_type = multipart(data)
    headers = {XSRF_HEADER: "true", "content-type": content_type}
    if tenant:
        headers[TENANT_HEADER] = tenant
    params = {"overwrite": "true"} if overwrite else {}
    try:
        answer = client.transport.perform_request(
            "POST", IMPORT_PATH, params=params, body=body, headers=headers
        )
    except OSConnectionError as exc:
        raise ImportFailed(f"cannot connect to Dashboards at {url}: {_reason(exc.info or exc)}") from None
    except TransportError as exc:
        status = exc.status_code if isinstance(exc.status_code, int) else 0
        raise _failure(status, exc.info if exc.info is not None else exc.error, url) from None
    if not isinstance(answer, Mapping) or "success" not in answer:
        raise ImportFailed(
            f"Dashboards at {url} answered something else than an import result: {_reason(answer)}"
        )
    return answer


def import_objects(
    config: OpenSearchConfig,
    data: bytes,
    *,
    overwrite: bool = False,
    tenant: str | None = None,
    client: Any = None,
) -> ImportReport:
    """Import the export file ``data`` into the Dashboards at ``config.endpoint``.

    Raises :class:`ImportFailed` when the request fails as a whole (unreachable, credentials,
    not a Dashboards, a file it cannot read); per-object failures are in the report.
    """
    from lambdalens.dashboards.saved_objects import from_ndjson
    from lambdalens.indexing.client import make_client

    objects = from_ndjson(data)
    if client is None:
        client = make_client(config)
    answer = post_import(client, config.endpoint, data, overwrite=overwrite, tenant=tenant)
    report = read_answer(answer, objects)
    report.tenant = tenant
    return report
