"""Names, remediation and references for every kind of finding a check can report."""
from __future__ import annotations

NAMES = {
    "se.personnummer": "Swedish personnummer",
    "se.samordningsnummer": "Swedish samordningsnummer",
    "dk.cpr": "Danish CPR number",
    "no.fodselsnummer": "Norwegian fødselsnummer",
    "no.dnummer": "Norwegian D-number",
    "no.hnummer": "Norwegian H-number",
    "fi.hetu": "Finnish henkilötunnus",
    "is.kennitala": "Icelandic kennitala",
    "nordic.national_id": "Nordic national identifier",
    "email": "E-mail address",
    "iban": "IBAN bank account number",
    "card": "Payment card number",
    "special.health": "Health data terms (GDPR Art. 9)",
    "special.ethnicity": "Ethnic origin or migration terms (GDPR Art. 9)",
    "special.religion": "Religious or philosophical belief terms (GDPR Art. 9)",
    "special.union": "Trade-union membership terms (GDPR Art. 9)",
    "special.sexuality": "Sex life or sexual orientation terms (GDPR Art. 9)",
    "special.criminal": "Criminal records terms (GDPR Art. 10)",
    "special.welfare": "Social welfare terms (sensitive under national law)",
}

VERDICT_SUFFIX = {"real": "", "test": " (official test number)", "masked": " (masked)"}

REMEDIATION = {
    "national_id": ("Remove the identifiers or replace them with pseudonyms; where the copy is needed, "
                    "restrict it to the people who process it under the contract and log access."),
    "contact": "Remove contact data that the contract does not need, or restrict who can read it.",
    "financial": "Remove account and card numbers; card data must never be stored outside a PCI DSS scope.",
    "special_category": ("Special-category data needs an Art. 9 basis and the strictest access: confirm the "
                         "basis, remove what is not needed, and restrict access to named staff."),
}
TEST_REMEDIATION = "None needed: official test numbers are not personal data. Counted for coverage."
MASKED_REMEDIATION = "None needed: masked values show that redaction works."

REFERENCES = {
    "national_id": ("GDPR Art. 5(1)(c)", "GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32", "GDPR Art. 87"),
    "contact": ("GDPR Art. 5(1)(c)", "GDPR Art. 32"),
    "financial": ("GDPR Art. 32", "PCI DSS 3.4"),
    "special_category": ("GDPR Art. 9", "GDPR Art. 10", "GDPR Art. 32"),
}


_CATEGORY = {"email": "contact", "iban": "financial", "card": "financial"}


def describe_hit(cls, kind: str, verdict: str) -> tuple[str, str, tuple[str, ...]]:
    """ContentCheck.describe of the built-in content checks: by kind, with its category's remediation."""
    category = "special_category" if kind.startswith("special.") else _CATEGORY.get(kind, "national_id")
    return describe(kind, verdict, category)


def describe(kind: str, verdict: str, category: str) -> tuple[str, str, tuple[str, ...]]:
    """Title, remediation and references of a data finding."""
    title = NAMES.get(kind, kind) + VERDICT_SUFFIX.get(verdict, "")
    if verdict == "test":
        return title, TEST_REMEDIATION, ()
    if verdict == "masked":
        return title, MASKED_REMEDIATION, ()
    return title, REMEDIATION.get(category, ""), REFERENCES.get(category, ())
