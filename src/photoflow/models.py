"""The workflow's data contracts: what each step receives and returns.

Field names here are the names the ASL uses (``$.photo.id``, ``$.Payload.thumbnails``);
keep the two in step.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class PhotoRef(_Model):
    """One uploaded object version: the ``photo`` of every execution's input."""

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    bucket: str
    key: str
    version_id: str | None = Field(default=None, alias="versionId")
    etag: str | None = None
    size: int = Field(ge=0)
    filename: str
    uploaded_at: str = Field(alias="uploadedAt")
    # Who uploaded it (photoflow.photos); None for an object put into the bucket by other means.
    owner: str | None = None


class StepInput(_Model):
    """The payload every Lambda step of the state machine receives."""

    photo: PhotoRef


class RenditionRef(_Model):
    """A derivative written to S3."""

    name: str
    key: str
    width: int
    height: int
    content_type: str = Field(alias="contentType")
    bytes: int

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


def execution_input(photo: PhotoRef) -> dict[str, Any]:
    return {"photo": photo.model_dump(by_alias=True)}
