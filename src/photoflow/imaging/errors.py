"""Why a photo was refused: permanent failures that no retry can fix.

The state machine's Catch and Retry rules match these class names, and a
message ends up as the message of a FAILED record and its PhotoFailed notification,
or in a 4xx response body, so names are stable and messages are written for the
person who sent the photo: one line of at most 300 characters
(``photoflow.reasons.for_people``, applied when raised), and no file path or stack
trace (one that holds either is replaced by a fixed sentence in a notification).
"""

from __future__ import annotations

from photoflow.reasons import for_people


class InvalidPhoto(Exception):
    """The photo itself is unusable; retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(for_people(message))


class EmptyPhoto(InvalidPhoto):
    """The upload has no bytes at all."""


class PhotoTooLarge(InvalidPhoto):
    """The file is bigger than the configured byte limit."""


class TooManyPixels(InvalidPhoto):
    """Width x height is over the pixel limit (a huge photo or a decompression bomb)."""


class UnsupportedFormat(InvalidPhoto):
    """The bytes are not an image, or an image in a format that is not accepted."""


class CorruptImage(InvalidPhoto):
    """The header looked like an accepted image but its pixel data cannot be decoded."""
