"""Titles, remediation and references of data findings (the names come from each check's own table)."""
from __future__ import annotations

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


def describe(name: str, verdict: str, category: str) -> tuple[str, str, tuple[str, ...]]:
    """Title, remediation and references of a data finding, from its kind's name and category."""
    title = name + VERDICT_SUFFIX.get(verdict, "")
    if verdict == "test":
        return title, TEST_REMEDIATION, ()
    if verdict == "masked":
        return title, MASKED_REMEDIATION, ()
    return title, REMEDIATION.get(category, ""), REFERENCES.get(category, ())
