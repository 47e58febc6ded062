"""Content typing of text-like heads: saved mail, mbox and SQL dumps told apart from logs and key: value text."""
import pytest

from vendorscan.formats.extract import kind_of

from documents import eml

LOG = b"".join(b"2024-05-01T12:%02d:00Z INFO req=%d took 12ms\n" % (i % 60, i) for i in range(400))
MAIL = (b"Received: from mx.kommun.se\nFrom: a@kommun.se\nTo: b@example.com\nSubject: Sjukskrivning\n"
        b"Message-ID: <1@kommun.se>\n\nHej,\npersonnummer 850412-1230\n")


@pytest.mark.parametrize("head, name, kind", [
    (LOG, "app.log", "text"),  # every line passes the header test; no mail field
    (LOG.replace(b"INFO", b"INFO from: x message-id: y", 3), "app.log", "text"),  # the fields, not at line starts
    (LOG[:LOG.index(b"\n", 2000) + 1] + b"From: a@b.se\nMessage-ID: <1@b>\n", "app.log", "eml"),  # as it always was
    (b"Key: value\n" * 3 + b"hello world\nFrom: x\nMessage-ID: y\n", "notes.txt", "text"),  # a line no header
    (MAIL, "message", "eml"),
    (MAIL.replace(b"\n", b"\r\n"), "message", "eml"),
    (MAIL.replace(b"To: b@example.com\n", b"To: b@example.com,\n  c@example.com\n"), "message", "eml"),  # folded
    (b"Return-Path: <a@b.se>\nSubject: hi\nX-Mailer: x\n\n" + LOG, "message", "eml"),  # a body of log lines
    (b"Message-ID: <1@b>\nFrom: a@b.se\n\nbody\n", "message", "text"),  # two headers are not a header block
    (b"X-Log: " + b"x" * 4096 + b"\nFrom: a@b.se\nMessage-ID: <1@b>\n", "message", "text"),  # beyond 4 KiB
    (LOG, "saved.eml", "eml"),  # the name decides
    (b"From a@b.se Mon Jan  1 10:00:00 2024\n" + MAIL, "archive", "mbox"),
    (b"-- PostgreSQL database dump\n\nCOPY public.staff (id) FROM stdin;\n1\n\\.\n", "dump.sql", "sqldump"),
])
def test_text_heads_typed(head, name, kind):
    assert kind_of(head, name)[0] == kind


def test_a_saved_mail_without_its_extension(tmp_path):
    assert kind_of(eml(tmp_path / "m").read_bytes(), "m") == ("eml", "utf-8")
