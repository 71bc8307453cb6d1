"""Every error of PhotoFlow's domain, with what it means to a client and to the workflow.

Each error has a name (its class's: the Lambda error type, which the state machine's
Retry and Catch match), the HTTP status the API answers it with, and how the workflow
treats it when a step raises it (:class:`Workflow`). The table is :func:`registry`; the
API maps errors to responses by it, and a unit test holds the ASL's Retry and Catch lists
to it. The imaging core's refusals (``photoflow.imaging.errors``: ``InvalidPhoto`` and its
subclasses) stay in the imaging package, which raises them; they are registered here.

Messages of the photo's own faults reach the person who sent the photo: they are worded
for people when raised (``photoflow.reasons.for_people``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from photoflow.reasons import for_people


class Workflow(StrEnum):
    """What the state machine does when one of its Lambda steps raises the error."""

    RETRIED = "retried"  # transient: every Lambda step's Retry names it
    CAUGHT = "caught"  # the photo's own fault: caught to RecordFailure, never retried
    # Named by no Retry or Catch: raised outside the steps (the API, the ingest, the
    # reconciler), or a fault of the deployment (ConfigError) that ends the execution
    # where it failed, to be redriven once fixed.
    NOT_NAMED = "not named"


# ------------------------------------------------------------------ the workflow's steps
class StorageUnavailable(Exception):
    """S3 did not answer or asked us to slow down: worth another attempt."""


class PhotoMissing(Exception):
    """The original is gone (deleted or overwritten before processing)."""

    def __init__(self, message: str) -> None:
        super().__init__(for_people(message))


class ConfigError(RuntimeError):
    """The function's environment is missing a variable or has a bad value."""


# ------------------------------------------------------------------ the ingest
class NotAnS3Notification(ValueError):
    """A message on the ingest queue that is not an S3 event notification."""


class InvalidKey(ValueError):
    """A key or file name that cannot be stored under ``uploads/<photoId>/``."""


# ------------------------------------------------------------------ the API
class UnsupportedMediaType(ValueError):
    """The request declares a Content-Type that cannot carry a photo."""


class InvalidRequest(ValueError):
    """A request the API cannot take, said in its own words: for each field at fault, the
    field, what was wrong with it and what is allowed."""

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


class InvalidCursor(ValueError):
    """A pagination cursor that this API did not hand out."""


class NoCallerIdentity(Exception):
    """The request reached the function without an identity from API Gateway's authorizer."""


class DeletionIncomplete(RuntimeError):
    """S3 refused to delete some of a photo's objects; the deletion is to be repeated."""

    def __init__(self, photo_id: str, errors: list[Any]) -> None:
        first = errors[0] if errors else {}
        super().__init__(
            f"photo {photo_id}: {len(errors)} object(s) not deleted, first "
            f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
        )


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class DomainError:
    """One error's entry: its class, the API's status for it, the workflow's handling."""

    error: type[Exception]
    status: HTTPStatus
    workflow: Workflow
    code: str | None = None  # what the API's body calls it, when not the class's name

    @property
    def name(self) -> str:
        """The error's name as Lambda reports it and the ASL matches it."""
        return self.error.__name__

    @property
    def api_name(self) -> str:
        return self.code or self.name


@functools.cache
def registry() -> tuple[DomainError, ...]:
    """Every domain error. Built when first read: the imaging errors' package loads Pillow,
    which this module's importers (``photoflow.keys``, the local tools) need not."""
    from photoflow.imaging import errors as imaging

    return (
        # the photo's own faults, from the imaging core and the storage of its original
        DomainError(imaging.EmptyPhoto, HTTPStatus.BAD_REQUEST, Workflow.CAUGHT),
        DomainError(imaging.PhotoTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, Workflow.CAUGHT),
        DomainError(imaging.TooManyPixels, HTTPStatus.UNPROCESSABLE_ENTITY, Workflow.CAUGHT),
        DomainError(imaging.UnsupportedFormat, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, Workflow.CAUGHT),
        DomainError(imaging.CorruptImage, HTTPStatus.UNPROCESSABLE_ENTITY, Workflow.CAUGHT),
        DomainError(PhotoMissing, HTTPStatus.NOT_FOUND, Workflow.CAUGHT),
        # transient
        DomainError(StorageUnavailable, HTTPStatus.SERVICE_UNAVAILABLE, Workflow.RETRIED),
        DomainError(DeletionIncomplete, HTTPStatus.SERVICE_UNAVAILABLE, Workflow.NOT_NAMED),
        # the deployment's
        DomainError(ConfigError, HTTPStatus.INTERNAL_SERVER_ERROR, Workflow.NOT_NAMED),
        # requests and messages that cannot be taken
        DomainError(NotAnS3Notification, HTTPStatus.BAD_REQUEST, Workflow.NOT_NAMED),
        DomainError(InvalidKey, HTTPStatus.BAD_REQUEST, Workflow.NOT_NAMED),
        DomainError(UnsupportedMediaType, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, Workflow.NOT_NAMED),
        DomainError(InvalidRequest, HTTPStatus.BAD_REQUEST, Workflow.NOT_NAMED, "BadRequest"),
        DomainError(InvalidCursor, HTTPStatus.BAD_REQUEST, Workflow.NOT_NAMED),
        DomainError(NoCallerIdentity, HTTPStatus.UNAUTHORIZED, Workflow.NOT_NAMED, "Unauthorized"),
    )


def entry_for(error: BaseException) -> DomainError | None:
    """The table's entry for ``error``: its class's, else its nearest registered base's;
    None for an error that is not the domain's."""
    by_class = {entry.error: entry for entry in registry()}
    for cls in type(error).__mro__:
        if cls in by_class:
            return by_class[cls]
    return None


def names(workflow: Workflow) -> frozenset[str]:
    """The names of the errors the workflow treats as ``workflow`` says."""
    return frozenset(entry.name for entry in registry() if entry.workflow is workflow)
