"""Local connector and access check on real files: chmod, setfacl, FIFOs, symlinks, another user."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path


from agent.context import ScanContext, ValueHasher
from agent.model import Resource, Scope, Skipped
from checks.access import AccessCheck
from connectors.local import LocalConnector, path_of
from conftest import load_json, run_cli

CTX = ScanContext("t", "production", ValueHasher(b"k" * 32))


def walk(*paths, **opts):
    conn = LocalConnector(LocalConnector.Options(paths=[str(p) for p in paths], **opts), CTX)
    items = list(conn.walk())
    return conn, {path_of(i.uri): i for i in items}


def grants(resource, scope):
    return [g for g in resource.access.grants if g.scope == scope]


def test_world_readable_file_under_private_folder_is_not_effective(open_dir):
    private = open_dir / "private"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    f = private / "ids.csv"
    f.write_text("x")
    os.chmod(f, 0o644)
    _, items = walk(open_dir)
    other = grants(items[str(f)], Scope.EVERYONE)
    assert other and not other[0].effective and "lacks o+x" in other[0].note
    assert list(AccessCheck().evaluate(items[str(f)], CTX)) == []


def test_world_readable_file_in_open_tree_is_broad(open_dir):
    f = open_dir / "export.csv"
    f.write_text("x")
    os.chmod(f, 0o644)
    _, items = walk(f)
    other = grants(items[str(f)], Scope.EVERYONE)
    assert other[0].effective and other[0].rights == {"read"}
    found = list(AccessCheck().evaluate(items[str(f)], CTX))
    assert [x.kind for x in found] == ["access.read.everyone"]


def test_acl_mask_limits_named_group_and_broad_group_is_organisation(open_dir):
    f = open_dir / "acl.txt"
    f.write_text("x")
    os.chmod(f, 0o600)
    subprocess.run(["setfacl", "-m", "g:users:rw,m::r", str(f)], check=True)
    _, items = walk(f)
    users = [g for g in items[str(f)].access.grants if g.principal == "group users"]
    assert users and users[0].scope == Scope.ORGANISATION and users[0].rights == {"read"}  # mask drops w
    assert users[0].source == "posix-acl"
    subprocess.run(["setfacl", "-m", "m::-", str(f)], check=True)
    _, items = walk(f)
    assert not [g for g in items[str(f)].access.grants if g.principal == "group users"]


def test_default_acl_on_folder_is_reported(open_dir):
    d = open_dir / "share"
    d.mkdir()
    os.chmod(d, 0o750)
    subprocess.run(["setfacl", "-d", "-m", "o:r", str(d)], check=True)
    _, items = walk(d)
    notes = [g.note for g in items[str(d)].access.grants]
    assert any("default ACL" in n for n in notes)


def test_folder_rolls_up_children(open_dir):
    d = open_dir / "open"
    d.mkdir()
    os.chmod(d, 0o755)
    for i in range(50):
        (d / f"f{i:02d}.txt").write_text("x")
        os.chmod(d / f"f{i:02d}.txt", 0o644)
    (d / "secret.txt").write_text("x")
    os.chmod(d / "secret.txt", 0o600)
    conn, _ = walk(d)
    check = AccessCheck()
    found = [f for r in conn.walk() if isinstance(r, Resource) for f in check.evaluate(r, CTX)]
    found += list(check.finish(CTX))
    assert len(found) == 1
    assert found[0].count == 51 and found[0].details["children_covered"] == 50
    assert found[0].resource.endswith("/open")


def test_writable_by_everyone_is_flagged_but_sticky_dirs_are_not(open_dir):
    d = open_dir / "dropbox"
    d.mkdir()
    os.chmod(d, 0o777)
    sticky = open_dir / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    _, items = walk(d, sticky)
    assert "write" in grants(items[str(d)], Scope.EVERYONE)[0].rights
    assert "write" not in grants(items[str(sticky)], Scope.EVERYONE)[0].rights


def test_symlinks_fifos_and_missing_paths_are_skipped_with_reasons(open_dir):
    d = open_dir / "odd"
    d.mkdir()
    (d / "real.txt").write_text("x")
    os.symlink(d / "real.txt", d / "link.txt")
    os.mkfifo(d / "pipe")
    _, items = walk(d, open_dir / "missing")
    reasons = {Path(p).name: i.reason for p, i in items.items() if isinstance(i, Skipped)}
    assert reasons == {"link.txt": "symlink", "pipe": "special-file", "missing": "not-found"}


def test_symlink_loop_when_following(open_dir):
    d = open_dir / "loop"
    d.mkdir()
    os.symlink(d, d / "again")
    _, items = walk(d, follow_symlinks=True)
    assert [i.reason for i in items.values() if isinstance(i, Skipped)] == ["symlink-loop"]


def test_permission_denied_is_reported_for_an_unprivileged_auditor(open_dir):
    # Root reads everything, so the walk runs as 'nobody' to meet a folder it cannot list.
    d = open_dir / "tree"
    (d / "closed").mkdir(parents=True)
    os.chmod(d, 0o755)
    os.chmod(d / "closed", 0o700)
    code = ("import json,sys; from agent.context import *; from connectors.local import LocalConnector as L; "
            "c=L(L.Options(paths=[sys.argv[1]]), ScanContext('t','production',ValueHasher(b'k'*32))); "
            "print(json.dumps([getattr(i,'reason',None) for i in c.walk()]))")
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                           code, str(d)], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "permission-denied" in proc.stdout


def test_walk_and_read_change_nothing(open_dir):
    d = open_dir / "ro"
    d.mkdir()
    for i in range(5):
        (d / f"{i}.txt").write_text(f"personnummer 850412-123{i}\n" * 100)
    os.utime(d / "0.txt", (1_600_000_000, 1_600_000_000))

    def content(p):
        fd = os.open(p, os.O_RDONLY | os.O_NOATIME)  # the test's own reads must not touch atimes either
        with os.fdopen(fd, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def snapshot():
        return {p.name: (p.stat().st_mtime_ns, p.stat().st_atime_ns, content(p)) for p in sorted(d.iterdir())}

    before = snapshot()
    conn, items = walk(d)
    for r in items.values():
        if isinstance(r, Resource) and r.kind == "file":
            with conn.open(r) as f:
                assert f.read()
    after = snapshot()
    assert after == before  # content, mtimes and atimes (the connector opens with O_NOATIME)


def test_a_name_that_is_not_utf8_is_scanned_percent_encoded_and_the_walk_goes_on(open_dir, tmp_path):
    """One bad byte in a name once ended the whole target (UnicodeEncodeError): siblings were never walked."""
    root = open_dir / "names"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    bad = os.fsencode(str(root / "a")) + b"/l\xf6ner-\xff.csv"  # Latin-1 bytes, as an old Windows share leaves them
    with open(bad, "wb") as f:
        f.write(b"personnummer 850412-1230\n")
    (root / "b" / "after.csv").write_text("CPR-nr: 120485-1006\n")
    for p in (root, root / "a", root / "b"):
        os.chmod(p, 0o755)
    proc = run_cli("scan", root, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet", "--workers", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # findings, and complete
    report = load_json(tmp_path / "o" / "report.json")
    found = {f["resource"].rsplit("/", 1)[1]: f["kind"] for f in report["findings"] if f["check_id"] == "identifiers"}
    assert found == {"l%F6ner-%FF.csv": "se.personnummer", "after.csv": "dk.cpr"}
    assert report["skipped"] == [] and report["targets"][0]["complete"]
    conn = LocalConnector(LocalConnector.Options(paths=[str(root)]), CTX)
    item = next(i for i in conn.walk() if i.uri.endswith("%FF.csv"))
    with conn.open(item) as f:  # the real bytes path is opened, not a look-alike
        assert f.read() == b"personnummer 850412-1230\n"
