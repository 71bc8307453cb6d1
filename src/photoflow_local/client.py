"""A client of the photos HTTP API, as a program or a person would use it."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

TERMINAL = {"COMPLETED", "FAILED"}
DIRECT_UPLOAD_MAX_BYTES = 4194304  # the template's DirectUploadMaxBytes default


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


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

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = requests.Session()

    def _check(self, response: requests.Response) -> Any:
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
        content_type = (
            content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), 64 * 1024):
                chunk = data[start : start + 64 * 1024]
                yield chunk
                if progress:
                    progress(len(chunk))

        response = self.session.post(
            f"{self.base_url}/photos",
            params={"filename": filename},
            data=chunks() if progress else data,
            headers={"Content-Type": content_type, "Content-Length": str(len(data))},
            timeout=self.timeout,
        )
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
        content_type = (
            content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        grant: dict[str, Any] = self._check(
            self.session.post(
                f"{self.base_url}/photos/uploads",
                json={"filename": filename, "contentType": content_type, "size": len(data)},
                timeout=self.timeout,
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
            self.session.get(f"{self.base_url}/photos/{photo_id}", timeout=self.timeout)
        )
        return result

    def photos(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._check(
            self.session.get(f"{self.base_url}/photos", params=params, timeout=self.timeout)
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
