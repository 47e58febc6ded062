"""Which kind of OLE2 compound file this is: Outlook mail, legacy Office, or an encrypted Open XML document."""
from __future__ import annotations

from typing import IO


def ole_kind(f: IO[bytes]) -> str:
    """msg, doc, xls, ppt, encrypted, or ole2 (something else) from the streams inside the file."""
    import olefile
    with olefile.OleFileIO(f) as ole:
        streams = {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}
    f.seek(0)
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        return "encrypted"  # a password-protected docx/xlsx/pptx is an OLE2 wrapper around the encrypted package
    if "__properties_version1.0" in streams:
        return "msg"
    if "worddocument" in streams:
        return "doc"
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "powerpoint document" in streams:
        return "ppt"
    return "ole2"
