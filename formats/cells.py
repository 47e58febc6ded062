"""One table or sheet cell as one line of text, with what a numeric column did to an identifier put back."""
from __future__ import annotations

from decimal import Decimal


def id_width(values: list) -> int:
    """10 when most whole numbers of a column have 9 or 10 digits (ids that lost zeros keep the column's width)."""
    lengths = [len(str(n)) for n in map(_whole, values) if n is not None and n > 0]
    return 10 if lengths and sum(n in (9, 10) for n in lengths) * 2 >= len(lengths) else 0


def _whole(value) -> int | None:
    """The value as an int when it is a whole number (int, integral float or Decimal), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        try:
            return int(value) if value == int(value) and abs(value) < 10**15 else None
        except (ValueError, OverflowError, ArithmeticError):  # nan, inf
            return None
    return None


def cell_text(value, width: int = 0) -> str:
    """A cell as one line; integers (and integral floats) also with the leading zeros a numeric column lost.

    width: the digit count of the column's numbers (10 for a column of personnummer or CPR numbers): a
    shorter number in it lost its leading zeros (0007178486 stored as 7178486) and gets them back.
    """
    if value is None or isinstance(value, (bytes, bytearray, memoryview)):
        return ""
    whole = _whole(value)
    if whole is not None:
        value = whole
        digits = str(value)
        if width and 6 <= len(digits) < width - 1 and value > 0:
            return digits.rjust(width, "0")
        if width == 10 and len(digits) == 10:
            return digits  # a column of 10-digit ids: no 11-digit (Norwegian) reading of its numbers
        # A CPR/personnummer/kennitala stored as a number loses its leading 0 (9 digits left), a
        # fødselsnummer too (10 left): offer the padded form beside the number itself.
        if len(digits) in (9, 10):
            return f"{digits} | 0{digits}" if len(digits) == 10 else f"0{digits}"
        return digits
    text = str(value)
    return text.replace("\r", " ").replace("\n", " ") if ("\n" in text or "\r" in text) else text
