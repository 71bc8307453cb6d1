"""Clients that do what clients do: the behaviours `make soak --hostile` mixes in.

Each behaviour uploads one photo its own way, through the HTTP API and the presigned
S3 form it hands out, and says what the stack must make of it: a photo that ends
COMPLETED or FAILED (once, announced once, never changed afterwards), a grant that
was never used (NOT_ACCEPTED: nothing stored, nothing run, nothing announced), or a
request refused at the door (REFUSED). What the clients saw is kept: an answer other
than the one expected, a connection reset.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests

from photoflow_local.client import ApiError, PhotosClient

COMPLETED, FAILED = "COMPLETED", "FAILED"
NOT_ACCEPTED = "NOT_ACCEPTED"  # a grant no upload was accepted for
REFUSED = "REFUSED"  # no photo: the API refused the request, or the client hung up


@dataclass(frozen=True)
class Sent:
    behaviour: str
    photo_id: str | None
    expected: str  # COMPLETED, FAILED, NOT_ACCEPTED or REFUSED
    key: str | None = None
    surprises: tuple[str, ...] = ()  # answers other than the ones the behaviour expects
    resets: int = 0  # connections reset or refused
    started: float = 0.0  # when the client began (time.monotonic)


@dataclass
class Clients:
    """What the behaviours need: the API, the local endpoint (to sign an expired form as the
    API would have), samples of valid photos, and the direct upload cap."""

    api_url: str
    endpoint_url: str
    bucket: str
    direct_max_bytes: int
    samples: list[bytes]
    rng: random.Random
    lock: threading.Lock

    def sample(self) -> bytes:
        with self.lock:
            return self.rng.choice(self.samples)

    def api(self) -> PhotosClient:
        return PhotosClient(self.api_url)  # one per call: sessions are not shared


class _Seen:
    """What one behaviour's client saw."""

    def __init__(self) -> None:
        self.surprises: list[str] = []
        self.resets = 0

    def post(self, what: str, expected: int, call: Callable[[], requests.Response]) -> None:
        try:
            response = call()
        except requests.ConnectionError as error:
            self.resets += 1
            self.surprises.append(f"{what}: {type(error).__name__}")
            return
        if response.status_code != expected:
            self.surprises.append(f"{what}: HTTP {response.status_code} {response.text[:120]}")


def _grant(clients: Clients, data: bytes, seen: _Seen) -> dict[str, Any] | None:
    api = clients.api()
    try:
        response = api.session.post(
            f"{api.base_url}/photos/uploads",
            json={"filename": "soak.jpg", "contentType": "image/jpeg", "size": len(data)},
            auth=api.auth,
            timeout=60,
        )
    except requests.ConnectionError as error:
        seen.resets += 1
        seen.surprises.append(f"grant: {type(error).__name__}")
        return None
    if response.status_code != 201:
        seen.surprises.append(f"grant: HTTP {response.status_code} {response.text[:120]}")
        return None
    grant: dict[str, Any] = response.json()
    return grant


def _form(grant: dict[str, Any], data: bytes, **changed: str) -> Callable[[], requests.Response]:
    fields = {**grant["upload"]["fields"], **changed}
    return lambda: requests.post(
        grant["upload"]["url"],
        data=fields,
        files={"file": ("soak.jpg", data, "image/jpeg")},
        timeout=120,
    )


def _sent(behaviour: str, grant: dict[str, Any] | None, expected: str, seen: _Seen) -> Sent:
    if grant is None:
        return Sent(behaviour, None, REFUSED, None, tuple(seen.surprises), seen.resets)
    return Sent(
        behaviour,
        grant["photoId"],
        expected,
        grant["upload"]["fields"]["key"],
        tuple(seen.surprises),
        seen.resets,
    )


# ----------------------------------------------------------------- behaviours
def direct(clients: Clients, data: bytes, expected: str) -> Sent:
    """POST /photos with the photo in the body, as a well-behaved client does."""
    try:
        photo_id = clients.api().upload_bytes(data, "soak.jpg", "image/jpeg")["photoId"]
    except requests.ConnectionError as error:
        return Sent("direct upload", None, REFUSED, None, (type(error).__name__,), 1)
    except ApiError as error:
        return Sent("direct upload", None, REFUSED, None, (f"upload: {error}",))
    return Sent("direct upload", photo_id, expected)


def presigned(clients: Clients, data: bytes, expected: str) -> Sent:
    """A grant, then the photo POSTed to S3 with its form, once."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        seen.post("upload", 204, _form(grant, data))
    return _sent("presigned upload", grant, expected, seen)


def used_again(clients: Clients, data: bytes, expected: str) -> Sent:
    """The grant used again for another photo (S3 takes it: a second version)."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        seen.post("upload", 204, _form(grant, data))
        other = data if expected == FAILED else clients.sample()
        seen.post("upload again", 204, _form(grant, other))
    return _sent("presigned upload used again", grant, expected, seen)


def same_bytes_twice(clients: Clients, data: bytes, expected: str) -> Sent:
    """The same bytes POSTed twice with one grant (a client retrying a slow upload)."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        for attempt in ("upload", "upload retried"):
            seen.post(attempt, 204, _form(grant, data))
    return _sent("same bytes sent twice", grant, expected, seen)


def concurrent(clients: Clients, data: bytes, expected: str) -> Sent:
    """Three clients upload with one grant at once (three different photos if valid)."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        bodies = [data] * 3 if expected == FAILED else [data, clients.sample(), clients.sample()]
        with ThreadPoolExecutor(max_workers=3) as pool:
            for future in [pool.submit(_form(grant, body)) for body in bodies]:
                seen.post("concurrent upload", 204, future.result)
    return _sent("concurrent uploads to one key", grant, expected, seen)


def expired(clients: Clients, data: bytes, _expected: str) -> Sent:
    """The upload comes after its grant expired: the same form, signed an hour ago."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        s3 = boto3.client(
            "s3",
            endpoint_url=clients.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        stale = s3.generate_presigned_post(
            Bucket=clients.bucket,
            Key=grant["upload"]["fields"]["key"],
            Fields={"Content-Type": "image/jpeg"},
            Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 10**9]],
            ExpiresIn=-3600,
        )
        seen.post("expired upload", 403, _form({**grant, "upload": stale}, data))
    return _sent("expired presigned upload", grant, NOT_ACCEPTED, seen)


def abandoned(clients: Clients, data: bytes, _expected: str) -> Sent:
    """A grant asked for and never used."""
    seen = _Seen()
    return _sent("abandoned upload", _grant(clients, data, seen), NOT_ACCEPTED, seen)


def tampered(clients: Clients, data: bytes, _expected: str) -> Sent:
    """The form's Content-Type changed to smuggle in a page: S3 refuses it (policy)."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        seen.post("tampered upload", 403, _form(grant, data, **{"Content-Type": "text/html"}))
    return _sent("tampered form", grant, NOT_ACCEPTED, seen)


def _cut_off(url: str, head: bytes, body: bytes) -> None:
    """Send the request line, headers and half the body, then hang up."""
    parts = urlsplit(url)
    # the server may answer (and close) before the body is in: a hang-up all the same
    with (
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 10) as s,
        contextlib.suppress(OSError),
    ):
        s.sendall(head + body[: len(body) // 2])


def disconnected(clients: Clients, data: bytes, _expected: str) -> Sent:
    """POST /photos that hangs up halfway through the body: no photo."""
    api = clients.api()
    request = requests.Request(
        "POST",
        f"{api.base_url}/photos?filename=cut.jpg",
        data=data,
        headers={"Content-Type": "image/jpeg"},
        auth=api.auth,
    ).prepare()
    _cut_off(request.url or api.base_url, _head(request), _body(request))
    return Sent("client disconnects mid-upload", None, REFUSED)


def disconnected_presigned(clients: Clients, data: bytes, _expected: str) -> Sent:
    """The S3 form POST hangs up halfway through the file: nothing stored."""
    seen = _Seen()
    grant = _grant(clients, data, seen)
    if grant is not None:
        request = requests.Request(
            "POST",
            grant["upload"]["url"],
            data=grant["upload"]["fields"],
            files={"file": ("soak.jpg", data, "image/jpeg")},
        ).prepare()
        _cut_off(grant["upload"]["url"], _head(request), _body(request))
    return _sent("client disconnects mid-upload (presigned)", grant, NOT_ACCEPTED, seen)


def oversize(clients: Clients, data: bytes, _expected: str) -> Sent:
    """A body over the direct upload cap: 413, pointed to the presigned upload."""
    seen = _Seen()
    api = clients.api()
    body = data[:3] + b"\0" * clients.direct_max_bytes
    seen.post(
        "oversize body",
        413,
        lambda: api.session.post(
            f"{api.base_url}/photos",
            params={"filename": "huge.jpg"},
            data=body,
            headers={"Content-Type": "image/jpeg"},
            auth=api.auth,
            timeout=120,
        ),
    )
    return Sent("oversize body", None, REFUSED, None, tuple(seen.surprises), seen.resets)


def _head(request: requests.PreparedRequest) -> bytes:
    parts = urlsplit(str(request.url or ""))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value!s}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _body(request: requests.PreparedRequest) -> bytes:
    body = request.body
    return body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""


Behaviour = Callable[[Clients, bytes, str], Sent]
# (behaviour, weight) of the hostile mix; well-behaved clients keep the largest share.
HOSTILE_MIX: list[tuple[Behaviour, int]] = [
    (direct, 30),
    (presigned, 20),
    (used_again, 10),
    (same_bytes_twice, 8),
    (concurrent, 8),
    (expired, 5),
    (abandoned, 5),
    (tampered, 4),
    (disconnected, 4),
    (disconnected_presigned, 3),
    (oversize, 3),
]
