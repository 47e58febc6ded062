"""The connector contract itself: a connector that breaks a promise fails it (run on local paths, as a third
party's connector built on a built-in one would run it)."""
from contextlib import contextmanager
from dataclasses import replace

import pytest

from vendorscan.connector import ResourceError
from vendorscan.connectors.local import LocalConnector
from contract import ConnectorContract, Estate, context
from estates import DiskEstate


class WrongReason(LocalConnector):
    """Calls every failure a read error."""

    @contextmanager
    def open(self, resource):
        try:
            with super().open(resource) as f:
                yield f
        except ResourceError:
            raise ResourceError("read-error") from None


class Writable(LocalConnector):
    """Opens files for writing too."""

    @contextmanager
    def open(self, resource):
        with open(resource.uri[len("file://"):], "r+b") as f:
            yield f


class NoAccess(LocalConnector):
    """Leaves access out instead of saying why it is unknown."""

    def walk(self):
        for item in super().walk():
            yield replace(item, access=None) if hasattr(item, "access") else item


@pytest.mark.parametrize("cls, test, message", [
    (WrongReason, "test_vanished_resource_gives_its_reason", "reason 'read-error'"),
    (Writable, "test_every_resource_reads_and_nothing_changes", "stream is writable"),
    (NoAccess, "test_access_policies_have_the_common_shape", "unknown needs a reason"),
])
def test_a_connector_that_breaks_the_contract_fails_it(open_dir, cls, test, message):
    disk = DiskEstate(open_dir / "estate")
    estate = Estate(cls(LocalConnector.Options(paths=[str(disk.root)]), context()), set(disk.names), disk.delete,
                    disk.make_unreadable, disk.snapshot)
    with pytest.raises(AssertionError, match=message):
        getattr(ConnectorContract(), test)(estate)
