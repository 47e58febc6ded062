"""S3 and S3-compatible buckets (boto3): objects streamed in ranges, bucket and object exposure."""
from __future__ import annotations

import hashlib
import os
import posixpath
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

from vendorscan.model import AccessPolicy, Resource, Skipped
from vendorscan.connectors import s3posture
from vendorscan.connector import Connector, ConnectorError, ResourceError

RANGE = 8 * 2**20
_CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                      "InvalidClientTokenId", "UnrecognizedClientException"}


class _RangedReader:
    """A read-only file object over an S3 object, fetched in byte ranges (a retry re-reads one range)."""

    def __init__(self, client, bucket: str, key: str, size: int, etag: str | None):
        self.client, self.bucket, self.key, self.size, self.etag = client, bucket, key, size, etag
        self.pos = 0
        self.buf = b""

    def read(self, n: int = -1) -> bytes:
        want = self.size - self.pos + len(self.buf) if n < 0 else n
        while len(self.buf) < want and self.pos < self.size:
            end = min(self.pos + RANGE, self.size) - 1
            args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key, "Range": f"bytes={self.pos}-{end}"}
            if self.etag:
                args["IfMatch"] = self.etag  # the object changed mid-read: fail rather than mix versions
            body = self.client.get_object(**args)["Body"]
            try:
                self.buf += body.read()
            finally:
                body.close()
            self.pos = end + 1
        out, self.buf = self.buf[:want], self.buf[want:]
        return out

    def close(self) -> None:
        self.buf = b""


class S3Connector(Connector):
    """Amazon S3 and S3-compatible stores: object content, bucket ACLs, policies and Block Public Access."""

    id = "s3"
    version = "1"
    scheme = "s3"
    thread_safe = True  # boto3 clients may be shared between threads
    ranges = True

    @dataclass(frozen=True)
    class Options:
        buckets: list[str] = field(default_factory=list)  # empty: every bucket the credentials can list
        prefixes: list[str] = field(default_factory=list)
        region: str = ""
        endpoint_url: str = ""
        profile: str = ""
        access_key_id_env: str = ""
        secret_access_key_env: str = ""
        session_token_env: str = ""
        role_arn: str = ""
        max_objects: int = 0  # per bucket; 0 = no limit
        sample: float = 1.0  # share of objects read, chosen by key hash (stable across scans)
        per_prefix: int = 0  # at most this many objects per "folder"; 0 = no limit
        skip_storage_classes: list[str] = field(default_factory=lambda: ["GLACIER", "DEEP_ARCHIVE"])
        object_acl_sample: int = 20  # object ACLs read per bucket (when ACLs are enabled)
        verify_tls: bool = True
        ca_bundle: str = ""
        max_attempts: int = 8
        timeout: int = 60  # seconds to wait for a connection or for the next bytes of an answer

        def __post_init__(self):
            if not 0 < self.sample <= 1:
                raise ValueError("sample must be in (0, 1]")
            if bool(self.access_key_id_env) != bool(self.secret_access_key_env):
                raise ValueError("give both access_key_id_env and secret_access_key_env, or neither")

    def weaknesses(self) -> list[str]:
        """TLS verification off, or a plain-HTTP endpoint."""
        found = []
        if self.options.endpoint_url.lower().startswith("http://"):
            found.append(f"the S3 endpoint {self.options.endpoint_url} is plain HTTP: credentials' signatures and "
                         "content cross the network unencrypted")
        elif not self.options.verify_tls and not self.options.ca_bundle:
            found.append("TLS certificates of the S3 endpoint are not verified (verify_tls = false): a machine in "
                         "the middle could pose as it")
        return found

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._client = None
        self._account: str | None = None

    # -- clients ------------------------------------------------------------------------------
    def _session(self):
        import boto3
        o = self.options
        kwargs: dict[str, Any] = {}
        if o.profile:
            kwargs["profile_name"] = o.profile
        if o.region:
            kwargs["region_name"] = o.region
        if o.access_key_id_env:
            kwargs["aws_access_key_id"] = _env(o.access_key_id_env)
            kwargs["aws_secret_access_key"] = _env(o.secret_access_key_env)
            if o.session_token_env:
                kwargs["aws_session_token"] = _env(o.session_token_env)
        session = boto3.Session(**kwargs)
        if o.role_arn:
            creds = self._make(session, "sts").assume_role(RoleArn=o.role_arn, RoleSessionName="vendorscan-audit")
            c = creds["Credentials"]
            session = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                    aws_session_token=c["SessionToken"], region_name=o.region or None)
        return session

    def _make(self, session, service: str):
        from botocore.config import Config
        o = self.options
        config = Config(retries={"max_attempts": o.max_attempts, "mode": "standard"}, connect_timeout=min(10, o.timeout),
                        read_timeout=o.timeout, region_name=o.region or None)
        verify: bool | str = o.ca_bundle or o.verify_tls
        return session.client(service, endpoint_url=o.endpoint_url or None, config=config, verify=verify)

    def _s3(self):
        if self._client is None:
            from botocore.exceptions import BotoCoreError, ClientError
            try:
                session = self._session()
                self._client = self._make(session, "s3")
                self._session_obj = session
            except (BotoCoreError, ClientError) as exc:
                raise ConnectorError(f"cannot set up S3 access: {_describe(exc, message=True)}") from None
        return self._client

    def _account_id(self) -> str | None:
        if self._account is None:
            from botocore.exceptions import BotoCoreError, ClientError
            try:
                self._account = self._make(self._session_obj, "sts").get_caller_identity()["Account"]
            except (BotoCoreError, ClientError):
                self._account = ""  # unknown: cross-account judgement falls back to "another account"
        return self._account or None

    # -- walk ---------------------------------------------------------------------------------
    def walk(self) -> Iterator[Resource | Skipped]:
        """Each bucket (with its exposure) and then its objects; archived objects are skipped."""
        from botocore.exceptions import BotoCoreError, ClientError
        s3 = self._s3()
        try:
            names = self.options.buckets or [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        except ClientError as exc:
            raise ConnectorError(f"cannot list buckets: {_describe(exc, message=True)}") from None
        except BotoCoreError as exc:
            raise ConnectorError(f"cannot reach S3: {_describe(exc, message=True)}") from None
        for name in names:
            try:
                bucket = self._bucket(name)
            except ClientError as exc:
                code = _code(exc)
                if code in _CREDENTIAL_ERRORS:
                    raise ConnectorError(f"credentials refused: {_describe(exc, message=True)}") from None
                reason = ("not-found" if code in ("NoSuchBucket", "404") else "permission-denied"
                          if code in ("AccessDenied", "AllAccessDisabled", "403") else "read-error")
                detail = "no such bucket" if reason == "not-found" else _describe(exc)
                yield Skipped(f"s3://{name}", reason, detail, self.ctx.target)
                continue
            yield bucket
            try:
                yield from self._objects(name, bucket)
            except ClientError as exc:
                yield Skipped(f"s3://{name}", "read-error", f"listing stopped: {_describe(exc)}", self.ctx.target)
            except BotoCoreError as exc:
                yield Skipped(f"s3://{name}", "connection-lost", f"listing stopped: {_describe(exc)}",
                              self.ctx.target)

    def _bucket(self, name: str) -> Resource:
        from botocore.exceptions import ClientError
        s3 = self._s3()
        s3.head_bucket(Bucket=name)
        posture: dict[str, Any] = {}

        def read(call, missing: set[str], **kw):
            try:
                return call(Bucket=name, **kw)
            except ClientError as exc:
                if _code(exc) in missing:
                    return None
                if _code(exc) in ("AccessDenied",):
                    posture.setdefault("unreadable", []).append(call.__name__)
                    return None
                raise

        bpa = read(s3.get_public_access_block, {"NoSuchPublicAccessBlockConfiguration"})
        flags = s3posture.bpa_flags(bpa and bpa.get("PublicAccessBlockConfiguration"))
        account_flags = self._account_bpa()
        effective = {k: flags[k] or account_flags.get(k, False) for k in flags}
        ownership = read(s3.get_bucket_ownership_controls, {"OwnershipControlsNotFoundError"})
        rules = (ownership or {}).get("OwnershipControls", {}).get("Rules", [])
        acls_disabled = any(r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules)
        acl = read(s3.get_bucket_acl, set()) or {}
        owner_id = acl.get("Owner", {}).get("ID")
        policy = read(s3.get_bucket_policy, {"NoSuchBucketPolicy"})
        policy_grants, tls_only = s3posture.policy_grants(policy and policy.get("Policy"), self._account_id(),
                                                          effective["RestrictPublicBuckets"])
        encryption = read(s3.get_bucket_encryption, {"ServerSideEncryptionConfigurationNotFoundError"})
        rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        versioning = read(s3.get_bucket_versioning, set()) or {}
        posture.update({
            "block_public_access": effective, "block_public_access_account": account_flags,
            "acls_disabled": acls_disabled, "tls_only_policy": tls_only,
            "default_encryption": rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else None,
            "versioning": versioning.get("Status", "Disabled"),
        })
        access = s3posture.bucket_policy(
            acl.get("Owner", {}).get("DisplayName") or owner_id,
            s3posture.acl_grants(acl, owner_id, effective["IgnorePublicAcls"]), policy_grants, acls_disabled)
        if posture.get("unreadable"):
            access = AccessPolicy(access.owner, access.grants,
                                  f"the audit account may not read: {', '.join(posture['unreadable'])}")
        self._bucket_state = {"owner_id": owner_id, "ignore_public": effective["IgnorePublicAcls"],
                              "acls_disabled": acls_disabled, "policy_grants": policy_grants}
        return Resource(uri=f"s3://{name}", kind="bucket", target=self.ctx.target, access=access,
                        parent="s3://", posture=posture)

    def _account_bpa(self) -> dict[str, bool]:
        from botocore.exceptions import BotoCoreError, ClientError
        account = self._account_id()
        if not account:
            return {}
        try:
            control = self._make(self._session_obj, "s3control")
            if self.options.endpoint_url:
                # botocore puts the account id in front of the host (acct.host): an S3-compatible
                # endpoint on a plain host name or address does not answer there.
                control.meta.events.register("before-send.s3-control.*", _strip_account_host)
            cfg = control.get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]
            return s3posture.bpa_flags(cfg)
        except (ClientError, BotoCoreError):
            return {}

    def _objects(self, name: str, bucket: Resource) -> Iterator[Resource | Skipped]:
        o = self.options
        s3 = self._s3()
        paginator = s3.get_paginator("list_objects_v2")
        state = self._bucket_state
        inherited = tuple(g for g in bucket.access.grants if g.source == "s3-policy")
        yielded, acl_reads, per_folder = 0, 0, {}
        for prefix in o.prefixes or [""]:
            for page in paginator.paginate(Bucket=name, Prefix=prefix):
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    uri = f"s3://{name}/{key}"
                    if key.endswith("/") and obj.get("Size", 0) == 0:
                        continue  # a console "folder" marker
                    if obj.get("StorageClass", "STANDARD") in o.skip_storage_classes:
                        yield Skipped(uri, "archived-storage-class",
                                      f"{obj['StorageClass']}: never restored by the scanner", self.ctx.target)
                        continue
                    if o.sample < 1 and _fraction(key) >= o.sample:
                        continue
                    folder = posixpath.dirname(key)
                    if o.per_prefix:
                        per_folder[folder] = per_folder.get(folder, 0) + 1
                        if per_folder[folder] > o.per_prefix:
                            continue
                    if o.max_objects and yielded >= o.max_objects:
                        return
                    grants = inherited
                    if not state["acls_disabled"] and acl_reads < o.object_acl_sample:
                        acl_reads += 1
                        grants = grants + tuple(self._object_acl(name, key, state))
                    yielded += 1
                    yield Resource(uri=uri, kind="object", target=self.ctx.target, size=obj.get("Size"),
                                   modified=obj["LastModified"].timestamp() if obj.get("LastModified") else None,
                                   etag=obj.get("ETag"), access=AccessPolicy(bucket.access.owner, grants),
                                   parent=f"s3://{name}")

    def _object_acl(self, bucket: str, key: str, state) -> list:
        from botocore.exceptions import ClientError
        try:
            acl = self._s3().get_object_acl(Bucket=bucket, Key=key)
        except ClientError:
            return []
        return [g for g in s3posture.acl_grants(acl, state["owner_id"], state["ignore_public"], on_object=True)
                if g.scope.rank < 4]

    # -- content ------------------------------------------------------------------------------
    def open(self, resource: Resource):
        """The object's bytes, fetched range by range."""
        return self.open_from(resource, 0)

    @contextmanager
    def open_from(self, resource: Resource, offset: int) -> Iterator[BinaryIO]:
        """The object's bytes from `offset` on; If-Match holds every range to the ETag the walk saw."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
        bucket, key = resource.address[5:].split("/", 1)
        reader = _RangedReader(self._s3(), bucket, key, resource.size or 0, resource.etag)
        reader.pos = offset
        try:
            yield reader
        except ClientError as exc:
            code = _code(exc)
            # PreconditionFailed: the object changed under its If-Match ETag while it was read (it is read again once)
            reason = {"NoSuchKey": "vanished", "AccessDenied": "permission-denied",
                      "PreconditionFailed": "changed-during-read",
                      "InvalidObjectState": "archived-storage-class"}.get(code, "read-error")
            raise ResourceError(reason, _describe(exc)) from None
        except NoCredentialsError:
            # A cluster worker reads with its own environment's credentials, which may lack them.
            raise ResourceError("permission-denied", "no AWS credentials in the environment of the process that read "
                                "it (set them, or the variables access_key_id_env names, for every worker)") from None
        except BotoCoreError as exc:
            raise ResourceError("connection-lost", _describe(exc)) from None
        finally:
            reader.close()

    def close(self) -> None:
        """Drop the client."""
        self._client = None


def _strip_account_host(request, **_):
    url = request.url
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    first, _, remainder = host.partition(".")
    if first.isdigit() and len(first) == 12 and remainder:
        request.url = f"{scheme}://{remainder}/{path}"


def _fraction(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConnectorError(f"environment variable {name} is not set")
    return value


def _code(exc) -> str:
    return exc.response.get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""


def _describe(exc, message: bool = False) -> str:
    """S3's error code (or the exception's type); its message only where asked (setting up, before any key is read).

    A message can name the key it failed on (AccessDenied quotes the object's ARN): never for buckets' contents."""
    code = _code(exc) or type(exc).__name__
    if message and _code(exc):
        return f"{code}: {exc.response.get('Error', {}).get('Message', '')}"[:300]
    return code
