"""A recording HTTP stub of the OpenSearch APIs the real local node lacks (ISM, security: the
node comes from Maven Central, where the ISM plugin is not published).

It serves, on 127.0.0.1, what ``lambdalens bootstrap`` calls, the way OpenSearch 2.x answers:

* ``GET /`` (cluster info), ``_component_template`` / ``_index_template`` GET and PUT —
  settings read back in OpenSearch's normalised form (under ``index``, values as strings);
* ``_plugins/_ism/policies/<id>``: 404 "Policy not found"; GET with ``_seq_no`` /
  ``_primary_term`` and the fields ISM adds (``policy_id``, ``last_updated_time``,
  ``schema_version``, per-action ``retry``, …); PUT creates (409 if it exists and no
  ``if_seq_no`` is given) or updates (409 on a stale ``if_seq_no`` / ``if_primary_term``);
  ``explain``, ``add`` and ``change_policy`` over the indices in :attr:`indices`;
* ``_plugins/_security/api``: ``account``, ``roles/<name>``, ``rolesmapping/<name>`` — GET
  answers 404 ``NOT_FOUND`` or the object with the keys the plugin adds, PUT rejects keys the
  plugin does not accept (400), like ``reserved`` sent back.

A cluster without the plugins is the real node itself (tests/indexing/test_bootstrap.py);
:attr:`answer_all` and :attr:`overrides` force answers (401, 403, …). Every request is
recorded in :attr:`requests`.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ISM_RETRY_DEFAULT = {"count": 3, "backoff": "exponential", "delay": "1m"}
ROLE_KEYS = {"description", "cluster_permissions", "index_permissions", "tenant_permissions"}
ROLE_MAPPING_KEYS = {"description", "backend_roles", "and_backend_roles", "hosts", "users"}
ALREADY_MANAGED = "This index already has a policy, use the update policy API to update index policies"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Policy:
    body: dict[str, Any]  # the "policy" object as PUT
    seq_no: int
    primary_term: int = 1
    version: int = 1


@dataclass
class OpenSearchStub:
    """Start with :meth:`start` (or ``with OpenSearchStub() as stub``); ``url`` then serves."""

    version: str = "2.17.0"
    distribution: str = "opensearch"
    #: answer every request with this (status, body), e.g. ``(401, ...)``
    answer_all: tuple[int, Any] | None = None
    #: (method, path regex, status, body): answer matching requests with this instead
    overrides: list[tuple[str, str, int, Any]] = field(default_factory=list)
    #: the next N conditional policy PUTs meet a concurrent change: seq_no moves, 409
    concurrent_policy_changes: int = 0
    requests: list[Recorded] = field(default_factory=list)
    component_templates: dict[str, Any] = field(default_factory=dict)
    index_templates: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    #: index name -> ISM policy id managing it (None: unmanaged)
    indices: dict[str, str | None] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles_mapping: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    _seq_no: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> OpenSearchStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, delayed ACKs cost 40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                body = json.loads(raw) if raw.strip() else None
                with stub._lock:
                    status, answer = stub.handle(
                        self.command, unquote(parts.path), dict(parse_qsl(parts.query)), body
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenSearchStub:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the tests read ----------------------------------------------------------------

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def lines(self) -> list[str]:
        return [r.line for r in self.requests]

    def clear(self) -> None:
        self.requests.clear()

    def add_policy(self, policy_id: str, policy: dict[str, Any]) -> Policy:
        self._seq_no += 1
        self.policies[policy_id] = Policy(copy.deepcopy(policy), self._seq_no)
        return self.policies[policy_id]

    # -- routing ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        self.requests.append(Recorded(method, path, params, copy.deepcopy(body)))
        if self.answer_all is not None:
            return self.answer_all
        for want_method, pattern, status, answer in self.overrides:
            if method == want_method and re.fullmatch(pattern, path):
                return status, answer
        for pattern, route in self._routes():
            match = re.fullmatch(pattern, path)
            if match:
                result = route(method, params, body, *match.groups())
                if result is not None:
                    return result
        return no_handler(method, path)

    def _routes(self) -> Iterator[tuple[str, Any]]:
        yield r"/", self._info
        yield r"/_component_template/([^/]+)", self._component_template
        yield r"/_index_template/([^/]+)", self._index_template
        yield r"/_plugins/_ism/policies/([^/]+)", self._policy
        yield r"/_plugins/_ism/explain/([^/]+)", self._explain
        yield r"/_plugins/_ism/(add|change_policy)/([^/]+)", self._ism_apply
        yield r"/_plugins/_security/api/account", self._account
        yield r"/_plugins/_security/api/roles/([^/]+)", self._role
        yield r"/_plugins/_security/api/rolesmapping/([^/]+)", self._role_mapping

    def _info(self, method: str, params: dict[str, str], body: Any) -> tuple[int, Any] | None:
        if method != "GET":
            return None
        version = {"distribution": self.distribution, "number": self.version}
        if self.distribution != "opensearch":
            version.pop("distribution")
        return 200, {"cluster_name": "stub", "version": version, "tagline": "The OpenSearch Project"}

    # templates

    def _component_template(self, method: str, params: dict[str, str], body: Any, name: str) -> Any:
        return self._template(method, body, name, self.component_templates, "component")

    def _index_template(self, method: str, params: dict[str, str], body: Any, name: str) -> Any:
        return self._template(method, body, name, self.index_templates, "index")

    def _template(self, method: str, body: Any, name: str, store: dict[str, Any], kind: str) -> Any:
        if method == "PUT":
            store[name] = copy.deepcopy(body)
            return 200, {"acknowledged": True}
        if method != "GET":
            return None
        if name not in store:
            reason = f"{kind} template matching [{name}] not found"
            return 404, error("resource_not_found_exception", reason, 404)
        stored = copy.deepcopy(store[name])
        template = stored.get("template") or {}
        if "settings" in template:
            template["settings"] = normalised_settings(template["settings"])
        return 200, {f"{kind}_templates": [{"name": name, f"{kind}_template": stored}]}

    # ISM

    def _policy(self, method: str, params: dict[str, str], body: Any, policy_id: str) -> Any:
        current = self.policies.get(policy_id)
        if method == "GET":
            if current is None:
                return 404, error("status_exception", "Policy not found", 404)
            return 200, {
                "_id": policy_id,
                "_version": current.version,
                "_seq_no": current.seq_no,
                "_primary_term": current.primary_term,
                "policy": ism_server_form(policy_id, current.body),
            }
        if method != "PUT":
            return None
        if not isinstance(body, dict) or set(body) != {"policy"}:
            return 400, error("illegal_argument_exception", "expected one 'policy' object", 400)
        conditional = "if_seq_no" in params or "if_primary_term" in params
        if conditional and current is not None and self.concurrent_policy_changes > 0:
            self.concurrent_policy_changes -= 1
            self._seq_no += 1
            current.seq_no = self._seq_no
            current.version += 1
        if current is None and conditional:
            return 409, conflict(policy_id, "no document was found")
        if current is not None and not conditional:
            return 409, conflict(policy_id, f"document already exists (current version [{current.version}])")
        if current is not None and (
            params.get("if_seq_no") != str(current.seq_no)
            or params.get("if_primary_term") != str(current.primary_term)
        ):
            return 409, conflict(
                policy_id,
                f"required seqNo [{params.get('if_seq_no')}], primary term [{params.get('if_primary_term')}]. "
                f"current document has seqNo [{current.seq_no}] and primary term [{current.primary_term}]",
            )
        self._seq_no += 1
        if current is None:
            self.policies[policy_id] = current = Policy(copy.deepcopy(body["policy"]), self._seq_no)
            status = 201
        else:
            current.body = copy.deepcopy(body["policy"])
            current.seq_no = self._seq_no
            current.version += 1
            status = 200
        return status, {
            "_id": policy_id,
            "_version": current.version,
            "_primary_term": current.primary_term,
            "_seq_no": current.seq_no,
            "policy": {"policy": ism_server_form(policy_id, current.body)},
        }

    def _matching(self, target: str) -> list[str]:
        return [i for i in self.indices if any(fnmatch.fnmatchcase(i, p) for p in target.split(","))]

    def _explain(self, method: str, params: dict[str, str], body: Any, target: str) -> Any:
        if method != "GET":
            return None
        out: dict[str, Any] = {}
        for index in self._matching(target):
            policy = self.indices[index]
            info: dict[str, Any] = {
                "index.plugins.index_state_management.policy_id": policy,
                "index.opendistro.index_state_management.policy_id": policy,
            }
            if policy:
                info.update({"index": index, "policy_id": policy, "enabled": True})
            else:
                info["enabled"] = None
            out[index] = info
        out["total_managed_indices"] = sum(
            1 for i in out.values() if isinstance(i, dict) and i.get("policy_id")
        )
        return 200, out

    def _ism_apply(self, method: str, params: dict[str, str], body: Any, api: str, target: str) -> Any:
        if method != "POST":
            return None
        policy_id = (body or {}).get("policy_id")
        if policy_id not in self.policies:
            return 404, error("status_exception", f"Could not find policy={policy_id}", 404)
        updated, failed = 0, []
        for index in self._matching(target):
            if api == "add":
                if self.indices[index]:
                    failed.append({"index_name": index, "index_uuid": "x", "reason": ALREADY_MANAGED})
                    continue
                self.indices[index] = policy_id
                updated += 1
            elif self.indices[index]:
                self.indices[index] = policy_id
                updated += 1
        return 200, {"updated_indices": updated, "failures": bool(failed), "failed_indices": failed}

    # security

    def _account(self, method: str, params: dict[str, str], body: Any) -> Any:
        if method != "GET":
            return None
        return 200, {"user_name": "admin", "backend_roles": [], "roles": ["all_access"], "is_reserved": True}

    def _role(self, method: str, params: dict[str, str], body: Any, name: str) -> Any:
        return self._security_object(method, body, name, self.roles, ROLE_KEYS, role_server_form)

    def _role_mapping(self, method: str, params: dict[str, str], body: Any, name: str) -> Any:
        return self._security_object(
            method, body, name, self.roles_mapping, ROLE_MAPPING_KEYS, mapping_server_form
        )

    def _security_object(
        self, method: str, body: Any, name: str, store: dict[str, Any], allowed: set[str], server_form: Any
    ) -> Any:
        if method == "GET":
            if name not in store:
                return 404, {"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}
            return 200, {name: server_form(store[name])}
        if method != "PUT":
            return None
        invalid = sorted(set(body or {}) - allowed)
        if invalid:
            return 400, {
                "status": "error",
                "reason": "Invalid configuration",
                "invalid_keys": {"keys": ",".join(invalid)},
            }
        existed = name in store
        store[name] = copy.deepcopy(body)
        if existed:
            return 200, {"status": "OK", "message": f"'{name}' updated."}
        return 201, {"status": "CREATED", "message": f"'{name}' created."}


def error(kind: str, reason: str, status: int) -> dict[str, Any]:
    return {
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
        "status": status,
    }


def conflict(policy_id: str, what: str) -> dict[str, Any]:
    return error("version_conflict_engine_exception", f"[{policy_id}]: version conflict, {what}", 409)


def no_handler(method: str, path: str) -> tuple[int, Any]:
    return 400, {"error": f"no handler found for uri [{path}] and method [{method}]"}


def normalised_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """How OpenSearch returns template settings: under ``index``, every value a string."""
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = (
                    [str(v) for v in value]
                    if isinstance(value, list)
                    else (str(value).lower() if isinstance(value, bool) else str(value))
                )

    walk(settings, "")
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = (key if key.startswith("index.") else f"index.{key}").split(".")
        level = nested
        for part in parts[:-1]:
            level = level.setdefault(part, {})
        level[parts[-1]] = value
    return nested


def ism_server_form(policy_id: str, policy: dict[str, Any]) -> dict[str, Any]:
    """A policy as ISM's GET returns it: ids, timestamps and defaults added."""
    out = copy.deepcopy(policy)
    out.update(
        {
            "policy_id": policy_id,
            "last_updated_time": 1_716_222_584_833,
            "schema_version": 21,
            "error_notification": out.get("error_notification"),
        }
    )
    for state in out.get("states", []):
        state["actions"] = [
            {"retry": dict(ISM_RETRY_DEFAULT), **action} for action in state.get("actions", [])
        ]
    for template in out.get("ism_template") or []:
        template["last_updated_time"] = 1_716_222_584_833
    return out


def role_server_form(role: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"reserved": False, "hidden": False, "static": False, **copy.deepcopy(role)}
    out.setdefault("cluster_permissions", [])
    out.setdefault("tenant_permissions", [])
    for permission in out.setdefault("index_permissions", []):
        permission.setdefault("fls", [])
        permission.setdefault("masked_fields", [])
    return out


def mapping_server_form(mapping: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"reserved": False, "hidden": False, **copy.deepcopy(mapping)}
    for key in ("hosts", "users", "backend_roles", "and_backend_roles"):
        out.setdefault(key, [])
    return out
