"""OLE2 compound files: the streams inside one, and the legacy Office and encrypted documents recognised by them."""
from __future__ import annotations

from typing import IO

from vendorscan.format import FormatHandler


def ole_streams(f: IO[bytes]) -> set[str]:
    """The lower-cased paths of every stream and storage in an OLE2 file."""
    import olefile
    with olefile.OleFileIO(f) as ole:
        return {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}


class LegacyOffice(FormatHandler):
    """Legacy binary Office files (.xls by sheet and cell, .doc and .ppt text); password-protected Open XML listed."""

    id, container, seekable, switch = "legacy_office", "ole2", True, "documents"
    version = "2"
    kinds = ("xls", "doc", "ppt")
    extensions = {".xls": "xls", ".doc": "doc", ".ppt": "ppt"}
    unread = {"encrypted": ("encrypted", "password-protected Office document: encrypted, not scanned")}

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

    def read(self, f, kind, **kw):
        from vendorscan.formats import legacy
        return legacy.READERS[kind](f, **kw)
