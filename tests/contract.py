"""The connector contract: one set of tests that every connector passes against its own real server.

What it checks (the promises of vendorscan/connector.py):

- the class declares `id`, `version`, `scheme`, a docstring, `Options` and a boolean `thread_safe`;
- `walk()` yields only `Resource`s and `Skipped`s: uris in the connector's scheme, kinds from `KINDS`, the target
  set, sizes and times of the right types, a parent set and folders before their contents; a skip has a reason;
  every planted resource is walked;
- every access policy has the common shape (owner, grants with a `Scope`, rights among read/list/write/admin,
  a source), or says why it is unknown;
- every file or object opens read-only and reads as many bytes as its size; every table samples into columns
  and batches of rows that fit them; reading the whole estate leaves its content unchanged on the server;
- a resource that vanished between the walk and the read gives `ResourceError` "vanished" (or "not-found"), one
  the account may not read gives "permission-denied" (a connector whose server cannot be made to show that
  says why, and that one test is skipped with the reason; it never passes silently);
- a connector that declares `thread_safe` reads the same content from several threads at once.

A connector's test module (a third party's too) runs it by subclassing `ConnectorContract` with a
`contract_estate` fixture that plants a small estate on its real server and returns an `Estate`:

    from contract import ConnectorContract, Estate, context

    class TestMyContract(ConnectorContract):
        @pytest.fixture
        def contract_estate(self, my_server):
            plant(my_server, {"a.txt": b"...", "b.csv": b"..."})
            connector = MyConnector(MyConnector.Options(...), context())
            yield Estate(connector, {"a.txt", "b.csv"}, delete=lambda name: my_server.remove(name),
                         make_unreadable=lambda name: my_server.deny(name), snapshot=lambda: my_server.digests())
            connector.close()

This module imports only pytest and vendorscan's public kernel, so a third-party package can copy it into its
own tests unchanged.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, NamedTuple
from urllib.parse import unquote

import pytest

from vendorscan.connector import CONTAINER_KINDS, KINDS, STREAM_KINDS, TABLE_KINDS, Connector, TableSample
from vendorscan.context import ScanContext, ValueHasher
from vendorscan.errors import ResourceError
from vendorscan.model import AccessPolicy, Grant, Resource, Scope, Skipped

TARGET = "contract"
RIGHTS = frozenset({"read", "list", "write", "admin"})
GONE = {"vanished", "not-found"}


def context(target: str = TARGET) -> ScanContext:
    """The scan context a contract connector is built with."""
    return ScanContext(target, "test", ValueHasher(b"c" * 32))


class Estate(NamedTuple):
    """A small estate planted on a connector's real server, and the levers the contract pulls on it."""

    connector: Connector
    expected: set[str]  # names (last uri segment, unquoted) of the planted resources that hold content
    delete: Callable[[str], None]  # removes the planted resource of that name on the server
    make_unreadable: Callable[[str], None] | None  # makes it unreadable for the connector's account; None: cannot
    snapshot: Callable[[], dict] | None = None  # the server's own view of the content (e.g. digests), not read
    # through the connector; None: the contract compares what the connector reads before and after instead
    why_no_denial: str = ""  # why make_unreadable is None: what the server cannot be made to show


def name_of(uri: str) -> str:
    """The last segment of a uri, unquoted: the name a planted resource is known by."""
    return unquote(uri.rstrip("/").rsplit("/", 1)[-1])


def read(connector: Connector, resource: Resource) -> str:
    """Read a resource's whole content through the connector; a digest of what was read."""
    digest = hashlib.sha256()
    if resource.kind in TABLE_KINDS:
        sample = connector.sample(resource)
        assert isinstance(sample, TableSample), f"sample() gave {type(sample).__name__}, not a TableSample"
        assert sample.columns and all(isinstance(c, str) and c for c in sample.columns), sample.columns
        assert sample.total_rows is None or isinstance(sample.total_rows, int)
        digest.update(repr(sample.columns).encode())
        for keys, rows in sample.batches:
            assert len(keys) == len(rows) and all(isinstance(k, str) for k in keys)
            assert all(isinstance(row, tuple) and len(row) == len(sample.columns) for row in rows)
            digest.update(repr((keys, rows)).encode())
        return digest.hexdigest()
    with connector.open(resource) as stream:
        writable = getattr(stream, "writable", None)
        assert (not writable()) if callable(writable) else not hasattr(stream, "write"), "stream is writable"
        size = 0
        while block := stream.read(65536):
            assert isinstance(block, bytes), f"read() gave {type(block).__name__}, not bytes"
            size += len(block)
            digest.update(block)
    assert resource.size is None or size == resource.size, f"{resource.uri}: read {size} bytes of {resource.size}"
    return digest.hexdigest()


def readable(items) -> list[Resource]:
    """The walked resources that hold content (files, objects, tables)."""
    return [r for r in items if isinstance(r, Resource) and r.kind in STREAM_KINDS | TABLE_KINDS]


def read_error(connector: Connector, resource: Resource) -> ResourceError:
    """The ResourceError that reading `resource` raises (fails when it reads, or raises anything else)."""
    with pytest.raises(ResourceError) as caught:
        read(connector, resource)
    return caught.value


class ConnectorContract:
    """Subclass per connector (class TestXContract) with a `contract_estate` fixture returning an Estate."""

    @pytest.fixture
    def contract_estate(self) -> Estate:
        raise NotImplementedError("a connector's contract class provides contract_estate")

    @staticmethod
    def _walk(estate: Estate, unreadable: str = "") -> list:
        """The walk, which holds every planted resource (the one made unreadable may be a Skipped)."""
        items = list(estate.connector.walk())
        walked = {name_of(r.uri) for r in readable(items)}
        walked |= {name_of(s.uri) for s in items if isinstance(s, Skipped) and name_of(s.uri) == unreadable}
        assert estate.expected <= walked, f"planted but not walked: {sorted(estate.expected - walked)}"
        return items

    @staticmethod
    def _planted(items, name: str):
        found = [i for i in items if name_of(i.uri) == name and (isinstance(i, Skipped) or i.kind not in
                                                                 CONTAINER_KINDS)]
        assert len(found) == 1, f"{name}: walked {len(found)} times"
        return found[0]

    def test_declares_the_connector_protocol(self, contract_estate):
        cls = type(contract_estate.connector)
        assert issubclass(cls, Connector)
        for attr in ("id", "version", "scheme"):
            assert isinstance(getattr(cls, attr), str) and getattr(cls, attr), f"{cls.__name__}.{attr} is not set"
        assert (cls.__doc__ or "").strip(), "the docstring is what users see in the plugin list"
        assert isinstance(cls.Options, type)
        assert isinstance(cls.thread_safe, bool)
        assert isinstance(contract_estate.connector.weaknesses(), list)

    def test_walk_yields_typed_resources_and_skips(self, contract_estate):
        connector = contract_estate.connector
        prefix = f"{connector.scheme}://"
        items = self._walk(contract_estate)
        order = {r.uri: i for i, r in enumerate(items) if isinstance(r, Resource)}
        for i, item in enumerate(items):
            assert isinstance(item, (Resource, Skipped)), f"walk() gave a {type(item).__name__}"
            assert isinstance(item.uri, str) and item.uri.startswith(prefix), item.uri
            assert item.target == connector.ctx.target, item
            if isinstance(item, Skipped):
                assert isinstance(item.reason, str) and item.reason, f"{item.uri}: a skip without a reason"
                assert isinstance(item.detail, str), item
                continue
            assert item.kind in KINDS, f"{item.uri}: kind {item.kind!r} is not one of {sorted(KINDS)}"
            assert item.size is None or (type(item.size) is int and item.size >= 0), item
            assert not (item.kind in STREAM_KINDS and item.size is None), f"{item.uri}: a file without a size"
            assert item.modified is None or type(item.modified) in (int, float), item
            assert item.etag is None or isinstance(item.etag, str), item
            assert isinstance(item.parent, str) and item.parent, f"{item.uri}: no parent"
            assert order.get(item.parent, -1) < i, f"{item.uri} came before its parent {item.parent}"

    def test_access_policies_have_the_common_shape(self, contract_estate):
        for r in self._walk(contract_estate):
            if not isinstance(r, Resource):
                continue
            policy = r.access
            assert isinstance(policy, AccessPolicy), f"{r.uri}: access is {policy!r}; unknown needs a reason"
            assert policy.owner is None or isinstance(policy.owner, str)
            assert policy.unknown_reason is None or (isinstance(policy.unknown_reason, str) and policy.unknown_reason)
            assert isinstance(policy.grants, tuple)
            if not policy.grants and policy.owner is None:
                assert policy.unknown_reason, f"{r.uri}: no owner, no grants and no reason why"
            for g in policy.grants:
                assert isinstance(g, Grant) and isinstance(g.principal, str) and g.principal, (r.uri, g)
                assert isinstance(g.scope, Scope), (r.uri, g)
                assert isinstance(g.rights, frozenset) and g.rights and g.rights <= RIGHTS, (r.uri, g)
                assert isinstance(g.source, str) and g.source, (r.uri, g)
                assert isinstance(g.inherited, bool) and isinstance(g.effective, bool), (r.uri, g)
            policy.to_dict()  # reports and state take it in this form

    def test_every_resource_reads_and_nothing_changes(self, contract_estate):
        connector, snapshot = contract_estate.connector, contract_estate.snapshot
        before = snapshot() if snapshot else None
        resources = readable(self._walk(contract_estate))
        first = {r.uri: read(connector, r) for r in resources}
        again = {r.uri: read(connector, r) for r in readable(self._walk(contract_estate))}
        assert again == first, "a second walk and read saw other resources or other content"
        if connector.thread_safe:  # the worker then reads a unit's resources in several threads at once
            with ThreadPoolExecutor(max_workers=4) as pool:
                together = list(pool.map(lambda r: read(connector, r), resources * 4))
            assert together == [first[r.uri] for r in resources * 4], "reads in several threads at once differ"
        if snapshot:
            assert snapshot() == before, "the server's content changed while the connector walked and read it"

    def test_vanished_resource_gives_its_reason(self, contract_estate):
        name = sorted(contract_estate.expected)[0]
        items = self._walk(contract_estate)
        resource = self._planted(items, name)
        contract_estate.delete(name)
        reason = read_error(contract_estate.connector, resource).reason
        assert reason in GONE, f"{name} deleted after the walk: reason {reason!r}, not one of {sorted(GONE)}"
        for other in readable(items):  # the connector still reads the rest
            if name_of(other.uri) != name:
                read(contract_estate.connector, other)
        assert name not in {name_of(r.uri) for r in readable(contract_estate.connector.walk())}

    def test_permission_denied_gives_its_reason(self, contract_estate):
        connector = contract_estate.connector
        if contract_estate.make_unreadable is None:
            assert contract_estate.why_no_denial, "an estate that cannot deny a read must say why"
            pytest.skip(f"{connector.id}: {contract_estate.why_no_denial}")
        name = sorted(contract_estate.expected)[-1]
        contract_estate.make_unreadable(name)
        item = self._planted(self._walk(contract_estate, unreadable=name), name)
        reason = item.reason if isinstance(item, Skipped) else read_error(connector, item).reason
        assert reason == "permission-denied", f"{name} made unreadable: reason {reason!r}"
