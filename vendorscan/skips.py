"""Why a resource or a part of one was not read: every skip reason, declared once, with its consequence.

A reason that makes the scan incomplete means vendorscan could not do what it was asked (exit 2); the others
are policy or the nature of the thing (a symlink, a file over the size limit, an encrypted archive) and are
listed in the report without failing the scan. A reason nobody declared counts as incomplete: a new
connector's failure is never taken for a complete scan.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    """A skip reason: its name as records carry it, whether it makes the scan incomplete, what it means."""

    name: str
    incomplete: bool
    meaning: str


REASONS = {r.name: r for r in (
    # could not do what was asked: the scan is incomplete
    Reason("permission-denied", True, "the scanning account may not read it"),
    Reason("read-error", True, "reading it failed"),
    Reason("timeout", True, "it took longer than resource_timeout"),
    Reason("time-budget", True, "the scan's time budget was used up before it"),
    Reason("not-found", True, "a configured path, bucket or table does not exist"),
    Reason("connection-lost", True, "the server's connection broke off and was not regained"),
    Reason("connector-error", True, "the target could not be scanned at all"),
    Reason("worker-crashed", True, "its worker process died reading it, also when it was read alone"),
    Reason("internal-error", True, "vendorscan failed on it"),
    Reason("ocr-unavailable", True, "an image to read, but Tesseract is not installed"),
    Reason("changed-during-read", True, "it changed while it was read, also when read again"),
    Reason("stopped", True, "the scan was stopped (Ctrl-C, SIGTERM) before it was read"),
    Reason("pattern-timeout", True, "a custom detector's pattern ran past its time limit on part of the text; "
                                    "every other detector scanned that part"),
    # policy, or the nature of the thing: listed, the scan stays complete
    Reason("excluded", False, "an exclude pattern of the target matches it"),
    Reason("symlink", False, "a symbolic link or reparse point, not followed"),
    Reason("special-file", False, "a FIFO, socket or device: never opened"),
    Reason("not-a-file", False, "an archive member that is not a regular file"),
    Reason("too-large", False, "over max_file_size or another size bound"),
    Reason("empty", False, "0 bytes: nothing to scan"),
    Reason("vanished", False, "removed between the listing and the read"),
    Reason("binary", False, "neither text nor a format vendorscan reads"),
    Reason("unsupported-format", False, "a format without a reader"),
    Reason("format-unavailable", False, "its format's optional reader (extra or program) is not installed"),
    Reason("format-disabled", False, "its format is turned off in [formats]"),
    Reason("ocr-disabled", False, "an image, and OCR is turned off"),
    Reason("ocr-failed", False, "Tesseract could not read the image"),
    Reason("ocr-timeout", False, "Tesseract took longer than its limit"),
    Reason("encrypted", False, "password-protected: worth knowing in an audit"),
    Reason("archive-bomb", False, "it would unpack beyond the expansion bounds"),
    Reason("nesting-too-deep", False, "archives nested deeper than max_depth"),
    Reason("too-many-members", False, "more members than max_members"),
    Reason("malformed", False, "its content is not what it claims to be, or broken"),
    Reason("no-text-columns", False, "a table without text or integer columns to read"),
    Reason("archived-storage-class", False, "a Glacier or Deep Archive object, never restored"),
)}


def makes_incomplete(reason: str) -> bool:
    """True when a skip for this reason means the scan could not do what it was asked (undeclared ones too)."""
    declared = REASONS.get(reason)
    return declared is None or declared.incomplete
