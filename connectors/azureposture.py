"""Azure Blob Storage access and posture: container public access, stored access policies, account settings.

Judged from the configuration read, never from what the server accepted, as s3posture does for S3.

The blob endpoint (the data plane, and Azurite, which has nothing else) shows a container's public access
level, its stored access policies and the blob service's soft-delete setting. Whether the account allows
public access at all (allowBlobPublicAccess), HTTPS-only (supportsHttpsTrafficOnly), the minimum TLS version
and container soft delete are Azure Resource Manager settings of the storage account: `account_posture()`
maps them from the properties object ARM (or `az storage account show`, or
`az storage account blob-service-properties show`) gives.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

from vendorscan.model import AccessPolicy, Grant, Scope

ANONYMOUS = "anonymous (anyone on the internet)"
# A container's public access level: rights of anonymous callers on the container and on each blob.
_LEVEL_RIGHTS = {
    "container": (frozenset({"read", "list"}), frozenset({"read"})),  # list the blobs and read each
    "blob": (frozenset({"read"}), frozenset({"read"})),  # read a blob whose name one knows; no listing
}
# Stored access policy permission letters (a SAS signed against the policy carries them).
_SAS_RIGHTS = {"r": "read", "l": "list", "w": "write", "a": "write", "c": "write", "d": "write", "x": "write",
               "t": "write", "m": "write", "e": "write", "i": "write", "y": "write"}
# ARM names (REST API and the Azure CLI's) of the account settings the posture check judges.
_PUBLIC_KEYS = ("allowBlobPublicAccess", "allow_blob_public_access")
_HTTPS_KEYS = ("supportsHttpsTrafficOnly", "enableHttpsTrafficOnly", "enable_https_traffic_only")
_TLS_KEYS = ("minimumTlsVersion", "minimum_tls_version")


def public_level(value) -> str:
    """'container', 'blob' or 'off' from the SDK's value (None, a string or the PublicAccess enum)."""
    text = str(getattr(value, "value", value) or "").lower()
    return text if text in _LEVEL_RIGHTS else "off"


def container_grants(level: str, public_allowed: bool | None) -> list[Grant]:
    """The anonymous grant a container's public access level gives (none for 'off').

    With the account's allowBlobPublicAccess known to be false the grant stays listed but has no effect, as in
    Azure (the container keeps its level; requests without credentials are refused)."""
    if level not in _LEVEL_RIGHTS:
        return []
    rights = _LEVEL_RIGHTS[level][0]
    note = f"public access level '{level}'"
    if level == "blob":
        note += ": blobs readable by anyone who knows their names, the list is not public"
    if public_allowed is False:
        return [Grant(ANONYMOUS, Scope.PUBLIC, rights, "azure-public-access", effective=False,
                      note=note + "; neutralised by the account (allowBlobPublicAccess = false)")]
    return [Grant(ANONYMOUS, Scope.PUBLIC, rights, "azure-public-access", note=note)]


def blob_grants(level: str, public_allowed: bool | None) -> list[Grant]:
    """The anonymous read a blob inherits from its container's level."""
    if level not in _LEVEL_RIGHTS:
        return []
    note = f"container's public access level '{level}'"
    effective = public_allowed is not False
    if not effective:
        note += "; neutralised by the account (allowBlobPublicAccess = false)"
    return [Grant(ANONYMOUS, Scope.PUBLIC, _LEVEL_RIGHTS[level][1], "azure-public-access", inherited=True,
                  effective=effective, note=note)]


def stored_policy_grants(identifiers: Iterable[Any], now: _dt.datetime | None = None) -> list[Grant]:
    """One grant per stored access policy: whoever holds a SAS signed against it, with its rights and expiry.

    Azure does not say who was given such a SAS: the holders are counted as a group (not broad by default),
    and the note says what the policy allows and until when. An expired policy has no effect."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    out = []
    for ident in identifiers or ():
        policy = getattr(ident, "access_policy", None)
        letters = str(getattr(policy, "permission", "") or "")
        rights = frozenset(_SAS_RIGHTS[c] for c in letters if c in _SAS_RIGHTS)
        start, expiry = _when(getattr(policy, "start", None)), _when(getattr(policy, "expiry", None))
        parts = [f"stored access policy '{ident.id}'", f"permissions '{letters or '-'}'"]
        parts.append(f"from {start.isoformat()}" if start else "no start")
        parts.append(f"until {expiry.isoformat()}" if expiry else "no expiry in the policy (each SAS sets its own)")
        expired = expiry is not None and expiry <= now
        if expired:
            parts.append("expired")
        if not rights:  # a policy with no permissions lends none; a SAS must then carry its own (not stored)
            parts.append("no permissions in the policy: each SAS signed against it carries its own")
            rights = frozenset({"read"})
        out.append(Grant(f"holders of a SAS for stored access policy '{ident.id}'", Scope.GROUP, rights,
                         "azure-stored-access-policy", effective=not expired, note="; ".join(parts)))
    return out


def container_policy(account: str, level: str, identifiers, public_allowed: bool | None) -> AccessPolicy:
    """A container's AccessPolicy: the account (its keys and RBAC roles) owns it; public and SAS grants."""
    return AccessPolicy(f"storage account {account}",
                        tuple(container_grants(level, public_allowed)) + tuple(stored_policy_grants(identifiers)))


def _when(value) -> _dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    try:
        parsed = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


def _first(props: dict, keys: tuple[str, ...]):
    for k in keys:
        if k in props and props[k] is not None:
            return props[k]
    return None


def _flat(obj: dict | None) -> dict:
    """An ARM resource's `properties` merged over its top level (ARM nests them, the Azure CLI flattens them)."""
    obj = dict(obj or {})
    inner = obj.pop("properties", None)
    return {**obj, **(inner or {})} if isinstance(inner, dict) else obj


def account_posture(account: dict | None = None, blob_service: dict | None = None) -> dict[str, Any]:
    """Posture facts from ARM's storage account properties and its blob service properties (either may be None).

    Keys (only those the objects hold): `blob_public_access_allowed` (allowBlobPublicAccess),
    `https_only` (supportsHttpsTrafficOnly / the CLI's enableHttpsTrafficOnly), `minimum_tls_version`,
    `blob_soft_delete` (deleteRetentionPolicy.enabled), `container_soft_delete`
    (containerDeleteRetentionPolicy.enabled), `versioning` ("Enabled"/"Disabled", isVersioningEnabled)."""
    out: dict[str, Any] = {}
    a = _flat(account)
    public = _first(a, _PUBLIC_KEYS)
    if public is not None:
        out["blob_public_access_allowed"] = _bool(public)
    https = _first(a, _HTTPS_KEYS)
    if https is not None:
        out["https_only"] = _bool(https)
    tls = _first(a, _TLS_KEYS)
    if tls is not None:
        out["minimum_tls_version"] = str(tls)
    b = _flat(blob_service)
    for key, name in (("deleteRetentionPolicy", "blob_soft_delete"),
                      ("containerDeleteRetentionPolicy", "container_soft_delete")):
        rule = b.get(key)
        if isinstance(rule, dict) and rule.get("enabled") is not None:
            out[name] = _bool(rule["enabled"])
    if b.get("isVersioningEnabled") is not None:
        out["versioning"] = "Enabled" if _bool(b["isVersioningEnabled"]) else "Disabled"
    return out


def service_posture(service_properties: dict | None) -> dict[str, Any]:
    """What the blob endpoint's own service properties show: blob soft delete (deleteRetentionPolicy)."""
    rule = (service_properties or {}).get("delete_retention_policy")
    enabled = getattr(rule, "enabled", None)
    return {} if enabled is None else {"blob_soft_delete": bool(enabled)}


def _bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes", "enabled")
