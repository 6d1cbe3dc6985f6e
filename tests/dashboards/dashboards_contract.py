"""A local HTTP server implementing the contract of OpenSearch Dashboards 2.x's saved-objects
import endpoint (no real Dashboards can run on this machine: it is on neither npm, PyPI nor Debian).

What it enforces, as Dashboards does (src/core/server/saved_objects/routes/import.ts and
import/*.ts, src/core/server/http/lifecycle_handlers.ts):

* ``POST [<base path>]/api/saved_objects/_import``; any other path is 404;
* the ``osd-xsrf`` (or ``osd-version``) header on a non-GET request, else 400 "Request must
  contain a osd-xsrf header.";
* a ``multipart/form-data`` body (else 415) with the field ``file`` whose name ends ``.ndjson``
  (else 400 "Invalid file extension"), one JSON object per line (a line that is not JSON is 400;
  the export summary line is skipped); the same type and id twice is 400 "Non-unique import
  objects detected";
* query ``overwrite`` and ``createNewCopies`` (both at once is 400);
* 200 with ``success``, ``successCount``, ``successResults`` and ``errors`` per object:
  ``unsupported_type``; ``missing_references`` for an index-pattern or search reference in
  neither the file nor the store; ``conflict`` for an existing type and id without
  ``overwrite``; ``unknown`` (statusCode 400) for an attribute the type does not map (the
  saved-objects index is strict) or a migration version beyond 7.10.x. While a conflict or a
  missing reference is there nothing is written; successes list what would be;
* objects are keyed by type and id: an overwrite replaces, never duplicates;
* the ``securitytenant`` header (``global``, ``private``/``__user__``) picks a separate store;
* basic auth when the server is given credentials (401 otherwise), or an AWS SigV4 signature
  for service ``es`` (403 otherwise, as Amazon OpenSearch Service answers), over TLS.

``GET [<base path>]/api/saved_objects/_find?type=T`` lists a tenant's objects (for assertions);
``requests`` records every request (method, path, headers, body).
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SUPPORTED_TYPES = frozenset(
    {"index-pattern", "search", "visualization", "dashboard", "config", "query", "url"}
)
MAPPED = {
    "index-pattern": {"title", "type", "typeMeta", "timeFieldName", "intervalName", "fields", "sourceFilters",
                      "fieldFormatMap"},
    "search": {"columns", "description", "hits", "kibanaSavedObjectMeta", "sort", "title", "version"},
    "visualization": {"description", "kibanaSavedObjectMeta", "savedSearchRefName", "title", "uiStateJSON", "version",
                      "visState"},
    "dashboard": {"description", "hits", "kibanaSavedObjectMeta", "optionsJSON", "panelsJSON", "refreshInterval",
                  "timeFrom", "timeRestore", "timeTo", "title", "version"},
}  # fmt: skip
LATEST_MIGRATION = {
    "index-pattern": "7.6.0",
    "search": "7.9.3",
    "visualization": "7.10.0",
    "dashboard": "7.9.3",
}
TENANTS = {"global": "global", "": "global", "private": "private", "__user__": "private"}


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class SigV4Key:
    """What the server checks an AWS Signature Version 4 against (service ``es``)."""

    access_key: str
    secret_key: str
    token: str | None
    region: str


@dataclass
class ContractState:
    credentials: tuple[str, str] | None = None
    sigv4: SigV4Key | None = None
    stores: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, tenant: str = "global") -> dict[tuple[str, str], dict[str, Any]]:
        return self.stores.setdefault(tenant, {})


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())


class BadRequest(Exception):
    pass


def _file_of(content_type: str, body: bytes) -> tuple[str, bytes]:
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return str(part.get_filename() or ""), part.get_payload(decode=True) or b""
    raise BadRequest("[request body.file]: expected value of type [Stream] but got [undefined]")


def _objects_of(data: bytes) -> list[dict[str, Any]]:
    objects = []
    for line in data.decode("utf-8").split("\n"):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"Unexpected token in JSON at position {exc.pos}") from None
        if value and not value.get("exportedCount"):
            objects.append(value)
    keys = [f"{o.get('type')}:{o.get('id')}" for o in objects]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise BadRequest(f"Non-unique import objects detected: [{','.join(duplicated)}]")
    return objects


def _error(obj: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    title = (obj.get("attributes") or {}).get("title")
    return {
        "id": obj.get("id"),
        "type": obj.get("type"),
        "title": title,
        "meta": {"title": title},
        "error": error,
    }


def _object_error(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("type")
    unknown = set(obj.get("attributes") or {}) - MAPPED.get(str(kind), set())
    if unknown:
        first = sorted(unknown)[0]
        message = f"mapping set to strict, dynamic introduction of [{first}] within [{kind}] is not allowed"
        return {"type": "unknown", "message": message, "statusCode": 400}
    for name, version in (obj.get("migrationVersion") or {}).items():
        if _version(str(version)) > _version(LATEST_MIGRATION.get(name, "0")):
            message = (f'Document "{obj.get("id")}" has property "{name}" which belongs to a more recent version of '
                       f"OpenSearch Dashboards [{version}]. The last known version is [{LATEST_MIGRATION.get(name)}]")  # fmt: skip
            return {"type": "unknown", "message": message, "statusCode": 400}
    return None


def import_objects(
    state: ContractState, tenant: str, objects: list[dict[str, Any]], overwrite: bool
) -> dict[str, Any]:
    store = state.store(tenant)
    errors: list[dict[str, Any]] = []
    supported = [o for o in objects if o.get("type") in SUPPORTED_TYPES]
    errors += [
        _error(o, {"type": "unsupported_type"}) for o in objects if o.get("type") not in SUPPORTED_TYPES
    ]
    in_file = {(o["type"], o["id"]) for o in supported}
    for obj in supported:
        missing = [{"type": r["type"], "id": r["id"]} for r in obj.get("references") or []
                   if r.get("type") in ("index-pattern", "search") and (r["type"], r["id"]) not in in_file | set(store)]  # fmt: skip
        if missing:
            errors.append(_error(obj, {"type": "missing_references", "references": missing}))
    failed = {(e["type"], e["id"]) for e in errors}
    pending: set[tuple[str, str]] = set()
    for obj in supported:
        key = (obj["type"], obj["id"])
        if key in store and key not in failed:
            if overwrite:
                pending.add(key)
            else:
                errors.append(_error(obj, {"type": "conflict"}))
    failed = {(e["type"], e["id"]) for e in errors}
    to_create = [o for o in supported if (o["type"], o["id"]) not in failed]
    blocked = any(
        e["error"]["type"] in ("conflict", "ambiguous_conflict", "missing_references") for e in errors
    )
    created = []
    for obj in to_create:
        problem = None if blocked else _object_error(obj)
        if problem is not None:
            errors.append(_error(obj, problem))
            continue
        if not blocked:
            store[(obj["type"], obj["id"])] = {k: v for k, v in obj.items() if k != "version"}
        created.append(obj)
    results = [
        {"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get("title")},
         **({"overwrite": True} if (o["type"], o["id"]) in pending else {})}
        for o in created
    ]  # fmt: skip
    answer: dict[str, Any] = {"successCount": len(created), "success": not errors}
    if results:
        answer["successResults"] = results
    if errors:
        answer["errors"] = errors
    return answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fail(self, status: int, error: str, message: str) -> None:
        self._send(status, {"statusCode": status, "error": error, "message": message})

    def _authorized(self, method: str, body: bytes) -> bool:
        state = self.server.state
        if state.sigv4 is not None:
            return self._signed(state.sigv4, method, body)
        if state.credentials is None:
            return True
        token = base64.b64encode(f"{state.credentials[0]}:{state.credentials[1]}".encode()).decode()
        return self.headers.get("authorization") == f"Basic {token}"

    def _signed(self, key: SigV4Key, method: str, body: bytes) -> bool:
        """Recompute the request's SigV4 signature (service es) as Amazon OpenSearch Service does."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        match = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/es/aws4_request, "
                         r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)$", self.headers.get("authorization", ""))  # fmt: skip
        if match is None or match.group(1) != key.access_key or match.group(3) != key.region:
            return False
        signed = {h: self.headers.get(h, "") for h in match.group(4).split(";")}
        request = AWSRequest(
            method=method, url=f"https://{self.headers['host']}{self.path}", data=body, headers=signed
        )
        request.context["timestamp"] = self.headers.get("x-amz-date", "")
        auth = SigV4Auth(Credentials(key.access_key, key.secret_key, key.token), "es", key.region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        return hmac.compare_digest(expected, match.group(5))

    def _route(self, method: str) -> tuple[str, dict[str, list[str]]] | None:
        parts = urlsplit(self.path)
        base = self.server.base_path
        path = parts.path.removeprefix(base) if parts.path.startswith(f"{base}/") else "/not-dashboards"
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.state.lock:
            self.server.state.requests.append(
                Recorded(
                    method, parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
        self._body = body
        if not self._authorized(method, body):
            if self.server.state.sigv4 is not None:
                self._send(
                    403,
                    {
                        "message": "The request signature we calculated does not match the signature you provided."
                    },
                )
            else:
                self._fail(401, "Unauthorized", "Authentication required")
            return None
        return path, parse_qs(parts.query)

    def do_GET(self) -> None:
        routed = self._route("GET")
        if routed is None:
            return
        path, query = routed
        if path != "/api/saved_objects/_find":
            self._fail(404, "Not Found", "Not Found")
            return
        tenant = TENANTS.get(self.headers.get("securitytenant", ""), "global")
        types = query.get("type") or list(SUPPORTED_TYPES)
        objects = [o for (kind, _), o in sorted(self.server.state.store(tenant).items()) if kind in types]
        self._send(
            200, {"page": 1, "per_page": len(objects), "total": len(objects), "saved_objects": objects}
        )

    def do_POST(self) -> None:
        routed = self._route("POST")
        if routed is None:
            return
        path, query = routed
        if path != "/api/saved_objects/_import":
            self._fail(404, "Not Found", "Not Found")
            return
        if "osd-xsrf" not in self.headers and "osd-version" not in self.headers:
            self._fail(400, "Bad Request", "Request must contain a osd-xsrf header.")
            return
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            self._fail(415, "Unsupported Media Type", "Unsupported Media Type")
            return
        flags = {
            k: (v[-1].lower() == "true") for k, v in query.items() if k in ("overwrite", "createNewCopies")
        }
        if flags.get("overwrite") and flags.get("createNewCopies"):
            self._fail(400, "Bad Request", "[request query]: cannot use [overwrite] with [createNewCopies]")
            return
        try:
            name, data = _file_of(content_type, self._body)
            extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if extension != ".ndjson":
                raise BadRequest(f"Invalid file extension {extension}")
            objects = _objects_of(data)
        except BadRequest as exc:
            self._fail(400, "Bad Request", str(exc))
            return
        tenant = TENANTS.get(self.headers.get("securitytenant", ""), "global")
        with self.server.state.lock:
            answer = import_objects(self.server.state, tenant, objects, bool(flags.get("overwrite")))
        self._send(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ContractState, base_path: str, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.base_path = base_path.rstrip("/")
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)


def self_signed(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (the file clients trust) and the server's TLS context."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "contract.crt", directory / "contract.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


@dataclass
class ContractServer:
    url: str
    state: ContractState

    def objects(self, tenant: str = "global") -> dict[tuple[str, str], dict[str, Any]]:
        return dict(self.state.store(tenant))


@contextmanager
def contract_server(
    base_path: str = "",
    credentials: tuple[str, str] | None = None,
    sigv4: SigV4Key | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[ContractServer]:
    """The server on 127.0.0.1 (an ephemeral port) until the block ends; ``url`` includes
    ``base_path`` (``/_dashboards`` as on Amazon OpenSearch Service). ``credentials`` requires
    basic auth, ``sigv4`` a valid signature; ``tls`` serves https."""
    state = ContractState(credentials=credentials, sigv4=sigv4)
    server = _Server(state, base_path, tls)
    thread = threading.Thread(target=server.serve_forever, name="dashboards-contract", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        scheme = "https" if tls is not None else "http"
        yield ContractServer(f"{scheme}://{host!s}:{port}{base_path}", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
