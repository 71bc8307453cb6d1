"""Why a photo failed, in words for the person who sent it.

A failure reaches people in two places: the PhotoFailed notification (subscribers,
e-mail) and GET /photos/{id} (the page). Both carry the error's name and a short
message from here, never the step's full cause: a Lambda error's cause holds the
stack trace, with file paths, and that stays with the operators (the function's log
and the execution's history).

- The photo's own faults (``InvalidPhoto`` and ``PhotoMissing``) are worded for
  people when raised (their constructors make the message one line of at most
  ``MESSAGE_MAX_CHARS``, :func:`for_people`): their message is kept when it is safe
  (:func:`is_safe`: also no path, no stack trace), else a fixed sentence replaces it.
- Anything else (a bug, a time-out, a service that kept failing) is not the photo's
  fault, and its words are not the sender's business: a fixed sentence says so.

The same rule is written three times, each in its own language: here, in the
notification schema (``error.message``: ``maxLength`` and a ``pattern`` built from
``UNSAFE``), and in the state machine's failure path (``$reason``, a JSONata
expression with the same regular expression and sentences). A unit test holds the
three to the same texts.
"""

from __future__ import annotations

import json
import re

MESSAGE_MAX_CHARS = 300
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"

# What a message for people never holds: a line break, a path (a token starting at the
# root, home, current folder or a drive and going down a folder), a storage URL, or a
# Python stack trace. Kept to what JavaScript, Python and JSONata regexes share.
UNSAFE = (
    r"""[\r\n]|(?:^|[\s"'\(=:,\[])(?:~|\.{1,2})?/[^\s/"']+/|[A-Za-z]:\\|(?:s3|file)://"""
    r"""|Traceback \(most recent call last\)|File \""""
)
_UNSAFE = re.compile(UNSAFE)

PHOTO_FAULT = "The photo could not be processed."  # when its own words are not safe
TIMED_OUT = "Processing took too long and was stopped. Try again later."
STOPPED = "Processing was stopped before it finished. Try again later."
NOT_THE_PHOTO = (
    "Processing failed because of a problem on our side, not with the photo. Try again later."
)
_FIXED = {"States.Timeout": TIMED_OUT, "Sandbox.Timedout": TIMED_OUT, "States.Aborted": STOPPED}


def photo_faults() -> frozenset[str]:
    """The errors that are the photo's own fault: the names the state machine catches
    (``photoflow.errors``' table, whose messages are worded with :func:`for_people`)."""
    from photoflow.errors import Workflow, names

    return names(Workflow.CAUGHT)


def describe(error: str | None, cause: str | None) -> str:
    """The message for people of a failure named ``error`` whose cause was ``cause``."""
    if error in photo_faults():
        message = _error_message(cause)
        return message if is_safe(message) else PHOTO_FAULT
    return _FIXED.get(error or "", NOT_THE_PHOTO)


def is_safe(message: str) -> bool:
    """Whether ``message`` may reach people as it is."""
    return 0 < len(message) <= MESSAGE_MAX_CHARS and _UNSAFE.search(message) is None


def for_people(text: str) -> str:
    """``text`` as one line of at most ``MESSAGE_MAX_CHARS``. Its words are kept: a path
    in them may be an API's route ("use POST /photos/uploads") as well as a file's, and
    whether it may reach a notification is :func:`is_safe`'s to say."""
    line = " ".join(text.split())
    if len(line) > MESSAGE_MAX_CHARS:
        line = line[: MESSAGE_MAX_CHARS - 1].rstrip() + ELLIPSIS
    return line


def _error_message(cause: str | None) -> str:
    """A Lambda error's errorMessage when the cause is Lambda's JSON, else the cause."""
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return cause or ""
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause or ""
