"""S3 bucket configuration (ACL, policy, Block Public Access, ownership) into AccessPolicy.

Judged from the configuration read, never from what a server accepted (moto does not enforce
Block Public Access), the way Prowler and ScoutSuite judge it.
"""
from __future__ import annotations

import json
from typing import Any

from vendorscan.model import AccessPolicy, Grant, Scope

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
# On a bucket, READ lets one list the keys; on an object, read its content.
_ACL_RIGHTS = {"READ": {"list"}, "WRITE": {"write"}, "READ_ACP": {"admin"}, "WRITE_ACP": {"admin"},
               "FULL_CONTROL": {"read", "list", "write", "admin"}}
# Condition keys that tie an Allow to the owner's own network or organisation: not public.
_RESTRICTING = {"aws:sourceaccount", "aws:sourcearn", "aws:principalaccount", "aws:principalorgid",
                "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:principalarn", "aws:userid",
                "aws:sourceowner", "s3:dataaccesspointaccount"}


def acl_grants(acl: dict[str, Any], owner_id: str | None, ignore_public: bool, on_object: bool = False) -> list[Grant]:
    """Grants of a bucket or object ACL; public ones lose effect under IgnorePublicAcls."""
    out = []
    source = "s3-object-acl" if on_object else "s3-acl"
    for g in acl.get("Grants", []):
        grantee = g.get("Grantee", {})
        rights = set(_ACL_RIGHTS.get(g.get("Permission", ""), set()))
        if on_object and "list" in rights:
            rights = rights - {"list"} | {"read"}
        rights = frozenset(rights)
        if not rights:
            continue
        uri = grantee.get("URI", "")
        if uri == ALL_USERS:
            principal, scope = "AllUsers (anyone on the internet)", Scope.PUBLIC
        elif uri == AUTH_USERS:
            principal, scope = "AuthenticatedUsers (any AWS account)", Scope.PUBLIC
        elif grantee.get("ID") and grantee.get("ID") == owner_id:
            principal, scope = f"owner {grantee.get('DisplayName') or grantee['ID'][:12]}", Scope.USER
        elif grantee.get("ID"):
            principal, scope = f"canonical user {grantee.get('DisplayName') or grantee['ID'][:12]}", Scope.ORGANISATION
        elif grantee.get("EmailAddress"):
            principal, scope = "account by e-mail", Scope.ORGANISATION
        else:
            principal, scope = uri or "unknown grantee", Scope.ORGANISATION
        public = scope == Scope.PUBLIC
        note = "neutralised by Block Public Access (IgnorePublicAcls)" if public and ignore_public else ""
        out.append(Grant(principal, scope, rights, source, effective=not (public and ignore_public), note=note))
    return out


def policy_grants(policy_text: str | None, own_account: str | None, restrict_public: bool) -> tuple[list[Grant], bool]:
    """Grants of a bucket policy's Allow statements, and whether a statement denies non-TLS access."""
    if not policy_text:
        return [], False
    doc = json.loads(policy_text)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    grants, tls_only = [], False
    for st in statements:
        actions = _list(st.get("Action"))
        condition = st.get("Condition") or {}
        if st.get("Effect") == "Deny":
            secure = {k.lower(): v for op in condition.values() for k, v in op.items()}
            if str(secure.get("aws:securetransport", "")).lower() == "false":
                tls_only = True
            continue
        if st.get("Effect") != "Allow":
            continue
        rights = _action_rights(actions)
        if not rights:
            continue
        keys = {k.lower() for op in condition.values() for k in op}
        restricted = bool(keys & _RESTRICTING)
        for principal in _principals(st.get("Principal")):
            if principal == "*":
                if restricted:
                    grants.append(Grant("* with a restricting condition", Scope.ORGANISATION, rights, "s3-policy",
                                        note=f"condition on {', '.join(sorted(keys & _RESTRICTING))}"))
                    continue
                note = "neutralised by Block Public Access (RestrictPublicBuckets)" if restrict_public else ""
                grants.append(Grant("* (anyone)", Scope.PUBLIC, rights, "s3-policy", effective=not restrict_public,
                                    note=note))
            else:
                account = _account_of(principal)
                if account and account == own_account:
                    grants.append(Grant(principal, Scope.GROUP, rights, "s3-policy"))
                else:
                    grants.append(Grant(principal, Scope.ORGANISATION, rights, "s3-policy",
                                        note="another AWS account" if account else ""))
    return grants, tls_only


def _list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _principals(value) -> list[str]:
    if value == "*":
        return ["*"]
    out = []
    if isinstance(value, dict):
        for kind, v in value.items():
            for p in _list(v):
                out.append("*" if p == "*" or p == "arn:aws:iam::*:root" else p)
    return out


def _account_of(principal: str) -> str | None:
    if principal.isdigit() and len(principal) == 12:
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 4 and parts[0] == "arn" else None


def _action_rights(actions: list[str]) -> frozenset[str]:
    rights = set()
    for a in actions:
        a = a.lower()
        if a in ("*", "s3:*"):
            return frozenset({"read", "list", "write", "admin"})
        if a.startswith("s3:get") or a == "s3:get*":
            rights.add("read")
        if a.startswith("s3:list"):
            rights.add("list")
        if a.startswith(("s3:put", "s3:delete", "s3:restore", "s3:abort")):
            rights.add("write" if "acl" not in a and "policy" not in a else "admin")
    return frozenset(rights)


def bpa_flags(config: dict[str, Any] | None) -> dict[str, bool]:
    """The four Block Public Access switches (all False when none is set)."""
    config = config or {}
    return {k: bool(config.get(k)) for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                             "RestrictPublicBuckets")}


def bucket_policy(owner: str | None, acl: list[Grant], policy: list[Grant], acls_disabled: bool) -> AccessPolicy:
    """The bucket's AccessPolicy; with ACLs disabled (BucketOwnerEnforced) ACL grants do not count."""
    if acls_disabled:
        acl = [Grant(g.principal, g.scope, g.rights, g.source, effective=False, note="ACLs disabled (BucketOwnerEnforced)")
               for g in acl if g.scope != Scope.USER]
    return AccessPolicy(owner, tuple(acl) + tuple(policy))
