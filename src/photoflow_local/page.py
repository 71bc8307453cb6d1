"""Publish web/ to a deployed stack's page bucket, pointed at that stack's API.

The template serves the bucket over HTTPS through CloudFront (PageUrl output). The
page's files are uploaded as they are in the repository, except config.js, which is
written for the stack: its API's URL and the size limits its parameters set.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Uploads are seen at once after a redeployment: CloudFront and browsers revalidate.
CACHE_CONTROL = "no-cache"
# config.js settings and the stack parameters they come from (see web/config.js).
LIMITS_FROM_PARAMETERS = {
    "maxBytes": "MaxPhotoBytes",
    "directUploadMaxBytes": "DirectUploadMaxBytes",
}


class PageError(RuntimeError):
    """The stack, or the page to publish, is not what publishing needs."""


@dataclass(frozen=True)
class PageTarget:
    bucket: str
    api_url: str
    page_url: str | None
    limits: dict[str, int]
    # The page's sign-in (web/auth.js): the managed login, app client and the page's URL.
    auth: dict[str, str] | None = None


def target_from_stack(cloudformation: Any, stack_name: str) -> PageTarget:
    """Where to publish, from a deployed stack's outputs and parameters."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    missing = [name for name in ("PageBucketName", "ApiUrl") if name not in outputs]
    if missing:
        raise PageError(f"stack {stack_name} has no output {', '.join(missing)}")
    limits = {
        setting: int(parameters[name])
        for setting, name in LIMITS_FROM_PARAMETERS.items()
        if parameters.get(name)
    }
    page = parameters.get("AllowedOrigin") or outputs.get("PageUrl")
    auth = None
    if outputs.get("AuthDomainUrl") and outputs.get("UserPoolClientId") and page:
        auth = {
            "domain": outputs["AuthDomainUrl"],
            "clientId": outputs["UserPoolClientId"],
            "redirectUri": f"{page}/",  # the app client's CallbackURLs and LogoutURLs
            "logoutUri": f"{page}/",
        }
    return PageTarget(
        outputs["PageBucketName"], outputs["ApiUrl"], outputs.get("PageUrl"), limits, auth
    )


def config_script(target: PageTarget) -> str:
    """config.js for ``target``: the page calls its API, with its limits."""
    settings: dict[str, Any] = {"apiBaseUrl": target.api_url, **target.limits}
    if target.auth:
        settings["auth"] = target.auth
    return (
        "// Written by `photoflow publish-page` for this deployment; see web/config.js.\n"
        "window.PHOTOFLOW_CONFIG = Object.assign(\n"
        f"  {json.dumps(settings)},\n"
        "  window.PHOTOFLOW_CONFIG,\n"
        ");\n"
    )


def page_files(web: Path) -> dict[str, bytes]:
    """Every file of the page by its key, config.js left out (it is written per stack)."""
    if not (web / "index.html").is_file():
        raise PageError(f"{web} has no index.html")
    return {
        path.relative_to(web).as_posix(): path.read_bytes()
        for path in sorted(web.rglob("*"))
        if path.is_file() and path.name != "config.js"
    }


def publish(s3: Any, target: PageTarget, web: Path) -> list[str]:
    """Upload the page and its config.js to ``target``; returns the keys written."""
    files = page_files(web)
    files["config.js"] = config_script(target).encode("utf-8")
    for key, body in files.items():
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )
    return sorted(files)
