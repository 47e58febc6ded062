"""Saved e-mail: .eml (MIME) and Outlook .msg — headers, bodies, and attachments read as files of their own."""
from __future__ import annotations

import binascii
import io
import tempfile
from email import policy
from email.feedparser import BytesFeedParser
from html.parser import HTMLParser
from typing import IO, Iterator

from vendorscan.format import FormatHandler, Item, Nested, Problem, Segment, read_all
from vendorscan.formats.ole import ole_streams
from vendorscan.model import Location

_HEADERS = ("From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date")


class Eml(FormatHandler):
    """Saved mail (.eml, MIME): headers, text parts, and attachments read as files of their own."""

    id, kinds, switch, textual = "eml", ("eml",), "documents", True

    @classmethod
    def sniff(cls, head, name):
        return "eml" if _looks_like_mail(head, name) else None

    def read(self, f, kind, **kw):
        return read_eml(f, **kw)


class Msg(FormatHandler):
    """Outlook .msg (an OLE2 file): sender, recipients, subject, body and attachments."""

    id, kinds, seekable, switch, container = "msg", ("msg",), True, "documents", "ole2"
    extensions = {".msg": "msg"}

    @classmethod
    def probe(cls, f):
        return "msg" if "__properties_version1.0" in ole_streams(f) else None

    def read(self, f, kind, **kw):
        return read_msg(f, **kw)


_ALWAYS = (b"received:", b"return-path:", b"mime-version:", b"message-id:")  # one of these a mail always has
_SENDER = (b"from:", b"subject:")


def _looks_like_mail(head: bytes, name: str) -> bool:
    if name.lower().endswith((".eml", ".mht", ".mhtml")):
        return True
    block = head[:4096].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0].lower()
    # The names mail always has, looked for first: log lines ("2024-05-01T12:00:00Z …") pass the header test
    # below line by line, through the whole block.
    if not (any(field in block for field in _SENDER) and any(field in block for field in _ALWAYS)):
        return False
    lines = [ln for ln in block.splitlines() if ln and not ln[:1].isspace()]
    # A header block: every line a header, and the ones mail always has.
    return (len(lines) >= 3 and all(ln.split(b":", 1)[0].replace(b"-", b"").isalnum() and b":" in ln for ln in lines)
            and any(ln.startswith(_ALWAYS) for ln in lines) and any(ln.startswith(_SENDER) for ln in lines))


def read_eml(f: IO[bytes], **_) -> Iterator[Item]:
    """Address and subject headers, every text part, every attachment (nested .eml included)."""
    # Fed in blocks: never the whole file as bytes and again as text beside the parsed message.
    parser = BytesFeedParser(policy=policy.default)
    while block := f.read(2**20):
        parser.feed(block)
    yield from _message(parser.close())


def _message(msg) -> Iterator[Item]:
    headers = [f"{h}: {v}" for h in _HEADERS for v in (msg.get_all(h) or [])]
    if headers:
        yield Segment("\n".join(headers), Location(section="headers"))
    n_attachment = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        if filename is None and ctype in ("text/plain", "text/html"):
            text = _text(part)
            if text.strip():
                yield Segment(_strip_html(text) if ctype == "text/html" else text,
                              Location(section="body" if ctype == "text/plain" else "body (html)"))
            continue
        n_attachment += 1
        name = filename or f"attachment-{n_attachment}"
        # Decoded when it is read, and its encoded text let go once it has been: one attachment at a time.
        yield Nested(name, lambda part=part: _decoded(part), None, None)
        part.set_payload("")


def _decoded(part) -> IO[bytes]:
    """An attachment's content; a base64 one decoded block by block into a private temp file (0600, deleted on
    close), so that a large one is never in memory twice beside its encoded text."""
    payload = part.get_payload()
    if not isinstance(payload, str) or str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
        return io.BytesIO(part.get_payload(decode=True) or b"")
    out = tempfile.TemporaryFile(prefix="vendorscan-")
    try:
        at = 0
        while at < len(payload):
            end = payload.find("\n", at + 2**20) + 1 or len(payload)  # whole lines: whole groups of 4
            out.write(binascii.a2b_base64(payload[at:end]))
            at = end
    except (binascii.Error, ValueError):  # lines that split groups of 4: the library's lenient decoder
        out.close()
        return io.BytesIO(part.get_payload(decode=True) or b"")
    out.seek(0)
    return out


def _text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "td", "th", "h1", "h2", "h3"):
            self.parts.append("\n" if tag != "td" and tag != "th" else "\t")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _strip_html(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def read_msg(f: IO[bytes], **_) -> Iterator[Item]:
    """Outlook .msg: sender, recipients, subject, body and attachments."""
    try:
        import extract_msg
    except ImportError:
        yield Problem("format-unavailable", "msg: Outlook .msg needs the optional reader: install vendorscan[msg]")
        return
    msg = extract_msg.openMsg(read_all(f))
    try:
        headers = [f"{label}: {value}" for label, value in (("From", msg.sender), ("To", msg.to), ("Cc", msg.cc),
                                                            ("Subject", msg.subject)) if value]
        if headers:
            yield Segment("\n".join(headers), Location(section="headers"))
        body = msg.body or ""
        if not body.strip() and getattr(msg, "htmlBody", None):
            body = _strip_html(msg.htmlBody.decode("utf-8", "replace"))
        if body.strip():
            yield Segment(body, Location(section="body"))
        for n, att in enumerate(msg.attachments, 1):
            data = getattr(att, "data", None)
            name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or f"attachment-{n}"
            if isinstance(data, bytes):
                yield Nested(name, lambda data=data: io.BytesIO(data), len(data), None)
            elif data is not None and hasattr(data, "exportBytes"):  # an embedded .msg
                yield Nested(f"{name}.msg", lambda d=data: io.BytesIO(d.exportBytes()), None, None)
    finally:
        msg.close()
