"""One table or sheet cell as one line of text, with what a numeric column did to an identifier put back."""
from __future__ import annotations


def cell_text(value) -> str:
    """A cell as one line; integers (and integral floats) also with the leading zero a numeric column lost."""
    if value is None or isinstance(value, (bytes, bytearray, memoryview)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        # A CPR/personnummer/kennitala stored as a number loses its leading 0 (9 digits left), a
        # fødselsnummer too (10 left): offer the padded form beside the number itself.
        if len(digits) in (9, 10):
            return f"{digits} | 0{digits}" if len(digits) == 10 else f"0{digits}"
        return digits
    text = str(value)
    return text.replace("\r", " ").replace("\n", " ") if ("\n" in text or "\r" in text) else text
