"""Azure Blob Storage (azure-storage-blob): blobs streamed in ranges, container exposure, account posture."""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from vendorscan.connector import Connector, ConnectorError, ResourceError, backoff
from vendorscan.connectors import azureposture
from vendorscan.model import AccessPolicy, Resource, Skipped

RANGE = 8 * 2**20  # bytes per ranged download: a retry re-reads one range, never the whole blob
CREDENTIALS = ("account-key", "connection-string", "service-principal")
# Error codes that mean the credentials themselves were refused (not one container's or blob's rights).
_CREDENTIAL_ERRORS = {"AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"}
_DENIED = {"AuthorizationFailure", "AuthorizationPermissionMismatch", "AuthorizationSourceIPMismatch",
           "AuthorizationProtocolMismatch", "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch",
           "InsufficientAccountPermissions", "AccountIsDisabled"}
_ARM_ONLY = ("allowBlobPublicAccess, supportsHttpsTrafficOnly, minimumTlsVersion and container soft delete are "
             "account (ARM) settings the blob endpoint does not show; give account_properties_file, or "
             "subscription_id and resource_group")
ARM_API = "2023-05-01"  # Microsoft.Storage API version of the two ARM reads


class _RangedReader:
    """A read-only file object over a blob, fetched in byte ranges, all of one version of the blob.

    The first range fixes the version (its ETag and size, the blob as it is at open time, which may be newer than
    the walk saw); every later range is asked with If-Match on that ETag, so a blob that changes mid-read fails
    the read (ResourceModifiedError) rather than mixing two versions, and the next open() reads the new one."""

    def __init__(self, blob_client, size: int):
        self.blob, self.size, self.etag = blob_client, size, None
        self.pos = 0  # the blob's next byte to fetch
        self.buf = b""  # the range fetched last …
        self.off = 0  # … and how much of it was given out

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def _fetch(self) -> bool:
        from azure.core import MatchConditions
        kw: dict[str, Any] = {"offset": self.pos, "length": min(RANGE, self.size - self.pos), "max_concurrency": 1}
        if self.etag:
            kw.update(etag=self.etag, match_condition=MatchConditions.IfNotModified)
        downloader = self.blob.download_blob(**kw)
        data = downloader.readall()
        if self.etag is None:  # the first range fixes the version read
            self.etag = downloader.properties.etag
            total = _total_size(downloader.properties.content_range)
            self.size = total if total is not None else self.size
        self.buf, self.off = data, 0
        self.pos += len(data)
        return bool(data)

    def read(self, n: int = -1) -> bytes:
        whole = n is None or n < 0
        parts, got = [], 0
        while whole or got < n:
            if self.off >= len(self.buf) and (self.pos >= self.size or not self._fetch()):
                break
            take = len(self.buf) - self.off if whole else min(n - got, len(self.buf) - self.off)
            parts.append(self.buf[self.off:self.off + take] if take < len(self.buf) or self.off else self.buf)
            self.off += take
            got += take
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        self.buf, self.off = b"", 0


def _total_size(content_range) -> int | None:
    """The blob's whole size from a Content-Range answer ('bytes 0-999/5000')."""
    text = str(content_range or "")
    tail = text.rpartition("/")[2]
    return int(tail) if tail.isdigit() else None


class AzureBlobConnector(Connector):
    """Azure Blob Storage: blob content, container public access, stored access policies, account posture."""

    id = "azure"
    version = "1"
    scheme = "azblob"
    thread_safe = True  # the SDK's clients may be shared between threads

    @dataclass(frozen=True)
    class Options:
        account: str = ""  # the storage account's name (taken from the connection string when it has one)
        endpoint_url: str = ""  # default https://ACCOUNT.blob.core.windows.net (Azurite, sovereign clouds: set it)
        containers: list[str] = field(default_factory=list)  # empty: every container the credentials can list
        prefixes: list[str] = field(default_factory=list)
        credential: str = "account-key"  # account-key, connection-string or service-principal
        account_key_env: str = "AZURE_STORAGE_KEY"
        connection_string_env: str = "AZURE_STORAGE_CONNECTION_STRING"
        client_id_env: str = "AZURE_CLIENT_ID"
        tenant_id_env: str = "AZURE_TENANT_ID"
        client_secret_env: str = "AZURE_CLIENT_SECRET"
        # ARM settings the blob endpoint cannot show (az storage account show / blob-service-properties show)
        account_properties_file: str = ""
        blob_service_properties_file: str = ""
        # … or read from ARM with the service principal (needs the Reader role on the account)
        subscription_id: str = ""
        resource_group: str = ""
        arm_endpoint: str = "https://management.azure.com"
        # Where the account's allowBlobPublicAccess is not known: one anonymous read-only request to each public
        # container (a list, or one blob's properties) shows whether the account lets its public level work.
        probe_anonymous: bool = True
        max_blobs: int = 0  # per container; 0 = no limit
        sample: float = 1.0  # share of blobs read, chosen by name hash (stable across scans)
        skip_tiers: list[str] = field(default_factory=lambda: ["Archive"])
        verify_tls: bool = True
        ca_bundle: str = ""
        max_attempts: int = 8
        timeout: int = 60  # seconds to wait for a connection or for the next bytes of an answer

        def __post_init__(self):
            if self.credential not in CREDENTIALS:
                raise ValueError(f"credential must be one of {', '.join(CREDENTIALS)}")
            if self.credential != "connection-string" and not self.account:
                raise ValueError("give account (the storage account's name)")
            if not 0 < self.sample <= 1:
                raise ValueError("sample must be in (0, 1]")
            if self.max_attempts < 1:
                raise ValueError("max_attempts must be at least 1")
            if bool(self.subscription_id) != bool(self.resource_group):
                raise ValueError("give both subscription_id and resource_group, or neither")
            if self.subscription_id and self.credential != "service-principal":
                raise ValueError("subscription_id and resource_group read ARM with a service principal: "
                                 "credential = \"service-principal\"")
            if not self.arm_endpoint.lower().startswith("https://"):
                raise ValueError("arm_endpoint must be https://")

    def __init__(self, options, ctx):
        super().__init__(options, ctx)
        self._client = None
        self._account = options.account
        self._url = options.endpoint_url.rstrip("/")
        self._account_posture: dict[str, Any] | None = None
        self._state: dict[str, tuple] = {}
        self._credential = None  # the service principal's, for the ARM reads

    def weaknesses(self) -> list[str]:
        """TLS verification off, or a plain-HTTP endpoint."""
        url = self._url or self.options.endpoint_url
        if not url and self.options.credential == "connection-string":
            parts = _parse_connection_string(os.environ.get(self.options.connection_string_env, ""))
            url = parts.get("blobendpoint") or f"{parts.get('defaultendpointsprotocol', 'https')}://"
        if url.lower().startswith("http://"):
            return [f"the blob endpoint {url} is plain HTTP: signed requests and content cross the network "
                    "unencrypted"]
        if not self.options.verify_tls and not self.options.ca_bundle:
            return ["TLS certificates of the blob endpoint are not verified (verify_tls = false): a machine in the "
                    "middle could pose as it"]
        return []

    # -- client -------------------------------------------------------------------------------
    def _service(self):
        if self._client is None:
            self._client = self._make()
        return self._client

    def _client_kw(self) -> dict[str, Any]:
        """A client's settings: retries with backoff, timeouts, TLS verification, ranges.

        Made anew for every client: a pipeline links its policy objects to each other, so a retry policy shared
        by two clients would send one client's requests down the other's pipeline (without its signing)."""
        from azure.storage.blob import ExponentialRetry
        o = self.options
        return {
            "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=o.max_attempts - 1,
                                             random_jitter_range=1),
            "connection_timeout": min(10, o.timeout), "read_timeout": o.timeout,
            "connection_verify": o.ca_bundle or o.verify_tls,
            "max_single_get_size": RANGE, "max_chunk_get_size": RANGE,
        }

    def _make(self):
        from azure.storage.blob import BlobServiceClient
        o = self.options
        kw = self._client_kw()
        if o.credential == "connection-string":
            text = _env(o.connection_string_env, "connection_string_env")
            parts = _parse_connection_string(text)
            if "sharedaccesssignature" in parts:
                raise ConnectorError(f"the connection string in {o.connection_string_env} holds a SAS token: "
                                     "vendorscan takes an account key or a service principal, never a SAS")
            self._account = self._account or parts.get("accountname", "")
            if not self._url:
                self._url = parts.get("blobendpoint", "").rstrip("/") or (
                    f"{parts.get('defaultendpointsprotocol', 'https')}://{self._account}.blob."
                    f"{parts.get('endpointsuffix', 'core.windows.net')}")
            if not self._account or "accountkey" not in parts:
                raise ConnectorError(f"the connection string in {o.connection_string_env} has no AccountName "
                                     "and AccountKey")
            credential: Any = {"account_name": self._account, "account_key": parts["accountkey"]}
        elif o.credential == "account-key":
            credential = {"account_name": self._account, "account_key": _env(o.account_key_env, "account_key_env")}
        else:
            if (self._url or "").lower().startswith("http://"):
                raise ConnectorError("a service principal's token is never sent over plain HTTP: give an https:// "
                                     "endpoint_url")
            try:
                from azure.identity import ClientSecretCredential
            except ImportError:
                raise ConnectorError("credential = \"service-principal\" needs azure-identity: "
                                     "pip install 'vendorscan[azure]'") from None
            credential = ClientSecretCredential(
                _env(o.tenant_id_env, "tenant_id_env"), _env(o.client_id_env, "client_id_env"),
                _env(o.client_secret_env, "client_secret_env"), connection_verify=o.ca_bundle or o.verify_tls)
            self._credential = credential
        self._url = self._url or f"https://{self._account}.blob.core.windows.net"
        return BlobServiceClient(self._url, credential=credential, **kw)

    def _what_to_check(self) -> str:
        o = self.options
        if o.credential == "account-key":
            return f"the account key in {o.account_key_env}"
        if o.credential == "connection-string":
            return f"the connection string in {o.connection_string_env}"
        return f"the service principal in {o.tenant_id_env}, {o.client_id_env} and {o.client_secret_env}"

    def _target_error(self, exc, doing: str) -> ConnectorError:
        """A ConnectorError in our own words for a failure before any blob was read."""
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
        code = _code(exc)
        if code in _CREDENTIAL_ERRORS or (isinstance(exc, ClientAuthenticationError) and code not in _DENIED):
            return ConnectorError(f"credentials refused while trying to {doing} ({code or type(exc).__name__}): "
                                  f"check {self._what_to_check()}")
        if code == "AuthorizationFailure" and self.options.credential != "service-principal":
            # An account key may do everything: refused, it is the wrong key (Azurite's answer to a bad
            # signature) or the account's firewall does not let this address through.
            return ConnectorError(f"credentials refused while trying to {doing} ({code}): check "
                                  f"{self._what_to_check()}, and that the account's network rules admit this machine")
        if code in _DENIED:
            return ConnectorError(f"the credentials may not {doing} ({code}): give {self._what_to_check()} a role "
                                  "that may (Storage Blob Data Reader and Reader), or name the containers")
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            if _tls_failure(exc):
                return ConnectorError(f"the TLS certificate of {self._url} could not be verified: give ca_bundle "
                                      "for a private CA (verify_tls = false only for a test store)")
            return ConnectorError(f"cannot reach {self._url} to {doing} ({type(exc).__name__})")
        return ConnectorError(f"cannot {doing} ({code or type(exc).__name__})")

    # -- walk ---------------------------------------------------------------------------------
    def walk(self) -> Iterator[Resource | Skipped]:
        """Each container (with its exposure and the account's posture) and then its blobs."""
        from azure.core.exceptions import AzureError
        service = self._service()
        try:
            if self.options.containers:
                listed = None
                names = list(self.options.containers)
            else:
                listed = {c.name: c for c in service.list_containers()}
                names = sorted(listed)
        except AzureError as exc:
            raise self._target_error(exc, "list containers") from None
        for name in names:
            try:
                container = self._container(name, listed.get(name) if listed else None)
            except AzureError as exc:
                skip = self._container_skip(name, exc)
                if skip is None:
                    raise self._target_error(exc, f"read container {name}") from None
                yield skip
                continue
            yield container
            try:
                yield from self._blobs(name, container)
            except AzureError as exc:
                yield Skipped(container.uri, _reason(exc, listing=True), f"listing stopped: {_describe(exc)}",
                              self.ctx.target)

    def _container_skip(self, name: str, exc) -> Skipped | None:
        from azure.core.exceptions import ServiceRequestError, ServiceResponseError
        code = _code(exc)
        uri = f"azblob://{self._account}/{name}"
        if code in _CREDENTIAL_ERRORS or isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return None  # the whole target: not this container
        if code == "AuthorizationFailure" and self.options.credential != "service-principal":
            return None  # an account key refused: the key, not this container
        if code == "ContainerNotFound" or getattr(exc, "status_code", None) == 404:
            return Skipped(uri, "not-found", "no such container", self.ctx.target)
        if code in _DENIED or getattr(exc, "status_code", None) == 403:
            return Skipped(uri, "permission-denied", _describe(exc), self.ctx.target)
        return Skipped(uri, "read-error", _describe(exc), self.ctx.target)

    def _posture(self) -> dict[str, Any]:
        """The account's posture, read once: blob service properties from the endpoint, ARM settings from files."""
        if self._account_posture is None:
            from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
            posture: dict[str, Any] = {}
            try:
                posture.update(azureposture.service_posture(self._service().get_service_properties()))
            except (ServiceRequestError, ServiceResponseError):
                raise
            except AzureError as exc:
                posture["unreadable"] = [f"blob service properties ({_code(exc) or type(exc).__name__})"]
            o = self.options
            account = _load_json(o.account_properties_file, "account_properties_file")
            blob_service = _load_json(o.blob_service_properties_file, "blob_service_properties_file")
            problem = ""
            if account is None and o.subscription_id:
                account, blob_service, problem = self._arm_properties()
                if problem:
                    posture.setdefault("unreadable", []).append(problem)
            arm = azureposture.account_posture(account, blob_service)
            if "blob_soft_delete" in posture and "blob_soft_delete" in arm:
                arm.pop("blob_soft_delete")  # the endpoint's own answer is newer than a recorded file
            posture.update(arm)
            if account is None:
                posture["account_settings"] = f"unknown: {problem + '; ' if problem else ''}{_ARM_ONLY}"
            self._account_posture = posture
        return self._account_posture

    def _arm_properties(self) -> tuple[dict | None, dict | None, str]:
        """The storage account's and its blob service's ARM properties, read with the service principal's token:
        (account, blob service, what could not be read)."""
        o = self.options
        base = (f"{o.arm_endpoint.rstrip('/')}/subscriptions/{o.subscription_id}/resourceGroups/{o.resource_group}"
                f"/providers/Microsoft.Storage/storageAccounts/{self._account}")
        self._service()  # makes the credential
        try:
            token = self._credential.get_token(f"{o.arm_endpoint.rstrip('/')}/.default").token
        except Exception as exc:  # noqa: BLE001 - azure-identity raises its own and msal's errors
            return None, None, f"ARM account properties (no token: {type(exc).__name__})"
        found, problems = [], []
        for url, what in ((f"{base}?api-version={ARM_API}", "account"),
                          (f"{base}/blobServices/default?api-version={ARM_API}", "blob service")):
            doc, problem = _arm_get(url, token, o)
            found.append(doc)
            if problem:
                problems.append(f"ARM {what} properties ({problem})")
        return found[0], found[1], "; ".join(problems)

    def _container(self, name: str, listed) -> Resource:
        from azure.core.exceptions import HttpResponseError
        client = self._service().get_container_client(name)
        props = listed if listed is not None else client.get_container_properties()
        posture = dict(self._posture())
        public_allowed = posture.get("blob_public_access_allowed")
        level = azureposture.public_level(getattr(props, "public_access", None))
        identifiers, unknown = [], None
        try:
            acl = client.get_container_access_policy()
            level = azureposture.public_level(acl.get("public_access")) if acl.get("public_access") else level
            identifiers = acl.get("signed_identifiers") or []
        except HttpResponseError as exc:
            if getattr(exc, "status_code", None) != 403 and _code(exc) not in _DENIED:
                raise
            unknown = (f"the audit account may not read the container's stored access policies ({_code(exc)}): "
                       "the public access level is from the container listing")
        if level != "off" and public_allowed is None and self.options.probe_anonymous:
            observed, how = self._probe(client, name, level)
            if observed is not None:
                public_allowed = posture["blob_public_access_allowed"] = observed
                posture["public_access_probe"] = how
        access = azureposture.container_policy(self._account, level, identifiers, public_allowed)
        if unknown:
            access = AccessPolicy(access.owner, access.grants, unknown)
        posture["public_access_level"] = level
        self._state[name] = (level, public_allowed,
                             tuple(g for g in access.grants if g.source == "azure-stored-access-policy"))
        modified = getattr(props, "last_modified", None)
        return Resource(uri=f"azblob://{self._account}/{name}", kind="bucket", target=self.ctx.target,
                        modified=modified.timestamp() if modified else None, etag=getattr(props, "etag", None),
                        access=access, parent=f"azblob://{self._account}", posture=posture)

    def _probe(self, client, name: str, level: str) -> tuple[bool | None, str]:
        """Whether the account lets a public container be read anonymously, from one read-only request without
        credentials: (True answered / False refused with PublicAccessNotPermitted / None unknown, what was seen)."""
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.storage.blob import ContainerClient
        anonymous = ContainerClient(self._url, name, credential=None, **self._client_kw())
        try:
            if level == "container":
                list(next(iter(anonymous.list_blobs(results_per_page=1).by_page()), []))
                what = "an anonymous list"
            else:
                first = next(iter(client.list_blobs(results_per_page=1)), None)
                if first is None:
                    return None, ""
                anonymous.get_blob_client(first.name).get_blob_properties()
                what = "an anonymous read of a blob's properties"
            return True, f"{what} of container {name} was answered: the account allows public access"
        except HttpResponseError as exc:
            if _code(exc) == "PublicAccessNotPermitted":
                return False, f"an anonymous request to container {name} was refused (PublicAccessNotPermitted)"
            return None, ""
        except AzureError:
            return None, ""
        finally:
            anonymous.close()

    def _blobs(self, name: str, container: Resource) -> Iterator[Resource | Skipped]:
        o = self.options
        client = self._service().get_container_client(name)
        level, public_allowed, stored = self._state[name]
        inherited = tuple(azureposture.blob_grants(level, public_allowed)) + tuple(
            _inherit(g) for g in stored)
        access = AccessPolicy(container.access.owner, inherited)
        yielded = 0
        for prefix in o.prefixes or [""]:
            for blob in client.list_blobs(name_starts_with=prefix or None):
                uri = f"{container.uri}/{blob.name}"
                if blob.name.endswith("/") and not blob.size:
                    continue  # a folder marker (hierarchical namespace, Storage Explorer)
                tier = str(getattr(blob.blob_tier, "value", blob.blob_tier) or "")
                if tier and tier in o.skip_tiers:
                    yield Skipped(uri, "archived-storage-class", f"{tier} tier: never rehydrated by the scanner",
                                  self.ctx.target)
                    continue
                if o.sample < 1 and _fraction(blob.name) >= o.sample:
                    continue
                if o.max_blobs and yielded >= o.max_blobs:
                    return
                yielded += 1
                modified = blob.last_modified
                yield Resource(uri=uri, kind="object", target=self.ctx.target, size=int(blob.size or 0),
                               modified=modified.timestamp() if modified else None, etag=blob.etag, access=access,
                               parent=container.uri)

    # -- content ------------------------------------------------------------------------------
    @contextmanager
    def open(self, resource: Resource) -> Iterator[BinaryIO]:
        """The blob's bytes, downloaded range by range, every range of the same version (If-Match)."""
        from azure.core.exceptions import AzureError
        _account, container, blob = resource.address[len("azblob://"):].split("/", 2)
        reader = _RangedReader(self._service().get_blob_client(container, blob), resource.size or 0)
        try:
            yield reader  # type: ignore[misc]
        except AzureError as exc:
            reason = _reason(exc)
            if reason == "changed-during-read" and self._gone(reader.blob):
                reason = "vanished"  # If-Match on a deleted blob: 412 (Azurite) as well as 404 (Azure)
            raise ResourceError(reason, _describe(exc)) from None
        finally:
            reader.close()

    @staticmethod
    def _gone(blob_client) -> bool:
        from azure.core.exceptions import AzureError, ResourceNotFoundError
        try:
            blob_client.get_blob_properties()
        except ResourceNotFoundError:
            return True
        except AzureError:
            return False
        return False

    def close(self) -> None:
        """Drop the client."""
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - closing a pool must not end a scan
                pass
        self._client = None


def _inherit(grant):
    from vendorscan.model import Grant
    return Grant(grant.principal, grant.scope, frozenset(grant.rights - {"list"}) or frozenset({"read"}),
                 grant.source, inherited=True, effective=grant.effective, note=grant.note)


def _reason(exc, listing: bool = False) -> str:
    from azure.core.exceptions import (ResourceModifiedError, ResourceNotFoundError, ServiceRequestError,
                                       ServiceResponseError)
    code = _code(exc)
    if isinstance(exc, ResourceModifiedError) or code in ("ConditionNotMet", "TargetConditionNotMet"):
        return "changed-during-read"
    if isinstance(exc, ResourceNotFoundError) or code in ("BlobNotFound", "ContainerNotFound"):
        return "not-found" if listing else "vanished"
    if code in ("BlobArchived",):
        return "archived-storage-class"
    if code in _DENIED or code in _CREDENTIAL_ERRORS or getattr(exc, "status_code", None) == 403:
        return "permission-denied"
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return "connection-lost"
    return "read-error"


def _tls_failure(exc) -> bool:
    seen, cur = 0, exc
    while cur is not None and seen < 10:
        text = f"{type(cur).__name__} {cur}"
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text or "SSLCertVerificationError" in text:
            return True
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "inner_exception", None)
        seen += 1
    return False


def _parse_connection_string(text: str) -> dict[str, str]:
    out = {}
    for part in text.strip().strip(";").split(";"):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _arm_get(url: str, token: str, o) -> tuple[dict | None, str]:
    """One ARM GET with retries on throttling and server errors: (the JSON object, or None and why)."""
    import ssl
    import time
    import urllib.error
    import urllib.request
    context = ssl.create_default_context(cafile=o.ca_bundle or None)
    if not o.verify_tls and not o.ca_bundle:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    problem = ""
    for attempt in range(o.max_attempts):
        if attempt:
            time.sleep(backoff(attempt, cap=30))
        try:
            with urllib.request.urlopen(request, timeout=o.timeout, context=context) as answer:
                doc = json.loads(answer.read(4 * 2**20))
            return (doc, "") if isinstance(doc, dict) else (None, "not a JSON object")
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
            if exc.code not in (408, 429, 500, 502, 503, 504):
                break
        except (OSError, ValueError) as exc:
            problem = type(exc).__name__
            if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
                problem = "TLS certificate not verified"
                break
    return None, problem


def _load_json(path: str, option: str) -> dict | None:
    if not path:
        return None
    try:
        doc = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConnectorError(f"cannot read {option} {path}: {type(exc).__name__}") from None
    if not isinstance(doc, dict):
        raise ConnectorError(f"{option} {path} is not a JSON object")
    return doc


def _fraction(name: str) -> float:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") / 2**64


def _env(name: str, option: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConnectorError(f"environment variable {name} ({option}) is not set")
    return value


def _code(exc) -> str:
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return str(headers.get("x-ms-error-code", "")) if hasattr(headers, "get") else ""


def _describe(exc) -> str:
    """The service's error code (or the exception's type), never its message: it can name the blob."""
    return _code(exc) or type(exc).__name__
