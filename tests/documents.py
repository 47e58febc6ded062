"""Fixture documents with known content, one real-world-shaped case per format (written by the libraries)."""
from __future__ import annotations

import io
import tarfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

from vendorscan.demo import documents as demo_documents

SE = "850412-1230"  # planted personnummer (checksum-valid, not a test number)
DK = "120485-1006"  # planted CPR
NO = "01058510072"  # planted fødselsnummer


def docx(path: Path) -> Path:
    """Body paragraph, a table cell, header, footer and a comment: each holds one planted id."""
    demo_documents.word(path, "Personalärende", [f"Den anställdes personnummer är {SE}."],
                        table=[["Namn", "CPR-nr"], ["Mads Nielsen", DK]],
                        header=f"Fødselsnummer {NO}", footer="Sida 1", comment=f"Kontrollera personnummer {SE}")
    return path


def xlsx(path: Path) -> Path:
    """Two sheets: ids as text, as a number (1204851006) and as a number that lost its leading 0."""
    demo_documents.excel(path, {
        "Personal": [["Namn", "Personnummer", "Avdelning"], ["Anna Lindqvist", SE, "IT"]],
        "CPR": [["Navn", "CPR"], ["Mads Nielsen", 1204851006], ["Freja Holm", 104851002]],
    })
    return path


def pptx(path: Path) -> Path:
    """A slide with an id in its text and another in the speaker notes."""
    from pptx import Presentation
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Ärendegenomgång"
    slide.placeholders[1].text = f"Klient med personnummer {SE}"
    slide.notes_slide.notes_text_frame.text = f"CPR-nr {DK} nævnt i mødet"
    deck.save(path)
    return path


def pdf(path: Path, pages: list[str]) -> Path:
    """A text PDF, one string per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        y = 800
        for line in text.splitlines():
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


def scanned_pdf(path: Path, png: Path) -> Path:
    """A PDF whose only page is an image (a scan): no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    from PIL import Image
    w, h = Image.open(png).size
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(str(png), 20, 400, width=w * 0.5, height=h * 0.5)
    c.showPage()
    c.save()
    return path


def case_screenshot(path: Path, cpr: list[str], pnr: list[str]) -> list:
    """A migration case list with five CPR numbers and five personnummer; returns each row's cell pixels."""
    names = ["Anna Jensen", "Mikkel Sørensen", "Fatima Ali", "Lars Nielsen", "Sofie Hansen", "Erik Svensson",
             "Amina Yusuf", "Karl Lindqvist", "Maja Berg", "Omar Hassan"]
    rows = [[n, v, f"UM-2024-{1000 + i}", "Under behandling"] for i, (n, v) in enumerate(zip(names, cpr + pnr))]
    return demo_documents.screenshot(path, "Ärendehantering — Migrationsärenden",
                                     ["Namn", "CPR-nr / personnummer", "Ärende", "Status"], rows,
                                     [240, 210, 230, 200])


def eml(path: Path, attachment: tuple[str, bytes] | None = None) -> Path:
    """A mail with ids in the subject, the plain body, the HTML body and (optionally) an attachment."""
    msg = EmailMessage()
    msg["From"] = "handlaggare@kommun-exempel.se"
    msg["To"] = "leverantor@example.com"
    msg["Subject"] = f"Ärende {SE}"
    msg["Message-ID"] = "<1@kommun-exempel.se>"
    msg.set_content(f"Hej,\nCPR-nr: {DK}\n")
    msg.add_alternative(f"<html><body><p>Fødselsnummer <b>{NO}</b></p></body></html>", subtype="html")
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(bytes(msg))
    return path


def msg(path: Path, attachment: tuple[str, bytes] | None = None) -> Path:
    """An Outlook .msg (MS-OXMSG in a compound file written by pycfb): ids in subject, body and attachment."""
    import struct
    import uuid

    from pycfb import CFBWriter

    def string(prop: int, text: str):
        data = text.encode("utf-16-le")
        return f"__substg1.0_{prop:04X}001F", data, struct.pack("<IIII", prop << 16 | 0x1F, 6, len(data) + 2, 0)

    def binary(prop: int, data: bytes):
        return f"__substg1.0_{prop:04X}0102", data, struct.pack("<IIII", prop << 16 | 0x102, 6, len(data), 0)

    def long(prop: int, value: int) -> bytes:
        return struct.pack("<IIiI", prop << 16 | 0x3, 6, value, 0)

    streams: dict[str, bytes | None] = {}

    def storage(prefix: str, header: bytes, props: list, fixed: bytes = b"") -> None:
        for name, data, _ in props:
            streams[prefix + name] = data
        streams[prefix + "__properties_version1.0"] = header + b"".join(e for _, _, e in props) + fixed

    attachments = [attachment] if attachment else []
    storage("", struct.pack("<8sIIII8s", b"\0" * 8, 1, len(attachments), 1, len(attachments), b"\0" * 8),
            [string(0x001A, "IPM.Note"), string(0x0037, f"Ärende {SE}"), string(0x1000, f"Hej,\nCPR-nr: {DK}\n"),
             string(0x0C1A, "Handläggare"), string(0x0E04, "leverantor@example.com")])
    storage("__recip_version1.0_#00000000/", b"\0" * 8,
            [string(0x3001, "leverantor@example.com"), string(0x39FE, "leverantor@example.com")], long(0x0C15, 1))
    for i, (name, data) in enumerate(attachments):
        storage(f"__attach_version1.0_#{i:08X}/", b"\0" * 8, [binary(0x3701, data), string(0x3707, name)],
                long(0x3705, 1))
    # The named-property map; compound-file readers reject empty streams, so it holds one numeric name.
    streams["__nameid_version1.0/__substg1.0_00020102"] = uuid.UUID("00020329-0000-0000-C000-000000000046").bytes_le
    streams["__nameid_version1.0/__substg1.0_00030102"] = struct.pack("<IHH", 0x8501, 3 << 1, 0)
    streams["__nameid_version1.0/__substg1.0_00040102"] = b"\0" * 8
    paths = sorted({p.split("/")[0] for p in streams if "/" in p}) + list(streams)
    data = [None if "/" not in p and p not in streams else streams[p] for p in paths]
    writer = CFBWriter(paths, data, uuid.UUID("00020D0B-0000-0000-C000-000000000046"))
    path.write_bytes(bytes(writer.data))
    return path


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    """A zip with the given members (deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def tar_gz_of(path: Path, members: dict[str, bytes]) -> Path:
    """A .tar.gz with the given members."""
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def zip_bomb(path: Path, expanded: int = 300 * 2**20) -> Path:
    """A small zip whose one member inflates to `expanded` bytes of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("zeros.txt", "w", force_zip64=True) as m:
            block = b"\0" * 2**20
            for _ in range(expanded // len(block)):
                m.write(block)
    return path


def encrypted_zip(path: Path) -> Path:
    """A zip whose member is flagged as encrypted (as `zip -P` writes it)."""
    zip_of(path, {"secret.txt": f"personnummer {SE}\n".encode()})
    data = bytearray(path.read_bytes())
    # General-purpose flag bit 0 in the local header (offset 6) and the central directory entry (offset 8).
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    return path


def nested_zip(path: Path, levels: int) -> Path:
    """A zip in a zip in a zip… `levels` deep, with an id at the bottom."""
    data = f"personnummer {SE}\n".encode()
    name = "bottom.txt"
    for level in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), f"level{levels - level}.zip"
    path.write_bytes(data)
    return path


def bytes_of(builder, name: str, tmp: Path, *args) -> bytes:
    """The bytes a builder writes (for archives and attachments)."""
    return builder(tmp / name, *args).read_bytes()
