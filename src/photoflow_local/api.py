"""The local API front end: API Gateway's REST proxy integration on 127.0.0.1.

Routes come from the translated template's RestApi. Each request becomes the
event API Gateway would send (binary bodies base64-encoded according to the
API's binary media types, path parameters, query strings, headers) and the
function's proxy response becomes the HTTP response.

Each method's authorization is honoured as API Gateway would: AWS_IAM methods
take requests SigV4-signed (service execute-api) with access key ``local`` and
secret ``local``, the signature checked; COGNITO_USER_POOLS methods take an ID
token of a user of the stack's user pool, checked as API Gateway's Cognito
authorizer checks it (``photoflow_local.identity``: signature, issuer, app
client, ``token_use``, expiry), and the function sees its claims. Anything else
gets API Gateway's 401 or 403, with the headers of the API's gateway responses
(CORS).

The same origin also serves the page (``static_dir``), with a ``config.js``
naming the local sign-in, and the stand-in for Cognito's managed login
(``photoflow_local.identity.ManagedLogin``).
"""

from __future__ import annotations

import base64
import calendar
import fnmatch
import hmac
import json
import mimetypes
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from photoflow_local.deploy import ACCOUNT_ID, ApiDefinition, ApiRoute
from photoflow_local.identity import LOGIN_PATHS, InvalidToken, LocalUserPool, ManagedLogin
from photoflow_local.lambdas import LambdaService

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # API Gateway REST payload quota
LAMBDA_MAX_REQUEST = 6 * 1024 * 1024  # synchronous invoke payload quota

# The local IAM identity: the only signer the local API authenticates.
LOCAL_ACCESS_KEY_ID = "local"
LOCAL_SECRET_ACCESS_KEY = "local"  # the local stack's published credentials
LOCAL_TEST_USER = "local-test-user"
SIGNATURE_MAX_SKEW_SECONDS = 15 * 60  # SigV4 signatures are valid for 15 minutes
_SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


class Refused(Exception):
    """API Gateway refuses the request before any integration runs."""

    def __init__(self, status: HTTPStatus, message: str, response_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.response_type = response_type


@dataclass(frozen=True)
class Caller:
    """What an authorizer adds to the proxy event's requestContext."""

    identity: dict[str, Any]
    authorizer: dict[str, Any] | None = None


ANONYMOUS = Caller(identity={})


def authorize(
    route: ApiRoute,
    method: str,
    url: str,
    headers: dict[str, list[str]],
    body: bytes,
    now: float | None = None,
    user_pool: LocalUserPool | None = None,
) -> Caller:
    """The caller of ``route`` as API Gateway would establish it, or :class:`Refused`.

    ``url`` is the full URL the client called and ``headers`` are lowercase names;
    ``user_pool`` verifies the ID tokens of COGNITO_USER_POOLS methods (without one,
    none is accepted).
    """
    authorization = headers.get("authorization", [""])[-1].strip()
    if route.authorization == "NONE":
        return ANONYMOUS
    if route.authorization == "COGNITO_USER_POOLS":
        token = authorization.removeprefix("Bearer ").strip()
        if not token or user_pool is None:
            raise Refused(HTTPStatus.UNAUTHORIZED, "Unauthorized", "UNAUTHORIZED")
        try:
            claims = user_pool.verify_id_token(token, now)
        except InvalidToken:
            raise Refused(HTTPStatus.UNAUTHORIZED, "Unauthorized", "UNAUTHORIZED") from None
        # API Gateway hands the function every claim as a string.
        shown = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in claims.items()
        }
        return Caller(identity={}, authorizer={"claims": shown})
    if route.authorization == "AWS_IAM":
        return _check_sigv4(method, url, headers, body, authorization, now or time.time())
    raise Refused(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error", "AUTHORIZER_FAILURE")


def _check_sigv4(
    method: str,
    url: str,
    headers: dict[str, list[str]],
    body: bytes,
    authorization: str,
    now: float,
) -> Caller:
    if not authorization:
        raise Refused(
            HTTPStatus.FORBIDDEN, "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN"
        )
    found = _SIGV4.match(authorization)
    amz_date = headers.get("x-amz-date", [""])[-1]
    if found is None or not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        raise Refused(
            HTTPStatus.FORBIDDEN,
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature', "
            "and the request an 'X-Amz-Date' header.",
            "INCOMPLETE_SIGNATURE",
        )
    if found["key"] != LOCAL_ACCESS_KEY_ID:
        raise Refused(
            HTTPStatus.FORBIDDEN,
            "The security token included in the request is invalid.",
            "INVALID_SIGNATURE",
        )
    signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    if abs(now - signed_at) > SIGNATURE_MAX_SKEW_SECONDS or found["service"] != "execute-api":
        raise Refused(
            HTTPStatus.FORBIDDEN, "Signature expired or not for execute-api.", "EXPIRED_TOKEN"
        )
    signed = found["headers"].split(";")
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={name: headers.get(name, [""])[-1] for name in signed},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY), "execute-api", found["region"]
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, found["signature"]):
        raise Refused(
            HTTPStatus.FORBIDDEN,
            "The request signature we calculated does not match the signature you provided.",
            "INVALID_SIGNATURE",
        )
    return Caller(
        identity={
            "accessKey": LOCAL_ACCESS_KEY_ID,
            "accountId": ACCOUNT_ID,
            "caller": LOCAL_TEST_USER,
            "user": LOCAL_TEST_USER,
            "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/{LOCAL_TEST_USER}",
        }
    )


class _Server(ThreadingHTTPServer):
    """One thread per connection, and a listen backlog for a burst of clients: socketserver's
    default of 5 completed connections waiting to be accepted made the kernel drop (and
    clients see reset) all but a few of 50 clients connecting at once. The kernel caps it
    at net.core.somaxconn (4096 on current Linux)."""

    request_queue_size = 1024
    daemon_threads = True


class LocalApi:
    def __init__(
        self,
        api: ApiDefinition,
        lambdas: LambdaService,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        static_dir: Path | None = None,
        user_pool: LocalUserPool | None = None,
    ) -> None:
        self.api = api
        self.lambdas = lambdas
        self.static_dir = static_dir
        self.user_pool = user_pool
        self.dropped = 0  # requests whose client hung up before the whole body came
        self.host = host
        handler = type("Handler", (_Handler,), {"front_end": self})
        self.server = _Server((host, port), handler)
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="local-api", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    @property
    def login(self) -> ManagedLogin | None:
        """Managed login's stand-in, on this origin (the page's)."""
        return ManagedLogin(self.user_pool, self.url) if self.user_pool else None

    def page_settings(self) -> dict[str, Any]:
        """What the page's config.js says on the local stack: the API on this origin, and
        the local user pool's sign-in (see web/config.js)."""
        settings: dict[str, Any] = {"apiBaseUrl": ""}
        if self.user_pool is not None and self.user_pool.client_ids:
            settings["auth"] = {
                "domain": self.url,
                "clientId": self.user_pool.client_ids[0],
                "redirectUri": f"{self.url}/",
                "logoutUri": f"{self.url}/",
            }
        return settings

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a serve_forever that never ran
            self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        for route in self.api.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def is_binary(self, content_type: str | None) -> bool:
        media_type = (content_type or "").split(";")[0].strip().lower()
        return any(fnmatch.fnmatch(media_type, pattern) for pattern in self.api.binary_media_types)

    def event(
        self,
        route: ApiRoute,
        parameters: dict[str, str],
        method: str,
        target: str,
        headers: dict[str, list[str]],
        body: bytes,
        source_ip: str,
        caller: Caller = ANONYMOUS,
    ) -> dict[str, Any]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        binary = self.is_binary(headers.get("content-type", [None])[0])
        if body and binary:
            body_text: str | None = base64.b64encode(body).decode("ascii")
        elif body:
            body_text = body.decode("utf-8", errors="replace")
        else:
            body_text = None
        now = time.time()
        return {
            "resource": route.path,
            "path": parts.path,
            "httpMethod": method,
            "headers": {name: values[-1] for name, values in headers.items()} or None,
            "multiValueHeaders": headers or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                # The path the client used: served at the root, as behind a custom
                # domain, not under /{stage} as on API Gateway's own endpoint.
                "path": parts.path,
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": self.api.stage or "local",
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now * 1000),
                "requestId": str(uuid.uuid4()),
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", [""])[-1],
                    **caller.identity,
                },
                "domainName": "localhost",
                "apiId": self.api.api_id,
                **({"authorizer": caller.authorizer} if caller.authorizer else {}),
            },
            "body": body_text,
            "isBase64Encoded": bool(body and binary),
        }


class _Handler(BaseHTTPRequestHandler):
    front_end: LocalApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("content-length") or 0)
        if length > API_GATEWAY_MAX_BODY:
            self._drain(length)
            self._json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"message": "Request Too Long"},
                "REQUEST_TOO_LARGE",
            )
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client hung up mid-body: API Gateway never calls the
            self.front_end.dropped += 1  # integration with half a request, nor does this
            self.close_connection = True
            return
        if self._sign_in_endpoint(path, body):
            return
        found = self.front_end.route(self.command, path)
        if found is None:
            if self.command in ("GET", "HEAD") and self._static(path):
                return
            self._json(
                HTTPStatus.FORBIDDEN,
                {"message": "Missing Authentication Token"},
                "MISSING_AUTHENTICATION_TOKEN",
            )
            return
        route, parameters = found
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        host = headers.get("host", [self.front_end.url.split("://", 1)[1]])[-1]
        try:
            caller = authorize(
                route,
                self.command,
                f"http://{host}{self.path}",
                headers,
                body,
                user_pool=self.front_end.user_pool,
            )
        except Refused as refused:
            self._json(refused.status, {"message": refused.message}, refused.response_type)
            return
        if route.mock is not None:  # a MOCK integration: API Gateway answers by itself
            self._mock_response(*route.mock)
        else:
            self._invoke(route, parameters, headers, body, caller)

    def _invoke(
        self,
        route: ApiRoute,
        parameters: dict[str, str],
        headers: dict[str, list[str]],
        body: bytes,
        caller: Caller,
    ) -> None:
        """The route's function, given the proxy event; its proxy response back as HTTP."""
        event = self.front_end.event(
            route,
            parameters,
            self.command,
            self.path,
            headers,
            body,
            self.client_address[0],
            caller,
        )
        request = json.dumps(event)
        if len(request) > LAMBDA_MAX_REQUEST:
            self._json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"message": "Request Too Long"},
                "REQUEST_TOO_LARGE",
            )
            return
        payload, errored, _ = self.front_end.lambdas.invoke(route.function_name, request)
        if errored:
            self._json(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, "DEFAULT_5XX")
            return
        self._proxy_response(json.loads(payload))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _mock_response(self, status: int, headers: dict[str, str], body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _proxy_response(self, response: Any) -> None:
        if not isinstance(response, dict) or "statusCode" not in response:
            self._json(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, "DEFAULT_5XX")
            return
        body = response.get("body") or ""
        data = (
            base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
        )
        self.send_response(int(response["statusCode"]))
        sent = set()
        for name, values in (response.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, str(value))
            sent.add(name.lower())
        for name, value in (response.get("headers") or {}).items():
            if name.lower() not in sent:
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _sign_in_endpoint(self, path: str, body: bytes) -> bool:
        """Managed login's stand-in and the page's settings, when the stack has a pool."""
        login = self.front_end.login
        if login is not None and path in LOGIN_PATHS:
            self._login(login, path, body)
            return True
        if path == "/config.js" and self.command == "GET" and login is not None:
            self._config_script()
            return True
        return False

    def _login(self, login: ManagedLogin, path: str, body: bytes) -> None:
        """Managed login's endpoints: query parameters, or a form body for POSTs."""
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        params = {name: values[-1] for name, values in {**query, **form}.items()}
        answer = login.handle(self.command, path, params)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _config_script(self) -> None:
        """The page's settings for this local stack (see web/config.js)."""
        script = (
            "// Written by the local stack for its page; see web/config.js.\n"
            "window.PHOTOFLOW_CONFIG = Object.assign(\n"
            f"  {json.dumps(self.front_end.page_settings())},\n"
            "  window.PHOTOFLOW_CONFIG,\n"
            ");\n"
        ).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(script)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(script)

    def _static(self, path: str) -> bool:
        root = self.front_end.static_dir
        if root is None:
            return False
        relative = path.lstrip("/") or "index.html"
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
            return False
        data = candidate.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Type", mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        )
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(data)
        return True

    def _drain(self, length: int) -> None:
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def _json(self, status: HTTPStatus, body: dict[str, Any], response_type: str) -> None:
        """One of API Gateway's own responses, with the headers the API configures for it."""
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        configured = self.front_end.api.gateway_response_headers
        default = "DEFAULT_4XX" if status < HTTPStatus.INTERNAL_SERVER_ERROR else "DEFAULT_5XX"
        for name, value in configured.get(response_type, configured.get(default, {})).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
