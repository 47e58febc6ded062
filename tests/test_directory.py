"""Breadth measured, not guessed: directory groups resolved to the enabled accounts they reach.

Against a real Samba AD domain controller (tests/samba_ad.py): nested groups, a primary group, disabled accounts,
a cycle, a foreign security principal and a group of 3,000 accounts; the ministry case rebuilt on the DC's own
SMB share, its folder DACLs naming those groups' SIDs.
"""
import os
import random

import pytest

import samba_ad
import servers
from conftest import load_json, run_cli
from vendorscan.checks import synth
from vendorscan.demo import documents
from vendorscan.directory import (BREADTH_DIRECTORY, BREADTH_NAMES, BREADTH_UNREACHABLE, Breadth, Directory,
                                  DirectoryError, Reach, Thresholds)
from vendorscan.model import AccessPolicy, Grant, Scope

pytestmark = pytest.mark.server
READ, FULL, INHERIT = 0x1200A9, 0x1F01FF, 0x3  # FILE_GENERIC_READ|EXECUTE, full control, OI|CI
FOREIGN_SID = "S-1-5-21-1111-2222-3333-1001"
PW_ENV = "VS_TEST_AD_PASSWORD"


def _spec() -> dict:
    staff = [samba_ad.user(f"emp{i:04d}") for i in range(3000)]
    team = [samba_ad.user(f"case{i}") for i in range(4)]
    gone = samba_ad.user("gone1", disabled=True)
    loop_a, loop_b = samba_ad.user("loop1"), samba_ad.user("loop2")
    konsulenter = samba_ad.group("SG-Konsulenter", staff[:2000])
    alle = samba_ad.group("SG-Alle-Medarbejdere", staff[2000:] + [konsulenter])
    sagsteam = samba_ad.group("Sagsteam", team + [gone])
    a = samba_ad.group("Loop-A", [loop_a])
    b = samba_ad.group("Loop-B", [loop_b, a])
    a["members"].append(b)  # A contains B contains A
    partners = samba_ad.group("Partners", [team[0], {"sid": FOREIGN_SID}])
    return {"ous": ["Staff", "Groups"], "users": staff + team + [gone, loop_a, loop_b],
            "groups": [konsulenter, alle, sagsteam, a, b, partners]}


@pytest.fixture(scope="module")
def dc():
    controller = samba_ad.start(_spec())
    yield controller
    samba_ad.stop(controller)


@pytest.fixture
def directory(dc, monkeypatch):
    from vendorscan.connectors.ldapdir import LdapDirectory
    monkeypatch.setenv(PW_ENV, dc.password)
    d = LdapDirectory(_options(dc), "corp")
    yield d
    d.close()


def _options(dc, **over):
    from vendorscan.connectors.ldapdir import LdapDirectory
    return LdapDirectory.Options(**{"url": "ldaps://127.0.0.1:636", "base_dn": samba_ad.BASE_DN,
                                    "bind_dn": f"Administrator@{samba_ad.REALM.lower()}", "password_env": PW_ENV,
                                    "ca_file": str(dc.ca_file), "server_name": dc.server_name, **over})


# -- the directory's answers --

def test_nested_groups_count_each_enabled_account_once_and_show_the_path(directory, dc):
    alle = directory.reach(dc.sids["SG-Alle-Medarbejdere"])  # by SID, as a DACL names it
    assert (alle.kind, alle.accounts, alle.via) == ("group", 3000, ("SG-Alle-Medarbejdere", "SG-Konsulenter"))
    assert directory.reach("AUDIT\\SG-Konsulenter").accounts == 2000


def test_disabled_accounts_are_left_out_and_primary_groups_counted(directory, dc):
    team = directory.reach("Sagsteam")
    assert team.accounts == 4  # gone1 is a member, but disabled
    total = directory.enabled_accounts()
    assert total == 3000 + 4 + 2 + 2  # staff, team, loop users; Administrator and dns-HOST, which provision made
    domain_users = directory.reach(dc.sids["Domain Users"])  # nobody is a member: primaryGroupID 513 for all
    assert domain_users.accounts == total
    gone = directory.reach("gone1")
    assert (gone.kind, gone.accounts) == ("user", 0) and "disabled" in gone.note


def test_a_group_cycle_ends_and_a_foreign_principal_is_noted(directory):
    assert directory.reach("Loop-A").accounts == 2 and directory.reach("Loop-B").accounts == 2
    partners = directory.reach("Partners")
    assert partners.accounts == 1 and "1 foreign security principal" in partners.note


def test_a_wrong_password_or_certificate_name_is_a_directory_error_saying_what_to_fix(dc, monkeypatch):
    from vendorscan.connectors.ldapdir import LdapDirectory
    monkeypatch.setenv(PW_ENV, "not-the-password")
    with pytest.raises(DirectoryError, match=f"bind as .* refused .*{PW_ENV}"):
        LdapDirectory(_options(dc), "corp").enabled_accounts()
    monkeypatch.setenv(PW_ENV, dc.password)
    with pytest.raises(DirectoryError, match="TLS certificate was not accepted"):
        LdapDirectory(_options(dc, server_name="someone-else.audit.test"), "corp").enabled_accounts()
    monkeypatch.delenv(PW_ENV)
    with pytest.raises(DirectoryError, match=f"{PW_ENV} .* is not set"):
        LdapDirectory(_options(dc), "corp").enabled_accounts()


def test_a_plain_ldap_url_without_starttls_is_refused_before_any_connection(dc):
    with pytest.raises(ValueError, match="needs starttls"):
        _options(dc, url="ldap://127.0.0.1:389")


# -- scope from numbers --

class _Fixed(Directory):
    id = "fixed"

    def __init__(self, sizes, total, fail=False):
        super().__init__(Thresholds(), "fixed")
        self.sizes, self.total, self.fail = sizes, total, fail

    def enabled_accounts(self):
        if self.fail:
            raise DirectoryError("cannot reach ldaps://dc.example:636: connection refused")
        return self.total

    def reach(self, principal):
        n = self.sizes.get(principal)
        return None if n is None else Reach(principal, "group", principal, n, (principal,))


@pytest.mark.parametrize("accounts, scope", [(4, Scope.GROUP), (99, Scope.GROUP), (100, Scope.ORGANISATION),
                                             (2500, Scope.ORGANISATION), (9000, Scope.EVERYONE)])
def test_a_grant_gets_its_scope_from_the_accounts_it_reaches(accounts, scope):
    breadth = Breadth(_Fixed({"G": accounts}, total=10000))
    [g] = breadth.policy(AccessPolicy("o", (Grant("G", Scope.GROUP, frozenset({"read"}), "ntfs-dacl"),))).grants
    assert (g.scope, g.accounts, g.breadth) == (scope, accounts, BREADTH_DIRECTORY)


def test_a_small_domain_counts_a_fifth_of_it_as_the_organisation():
    breadth = Breadth(_Fixed({"G": 30}, total=120))
    [g] = breadth.policy(AccessPolicy("o", (Grant("G", Scope.GROUP, frozenset({"read"}), "x"),))).grants
    assert g.scope == Scope.ORGANISATION


def test_an_unreachable_directory_leaves_breadth_unknown_and_never_narrow():
    breadth = Breadth(_Fixed({}, total=0, fail=True))
    grants = (Grant("Sagsteam", Scope.GROUP, frozenset({"read"}), "x"), Grant("alice", Scope.USER, frozenset({"read"}), "x"))
    team, alice = breadth.policy(AccessPolicy("o", grants)).grants
    assert (team.scope, team.breadth) == (Scope.ORGANISATION, BREADTH_UNREACHABLE)
    assert (alice.scope, alice.breadth) == (Scope.USER, BREADTH_UNREACHABLE)
    assert "unreachable" in breadth.described()[0]


def test_a_principal_the_directory_does_not_know_keeps_its_name_based_scope():
    breadth = Breadth(_Fixed({}, total=500))
    every, other = breadth.policy(AccessPolicy("o", (Grant("Everyone", Scope.EVERYONE, frozenset({"read"}), "x"),
                                                      Grant("Staff", Scope.ORGANISATION, frozenset({"read"}), "x")))).grants
    assert (every.accounts, every.breadth) == (500, BREADTH_DIRECTORY)
    assert (other.scope, other.breadth) == (Scope.ORGANISATION, BREADTH_NAMES)


def test_the_scanning_machines_own_groups_resolve_through_nss():
    import grp
    import pwd
    from vendorscan.connectors.nssdir import NssDirectory
    d = NssDirectory(NssDirectory.Options(min_uid=0), "local")
    root_group = grp.getgrgid(0).gr_name
    primary = {p.pw_name for p in pwd.getpwall() if p.pw_gid == 0 and not p.pw_shell.endswith(("nologin", "false"))}
    assert d.reach(f"group {root_group}").accounts == len(primary | set(grp.getgrgid(0).gr_mem) & primary) >= 1
    assert d.reach("group no-such-group-here") is None


# -- the ministry case, rebuilt: screenshots with CPR numbers and ethnicity on a domain share --

@pytest.fixture(scope="module")
def ministry(dc):
    rng = random.Random(21)
    planted = []
    for folder in ("skaermbilleder", "sagsteam"):
        d = dc.share_path / folder
        d.mkdir()
        rows = [[f"Ansøger {i}", synth.real("dk.cpr", rng), "Etnisk oprindelse: syrisk", f"UM-2024-{4711 + i}"]
                for i in range(6)]
        planted += [r[1] for r in rows]
        documents.screenshot(d / "sag-4711.png", "Sagsbehandling — udlændingesager",
                             ["Ansøger", "CPR-nr", "Etnisk oprindelse", "Sag"], rows, [200, 200, 260, 160])
        (d / "sagsnotater.txt").write_text("\n".join(f"{r[0]}, CPR-nr {r[1]}, {r[2]}" for r in rows) + "\n",
                                           encoding="utf-8")
    os.chmod(dc.share_path, 0o755)
    admin = dc.sids["Administrator"]
    # The share root for the administrators only; each folder and file its own DACL (files written on the
    # server's disk inherit nothing, as files copied in by a backup tool would not).
    servers.set_dacl(dc, "", [("allow", admin, FULL, INHERIT)], admin="Administrator")
    for folder, reader in (("skaermbilleder", "SG-Alle-Medarbejdere"), ("sagsteam", "Sagsteam")):
        for rel, flags in ((folder, INHERIT), (f"{folder}/sag-4711.png", 0), (f"{folder}/sagsnotater.txt", 0)):
            servers.set_dacl(dc, rel, [("allow", dc.sids[reader], READ, flags), ("allow", admin, FULL, flags)],
                             admin="Administrator")
    return planted


def _scan(dc, tmp_path, directory_url="ldaps://127.0.0.1:636"):
    cfg = tmp_path / "ministry.toml"
    cfg.write_text(f'''
[[targets]]
name = "supplier-share"
type = "smb"
server = "127.0.0.1"
share = "{dc.share}"
username = "Administrator"
domain = "{samba_ad.DOMAIN}"
password_env = "{PW_ENV}"
directory = "corp"

[directories.corp]
type = "ldap"
url = "{directory_url}"
base_dn = "{samba_ad.BASE_DN}"
bind_dn = "Administrator@{samba_ad.REALM.lower()}"
password_env = "{PW_ENV}"
ca_file = "{dc.ca_file}"
server_name = "{dc.server_name}"
timeout = 5
''', encoding="utf-8")
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state",
                   "--workers", "1", env={PW_ENV: dc.password})
    return proc, load_json(tmp_path / "out" / "report.json")


def _exposures(report) -> dict:
    return {f["resource"].rstrip("/").rsplit("/", 1)[-1]: f for f in report["findings"] if f["check_id"] == "exposure"
            and f["kind"] != "exposure.test_environment"}


def test_screenshots_open_to_a_nested_group_of_3000_are_a_critical_exposure_with_count_and_path(dc, ministry,
                                                                                                  tmp_path):
    proc, report = _scan(dc, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    exposed = _exposures(report)
    shots = exposed["skaermbilleder"]
    assert shots["severity"] == "critical" and shots["details"]["special_category"] is True
    assert shots["details"]["accounts"] == 3000
    assert shots["details"]["via"] == ["SG-Alle-Medarbejdere", "SG-Konsulenter"]
    assert "3000 enabled accounts" in shots["title"]
    assert "sagsteam" not in exposed, "a 4-person case team is not an exposure"
    assert report["summary"]["readable_by_accounts"] == 3000
    assert report["targets"][0]["breadth"] == "directory corp (ldap): 3008 enabled accounts"
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "SG-Alle-Medarbejdere ⊃ SG-Konsulenter" in html and 'id="readers"' in html
    assert "readable by 3000 enabled accounts" in proc.stdout
    outputs = [p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()]
    outputs += [p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file()]
    outputs += [proc.stdout.encode(), proc.stderr.encode()]
    for value in ministry:
        for form in (value, value.replace("-", "")):
            assert not any(form.encode() in blob for blob in outputs), "a planted CPR number left the scanner"


def test_with_the_directory_unreachable_the_case_team_is_not_called_narrow(dc, ministry, tmp_path):
    proc, report = _scan(dc, tmp_path, directory_url=f"ldaps://127.0.0.1:{servers.free_port()}")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    exposed = _exposures(report)
    assert exposed["sagsteam"]["details"]["breadth"] == BREADTH_UNREACHABLE
    assert "unreachable" in report["targets"][0]["breadth"]


# -- the POSIX case: rfc2307 groups in OpenLDAP, a local folder owned by a gid this machine has no name for --

ALLE_GID, TEAM_GID, OTHER_GID = 47001, 47002, 47003


@pytest.fixture(scope="module")
def slapd_posix():
    import slapd
    users = ([{"uid": f"ansat{i:03d}", "gid": ALLE_GID} for i in range(100)]  # primary group: alle-ansatte
             + [{"uid": f"konsulent{i:03d}", "gid": OTHER_GID} for i in range(150)]
             + [{"uid": "stoppet", "gid": OTHER_GID, "shell": "/usr/sbin/nologin"}])
    groups = [{"name": "alle-ansatte", "gid": ALLE_GID, "members": [f"konsulent{i:03d}" for i in range(50)]},
              {"name": "sagsteam", "gid": TEAM_GID, "members": ["ansat000", "ansat001", "ansat002", "ansat003",
                                                                "stoppet"]},
              {"name": "konsulenter", "gid": OTHER_GID}]
    s = slapd.start(users, groups)
    yield s
    slapd.stop(s)


def _posix_directory(s, **over):
    import slapd
    from vendorscan.connectors.ldapdir import LdapDirectory
    return LdapDirectory(LdapDirectory.Options(**{
        "url": f"ldap://127.0.0.1:{s.port}", "starttls": True, "schema": "rfc2307", "base_dn": slapd.BASE_DN,
        "bind_dn": slapd.ADMIN_DN, "password_env": PW_ENV, "ca_file": str(s.ca_file), **over}), "posix")


def test_rfc2307_groups_count_member_uids_and_primary_gids_over_starttls(slapd_posix, monkeypatch):
    import slapd
    monkeypatch.setenv(PW_ENV, slapd.ADMIN_PASSWORD)
    d = _posix_directory(slapd_posix)
    assert d.enabled_accounts() == 250  # the no-login account is not one
    alle = d.reach(f"group {ALLE_GID}")  # as a local policy names a gid this machine does not know
    assert (alle.display, alle.accounts) == ("alle-ansatte", 150)  # 100 by primary gid, 50 by memberUid
    assert d.reach("group sagsteam").accounts == 4


def test_a_local_folder_readable_by_a_large_directory_group_is_an_exposure(slapd_posix, open_dir, tmp_path):
    import slapd
    root = open_dir / "share"
    for name, gid in (("alle", ALLE_GID), ("team", TEAM_GID)):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "sager.txt").write_text("CPR-nr 120485-1006, etnisk oprindelse: syrisk\n", encoding="utf-8")
        for p in (folder, folder / "sager.txt"):
            os.chown(p, 0, gid)
        os.chmod(folder, 0o750)
        os.chmod(folder / "sager.txt", 0o640)
    os.chmod(root, 0o711)  # traversable: the group's read reaches the folders
    cfg = tmp_path / "posix.toml"
    cfg.write_text(f'''
[[targets]]
name = "nfs-export"
type = "local"
paths = ["{root}"]
directory = "posix"

[directories.posix]
type = "ldap"
schema = "rfc2307"
url = "ldap://127.0.0.1:{slapd_posix.port}"
starttls = true
base_dn = "{slapd.BASE_DN}"
bind_dn = "{slapd.ADMIN_DN}"
password_env = "{PW_ENV}"
ca_file = "{slapd_posix.ca_file}"
''', encoding="utf-8")
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet",
                   env={PW_ENV: slapd.ADMIN_PASSWORD})
    report = load_json(tmp_path / "out" / "report.json")
    exposed = _exposures(report)
    assert set(exposed) == {"alle"}, proc.stdout + proc.stderr  # 4 of sagsteam: not an exposure
    assert exposed["alle"]["kind"] == "exposure.organisation" and exposed["alle"]["details"]["accounts"] == 150
    assert report["targets"][0]["breadth"] == "directory posix (ldap): 250 enabled accounts"


@pytest.mark.parametrize("config, says", [
    ('[[targets]]\nname = "t"\ntype = "local"\npaths = ["/tmp"]\ndirectory = "corp"\n', "no [directories.corp] table"),
    ('[directories.corp]\ntype = "active-directory"\n', "unknown directory type 'active-directory'"),
    ('[directories.corp]\ntype = "ldap"\nurl = "ldap://dc:389"\nbase_dn = "DC=x"\n', "needs starttls"),
    ('[directories.corp]\ntype = "ldap"\nurl = "ldaps://dc"\nbase_dn = "DC=x"\nbind_dn = "a@x"\n', "needs password_env"),
    ('[directories.corp]\ntype = "nss"\nbroad_share = 1.5\n', "broad_share <= everyone_share <= 1"),
])
def test_a_directory_mistake_in_the_config_exits_2_saying_what_to_fix(tmp_path, config, says):
    cfg = tmp_path / "c.toml"
    cfg.write_text(config, encoding="utf-8")
    proc = run_cli("scan", "--config", cfg, "--state-dir", tmp_path / "state", "--out", tmp_path / "out")
    assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
