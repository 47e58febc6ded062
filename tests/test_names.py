"""agent.names: what is masked and found in names, and what ordinary names keep as they are."""
import pytest

from vendorscan.context import ScanContext, ValueHasher
from vendorscan.model import Resource
from vendorscan.agent.names import Names
from vendorscan.checks.identifiers import IdentifierCheck

HASHER = ValueHasher(b"k" * 32)
NAMES = Names([("identifiers", IdentifierCheck(), ScanContext("t", "production", HASHER))], HASHER)


@pytest.mark.parametrize("name, masked, kind", [
    ("lonespec-850412-1230.txt", "lonespec-850412-****.txt", "se.personnummer"),
    ("sag_120485-1006.png", "sag_120485-****.png", "dk.cpr"),
    ("arende-4713-120485-1006.png", "arende-4713-120485-****.png", "dk.cpr"),
    ("faktura 1204851006.pdf", "faktura 120485-****.pdf", "dk.cpr"),
    ("anna.lindqvist@kommun-exempel.se.txt", "a***@kommun-exempel.se.txt", "email"),
])
def test_identifiers_in_names_are_masked_and_found(name, masked, kind):
    assert NAMES.mask(name) == masked
    assert [h.kind for _, h in NAMES.hits(name)] == [kind]


@pytest.mark.parametrize("name", [  # camera, screenshot, backup, invoice and uuid names: none is an id
    "IMG_20240412_123456.jpg", "PXL_20231224_184512345.jpg", "Screenshot 2024-04-12 at 12.34.56.png",
    "invoice-2024-0412-1234.pdf", "backup_20240412.tar.gz", "2024-04-12_1230.log", "9781234567897.pdf",
    "00000000-0000-0000-0000-000000000000.json", "lonespec-850412-****.txt"])
def test_ordinary_names_are_left_as_they_are(name):
    assert NAMES.mask(name) == name
    assert not [h for _, h in NAMES.hits(name) if h.verdict.value == "real"]


def test_a_masked_uri_keeps_its_encoding_and_a_keyed_suffix_and_the_real_one_is_the_locator():
    r = Resource("file:///srv/hr%20data/lonespec-850412-1230.txt", "file", parent="file:///srv/hr%20data")
    found = NAMES.disguise(r)
    assert r.uri.startswith("file:///srv/hr%20data/lonespec-850412-****.txt#h=") and r.parent == "file:///srv/hr%20data"
    assert r.address == "file:///srv/hr%20data/lonespec-850412-1230.txt" and "locator" not in r.to_dict()
    assert [h.kind for _, h in found] == ["se.personnummer"]
    twin = Resource("file:///srv/hr%20data/lonespec-850412-5678.txt", "file", parent="file:///srv/hr%20data")
    NAMES.disguise(twin)
    assert twin.uri.split("#")[0] == r.uri.split("#")[0] and twin.uri != r.uri


def test_row_keys_are_masked_and_long_digit_runs_replaced_by_position():
    assert NAMES.row_key("anna.lindqvist@kommun-exempel.se", 3) == "a***@kommun-exempel.se"
    assert NAMES.row_key("4532 0151 1283 0366", 4) == "**** **** **** 0366"
    assert NAMES.row_key("A-123456", 5) == "#5" and NAMES.row_key("", 6) == "#6"
    assert NAMES.row_key("42", 7) == "42"
