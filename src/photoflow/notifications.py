"""The photo events PhotoFlow publishes on its topic: the contract with subscribers.

The messages' shape is ``events/notification.schema.json``; the state machine's Notify
states and the Python code that announces photos (the reconciler, deletion) both write
this version.
"""

from __future__ import annotations

SCHEMA_VERSION = "2"  # the schema's version the messages follow
