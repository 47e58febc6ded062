"""Rich Text Format: the text of an .rtf file (striprtf), paragraph by paragraph."""
from __future__ import annotations

from vendorscan.format import FormatHandler
from vendorscan.formats.office import paragraph_segments
from vendorscan.model import Location

MAX_RTF = 256 * 2**20  # striprtf reads a whole document: a bigger one is listed as too large


class Rtf(FormatHandler):
    """RTF documents (Word's and WordPad's exchange format): its text with paragraph locations."""

    id, kinds, switch = "rtf", ("rtf",), "documents"
    magic = ((b"{\\rtf", "rtf"),)
    extensions = {".rtf": "rtf"}

    def read(self, f, kind, *, settings, budget, **_):
        from striprtf.striprtf import rtf_to_text
        from vendorscan.format import Problem
        limit = min(MAX_RTF, int(settings.max_expanded_size))
        data = f.read(limit + 1)
        if len(data) > limit:
            yield Problem("too-large", f"rtf document over {limit} bytes: not read")
            return
        # Control words in RTF are ASCII; text outside \\'xx and \\u escapes is in the document's code page.
        text = rtf_to_text(data.decode("cp1252", "replace"), errors="replace")
        yield from paragraph_segments(text.split("\n"), Location(section="body"))
