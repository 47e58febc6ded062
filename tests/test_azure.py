"""Azure Blob connector against Azurite (the real blob service emulator) on loopback: content, exposure, posture.

Which settings Azurite cannot show, and which are therefore only unit-tested: Azurite has no management plane
(Azure Resource Manager), so the storage account's allowBlobPublicAccess (public access allowed on the account),
supportsHttpsTrafficOnly (HTTPS only), minimumTlsVersion and container soft delete cannot be set or read on it.
They are mapped by `azureposture.account_posture()` from recorded ARM / Azure CLI properties objects
(test_account_posture_from_recorded_*), and the connector reads them from `account_properties_file`
(end to end here with such a recorded file) or from ARM (against a loopback stand-in serving the recorded
answers). The effect of allowBlobPublicAccess is also observed by one anonymous request per public container:
Azurite answers it (public access allowed); the refusal of an account that disallows it
(409 PublicAccessNotPermitted) is shown through a proxy. What Azurite does show is tested on it: the
container's public access level (off / blob / container), stored access policies, and blob soft delete (the
blob service's deleteRetentionPolicy). Azurite authorises its account key for every blob (no RBAC, no per-blob
rights), so a permission-denied read is shown by a proxy in front of it answering as Azure does (403
AuthorizationPermissionMismatch), and the contract's own denial test says so when it skips.
"""
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from azure.storage.blob import AccessPolicy as SasPolicy
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, RetentionPolicy

import servers
from conftest import PLANTED, ROOT, assert_no_planted, files_under, load_json, run_cli
from contract import ConnectorContract, Estate, context
from estates import FILES
from vendorscan.connector import ConnectorError, ResourceError
from vendorscan.connectors import azure as azmod
from vendorscan.connectors import azureposture
from vendorscan.connectors.azure import AzureBlobConnector
from vendorscan.model import Scope, Skipped

ACCOUNT = "devstoreaccount1"
# Azurite's published development key (the same in every Azurite; not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CPR = PLANTED["dk.cpr"][0]
HR_CSV = f"navn;cpr\nMette Hansen;{CPR}\n".encode()
TESTS = Path(__file__).resolve().parent
RECORDED = TESTS / "data" / "azure"


def azurite_bin() -> str:
    """azurite-blob as scripts/setup.sh installs it (npm, into .venv/npm), or on PATH."""
    for cand in (ROOT / ".venv" / "npm" / "node_modules" / ".bin" / "azurite-blob", shutil.which("azurite-blob")):
        if cand and Path(cand).exists():
            return str(cand)
    raise RuntimeError("azurite-blob not found: run scripts/setup.sh (npm install azurite into .venv/npm)")


class Azurite:
    """A running Azurite blob service: loopback, a free port, a temp dir; stop() ends it and removes the dir."""

    def __init__(self, cert: Path | None = None, key: Path | None = None):
        self.port = servers.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="azurite-"))
        cmd = [azurite_bin(), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", str(self.dir),
               "--silent", "--skipApiVersionCheck", "--loose", "--disableProductStyleUrl"]
        if cert:
            cmd += ["--cert", str(cert), "--key", str(key)]
        self.log = self.dir / "azurite.out"
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        servers._wait_port(self.port, 60, self.log)
        self.endpoint = f"{'https' if cert else 'http'}://127.0.0.1:{self.port}/{ACCOUNT}"

    def client(self, endpoint: str | None = None, **kw) -> BlobServiceClient:
        return BlobServiceClient(endpoint or self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY},
                                 **kw)

    def stop(self) -> None:
        servers.stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def azurite():
    server = Azurite()
    svc = server.client()
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    for name, level in (("public-container", "container"), ("public-blob", "blob"), ("private", None)):
        c = svc.create_container(name, public_access=level)
        c.upload_blob("exports/hr.csv", HR_CSV)
    svc.get_container_client("private").set_container_access_policy({
        "partner-read": SasPolicy(permission=ContainerSasPermissions(read=True, list=True), expiry=exp),
        "old-share": SasPolicy(permission="r", expiry=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))})
    # an id straddling the 64 KiB chunk boundary of a large blob
    big = "x" * (65536 - 20) + f" CPR-nr {CPR} " + "y" * 100_000
    svc.get_container_client("private").upload_blob("dumps/big.txt", big.encode())
    yield server
    server.stop()


def _env(extra=None):
    return {"AZURE_STORAGE_KEY": KEY, **(extra or {})}


def _connector(azurite, containers=(), **kw) -> AzureBlobConnector:
    return AzureBlobConnector(AzureBlobConnector.Options(account=ACCOUNT, endpoint_url=azurite.endpoint,
                                                         containers=list(containers), **kw), context())


def _scan(tmp_path, endpoint, containers, name="az", env=None, extra="", environment="production"):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "azure"\nenvironment = "{environment}"\n'
                   f'account = "{ACCOUNT}"\nendpoint_url = "{endpoint}"\ncontainers = {json.dumps(containers)}\n'
                   f'{extra}')
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / f"state-{name}", "--quiet",
                   env=env if env is not None else _env())
    report = load_json(out / "report.json") if (out / "report.json").exists() else None
    return proc, report


def _by(report, check):
    return [f for f in report["findings"] if f["check_id"] == check]


# -- end to end through the installed command ---------------------------------------------------------------------
def test_public_container_with_a_cpr_number_is_a_critical_exposure(azurite, tmp_path):
    proc, report = _scan(tmp_path, azurite.endpoint, ["public-container", "public-blob", "private"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    ids = {(f["resource"], f["kind"]) for f in _by(report, "identifiers") if f["verdict"] == "real"}
    for c in ("public-container", "public-blob", "private"):
        assert (f"azblob://{ACCOUNT}/{c}/exports/hr.csv", "dk.cpr") in ids
    assert (f"azblob://{ACCOUNT}/private/dumps/big.txt", "dk.cpr") in ids  # across the chunk boundary
    exposed = {f["resource"]: (f["kind"], f["severity"]) for f in _by(report, "exposure")}
    assert exposed == {f"azblob://{ACCOUNT}/public-container": ("exposure.public", "critical"),
                       f"azblob://{ACCOUNT}/public-blob": ("exposure.public", "critical")}
    access = {f["resource"]: f["kind"] for f in _by(report, "access")}
    assert access[f"azblob://{ACCOUNT}/public-container"] == "access.read.public"
    assert access[f"azblob://{ACCOUNT}/public-blob"] == "access.read.public"
    assert not [r for r in access if "/private" in r]  # stored access policies: SAS holders, a group
    posture = {(f["resource"], f["kind"]) for f in _by(report, "posture")}
    assert (f"azblob://{ACCOUNT}/private", "posture.blob_soft_delete") in posture  # Azurite's default: off
    assert (f"azblob://{ACCOUNT}/private", "posture.account_settings") in posture  # ARM settings not given
    # an anonymous request to each public container was answered: the account allows public access
    assert (f"azblob://{ACCOUNT}/public-container", "posture.blob_public_access_allowed") in posture
    assert (f"azblob://{ACCOUNT}/public-blob", "posture.blob_public_access_allowed") in posture
    assert (f"azblob://{ACCOUNT}/private", "posture.blob_public_access_allowed") not in posture
    assert report["skipped"] == []
    schema = json.loads((ROOT / "reports" / "schema" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
    blobs = {p: p.read_bytes() for p in files_under(tmp_path / "out-az", tmp_path / "state-az")}
    blobs["terminal"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)
    assert CPR.encode() not in b"".join(blobs.values())


def test_recorded_arm_settings_neutralise_public_access_and_feed_posture(azurite, tmp_path):
    """allowBlobPublicAccess = false (read from a recorded `az storage account show`): no public exposure."""
    props = json.loads((RECORDED / "account_cli_locked.json").read_text())
    path = tmp_path / "account.json"
    path.write_text(json.dumps(props))
    proc, report = _scan(tmp_path, azurite.endpoint, ["public-container"], name="locked",
                         extra=f'account_properties_file = "{path}"\n')
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a CPR in a container nobody else can read: medium
    assert not _by(report, "exposure") and not [f for f in _by(report, "access") if "public" in f["kind"]]
    kinds = {f["kind"] for f in _by(report, "posture")}
    assert "posture.account_settings" not in kinds and "posture.blob_public_access_allowed" not in kinds
    assert "posture.https_only" not in kinds

    open_props = json.loads((RECORDED / "account_arm_open.json").read_text())
    path.write_text(json.dumps(open_props))
    service = tmp_path / "blob-service.json"
    service.write_text((RECORDED / "blob_service_arm_off.json").read_text())
    proc, report = _scan(tmp_path, azurite.endpoint, ["public-container"], name="open",
                         extra=f'account_properties_file = "{path}"\nblob_service_properties_file = "{service}"\n')
    kinds = {f["kind"] for f in _by(report, "posture")}
    assert {"posture.blob_public_access_allowed", "posture.https_only", "posture.container_soft_delete",
            "posture.minimum_tls_version", "posture.blob_soft_delete"} <= kinds
    assert [f["severity"] for f in _by(report, "exposure")] == ["critical"]


def test_blob_soft_delete_on_is_no_finding(azurite, tmp_path):
    svc = azurite.client()
    svc.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=7))
    try:
        proc, report = _scan(tmp_path, azurite.endpoint, ["private"], name="softdel")
    finally:  # the setting covers the whole account of this server: take it away again
        svc.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=False))
    assert proc.returncode == 0, proc.stdout
    assert "posture.blob_soft_delete" not in {f["kind"] for f in _by(report, "posture")}


def test_rescan_reads_only_the_changed_blob(azurite, tmp_path):
    svc = azurite.client()
    cont = svc.create_container(f"rescan-{uuid.uuid4().hex[:8]}")
    for i in range(3):
        cont.upload_blob(f"f{i}.txt", HR_CSV)
    _, first = _scan(tmp_path, azurite.endpoint, [cont.container_name], name="rescan")
    cont.upload_blob("f1.txt", HR_CSV + b"Jens Hansen;nothing\n", overwrite=True)  # a new ETag
    _, second = _scan(tmp_path, azurite.endpoint, [cont.container_name], name="rescan")
    cont.delete_container()
    assert first["targets"][0]["resources_read"] == 3
    assert (second["targets"][0]["resources_read"], second["targets"][0]["resources_unchanged"]) == (1, 2)


def test_a_dask_local_cluster_reads_the_blobs(azurite, tmp_path):
    """Work units carry no credentials: each Dask worker builds the connector from the config and its environment."""
    pytest.importorskip("distributed", reason="the dask extra (in the test extra) is not installed")
    cfg = tmp_path / "dask.toml"
    cfg.write_text(f'[executor]\ntype = "dask-local"\nworkers = 2\n\n[[targets]]\nname = "dask"\ntype = "azure"\n'
                   f'account = "{ACCOUNT}"\nendpoint_url = "{azurite.endpoint}"\ncontainers = ["public-container"]\n')
    proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "out", "--state-dir", tmp_path / "state", "--quiet",
                   env=_env())
    report = load_json(tmp_path / "out" / "report.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert report["targets"][0]["resources_read"] == 1 and report["skipped"] == []
    assert [(f["kind"], f["severity"]) for f in _by(report, "exposure")] == [("exposure.public", "critical")]


def test_scan_changes_nothing_in_the_containers(azurite, tmp_path):
    svc = azurite.client()

    def state():
        return [(b.name, b.etag, b.last_modified) for c in ("public-container", "private")
                for b in svc.get_container_client(c).list_blobs()]

    before = state()
    _scan(tmp_path, azurite.endpoint, ["public-container", "private"], name="ro")
    assert state() == before


def test_missing_container_is_not_found_exit_2(azurite, tmp_path):
    proc, report = _scan(tmp_path, azurite.endpoint, ["no-such-container"], name="missing")
    assert proc.returncode == 2
    assert [(s["uri"], s["reason"]) for s in report["skipped"]] == [
        (f"azblob://{ACCOUNT}/no-such-container", "not-found")]


@pytest.mark.parametrize("containers", [[], ["private"]])
def test_wrong_key_exit_2_naming_the_variable(azurite, tmp_path, containers):
    wrong = "d3Jvbmcta2V5LXh5ei13cm9uZy1rZXkteHl6LXdyb25nLWtleS14eXo="
    proc, _ = _scan(tmp_path, azurite.endpoint, containers, name="badkey", env={"AZURE_STORAGE_KEY": wrong})
    assert proc.returncode == 2
    assert "credentials refused" in proc.stdout + proc.stderr and "AZURE_STORAGE_KEY" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and wrong not in proc.stdout + proc.stderr


def test_unset_key_variable_is_named(azurite, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AZURE_STORAGE_KEY"}
    proc, _ = _scan(tmp_path, azurite.endpoint, [], name="nokey", env=env)
    assert proc.returncode == 2 and "AZURE_STORAGE_KEY" in proc.stdout + proc.stderr


def test_every_container_is_listed_when_none_are_named(azurite):
    c = _connector(azurite)
    os.environ.setdefault("AZURE_STORAGE_KEY", KEY)
    try:
        buckets = [r.uri for r in c.walk() if getattr(r, "kind", "") == "bucket"]
    finally:
        c.close()
    assert {f"azblob://{ACCOUNT}/{n}" for n in ("public-container", "public-blob", "private")} <= set(buckets)


# -- access mapping on Azurite ------------------------------------------------------------------------------------
def test_access_levels_and_stored_policies_map_to_grants(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    c = _connector(azurite, ["public-container", "public-blob", "private"])
    items = {r.uri: r for r in c.walk()}
    c.close()
    base = f"azblob://{ACCOUNT}"
    pc, pb, pr = items[f"{base}/public-container"], items[f"{base}/public-blob"], items[f"{base}/private"]
    assert [(g.scope, g.rights) for g in pc.access.grants] == [(Scope.PUBLIC, frozenset({"read", "list"}))]
    assert [(g.scope, g.rights) for g in pb.access.grants] == [(Scope.PUBLIC, frozenset({"read"}))]
    assert "not public" in pb.access.grants[0].note
    assert pc.posture["public_access_level"] == "container" and pr.posture["public_access_level"] == "off"
    stored = {g.principal: g for g in pr.access.grants}
    assert all(g.scope == Scope.GROUP and g.source == "azure-stored-access-policy" for g in stored.values())
    partner = next(g for p, g in stored.items() if "partner-read" in p)
    old = next(g for p, g in stored.items() if "old-share" in p)
    assert partner.rights == {"read", "list"} and partner.effective and "until 20" in partner.note
    assert not old.effective and "expired" in old.note
    blob = items[f"{base}/public-blob/exports/hr.csv"]
    assert blob.access.broadest("read").scope == Scope.PUBLIC and blob.access.broadest("read").inherited
    assert blob.etag and blob.modified and blob.size == len(HR_CSV)
    private_blob = items[f"{base}/private/exports/hr.csv"]
    assert all(g.inherited and g.scope == Scope.GROUP for g in private_blob.access.grants)


def test_etag_changes_when_the_blob_changes(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    svc = azurite.client()
    name = f"etag-{uuid.uuid4().hex[:8]}"
    cont = svc.create_container(name)
    cont.upload_blob("a.txt", b"one")
    c = _connector(azurite, [name])
    first = {r.uri: r.etag for r in c.walk()}
    cont.upload_blob("a.txt", b"two", overwrite=True)
    second = {r.uri: r.etag for r in c.walk()}
    c.close()
    cont.delete_container()
    uri = f"azblob://{ACCOUNT}/{name}/a.txt"
    assert first[uri] and second[uri] and first[uri] != second[uri]


def test_a_blob_changed_mid_read_is_not_mixed(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    monkeypatch.setattr(azmod, "RANGE", 1000)
    svc = azurite.client()
    name = f"midread-{uuid.uuid4().hex[:8]}"
    cont = svc.create_container(name)
    cont.upload_blob("a.txt", b"a" * 5000)
    c = _connector(azurite, [name])
    blob = next(r for r in c.walk() if r.kind == "object")
    with pytest.raises(ResourceError) as caught:
        with c.open(blob) as stream:
            stream.read(1000)
            cont.upload_blob("a.txt", b"b" * 6000, overwrite=True)
            stream.read()
    assert caught.value.reason == "changed-during-read"
    with c.open(blob) as stream:  # the worker's second attempt: the new version, whole and unmixed
        assert stream.read() == b"b" * 6000
    c.close()
    cont.delete_container()


def test_ranged_reads_cover_a_blob_exactly(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    monkeypatch.setattr(azmod, "RANGE", 1000)
    c = _connector(azurite, ["private"])
    blob = next(r for r in c.walk() if r.uri.endswith("big.txt"))
    parts = []
    with c.open(blob) as stream:
        while chunk := stream.read(777):
            parts.append(chunk)
    c.close()
    whole = azurite.client().get_blob_client("private", "dumps/big.txt").download_blob().readall()
    assert b"".join(parts) == whole and len(parts) > 100


def test_a_big_blob_is_never_whole_in_memory(azurite, monkeypatch):
    import tracemalloc
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    monkeypatch.setattr(azmod, "RANGE", 2**20)
    svc = azurite.client(max_single_put_size=4 * 2**20, max_block_size=4 * 2**20)
    name = f"big-{uuid.uuid4().hex[:8]}"
    cont = svc.create_container(name)
    cont.upload_blob("dump.txt", b"0123456789abcdef" * (2 * 2**20), max_concurrency=2)  # 32 MiB
    c = _connector(azurite, [name])
    blob = next(r for r in c.walk() if r.kind == "object")
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        with c.open(blob) as stream:
            while block := stream.read(65536):
                digest.update(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        c.close()
        cont.delete_container()
    assert digest.hexdigest() == hashlib.sha256(b"0123456789abcdef" * (2 * 2**20)).hexdigest()
    # One range at a time; the HTTP stack below the SDK holds about 8 MiB of its own, whatever the range.
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 32 MiB blob read in 1 MiB ranges"


def test_archive_tier_is_skipped_with_its_reason(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    svc = azurite.client()
    name = f"tier-{uuid.uuid4().hex[:8]}"
    cont = svc.create_container(name)
    cont.upload_blob("old.csv", HR_CSV)
    try:
        cont.get_blob_client("old.csv").set_standard_blob_tier("Archive")
    except Exception as exc:  # noqa: BLE001 - say what Azurite refused
        cont.delete_container()
        pytest.fail(f"Azurite refused the Archive tier: {type(exc).__name__}")
    c = _connector(azurite, [name])
    skips = [(s.uri, s.reason) for s in c.walk() if isinstance(s, Skipped)]
    c.close()
    cont.delete_container()
    assert skips == [(f"azblob://{ACCOUNT}/{name}/old.csv", "archived-storage-class")]


# -- credentials, TLS, faults -------------------------------------------------------------------------------------
def test_connection_string_credentials(azurite, monkeypatch):
    monkeypatch.setenv("VS_AZ_CS", f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                                   f"BlobEndpoint={azurite.endpoint};")
    c = AzureBlobConnector(AzureBlobConnector.Options(credential="connection-string", connection_string_env="VS_AZ_CS",
                                                      containers=["public-container"]), context())
    uris = [r.uri for r in c.walk()]
    c.close()
    assert f"azblob://{ACCOUNT}/public-container/exports/hr.csv" in uris


def test_a_sas_connection_string_is_refused(monkeypatch):
    monkeypatch.setenv("VS_AZ_CS",
                       "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2022&sig=x")
    c = AzureBlobConnector(AzureBlobConnector.Options(credential="connection-string", connection_string_env="VS_AZ_CS"),
                           context())
    with pytest.raises(ConnectorError, match="never a SAS"):
        list(c.walk())


def test_service_principal_variables_are_named(monkeypatch):
    for var in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")
    c = AzureBlobConnector(AzureBlobConnector.Options(account="acct", credential="service-principal"), context())
    with pytest.raises(ConnectorError, match="AZURE_CLIENT_ID"):
        list(c.walk())


def test_service_principal_never_over_plain_http(monkeypatch):
    c = AzureBlobConnector(AzureBlobConnector.Options(account="a", credential="service-principal",
                                                      endpoint_url="http://127.0.0.1:1/a"), context())
    with pytest.raises(ConnectorError, match="plain HTTP"):
        list(c.walk())


def test_a_plain_http_connection_string_is_a_weakness(monkeypatch):
    monkeypatch.setenv("VS_AZ_CS", f"AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint=http://127.0.0.1:1/x")
    c = AzureBlobConnector(AzureBlobConnector.Options(credential="connection-string", connection_string_env="VS_AZ_CS"),
                           context())
    assert "plain HTTP" in c.weaknesses()[0]


def test_identifiers_in_blob_names_are_findings_and_masked(azurite, tmp_path):
    se, dk = PLANTED["se.personnummer"][0], PLANTED["dk.cpr"][1]
    cont = azurite.client().create_container("named-blobs")
    cont.upload_blob(f"cases/{se}/scan.txt", b"inget\n")
    cont.upload_blob(f"lonseddel-{dk}.txt", b"intet\n")
    proc, report = _scan(tmp_path, azurite.endpoint, ["named-blobs"], name="names")
    assert proc.returncode in (0, 1) and report, proc.stdout + proc.stderr
    named = {f["kind"]: f["resource"] for f in report["findings"] if f["part"] == "(name)"}
    assert named["se.personnummer"].startswith(f"azblob://{ACCOUNT}/named-blobs/cases/850412-****/scan.txt#h=")
    assert named["dk.cpr"].startswith(f"azblob://{ACCOUNT}/named-blobs/lonseddel-120485-****.txt#h=")
    assert report["skipped"] == []
    blobs = {p: p.read_bytes() for p in files_under(tmp_path / "out-names", tmp_path / "state-names")}
    blobs["terminal"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)


def test_options_are_checked():
    with pytest.raises(ValueError, match="account"):
        AzureBlobConnector.Options()
    with pytest.raises(ValueError, match="credential"):
        AzureBlobConnector.Options(account="a", credential="sas")


@pytest.fixture(scope="module")
def azurite_tls(tmp_path_factory):
    cert, key = servers.self_signed(tmp_path_factory.mktemp("azcert"))
    server = Azurite(cert=cert, key=key)
    server.cert = cert
    server.client(connection_verify=str(cert)).create_container("tls").upload_blob("hr.csv", HR_CSV)
    yield server
    server.stop()


def test_unverified_certificate_stops_the_target_and_a_ca_bundle_passes(azurite_tls, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    c = _connector(azurite_tls, ["tls"], max_attempts=1)
    with pytest.raises(ConnectorError, match="TLS certificate .* could not be verified"):
        list(c.walk())
    c.close()
    c = _connector(azurite_tls, ["tls"], ca_bundle=str(azurite_tls.cert))
    assert c.weaknesses() == []
    assert f"azblob://{ACCOUNT}/tls/hr.csv" in [r.uri for r in c.walk()]
    c.close()


def test_a_stalled_endpoint_times_out_as_a_clear_error(monkeypatch):
    import socket
    import time
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) and never answers
    try:
        c = AzureBlobConnector(AzureBlobConnector.Options(
            account=ACCOUNT, endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}/{ACCOUNT}", timeout=2,
            max_attempts=1), context())
        t0 = time.monotonic()
        with pytest.raises(ConnectorError, match="cannot reach"):
            list(c.walk())
        assert time.monotonic() - t0 < 20
    finally:
        listener.close()


def test_plain_http_and_unverified_tls_are_weaknesses():
    c = AzureBlobConnector(AzureBlobConnector.Options(account="a", endpoint_url="http://127.0.0.1:1/a"), context())
    assert "plain HTTP" in c.weaknesses()[0]
    c = AzureBlobConnector(AzureBlobConnector.Options(account="a", verify_tls=False), context())
    assert "not verified" in c.weaknesses()[0]


class _FaultProxy(BaseHTTPRequestHandler):
    """Forwards to Azurite; answers 503 ServerBusy to the first few blob GETs and 403 to denied blob names."""

    upstream = ""
    busy = 0
    refused = 0
    denied: set = set()
    no_public = False  # answer anonymous requests as an account with allowBlobPublicAccess = false does
    lock = threading.Lock()

    def _answer(self, status: int, code: str):
        msg = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>no</Message></Error>".encode()
        self.send_response(status)
        self.send_header("x-ms-error-code", code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if _FaultProxy.no_public and not self.headers.get("Authorization"):
            return self._answer(409, "PublicAccessNotPermitted")
        if self.command == "GET" and "comp=" not in self.path and "restype=" not in self.path:
            if any(path.endswith("/" + d) for d in _FaultProxy.denied):
                return self._answer(403, "AuthorizationPermissionMismatch")
            with self.lock:
                if _FaultProxy.busy > 0:
                    _FaultProxy.busy -= 1
                    _FaultProxy.refused += 1
                    return self._answer(503, "ServerBusy")
        host, port = self.upstream.split(":")
        self.wfile.write(servers.relay(self, host, int(port), body, dict(self.headers)))

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _forward

    def log_message(self, *args):
        pass


@pytest.fixture
def fault_proxy(azurite):
    _FaultProxy.upstream = azurite.endpoint.split("//")[1].split("/")[0]
    _FaultProxy.busy, _FaultProxy.refused, _FaultProxy.denied, _FaultProxy.no_public = 0, 0, set(), False
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _FaultProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}/{ACCOUNT}"
    proxy.shutdown()
    proxy.server_close()


def test_anonymous_probe_refused_neutralises_public_levels(fault_proxy, tmp_path):
    """An account with allowBlobPublicAccess = false refuses anonymous requests (409 PublicAccessNotPermitted,
    shown by the proxy: Azurite has no such setting): the public levels stay listed without effect."""
    _FaultProxy.no_public = True
    proc, report = _scan(tmp_path, fault_proxy, ["public-container", "public-blob"], name="nopublic")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not _by(report, "exposure") and not [f for f in _by(report, "access") if "public" in f["kind"]]
    assert "posture.blob_public_access_allowed" not in {f["kind"] for f in _by(report, "posture")}


def test_access_probe_can_be_turned_off(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    c = _connector(azurite, ["public-container"], probe_anonymous=False)
    (bucket,) = [r for r in c.walk() if r.kind == "bucket"]
    c.close()
    assert "blob_public_access_allowed" not in bucket.posture and bucket.access.grants[0].effective


def test_server_busy_is_retried(fault_proxy, tmp_path):
    _FaultProxy.busy = 3
    proc, report = _scan(tmp_path, fault_proxy, ["public-container"], name="busy")
    assert _FaultProxy.refused == 3
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert report["skipped"] == [] and any(f["kind"] == "dk.cpr" for f in report["findings"])


def test_a_denied_blob_is_permission_denied_and_the_rest_is_read(fault_proxy, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    _FaultProxy.denied = {"big.txt"}
    c = AzureBlobConnector(AzureBlobConnector.Options(account=ACCOUNT, endpoint_url=fault_proxy,
                                                      containers=["private"]), context())
    blobs = {r.uri.rsplit("/", 1)[-1]: r for r in c.walk() if r.kind == "object"}
    with pytest.raises(ResourceError) as caught:
        with c.open(blobs["big.txt"]) as stream:
            stream.read()
    with c.open(blobs["hr.csv"]) as stream:
        assert stream.read() == HR_CSV
    c.close()
    assert caught.value.reason == "permission-denied"


# -- ARM settings: only unit-tested (Azurite has no management plane) -------------------------------------------
def test_account_posture_from_recorded_cli_output():
    """`az storage account show` of an account locked down (recorded): the CLI's flattened camelCase names."""
    props = json.loads((RECORDED / "account_cli_locked.json").read_text())
    assert azureposture.account_posture(props) == {"blob_public_access_allowed": False, "https_only": True,
                                                   "minimum_tls_version": "TLS1_2"}


def test_account_posture_from_recorded_arm_answers():
    """ARM's REST answers (recorded): storage account and blob service properties nested under `properties`."""
    account = json.loads((RECORDED / "account_arm_open.json").read_text())
    service = json.loads((RECORDED / "blob_service_arm_off.json").read_text())
    assert azureposture.account_posture(account, service) == {
        "blob_public_access_allowed": True, "https_only": False, "minimum_tls_version": "TLS1_0",
        "blob_soft_delete": False, "container_soft_delete": False, "versioning": "Disabled"}
    assert azureposture.account_posture(None, None) == {}
    assert azureposture.account_posture({"properties": {}}) == {}  # not set: not judged, never assumed


class _FakeArm(BaseHTTPRequestHandler):
    """Azure Resource Manager's two answers (recorded documents), to a bearer token only."""

    seen: list = []

    def do_GET(self):
        _FakeArm.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != "Bearer arm-token":
            body, status = b'{"error": {"code": "InvalidAuthenticationToken"}}', 401
        elif "/blobServices/default?" in self.path:
            body, status = (RECORDED / "blob_service_arm_off.json").read_bytes(), 200
        elif self.path.split("?")[0].endswith("/storageAccounts/supplierold"):
            body, status = (RECORDED / "account_arm_open.json").read_bytes(), 200
        else:
            body, status = b'{"error": {"code": "ResourceNotFound"}}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _FakeCredential:
    scopes: list = []

    def __init__(self, *args, **kw):
        pass

    def get_token(self, *scopes, **kw):
        from azure.core.credentials import AccessToken
        _FakeCredential.scopes.extend(scopes)
        return AccessToken("arm-token", 2**31)


def test_arm_settings_read_with_the_service_principal(tmp_path, monkeypatch):
    """The ARM read path over HTTPS with a bearer token, against a stand-in for ARM serving recorded answers
    (no Azure here: the token comes from a stand-in credential, the documents are the recorded ones)."""
    import ssl
    import azure.identity
    cert, key = servers.self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeArm)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(azure.identity, "ClientSecretCredential", _FakeCredential)
    for var in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(var, "x")
    arm = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        c = AzureBlobConnector(AzureBlobConnector.Options(
            account="supplierold", credential="service-principal", subscription_id="sub-1", resource_group="rg-1",
            arm_endpoint=arm, ca_bundle=str(cert), max_attempts=2), context())
        account, service, problem = c._arm_properties()
        missing = AzureBlobConnector(AzureBlobConnector.Options(
            account="gone", credential="service-principal", subscription_id="sub-1", resource_group="rg-1",
            arm_endpoint=arm, ca_bundle=str(cert), max_attempts=2), context())
        _, _, gone = missing._arm_properties()
        untrusted = AzureBlobConnector(AzureBlobConnector.Options(
            account="supplierold", credential="service-principal", subscription_id="sub-1", resource_group="rg-1",
            arm_endpoint=arm, max_attempts=2), context())
        _, _, unverified = untrusted._arm_properties()
    finally:
        server.shutdown()
        server.server_close()
    assert problem == "" and azureposture.account_posture(account, service)["blob_public_access_allowed"] is True
    assert _FakeCredential.scopes[0] == f"{arm}/.default"
    assert _FakeArm.seen[0][0] == ("/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Storage/"
                                   f"storageAccounts/supplierold?api-version={azmod.ARM_API}")
    assert "HTTP 404" in gone and "TLS certificate not verified" in unverified
    with pytest.raises(ValueError, match="service-principal"):
        AzureBlobConnector.Options(account="a", subscription_id="s", resource_group="r")
    with pytest.raises(ValueError, match="https"):
        AzureBlobConnector.Options(account="a", credential="service-principal", arm_endpoint="http://127.0.0.1:1")


def test_posture_check_judges_the_account_settings():
    from vendorscan.checks.posture import PostureCheck
    from vendorscan.model import Resource
    check = PostureCheck(PostureCheck.Options())
    ctx = context()
    weak = Resource("azblob://a/c", "bucket", "contract", posture={
        "blob_public_access_allowed": True, "https_only": False, "minimum_tls_version": "TLS1_0",
        "blob_soft_delete": False, "container_soft_delete": False, "account_settings": "unknown: x"})
    kinds = {f.kind: f.severity.value for f in check.evaluate(weak, ctx)}
    assert kinds == {"posture.blob_public_access_allowed": "low", "posture.https_only": "medium",
                     "posture.minimum_tls_version": "low", "posture.blob_soft_delete": "low",
                     "posture.container_soft_delete": "low", "posture.account_settings": "info"}
    strong = Resource("azblob://a/c", "bucket", "contract", posture={
        "blob_public_access_allowed": False, "https_only": True, "minimum_tls_version": "TLS1_2",
        "blob_soft_delete": True, "container_soft_delete": True})
    assert list(check.evaluate(strong, ctx)) == []


def test_stored_policy_without_permissions_or_expiry():
    class Ident:
        id = "bare"
        access_policy = type("P", (), {"permission": None, "start": None, "expiry": None})()
    (g,) = azureposture.stored_policy_grants([Ident()])
    assert g.effective and g.scope == Scope.GROUP and "no expiry" in g.note and "carries its own" in g.note


# -- the connector contract ---------------------------------------------------------------------------------------
class TestAzureContract(ConnectorContract):
    """The connector contract on Azurite: a fresh container per test, read with the account key."""

    @pytest.fixture
    def contract_estate(self, azurite, monkeypatch):
        monkeypatch.setenv("CONTRACT_AZ_KEY", KEY)
        svc = azurite.client()
        name = f"contract-{uuid.uuid4().hex[:12]}"
        cont = svc.create_container(name)
        keys = {Path(key).name: key for key in FILES}
        for key, data in FILES.items():
            cont.upload_blob(key, data)
        connector = AzureBlobConnector(AzureBlobConnector.Options(
            account=ACCOUNT, endpoint_url=azurite.endpoint, containers=[name], account_key_env="CONTRACT_AZ_KEY"),
            context())

        def snapshot():
            return {b.name: (b.etag, hashlib.sha256(cont.get_blob_client(b.name).download_blob().readall())
                             .hexdigest()) for b in cont.list_blobs()}

        yield Estate(connector, set(keys), lambda n: cont.delete_blob(keys[n]), None, snapshot,
                     why_no_denial="Azurite authorises its account key for every blob (no RBAC, no per-blob "
                                   "rights); test_a_denied_blob_is_permission_denied_and_the_rest_is_read shows "
                                   "Azure's 403 AuthorizationPermissionMismatch through a proxy instead")
        connector.close()
        cont.delete_container()
