"""OLE2 compound files: the streams inside one, and the legacy Office and encrypted documents recognised by them."""
from __future__ import annotations

from typing import IO

from vendorscan.format import FormatHandler

_LEGACY = ("unsupported-format", "legacy binary Office file (.{}): no maintained pure-Python reader; convert it to "
                                 "the Open XML format to have it scanned")


def ole_streams(f: IO[bytes]) -> set[str]:
    """The lower-cased paths of every stream and storage in an OLE2 file."""
    import olefile
    with olefile.OleFileIO(f) as ole:
        return {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}


class LegacyOffice(FormatHandler):
    """Legacy binary Office files and password-protected Open XML documents: recognised, listed, never read."""

    id, container = "legacy_office", "ole2"
    unread = {**{kind: (_LEGACY[0], _LEGACY[1].format(kind)) for kind in ("doc", "xls", "ppt")},
              "encrypted": ("encrypted", "password-protected Office document: encrypted, not scanned")}

    @classmethod
    def probe(cls, f):
        streams = ole_streams(f)
        if "encryptedpackage" in streams or "encryptioninfo" in streams:
            return "encrypted"  # a password-protected docx/xlsx/pptx is an OLE2 wrapper around the encrypted package
        if "worddocument" in streams:
            return "doc"
        if "workbook" in streams or "book" in streams:
            return "xls"
        return "ppt" if "powerpoint document" in streams else None
