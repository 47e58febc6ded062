"""Masked evidence: enough for a person to find the value again, never the value itself."""
from __future__ import annotations


def national_id(head: str, sep: str) -> str:
    """Birth-date part kept, serial and check masked: 850412-****, 19850412-****, 010585 *****."""
    return f"{head}{sep or '-'}****"


def norwegian(digits: str) -> str:
    """DDMMYY followed by five masked digits."""
    return f"{digits[:6]} *****"


def card(digits: str) -> str:
    """Only the last four digits shown."""
    return "**** **** **** " + digits[-4:]


def iban(compact: str) -> str:
    """Country code and the last four characters shown."""
    return f"{compact[:2]}** **** … {compact[-4:]}"


def email(address: str) -> str:
    """First letter of the local part and the domain shown."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def generic(value: str) -> str:
    """Separators and the first two characters shown, every other letter and digit masked: XM-*******."""
    return value[:2] + "".join("*" if ch.isalnum() else ch for ch in value[2:])
