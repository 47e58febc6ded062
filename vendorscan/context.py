"""What a plugin is handed at run time: its options, the target it serves, and the keyed hasher."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any


class ValueHasher:
    """Keyed hash (HMAC-SHA256) of normalised values: counts persons without storing them.

    An unkeyed hash of a personnummer is plaintext in disguise (a date plus four digits is a tiny
    keyspace), so the key never leaves the state dir and is never written into a report.
    """

    __slots__ = ("_key", "_keyed")

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("hash key must be at least 16 bytes")
        self._key = key
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)  # key pads computed once, copied per value

    def __call__(self, kind: str, normalised: str) -> str:
        """Hex digest (128 bits) of `kind:normalised` under the scan's key."""
        h = self._keyed.copy()
        h.update(f"{kind}:{normalised}".encode())
        return h.hexdigest()[:32]

    def __repr__(self) -> str:  # never show the key
        return "ValueHasher(<key hidden>)"

    def __reduce__(self):  # picklable for worker processes; the key stays in memory only
        return (ValueHasher, (self._key,))


@dataclass(slots=True)
class ScanContext:
    """Handed to every check and connector: no global settings, nothing created at import time."""

    target: str
    environment: str  # production | test | shared
    hasher: ValueHasher
    options: Any = None  # the plugin's own validated options dataclass
    limits: Any = None  # agent.config.Limits
    extra: dict[str, Any] = field(default_factory=dict)

    def with_options(self, options: Any) -> "ScanContext":
        """The same context carrying another plugin's options."""
        return ScanContext(self.target, self.environment, self.hasher, options, self.limits, self.extra)
