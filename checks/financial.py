"""Card and IBAN rules: the scheme a card number belongs to, an IBAN's length and check digits."""
from __future__ import annotations

IBAN_LENGTHS = {"SE": 24, "DK": 18, "NO": 15, "FI": 18, "IS": 26, "DE": 22, "GB": 22, "FR": 27, "NL": 18,
                "BE": 16, "ES": 24, "IT": 27, "PL": 28, "EE": 20, "LV": 21, "LT": 20, "AT": 20, "CH": 21,
                "IE": 22, "PT": 25, "LU": 20, "GL": 18, "FO": 18}


def card_brand(digits: str) -> str | None:
    """The scheme whose prefix and length a card number has, or None."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (digits.startswith("6011") or p2 == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (p2 in (36, 38) or 300 <= int(digits[:3]) <= 305) and n == 14:
        return "diners"
    return None


def iban_ok(compact: str) -> bool:
    """The country's length and the ISO 13616 mod-97 check."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
