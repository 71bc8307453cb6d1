"""Deleting a photo: its original (every version), its derivatives, its record, announced.

A caller deletes only a photo of their own (``PhotoRepository.request_deletion`` is
conditional on the owner). The request is marked on the record first; then, if no
workflow can still write to the photo, everything is removed at once. While the
photo is being processed its workflow would write derivatives and its record
again after a removal, so the mark stays and the reconciler finishes the deletion
when the execution ends (``photoflow.reconcile``): the photo is never left
half-written. A photo that a reprocessing run holds (``photoflow.reprocess``) waits the
same way: the run finds the mark when it comes to record, and has the reconciler finish
the deletion (``finish_after_reprocessing``), the derivatives it has just written
included; were that run to stop first, its hold lapses and the next request finishes the
job. Every step can be repeated: removing what is gone already removes
nothing, and the mark keeps the job findable until the record itself goes, last.

A photo whose upload never came keeps its marked record until it expires (its
TTL): the mark makes the ingest refuse an upload that still arrives through the
presigned POST handed out for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from photoflow import clients, notifications
from photoflow.errors import DeletionIncomplete
from photoflow.keys import DERIVATIVES_PREFIX, UPLOADS_PREFIX
from photoflow.photos import PhotoRecord, PhotoRepository, PhotoStatus, utc_now

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


class Deletion(StrEnum):
    """What became of a request to delete a photo."""

    DELETED = "deleted"  # gone: original, derivatives and record
    PENDING = "pending"  # being processed or reprocessed: deleted when that ends
    NOT_FOUND = "not found"  # not the caller's, never existed, or gone already


@dataclass(frozen=True)
class PhotoDeletion:
    bucket: str
    photos: PhotoRepository
    topic_arn: str

    def request(self, photo_id: str, owner: str) -> Deletion:
        """Delete ``owner``'s photo now, or as soon as its workflow has ended."""
        record = self.photos.request_deletion(photo_id, owner)
        if record is None:
            return Deletion.NOT_FOUND
        if record.status is PhotoStatus.AWAITING_UPLOAD:
            self.remove_objects(photo_id)
            self.announce(record)
            return Deletion.DELETED
        if not record.status.terminal or record.reprocessing(utc_now()):
            return Deletion.PENDING
        self.finish(record)
        return Deletion.DELETED

    def finish_after_reprocessing(self, photo_id: str, run: str) -> str:
        """What a reprocessing run that lost its hold on a photo leaves behind: a deletion
        that waited for it is finished ("deleted"); a photo another run holds now is that
        run's to finish ("superseded")."""
        record = self.photos.get(photo_id)
        if record is None:
            return "deleted"
        held_by_other = record.reprocess_lease != run and record.reprocessing(utc_now())
        if record.delete_requested is None or held_by_other:
            return "superseded"
        self.finish(record)
        return "deleted"

    def finish(self, record: PhotoRecord) -> None:
        """Remove a marked photo whose workflow has ended, announce it, then its record."""
        self.remove_objects(record.photo_id)
        self.announce(record)
        self.photos.forget(record.photo_id)

    def remove_objects(self, photo_id: str) -> int:
        """Every version (and delete marker) of the photo's original and derivatives."""
        removed = 0
        for prefix in (f"{UPLOADS_PREFIX}{photo_id}/", f"{DERIVATIVES_PREFIX}{photo_id}/"):
            pages = clients.s3().get_paginator("list_object_versions")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                versions = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                for start in range(0, len(versions), DELETE_BATCH):
                    batch = versions[start : start + DELETE_BATCH]
                    response = clients.s3().delete_objects(
                        Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    if response.get("Errors"):
                        raise DeletionIncomplete(photo_id, response["Errors"])
                    removed += len(batch)
        return removed

    def announce(self, record: PhotoRecord) -> None:
        event = notifications.deleted(
            record.photo_id, owner=record.owner, source_key=record.source_key, occurred_at=utc_now()
        )
        notifications.publish(self.topic_arn, event)
