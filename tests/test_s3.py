"""S3 connector against moto's S3 server on loopback: content, bucket exposure, posture, faults."""
import hashlib
import json
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

import servers
from vendorscan.connectors.s3 import S3Connector
from conftest import PLANTED, assert_no_planted, files_under, load_json, run_cli
from contract import ConnectorContract, Estate, context
from estates import FILES

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
         "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
PUBLIC_READ = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-star/*"}]}
VPCE_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-vpce/*",
     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]}
CROSS_ACCOUNT = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": ["s3:GetObject",
     "s3:ListBucket"], "Resource": ["arn:aws:s3:::cross-account", "arn:aws:s3:::cross-account/*"]}]}
BPA_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
HR_CSV = "namn;personnummer\nAnna Lindqvist;850412-1230\nErik Berg;720915-4561\n"


@pytest.fixture(scope="module")
def moto_endpoint():
    server, endpoint, s3 = servers.start_moto()
    loc = {"CreateBucketConfiguration": {"LocationConstraint": "eu-north-1"}}
    for name in ("private-bpa", "public-acl", "policy-star", "policy-vpce", "cross-account", "bpa-public-acl"):
        s3.create_bucket(Bucket=name, **loc)
        s3.put_object(Bucket=name, Key="exports/hr.csv", Body=HR_CSV.encode())
    s3.put_public_access_block(Bucket="private-bpa", PublicAccessBlockConfiguration=BPA_ALL)
    s3.put_bucket_encryption(Bucket="private-bpa", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_acl(Bucket="public-acl", ACL="public-read")
    s3.put_bucket_policy(Bucket="policy-star", Policy=json.dumps(PUBLIC_READ))
    s3.put_bucket_policy(Bucket="policy-vpce", Policy=json.dumps(VPCE_ONLY))
    s3.put_bucket_policy(Bucket="cross-account", Policy=json.dumps(CROSS_ACCOUNT))
    s3.put_bucket_acl(Bucket="bpa-public-acl", ACL="public-read")
    s3.put_public_access_block(Bucket="bpa-public-acl", PublicAccessBlockConfiguration=BPA_ALL)
    # an id straddling the 64 KiB chunk boundary of a large object, JSON, and an archived object
    big = "x" * (65536 - 20) + " personnummer 850412-1230 " + "y" * 100_000
    s3.put_object(Bucket="private-bpa", Key="dumps/big.txt", Body=big.encode())
    s3.put_object(Bucket="private-bpa", Key="dumps/people.json",
                  Body=json.dumps([{"cpr": "120485-1006", "email": "anna@kommun-exempel.se"}]).encode())
    s3.put_object(Bucket="private-bpa", Key="archive/old.csv", Body=HR_CSV.encode(), StorageClass="GLACIER")
    # a private bucket with one object made public by its own ACL
    s3.create_bucket(Bucket="object-acl", **loc)
    s3.put_object(Bucket="object-acl", Key="shared/hr.csv", Body=HR_CSV.encode(), ACL="public-read")
    yield endpoint
    server.stop()


def _scan(tmp_path, endpoint, buckets, name="s3", env=None, extra=""):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[[targets]]\nname = "{name}"\ntype = "s3"\nenvironment = "production"\n'
                   f'endpoint_url = "{endpoint}"\nregion = "eu-north-1"\nbuckets = {json.dumps(buckets)}\n{extra}')
    out = tmp_path / f"out-{name}"
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", tmp_path / "state", "--quiet",
                   env={**CREDS, **(env or {})})
    report = load_json(out / "report.json") if (out / "report.json").exists() else None
    return proc, report


def _by(report, check):
    return [f for f in report["findings"] if f["check_id"] == check]


def test_content_and_exposure_equal_planted_truth(moto_endpoint, tmp_path):
    buckets = ["private-bpa", "public-acl", "policy-star", "policy-vpce", "cross-account", "bpa-public-acl"]
    proc, report = _scan(tmp_path, moto_endpoint, buckets)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    ids = {(f["resource"], f["kind"], f["count"]) for f in _by(report, "identifiers") if f["verdict"] == "real"}
    for b in buckets:
        assert (f"s3://{b}/exports/hr.csv", "se.personnummer", 2) in ids
    assert ("s3://private-bpa/dumps/big.txt", "se.personnummer", 1) in ids  # across the chunk boundary
    assert ("s3://private-bpa/dumps/people.json", "dk.cpr", 1) in ids
    assert [(s["uri"], s["reason"]) for s in report["skipped"]] == [
        ("s3://private-bpa/archive/old.csv", "archived-storage-class")]
    access = {f["resource"]: f["kind"] for f in _by(report, "access")}
    assert access["s3://public-acl"] == "access.read.public"
    assert access["s3://policy-star"] == "access.read.public"
    assert access["s3://cross-account"] == "access.read.organisation"
    assert access["s3://policy-vpce"] == "access.read.organisation"  # restricted by a VPC endpoint: not public
    assert "s3://bpa-public-acl" not in access and "s3://private-bpa" not in access
    # A public-read bucket ACL lets anyone list the keys, not read the objects: listing is an access
    # finding, content exposure needs a public object ACL or policy.
    exposed = {f["resource"]: f["kind"] for f in _by(report, "exposure")}
    assert exposed == {"s3://policy-star": "exposure.public",
                       "s3://cross-account": "exposure.organisation", "s3://policy-vpce": "exposure.organisation"}
    assert all(f["severity"] == "critical" for f in _by(report, "exposure") if f["kind"] == "exposure.public")
    posture = {(f["resource"], f["kind"]) for f in _by(report, "posture")}
    assert ("s3://public-acl", "posture.default_encryption") in posture
    assert ("s3://private-bpa", "posture.default_encryption") not in posture
    assert ("s3://private-bpa", "posture.block_public_access") not in posture
    text = (tmp_path / "out-s3" / "report.json").read_text()
    assert "850412-1230" not in text and "120485-1006" not in text


def test_public_object_acl_in_a_private_bucket(moto_endpoint, tmp_path):
    proc, report = _scan(tmp_path, moto_endpoint, ["object-acl"], name="objacl")
    assert proc.returncode == 1
    access = {f["resource"]: f["kind"] for f in _by(report, "access")}
    assert access == {"s3://object-acl/shared/hr.csv": "access.read.public"}
    assert [f["kind"] for f in _by(report, "exposure")] == ["exposure.public"]


def test_scan_changes_nothing_in_the_buckets(moto_endpoint, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-north-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")

    def state():
        return [(o["Key"], o["ETag"], o["LastModified"]) for o in s3.list_objects_v2(Bucket="public-acl")["Contents"]]

    before = state()
    _scan(tmp_path, moto_endpoint, ["public-acl"])
    assert state() == before


def test_missing_bucket_is_a_clear_error_exit_2(moto_endpoint, tmp_path):
    proc, report = _scan(tmp_path, moto_endpoint, ["no-such-bucket"], name="missing")
    assert proc.returncode == 2
    assert report["skipped"] == [{"uri": "s3://no-such-bucket", "target": "missing", "reason": "not-found",
                                  "detail": report["skipped"][0]["detail"]}]


def test_wrong_credentials_exit_2_without_traceback(tmp_path):
    # moto authenticates only when told to: a second server, in its own process, with auth on.
    port = servers.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        servers._wait_port(port, 30, tmp_path / "none")
        result, _ = _scan(tmp_path, f"http://127.0.0.1:{port}", [], name="badcreds",
                          env={"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONG", "AWS_SECRET_ACCESS_KEY": "wrong-secret-xyz"})
    finally:
        proc.terminate()
        proc.wait()
    assert result.returncode == 2
    assert "cannot list buckets" in result.stdout and "InvalidAccessKeyId" in result.stdout
    assert "Traceback" not in result.stderr and "wrong-secret-xyz" not in result.stdout + result.stderr


class _SlowDownProxy(BaseHTTPRequestHandler):
    """Answers 503 SlowDown to the first few object GETs, forwards everything else to moto."""

    upstream = ""
    remaining = 0
    lock = threading.Lock()
    refused = 0

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "GET" and "/exports/" in self.path:
            with self.lock:
                if _SlowDownProxy.remaining > 0:
                    _SlowDownProxy.remaining -= 1
                    _SlowDownProxy.refused += 1
                    msg = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
        host, port = self.upstream.split(":")
        self.wfile.write(servers.relay(self, host, int(port), body, dict(self.headers)))

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _forward

    def log_message(self, *args):
        pass


def test_throttling_is_retried(moto_endpoint, tmp_path):
    _SlowDownProxy.upstream = moto_endpoint.split("//")[1]
    _SlowDownProxy.remaining, _SlowDownProxy.refused = 3, 0
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _SlowDownProxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        proc, report = _scan(tmp_path, f"http://127.0.0.1:{proxy.server_address[1]}", ["public-acl"], name="slow")
    finally:
        proxy.shutdown()
    assert _SlowDownProxy.refused == 3
    assert proc.returncode == 1, proc.stdout
    assert report["skipped"] == []
    assert any(f["kind"] == "se.personnummer" for f in report["findings"])


def test_ranged_reads_cover_an_object_exactly(moto_endpoint, monkeypatch):
    from vendorscan.connectors import s3 as s3mod
    monkeypatch.setattr(s3mod, "RANGE", 1000)  # many ranges over a small object
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-north-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    head = client.head_object(Bucket="private-bpa", Key="dumps/big.txt")
    reader = s3mod._RangedReader(client, "private-bpa", "dumps/big.txt", head["ContentLength"], head["ETag"])
    parts = []
    while chunk := reader.read(777):
        parts.append(chunk)
    whole = client.get_object(Bucket="private-bpa", Key="dumps/big.txt")["Body"].read()
    assert b"".join(parts) == whole and len(parts) > 100


def test_account_block_public_access_neutralises_a_public_policy(moto_endpoint, tmp_path):
    kw = dict(endpoint_url=moto_endpoint, region_name="eu-north-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket="acct-bpa", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_bucket_policy(Bucket="acct-bpa", Policy=json.dumps(PUBLIC_READ))
    s3.put_object(Bucket="acct-bpa", Key="exports/hr.csv", Body=HR_CSV.encode())
    control = boto3.client("s3control", **kw)
    from vendorscan.connectors.s3 import _strip_account_host
    control.meta.events.register("before-send.s3-control.*", _strip_account_host)
    account = boto3.client("sts", **kw).get_caller_identity()["Account"]
    control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration=BPA_ALL)
    try:
        proc, report = _scan(tmp_path, moto_endpoint, ["acct-bpa"], name="acctbpa")
    finally:  # the account setting covers every bucket of this server: take it away again
        control.delete_public_access_block(AccountId=account)
    assert not [f for f in report["findings"] if f["check_id"] in ("access", "exposure") and "public" in f["kind"]]
    bucket_grants = [f for f in report["findings"] if f["check_id"] == "posture"]
    assert not [f for f in bucket_grants if f["kind"] == "posture.block_public_access"]


def test_documents_in_a_bucket_are_read_through_a_private_temp_copy(moto_endpoint, tmp_path):
    """An S3 stream cannot seek: zip, Word and PDF handlers get a temporary copy of the object."""
    import documents as docs
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-north-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="docs-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_object(Bucket="docs-bucket", Key="hr/memo.docx", Body=docs.bytes_of(docs.docx, "m.docx", tmp_path))
    s3.put_object(Bucket="docs-bucket", Key="hr/export.zip", Body=docs.bytes_of(
        docs.zip_of, "e.zip", tmp_path, {"list.xlsx": docs.bytes_of(docs.xlsx, "l.xlsx", tmp_path)}))
    proc, report = _scan(tmp_path, moto_endpoint, ["docs-bucket"], name="docs")
    assert proc.returncode != 2, proc.stdout + proc.stderr
    where = {(f["resource"], o["location"].get("section") or o["location"].get("member"))
             for f in _by(report, "identifiers") if f["verdict"] == "real" for o in f["occurrences"]}
    assert ("s3://docs-bucket/hr/memo.docx", "body") in where
    assert ("s3://docs-bucket/hr/export.zip", "list.xlsx") in where


def test_identifiers_in_keys_and_prefixes_are_findings_and_masked(moto_endpoint, tmp_path):
    se, dk = PLANTED["se.personnummer"][0], PLANTED["dk.cpr"][1]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, **_client_creds())
    s3.create_bucket(Bucket="named-keys", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_object(Bucket="named-keys", Key=f"cases/{se}/scan.txt", Body=b"inget\n")
    s3.put_object(Bucket="named-keys", Key=f"lonespec-{dk}.txt", Body=b"inget\n")
    proc, report = _scan(tmp_path, moto_endpoint, ["named-keys"], name="keys")
    assert proc.returncode in (0, 1) and report, proc.stderr
    named = {f["kind"]: f["resource"] for f in report["findings"] if f["part"] == "(name)"}
    assert named["se.personnummer"].startswith("s3://named-keys/cases/850412-****/scan.txt#h=")
    assert named["dk.cpr"].startswith("s3://named-keys/lonespec-120485-****.txt#h=")
    blobs = {p: p.read_bytes() for p in files_under(tmp_path / "out-keys", tmp_path / "state")}
    blobs["terminal"] = (proc.stdout + proc.stderr).encode()
    assert_no_planted(blobs)


def _client_creds():
    return {"aws_access_key_id": CREDS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": CREDS["AWS_SECRET_ACCESS_KEY"],
            "region_name": "eu-north-1"}


class TestS3Contract(ConnectorContract):
    """The connector contract on moto's S3 server: a fresh bucket per test, read with an IAM user's own keys."""

    @pytest.fixture
    def contract_estate(self, moto_endpoint, monkeypatch):
        kw = {"endpoint_url": moto_endpoint, "region_name": "eu-north-1", "aws_access_key_id": "testing",
              "aws_secret_access_key": "testing"}
        s3, iam = boto3.client("s3", **kw), boto3.client("iam", **kw)
        bucket = f"contract-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        keys = {Path(key).name: key for key in FILES}
        for key, data in FILES.items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        iam.create_user(UserName=bucket)
        iam.put_user_policy(UserName=bucket, PolicyName="audit", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        creds = iam.create_access_key(UserName=bucket)["AccessKey"]
        monkeypatch.setenv("CONTRACT_KEY_ID", creds["AccessKeyId"])
        monkeypatch.setenv("CONTRACT_SECRET", creds["SecretAccessKey"])
        connector = S3Connector(S3Connector.Options(
            buckets=[bucket], endpoint_url=moto_endpoint, region="eu-north-1", access_key_id_env="CONTRACT_KEY_ID",
            secret_access_key_env="CONTRACT_SECRET"), context())
        auth_before = []

        def deny(name):
            # moto enforces IAM only when told to: a deny on the one object, then authorisation on (this test only)
            iam.put_user_policy(UserName=bucket, PolicyName="deny-one", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject",
                                                         "Resource": f"arn:aws:s3:::{bucket}/{keys[name]}"}]}))
            auth_before.append(_moto_auth(moto_endpoint, "0"))

        def snapshot():
            return {o["Key"]: (o["ETag"], hashlib.sha256(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
                               .hexdigest()) for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

        yield Estate(connector, set(keys), lambda name: s3.delete_object(Bucket=bucket, Key=keys[name]), deny,
                     snapshot)
        for previous in auth_before:
            _moto_auth(moto_endpoint, previous)
        connector.close()
        for key in FILES:
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def _moto_auth(endpoint: str, count: str) -> str:
    """Set how many requests moto lets through before it checks IAM ("0": all checked, "inf": none); the old value."""
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count.encode(),
                                                       headers={"Content-Type": "text/plain"})) as answer:
        return json.load(answer)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
