"""The local user pool: users, tokens, and a stand-in for Cognito's managed login.

The template's user pool exists on the local AWS endpoint (moto's Cognito); its
users are created there (``photoflow users add NAME``) and their passwords checked
there. What moto does not offer is what the page and the API need from Cognito:

- managed login's endpoints, served by the local API front end on its own origin:
  ``GET /oauth2/authorize`` (the authorization code flow with PKCE, S256 only: a
  sign-in form), ``POST /oauth2/token`` (``authorization_code`` with the PKCE
  verifier, and ``refresh_token``), ``GET /logout`` and ``GET
  /.well-known/jwks.json``;
- tokens as Cognito issues them: RS256 JWTs signed by a key of this pool (made
  when the stack starts; tokens do not outlive it), with Cognito's claims (``iss``
  the pool's issuer URL, ``aud`` or ``client_id`` the app client, ``token_use``,
  ``sub``, ``cognito:username``, ``auth_time``, ``iat``, ``exp``);
- the check API Gateway's Cognito authorizer makes of an ID token
  (``verify_id_token``): the signature against the pool's keys, the issuer, an app
  client of the pool as audience, ``token_use`` ``id``, and the expiry.

Sources: Cognito's developer guide, "Authorize endpoint", "Token endpoint", "Logout
endpoint" and "Verifying a JSON web token" (claims and checks); RFC 7636 (PKCE).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

# The local stack's own test user, created with every local pool (documented, local only).
LOCAL_TEST_USER = "local-test-user"
LOCAL_TEST_PASSWORD = "Local-test-passw0rd"
TOKEN_SECONDS = 3600  # the template's IdTokenValidity and AccessTokenValidity (60 minutes)
CODE_SECONDS = 300  # Cognito's authorization codes are valid for five minutes
LOGIN_PATHS = ("/oauth2/authorize", "/oauth2/token", "/login", "/logout", "/.well-known/jwks.json")


class InvalidToken(Exception):
    """A bearer token API Gateway's Cognito authorizer would refuse (401)."""


class SignInRefused(Exception):
    """The user name and password do not match a user of the pool."""


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int = TOKEN_SECONDS

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id_token": self.id_token,
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


@dataclass(frozen=True)
class _Grant:
    username: str
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class LocalUserPool:
    """One user pool of the local endpoint, with a signing key and its app clients."""

    cognito: Any  # a boto3 cognito-idp client of the local endpoint
    pool_id: str
    region: str
    client_ids: tuple[str, ...]
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of_stack(cls, cognito: Any, pool_id: str, region: str) -> LocalUserPool:
        clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
        ids = tuple(c["ClientId"] for c in clients["UserPoolClients"])
        pool = cls(cognito=cognito, pool_id=pool_id, region=region, client_ids=ids)
        pool.add_user(LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)
        return pool

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def jwks(self) -> dict[str, Any]:
        """The pool's public keys, as Cognito publishes them at /.well-known/jwks.json."""
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "alg": "RS256", "use": "sig"}]}

    # ------------------------------------------------------------ users
    def add_user(self, username: str, password: str) -> str:
        """Create a confirmed user (or set an existing one's password); returns its sub."""
        return add_user(self.cognito, self.pool_id, username, password)

    def _check_password(self, username: str, password: str, client_id: str) -> str:
        """The user's sub when ``password`` is theirs, else :class:`SignInRefused`."""
        try:
            self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
            user = self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=username)
        except self.cognito.exceptions.ClientError as error:
            raise SignInRefused("Incorrect username or password.") from error
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return str(attributes["sub"])

    # ------------------------------------------------------------ tokens
    def issue(self, username: str, sub: str, client_id: str, *, refresh: bool = True) -> Tokens:
        now = int(time.time())
        common = {
            "sub": sub,
            "iss": self.issuer,
            "auth_time": now,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "origin_jti": str(uuid.uuid4()),
        }
        header = {"alg": "RS256", "kid": self.key.kid}
        id_claims = {
            **common,
            "aud": client_id,
            "token_use": "id",
            "cognito:username": username,
            "jti": str(uuid.uuid4()),
        }
        access_claims = {
            **common,
            "client_id": client_id,
            "token_use": "access",
            "scope": "openid profile email",
            "username": username,
            "jti": str(uuid.uuid4()),
        }
        refresh_token = None
        if refresh:
            refresh_token = secrets.token_urlsafe(48)
            with self._lock:
                self._refresh[refresh_token] = (username, client_id)
        return Tokens(
            id_token=jwt.encode(header, id_claims, self.key),
            access_token=jwt.encode(header, access_claims, self.key),
            refresh_token=refresh_token,
        )

    def sign_in(self, username: str, password: str, client_id: str) -> Tokens:
        """Tokens for a user who gave their password (what the sign-in form does)."""
        if client_id not in self.client_ids:
            raise SignInRefused(f"no app client {client_id}")
        return self.issue(username, self._check_password(username, password, client_id), client_id)

    def verify_id_token(self, token: str, now: float | None = None) -> dict[str, Any]:
        """The claims of an ID token API Gateway's Cognito authorizer would accept."""
        try:
            decoded = jwt.decode(token, KeySet([self.key]), algorithms=["RS256"])
        except (JoseError, ValueError) as error:
            raise InvalidToken(f"signature: {error}") from error
        registry = jwt.JWTClaimsRegistry(
            now=int(now if now is not None else time.time()),
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": list(self.client_ids)},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(f"claims: {error}") from error
        return dict(decoded.claims)

    # ------------------------------------------------------------ the code flow
    def grant_code(
        self, username: str, password: str, client_id: str, redirect_uri: str, challenge: str
    ) -> str:
        self._check_password(username, password, client_id)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Grant(
                username, client_id, redirect_uri, challenge, time.time() + CODE_SECONDS
            )
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> Tokens:
        """Tokens for an authorization code, once, given the PKCE verifier of its challenge."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if (
            grant is None
            or grant.expires < time.time()
            or grant.client_id != client_id
            or grant.redirect_uri != redirect_uri
            or not hmac.compare_digest(pkce_challenge(verifier), grant.challenge)
        ):
            raise SignInRefused("invalid_grant")
        sub = self._sub_of(grant.username)
        return self.issue(grant.username, sub, client_id)

    def refresh(self, refresh_token: str, client_id: str) -> Tokens:
        """New ID and access tokens (no new refresh token, as Cognito without rotation)."""
        with self._lock:
            held = self._refresh.get(refresh_token)
        if held is None or held[1] != client_id:
            raise SignInRefused("invalid_grant")
        return self.issue(held[0], self._sub_of(held[0]), client_id, refresh=False)

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def _sub_of(self, username: str) -> str:
        user = self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=username)
        return str({a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"])


def new_password() -> str:
    """A password any Cognito password policy accepts (the template's asks for 12
    characters with lower and upper case letters, a number and a symbol)."""
    return f"{secrets.token_urlsafe(12)}-Aa1"


def add_user(cognito: Any, pool_id: str, username: str, password: str) -> str:
    """Create a confirmed user of the pool with ``password`` (or reset an existing one's);
    returns the user's sub."""
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return str({a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"])


# ---------------------------------------------------------------- the managed login stand-in
@dataclass(frozen=True)
class LoginResponse:
    status: HTTPStatus
    headers: dict[str, str]
    body: bytes


def _json(status: HTTPStatus, body: dict[str, Any]) -> LoginResponse:
    return LoginResponse(
        status,
        {"Content-Type": "application/json", "Cache-Control": "no-store"},
        json.dumps(body).encode(),
    )


def _redirect(location: str) -> LoginResponse:
    return LoginResponse(HTTPStatus.FOUND, {"Location": location}, b"")


@dataclass
class ManagedLogin:
    """Cognito managed login's endpoints for one pool, on the local API's origin."""

    pool: LocalUserPool
    origin: str  # the page's origin: the only callback and sign-out URLs allowed

    def allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def handle(self, method: str, path: str, params: dict[str, str]) -> LoginResponse:
        if path == "/.well-known/jwks.json" and method == "GET":
            return _json(HTTPStatus.OK, self.pool.jwks())
        if path == "/oauth2/authorize" and method == "GET":
            return self._authorize(params)
        if path == "/login" and method == "POST":
            return self._login(params)
        if path == "/oauth2/token" and method == "POST":
            return self._token(params)
        if path == "/logout" and method == "GET":
            return self._logout(params)
        return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method_not_allowed"})

    def _bad_request(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") not in self.pool.client_ids:
            return "unknown client_id"
        if params.get("response_type") != "code":
            return "response_type must be code"
        if not self.allowed(params.get("redirect_uri", "")):
            return "redirect_uri is not a callback URL of this client"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "code_challenge with code_challenge_method S256 is required"
        return None

    def _authorize(self, params: dict[str, str], failed: str = "") -> LoginResponse:
        problem = self._bad_request(params)
        if problem:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "message": problem})
        return LoginResponse(
            HTTPStatus.OK,
            {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
            sign_in_form(params, failed).encode("utf-8"),
        )

    def _login(self, params: dict[str, str]) -> LoginResponse:
        problem = self._bad_request(params)
        if problem:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "message": problem})
        try:
            code = self.pool.grant_code(
                params.get("username", ""),
                params.get("password", ""),
                params["client_id"],
                params["redirect_uri"],
                params["code_challenge"],
            )
        except SignInRefused:
            return self._authorize(params, failed="Incorrect username or password.")
        query = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        return _redirect(f"{params['redirect_uri']}?{urlencode(query)}")

    def _token(self, params: dict[str, str]) -> LoginResponse:
        client_id = params.get("client_id", "")
        try:
            if params.get("grant_type") == "authorization_code":
                tokens = self.pool.redeem_code(
                    params.get("code", ""),
                    client_id,
                    params.get("redirect_uri", ""),
                    params.get("code_verifier", ""),
                )
            elif params.get("grant_type") == "refresh_token":
                tokens = self.pool.refresh(params.get("refresh_token", ""), client_id)
            else:
                return _json(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type"})
        except SignInRefused:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"})
        return _json(HTTPStatus.OK, tokens.as_json())

    def _logout(self, params: dict[str, str]) -> LoginResponse:
        target = params.get("logout_uri", "")
        if params.get("client_id") not in self.pool.client_ids or not self.allowed(target):
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request"})
        return _redirect(target)


def sign_in_form(params: dict[str, str], failed: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in params.items()
        if name not in ("username", "password")
    )
    error = f'<p class="error" role="alert">{html.escape(failed)}</p>' if failed else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Sign in - PhotoFlow (local)</title></head><body>"
        "<main><h1>Sign in</h1>"
        "<p>The local stack's stand-in for Cognito's managed login.</p>"
        f"{error}"
        '<form method="post" action="/login">'
        f"{hidden}"
        '<label>User name <input name="username" autocomplete="username" required></label>'
        '<label>Password <input name="password" type="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit">Sign in</button></form></main></body></html>'
    )
