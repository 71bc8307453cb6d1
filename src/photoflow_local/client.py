"""A client of the photos HTTP API, as a program or a person would use it.

The API authenticates every call (the template's ApiAuth): by default the
client signs in to the local stack as its test user (``LocalSignIn``: the
authorization code flow with PKCE against the local stand-in for Cognito's
managed login, as the page does) and presents that user's ID token; give it
``auth=LocalSignIn(name, password)`` for another local user,
``auth=BearerToken(id_token)`` for a deployed stack, or
``auth=SigV4.from_session(region)`` when ApiAuth is AWS_IAM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from requests.auth import AuthBase

from photoflow_local.api import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY
from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER

TERMINAL = {"COMPLETED", "FAILED"}
DIRECT_UPLOAD_MAX_BYTES = 4194304  # the template's DirectUploadMaxBytes default


def guess_content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class BearerToken(AuthBase):
    """``Authorization: Bearer <token>``: a Cognito ID token (ApiAuth COGNITO)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class SigV4(AuthBase):
    """Signs each request for execute-api with AWS credentials (ApiAuth AWS_IAM)."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region

    @classmethod
    def from_session(cls, region: str | None = None) -> SigV4:
        """The credentials and region boto3 would use (environment, profile, role)."""
        session = boto3.session.Session(region_name=region)
        credentials = session.get_credentials()
        if credentials is None or session.region_name is None:
            raise RuntimeError("no AWS credentials or region to sign the API requests with")
        return cls(credentials.get_frozen_credentials(), session.region_name)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if not isinstance(body, bytes | str):
            raise TypeError("a signed request needs its whole body up front, not a stream")
        signed = AWSRequest(method=request.method, url=request.url, data=body)
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


class SignInFailed(RuntimeError):
    """The local sign-in refused the user, or the page's settings name no sign-in."""


_SETTINGS = re.compile(r"PHOTOFLOW_CONFIG = Object\.assign\(\s*(\{.*?\}),\s*window", re.DOTALL)


def sign_in_settings(origin: str, timeout: float = 10.0) -> dict[str, str]:
    """The sign-in the page at ``origin`` uses: its config.js's ``auth`` settings."""
    response = requests.get(f"{origin}/config.js", timeout=timeout)
    found = _SETTINGS.search(response.text) if response.ok else None
    auth = json.loads(found[1]).get("auth") if found else None
    if not isinstance(auth, dict) or not auth.get("clientId"):
        raise SignInFailed(f"{origin}/config.js names no sign-in (auth.clientId)")
    return {str(k): str(v) for k, v in auth.items()}


def sign_in(origin: str, username: str, password: str, timeout: float = 10.0) -> dict[str, Any]:
    """Tokens for ``username``, by the authorization code flow with PKCE (RFC 7636) that
    the page's sign-in uses, through the managed login of the page at ``origin``."""
    auth = sign_in_settings(origin, timeout)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    flow = {
        "client_id": auth["clientId"],
        "response_type": "code",
        "redirect_uri": auth["redirectUri"],
        "scope": "openid email profile",
        "state": state,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    signed_in = requests.post(
        f"{auth['domain']}/login",
        data={**flow, "username": username, "password": password},
        allow_redirects=False,
        timeout=timeout,
    )
    returned = parse_qs(urlsplit(signed_in.headers.get("Location", "")).query)
    if signed_in.status_code != 302 or returned.get("state") != [state] or "code" not in returned:
        raise SignInFailed(f"sign-in of {username!r} refused (HTTP {signed_in.status_code})")
    tokens = requests.post(
        f"{auth['domain']}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": auth["clientId"],
            "code": returned["code"][0],
            "redirect_uri": auth["redirectUri"],
            "code_verifier": verifier,
        },
        timeout=timeout,
    )
    if not tokens.ok:
        raise SignInFailed(f"token exchange for {username!r} refused: {tokens.text}")
    result: dict[str, Any] = tokens.json()
    return result


class LocalSignIn(AuthBase):
    """Signs in as a user of the local stack's pool, on first use and again before the
    ID token expires, and sends ``Authorization: Bearer <ID token>``."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self._tokens: dict[str, tuple[str, float]] = {}  # origin -> (ID token, renew after)
        self._lock = threading.Lock()

    def id_token(self, origin: str) -> str:
        with self._lock:
            held = self._tokens.get(origin)
            if held is None or held[1] < time.monotonic():
                tokens = sign_in(origin, self.username, self.password)
                renew = time.monotonic() + int(tokens["expires_in"]) - 60
                held = self._tokens[origin] = (str(tokens["id_token"]), renew)
            return held[0]

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url or "")
        request.headers["Authorization"] = (
            f"Bearer {self.id_token(f'{parts.scheme}://{parts.netloc}')}"
        )
        return request


def local_test_identity(authorization: str = "COGNITO_USER_POOLS") -> AuthBase | None:
    """The local stack's test identity for a method's authorization type."""
    if authorization == "COGNITO_USER_POOLS":
        return LocalSignIn(LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)
    if authorization == "AWS_IAM":
        return SigV4(Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY), "us-east-1")
    return None


class StillRunning(TimeoutError):
    """A bounded wait ended before the photo reached a terminal state."""

    def __init__(self, photo_id: str, last: dict[str, Any] | None, waited: float) -> None:
        status = last.get("status") if last else "unknown"
        super().__init__(f"photo {photo_id} still {status} after {waited:.1f}s; last seen: {last}")
        self.last = last


@dataclass
class PhotosClient:
    base_url: str
    timeout: float = 30.0
    direct_max_bytes: int = DIRECT_UPLOAD_MAX_BYTES
    # Sent to the API only, never to the presigned storage URLs.
    auth: AuthBase | None = field(default_factory=local_test_identity)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = requests.Session()
        # The HTTP status of the API's last answer, for callers that care which 2xx it was.
        self.last_status: int | None = None

    def _check(self, response: requests.Response) -> Any:
        self.last_status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def upload_bytes(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """POST /photos with the photo in the body."""
        content_type = content_type or guess_content_type(filename)

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), 64 * 1024):
                chunk = data[start : start + 64 * 1024]
                yield chunk
                if progress:
                    progress(len(chunk))

        # A signature covers the body, so a signed upload is sent whole.
        streamed = progress is not None and not isinstance(self.auth, SigV4)
        response = self.session.post(
            f"{self.base_url}/photos",
            params={"filename": filename},
            data=chunks() if streamed else data,
            headers={"Content-Type": content_type, "Content-Length": str(len(data))},
            timeout=self.timeout,
            auth=self.auth,
        )
        if progress and not streamed:
            progress(len(data))
        result: dict[str, Any] = self._check(response)
        return result

    def upload_presigned(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """POST /photos/uploads, then the file straight to S3 with the presigned form."""
        content_type = content_type or guess_content_type(filename)
        grant: dict[str, Any] = self._check(
            self.session.post(
                f"{self.base_url}/photos/uploads",
                json={"filename": filename, "contentType": content_type, "size": len(data)},
                timeout=self.timeout,
                auth=self.auth,
            )
        )
        upload = grant["upload"]
        response = self.session.post(
            upload["url"],
            data=upload["fields"],
            files={"file": (filename, data, content_type)},
            timeout=self.timeout,
        )
        if response.status_code >= 300:
            raise ApiError(response.status_code, response.text)
        if progress:
            progress(len(data))
        return grant

    def upload_file(
        self, path: Path, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        data = path.read_bytes()
        if len(data) > self.direct_max_bytes:
            return self.upload_presigned(data, path.name, progress=progress)
        return self.upload_bytes(data, path.name, progress=progress)

    def photo(self, photo_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._check(
            self.session.get(
                f"{self.base_url}/photos/{photo_id}", timeout=self.timeout, auth=self.auth
            )
        )
        return result

    def photos(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._check(
            self.session.get(
                f"{self.base_url}/photos", params=params, timeout=self.timeout, auth=self.auth
            )
        )
        return result

    def wait(self, photo_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll GET /photos/{id} with back-off until COMPLETED or FAILED, at most ``timeout`` s."""
        started = time.monotonic()
        delay = 0.05
        last: dict[str, Any] | None = None
        while time.monotonic() - started < timeout:
            last = self.photo(photo_id)
            if last.get("status") in TERMINAL:
                return last
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        raise StillRunning(photo_id, last, time.monotonic() - started)
