"""Index set-up: make OpenSearch hold what :mod:`lambdalens.indexing.templates` describes.

:func:`bootstrap` is idempotent: each object is read first and written only when it is
missing or differs from what lambdalens wants (it compares what it sets; fields the server
adds are ignored), so a second run changes nothing and reports every step ``unchanged``.

* Templates: ``PUT _component_template`` / ``_index_template`` (they apply to indices created
  afterwards; existing daily indices keep their mapping).
* ISM (``_plugins/_ism``): the policy is created, or updated with ``if_seq_no`` /
  ``if_primary_term`` from the GET (a concurrent change answers 409 and the step starts over,
  up to three times), never deleted and recreated. Existing ``<prefix>-*`` indices without a
  policy get it (``_plugins/_ism/add``); after an update, those managed by it move to the new
  version (``_plugins/_ism/change_policy``) — ISM does not do that by itself.
* Security (``_plugins/_security/api``), where fine-grained access control is on: the writer
  and reader roles, and their role mappings merged with the backend roles already there.

An API the cluster does not have (OpenSearch without the ISM or security plugin, security
disabled on Amazon OpenSearch Service, OpenSearch Serverless, the local stand-in) is reported
``skipped`` with the reason. Anything else that fails raises :class:`BootstrapError`, which
carries the report of the steps done so far.

Example::

    from lambdalens.config import OpenSearchConfig
    from lambdalens.indexing.client import make_client

    client = make_client(OpenSearchConfig("https://search-logs-abc.eu-west-1.es.amazonaws.com"))
    report = bootstrap(client, retention_days=14, parser_role_arn="arn:aws:iam::123456789012:role/parser")
    print(report.render())
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.indexing.templates import (
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_RETENTION_DAYS,
    BootstrapOptions,
    JsonObject,
    WarmMode,
    index_template,
    ism_policy,
    mappings_component_template,
    merged_role_mapping,
    reader_role,
    settings_component_template,
    writer_role,
)

#: Oldest OpenSearch with the ``flat_object`` field type.
MIN_OPENSEARCH_VERSION: Final = (2, 7)
#: Attempts of a read-compare-write step that keeps meeting concurrent changes (HTTP 409).
CONFLICT_ATTEMPTS: Final = 3
#: Index names per ``_plugins/_ism`` request: keeps the URL well under 4 KB.
_NAMES_PER_REQUEST: Final = 40

_NOT_AVAILABLE_STATUSES: Final = frozenset({400, 403, 404, 405, 501})
_NOT_AVAILABLE_HINTS: Final = (
    "no handler found",
    "not allowed",
    "not supported",
    "unsupported",
    "unknown api",
)


class Action(StrEnum):
    """What a step did (in a dry run: what it would do)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class Kind(StrEnum):
    COMPONENT_TEMPLATE = "component template"
    INDEX_TEMPLATE = "index template"
    ISM_POLICY = "ISM policy"
    ISM_INDICES = "ISM on existing indices"
    SECURITY_ROLE = "security role"
    ROLE_MAPPING = "role mapping"


@dataclass(frozen=True)
class Step:
    kind: Kind
    name: str
    action: Action
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"kind": self.kind.value, "name": self.name, "action": self.action.value}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class BootstrapReport:
    """The steps of one run, in order, and the server they ran against."""

    server: str = "unknown"
    dry_run: bool = False
    steps: list[Step] = field(default_factory=list)

    def add(self, kind: Kind, name: str, action: Action, detail: str = "") -> Step:
        step = Step(kind, name, action, detail)
        self.steps.append(step)
        return step

    @property
    def changed(self) -> bool:
        """Whether the run created or updated anything (would have, in a dry run)."""
        return any(s.action in (Action.CREATED, Action.UPDATED) for s in self.steps)

    def counts(self) -> dict[str, int]:
        return {a.value: sum(1 for s in self.steps if s.action is a) for a in Action}

    def skipped(self) -> list[Step]:
        return [s for s in self.steps if s.action is Action.SKIPPED]

    def as_dict(self) -> JsonObject:
        return {
            "server": self.server,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "counts": self.counts(),
            "steps": [s.as_dict() for s in self.steps],
        }

    def render(self) -> str:
        """One line per step, then a summary line."""
        verbs = {Action.CREATED: "would create", Action.UPDATED: "would update"} if self.dry_run else {}
        width = max((len(s.kind.value) for s in self.steps), default=0)
        lines = []
        for s in self.steps:
            verb = verbs.get(s.action, s.action.value)
            line = f"  {verb:<12} {s.kind.value:<{width}}  {s.name}"
            lines.append(f"{line}  ({s.detail})" if s.detail else line)
        counts = ", ".join(f"{n} {verbs.get(Action(a), a)}" for a, n in self.counts().items() if n)
        if not self.changed:
            lines.append(f"nothing to change ({counts or 'no steps'})")
        else:
            lines.append(f"dry run, nothing written: {counts}" if self.dry_run else counts)
        return "\n".join(lines)


class BootstrapError(Exception):
    """A step failed; ``report`` holds the steps done before it, ``status`` the HTTP status."""

    def __init__(
        self, message: str, status: int | None = None, report: BootstrapReport | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.report = report if report is not None else BootstrapReport()


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status (0 when there was none) and decoded body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def reason_of(body: Any) -> str:
    """The human part of an OpenSearch / security plugin / AWS error body, on one line."""
    text: str
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            root = error.get("root_cause")
            first = root[0] if isinstance(root, list) and root and isinstance(root[0], Mapping) else error
            text = f"{first.get('type', 'error')}: {first.get('reason', '')}".strip()
        elif error is not None:
            text = str(error)
        else:
            message = body.get("message", body.get("Message"))
            text = str(message) if message is not None else str(dict(body))
    elif isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    else:
        text = str(body)
    return " ".join(text.split())[:300]


class Api:
    """Raw requests through the opensearch-py client's transport; HTTP errors are answers,
    not exceptions, and a connection failure is a :class:`BootstrapError`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Answer:
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import ConnectionTimeout, TransportError

        try:
            data = self.client.transport.perform_request(method, path, params=dict(params or {}), body=body)
        except ConnectionTimeout:
            raise BootstrapError(f"OpenSearch did not answer {method} {path} in time") from None
        except OSConnectionError as exc:  # refused, DNS, TLS
            cause = exc.info if isinstance(exc.info, Exception) else exc
            raise BootstrapError(f"cannot connect to OpenSearch: {_one_line(cause)}") from None
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 0
            return Answer(status, exc.info if exc.info is not None else exc.error)
        return Answer(200, data)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    # urllib3 wraps the useful part ("Connection refused") in pool and object reprs
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip()
    return " ".join(text.split())[:300]


def fail(what: str, answer: Answer) -> BootstrapError:
    """The error for an unexpected answer, worded for the status."""
    reason = reason_of(answer.body)
    if answer.status == 401:
        return BootstrapError(f"authentication failed (HTTP 401) on {what}: {reason}", 401)
    if answer.status == 403:
        return BootstrapError(f"not authorized (HTTP 403) to {what}: {reason}", 403)
    return BootstrapError(f"{what} failed (HTTP {answer.status}): {reason}", answer.status)


def _policy_missing(answer: Answer) -> bool:
    """ISM's own 404: "Policy not found", or no ISM config index yet (no policy ever)."""
    reason = reason_of(answer.body).lower()
    return "policy not found" in reason or "index_not_found" in reason


def _not_available(answer: Answer) -> bool:
    """The cluster has no handler for this API (plugin absent, disabled, or not offered)."""
    if answer.status not in _NOT_AVAILABLE_STATUSES:
        return False
    reason = reason_of(answer.body).lower()
    if answer.status == 403:
        # a plugin denying us is there; an edge refusing the path is "not allowed"
        return "security_exception" not in reason and any(h in reason for h in _NOT_AVAILABLE_HINTS)
    return any(h in reason for h in _NOT_AVAILABLE_HINTS)


# -- comparison -------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def covers(actual: Any, wanted: Any) -> bool:
    """Whether ``actual`` (read back from OpenSearch) holds everything ``wanted`` sets.

    Keys ``actual`` has beyond ``wanted`` (server defaults, timestamps) are ignored; lists
    must have the same length and cover element by element; scalars compare as strings
    (settings come back as strings, ``true`` may come back as ``"true"``).
    """
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and covers(actual[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(covers(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return actual is not None and _scalar(actual) == _scalar(wanted)


def flatten_settings(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"index": {"mapping": {"total_fields": {"limit": 2000}}}}`` and ``{"number_of_shards":
    1}`` -> ``{"index.mapping.total_fields.limit": "2000", "index.number_of_shards": "1"}``."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_settings(value, f"{name}."))
            continue
        if not name.startswith("index."):
            name = f"index.{name}"
        out[name] = [_scalar(v) for v in value] if isinstance(value, list) else _scalar(value)
    return out


def _template_covers(actual: Any, wanted: JsonObject) -> bool:
    """Component / index template comparison with settings in their normalised flat form."""
    if not isinstance(actual, Mapping):
        return False

    def normalised(body: Mapping[str, Any]) -> JsonObject:
        out = dict(body)
        template = out.get("template")
        if isinstance(template, Mapping) and isinstance(template.get("settings"), Mapping):
            out["template"] = {**template, "settings": flatten_settings(template["settings"])}
        return out

    return covers(normalised(actual), normalised(wanted))


# -- steps ------------------------------------------------------------------------------------


@dataclass
class _Run:
    api: Api
    options: BootstrapOptions
    report: BootstrapReport
    dry_run: bool

    def put_template(self, kind: Kind, name: str, body: JsonObject) -> None:
        base = "/_component_template" if kind is Kind.COMPONENT_TEMPLATE else "/_index_template"
        list_key, item_key = (
            ("component_templates", "component_template")
            if kind is Kind.COMPONENT_TEMPLATE
            else ("index_templates", "index_template")
        )
        got = self.api("GET", f"{base}/{name}")
        current: Any = None
        if got.ok:
            for entry in got.body.get(list_key, []) if isinstance(got.body, Mapping) else []:
                if isinstance(entry, Mapping) and entry.get("name") == name:
                    current = entry.get(item_key)
        elif got.status != 404:
            raise fail(f"read {kind.value} {name}", got)
        if current is not None and _template_covers(current, body):
            self.report.add(kind, name, Action.UNCHANGED)
            return
        if not self.dry_run:
            put = self.api("PUT", f"{base}/{name}", body)
            if not put.ok:
                raise fail(f"write {kind.value} {name}", put)
        self.report.add(kind, name, Action.CREATED if current is None else Action.UPDATED)

    # ISM

    def ism(self, skip_reason: str | None) -> None:
        name = self.options.ism_policy_id
        if skip_reason:
            self.report.add(Kind.ISM_POLICY, name, Action.SKIPPED, skip_reason)
            return
        wanted = ism_policy(self.options)
        path = f"/_plugins/_ism/policies/{name}"
        for _attempt in range(CONFLICT_ATTEMPTS):
            got = self.api("GET", path)
            if got.ok and isinstance(got.body, Mapping) and isinstance(got.body.get("policy"), Mapping):
                if covers(got.body["policy"], wanted["policy"]):
                    self.report.add(Kind.ISM_POLICY, name, Action.UNCHANGED)
                    self.ism_on_existing_indices(updated=False)
                    return
                params = {"if_seq_no": got.body["_seq_no"], "if_primary_term": got.body["_primary_term"]}
                action = Action.UPDATED
            elif got.status == 404 and _policy_missing(got):
                params = {}
                action = Action.CREATED
            elif got.status == 404 or _not_available(got):
                self.report.add(
                    Kind.ISM_POLICY, name, Action.SKIPPED, f"ISM not available: {reason_of(got.body)}"
                )
                return
            else:
                raise fail(f"read ISM policy {name}", got)
            if self.dry_run:
                self.report.add(Kind.ISM_POLICY, name, action, _retention_detail(self.options))
                self.ism_on_existing_indices(updated=action is Action.UPDATED)
                return
            put = self.api("PUT", path, wanted, params)
            if put.status == 409:  # changed (or created) by someone else since the GET
                continue
            if not put.ok:
                raise fail(f"write ISM policy {name}", put)
            self.report.add(Kind.ISM_POLICY, name, action, _retention_detail(self.options))
            self.ism_on_existing_indices(updated=action is Action.UPDATED)
            return
        raise BootstrapError(
            f"ISM policy {name} kept changing under us ({CONFLICT_ATTEMPTS} conflicts); run again", 409
        )

    def ism_on_existing_indices(self, *, updated: bool) -> None:
        """Attach the policy to existing unmanaged indices; after an update, move the indices
        it manages to the new version."""
        name = self.options.ism_policy_id
        pattern = self.options.index_pattern
        got = self.api("GET", f"/_plugins/_ism/explain/{pattern}")
        if got.status == 404 or (got.ok and not isinstance(got.body, Mapping)):
            return
        if not got.ok:
            raise fail(f"read the ISM state of {pattern}", got)
        unmanaged: list[str] = []
        ours: list[str] = []
        for index, info in got.body.items():
            if not isinstance(info, Mapping):
                continue  # "total_managed_indices"
            policy = info.get("index.plugins.index_state_management.policy_id") or info.get("policy_id")
            if not policy:
                unmanaged.append(index)
            elif policy == name:
                ours.append(index)
        if not unmanaged and not (updated and ours):
            return
        details = []
        if unmanaged:
            details.append(f"attached to {self._ism_post('add', sorted(unmanaged))} unmanaged indices")
        if updated and ours:
            details.append(
                f"{self._ism_post('change_policy', sorted(ours))} indices moved to the new version"
            )
        self.report.add(Kind.ISM_INDICES, pattern, Action.UPDATED, "; ".join(details))

    def _ism_post(self, api: str, indices: Sequence[str]) -> int:
        """``POST _plugins/_ism/<api>/<indices>``; returns how many indices it updated."""
        if self.dry_run:
            return len(indices)
        updated = 0
        for start in range(0, len(indices), _NAMES_PER_REQUEST):
            names = ",".join(indices[start : start + _NAMES_PER_REQUEST])
            answer = self.api(
                "POST", f"/_plugins/_ism/{api}/{names}", {"policy_id": self.options.ism_policy_id}
            )
            if not answer.ok:
                raise fail(f"apply ISM policy {self.options.ism_policy_id} ({api})", answer)
            updated += int(answer.body.get("updated_indices", 0)) if isinstance(answer.body, Mapping) else 0
        return updated

    # security

    def security(self, fgac: bool | None, skip_reason: str | None) -> None:
        names = [self.options.writer_role, self.options.reader_role]
        if skip_reason is None and fgac is False:
            skip_reason = "fine-grained access control off (by option)"
        if skip_reason is None:
            probe = self.api("GET", "/_plugins/_security/api/account")
            if probe.status == 401:
                raise fail("read the security account", probe)
            available = probe.ok or (probe.status == 403 and "security_exception" in reason_of(probe.body))
            if not available:
                if probe.status == 403 and not _not_available(probe):
                    raise fail("read the security account", probe)
                reason = f"security plugin not available: {reason_of(probe.body)}"
                if fgac:
                    raise BootstrapError(f"fine-grained access control requested, but {reason}", probe.status)
                skip_reason = reason
        if skip_reason is not None:
            self.report.add(Kind.SECURITY_ROLE, ", ".join(names), Action.SKIPPED, skip_reason)
            return
        self.put_role(self.options.writer_role, writer_role(self.options))
        self.put_role(self.options.reader_role, reader_role(self.options))
        if self.options.parser_role_arn:
            self.map_role(self.options.writer_role, [self.options.parser_role_arn])
        else:
            self.report.add(
                Kind.ROLE_MAPPING,
                self.options.writer_role,
                Action.SKIPPED,
                "no parser role ARN given (--role-arn)",
            )
        if self.options.reader_backend_roles:
            self.map_role(self.options.reader_role, self.options.reader_backend_roles)

    def _security_get(self, what: str, path: str, name: str) -> Mapping[str, Any] | None:
        got = self.api("GET", path)
        if got.status == 404:
            return None
        if not got.ok:
            raise fail(f"read {what} {name}", got)
        current = got.body.get(name) if isinstance(got.body, Mapping) else None
        return current if isinstance(current, Mapping) else None

    def _security_put(self, what: str, path: str, name: str, body: JsonObject) -> None:
        if self.dry_run:
            return
        put = self.api("PUT", path, body)
        if not put.ok:
            raise fail(f"write {what} {name}", put)

    def put_role(self, name: str, wanted: JsonObject) -> None:
        path = f"/_plugins/_security/api/roles/{name}"
        current = self._security_get("security role", path, name)
        if current is not None and covers(current, wanted):
            self.report.add(Kind.SECURITY_ROLE, name, Action.UNCHANGED)
            return
        if current is not None and (current.get("reserved") or current.get("static")):
            raise BootstrapError(
                f"security role {name} exists as a reserved role; lambdalens cannot update it"
            )
        self._security_put("security role", path, name, wanted)
        self.report.add(Kind.SECURITY_ROLE, name, Action.CREATED if current is None else Action.UPDATED)

    def map_role(self, role: str, backend_roles: Sequence[str]) -> None:
        path = f"/_plugins/_security/api/rolesmapping/{role}"
        current = self._security_get("role mapping", path, role)
        have = list((current or {}).get("backend_roles") or [])
        missing = [r for r in backend_roles if r not in have]
        if current is not None and not missing:
            self.report.add(Kind.ROLE_MAPPING, role, Action.UNCHANGED, f"backend roles: {', '.join(have)}")
            return
        self._security_put("role mapping", path, role, merged_role_mapping(current, backend_roles))
        kept = f"; kept {len(have)} existing" if have else ""
        self.report.add(
            Kind.ROLE_MAPPING,
            role,
            Action.CREATED if current is None else Action.UPDATED,
            f"added backend roles: {', '.join(missing)}{kept}",
        )


def _retention_detail(options: BootstrapOptions) -> str:
    if options.warm_after_days is None:
        return f"delete after {options.retention_days}d"
    return (
        f"warm ({options.warm_mode}) after {options.warm_after_days}d, delete after {options.retention_days}d"
    )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def probe_server(api: Api) -> str:
    """``GET /``: the distribution and version, also the connection and credentials check.

    Raises :class:`BootstrapError` for Elasticsearch or an OpenSearch without ``flat_object``;
    a server that does not answer ``GET /`` (OpenSearch Serverless) is ``unknown``.
    """
    got = api("GET", "/")
    if got.status in (401, 403):
        raise fail("connect", got)
    if not got.ok or not isinstance(got.body, Mapping) or not isinstance(got.body.get("version"), Mapping):
        return "unknown"
    version = got.body["version"]
    number = str(version.get("number", "?"))
    distribution = str(version.get("distribution", "elasticsearch"))
    if distribution != "opensearch":
        raise BootstrapError(
            f"lambdalens needs OpenSearch {'.'.join(map(str, MIN_OPENSEARCH_VERSION))} or newer; "
            f"the server is {distribution} {number}"
        )
    if _version(number) < MIN_OPENSEARCH_VERSION:
        raise BootstrapError(
            f"lambdalens needs OpenSearch {'.'.join(map(str, MIN_OPENSEARCH_VERSION))} or newer "
            f"(the flat_object field type); the server is OpenSearch {number}"
        )
    return f"OpenSearch {number}"


SERVERLESS_ISM_REASON: Final = (
    "OpenSearch Serverless: retention is a collection data lifecycle policy (AWS API)"
)
SERVERLESS_SECURITY_REASON: Final = (
    "OpenSearch Serverless: access is a collection data access policy (AWS API)"
)


def bootstrap(
    client: Any,
    *,
    index_prefix: str = DEFAULT_INDEX_PREFIX,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    warm_after_days: int | None = None,
    warm_mode: WarmMode = "allocation",
    shards: int | None = 1,
    replicas: int | None = 1,
    refresh_interval: str | None = DEFAULT_REFRESH_INTERVAL,
    parser_role_arn: str | None = None,
    reader_backend_roles: Sequence[str] = (),
    fgac: bool | None = None,
    serverless: bool = False,
    dry_run: bool = False,
) -> BootstrapReport:
    """Create or update the templates, ISM policy and security roles for ``<index_prefix>-*``.

    Parameters are those of :class:`~lambdalens.indexing.templates.BootstrapOptions`, plus:

    * ``fgac`` — fine-grained access control: ``None`` detects it (security API answers),
      ``True`` requires it (error if absent), ``False`` skips the security steps;
    * ``serverless`` — OpenSearch Serverless (``aoss``): no shard/replica/refresh settings,
      ISM and security skipped (they are AWS API policies there);
    * ``dry_run`` — read everything, write nothing; the report says what would change.

    Raises :class:`ValueError` for invalid options and :class:`BootstrapError` when OpenSearch
    cannot be reached, refuses the credentials, or a step fails.
    """
    options = BootstrapOptions(
        index_prefix=index_prefix,
        retention_days=retention_days,
        warm_after_days=warm_after_days,
        warm_mode=warm_mode,
        shards=None if serverless else shards,
        replicas=None if serverless else replicas,
        refresh_interval=None if serverless else refresh_interval,
        parser_role_arn=parser_role_arn or None,
        reader_backend_roles=tuple(reader_backend_roles),
    )
    return run_bootstrap(client, options, fgac=fgac, serverless=serverless, dry_run=dry_run)


def run_bootstrap(
    client: Any,
    options: BootstrapOptions,
    *,
    fgac: bool | None = None,
    serverless: bool = False,
    dry_run: bool = False,
) -> BootstrapReport:
    """:func:`bootstrap` with its options already built."""
    api = Api(client)
    report = BootstrapReport(dry_run=dry_run)
    run = _Run(api, options, report, dry_run)
    steps: list[Callable[[], None]] = [
        lambda: run.put_template(
            Kind.COMPONENT_TEMPLATE, options.settings_component, settings_component_template(options)
        ),
        lambda: run.put_template(
            Kind.COMPONENT_TEMPLATE, options.mappings_component, mappings_component_template(options)
        ),
        lambda: run.put_template(Kind.INDEX_TEMPLATE, options.index_template, index_template(options)),
        lambda: run.ism(SERVERLESS_ISM_REASON if serverless else None),
        lambda: run.security(fgac, SERVERLESS_SECURITY_REASON if serverless else None),
    ]
    try:
        report.server = probe_server(api)
        for step in steps:
            step()
    except BootstrapError as exc:
        exc.report = report
        raise
    return report
