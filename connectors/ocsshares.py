"""Nextcloud / ownCloud shares (the OCS Share API's JSON) into vendorscan's common Grant form.

The records are those of `GET /ocs/v2.php/apps/files_sharing/api/v1/shares?path=…&reshares=true&format=json`
(Nextcloud's ShareAPIController::formatShare; ownCloud 10 answers in the same shape). What counts:

- `share_type` 3, a public link: anyone who has the link, no account needed (public scope). A link without
  a password is the worst case (with personal data in it: a critical exposure); the password, the expiry
  date and a hidden download button are noted on the grant. A link whose expiry date has passed no longer
  opens: the grant is kept but not effective. Permissions 4 alone is a "file drop": upload, no read.
- `share_type` 4, a link mailed to one address: anyone who has the mail opens it without an account (public).
- `share_type` 0 a user (user scope), 1 a group (group scope; a group named in `broad_groups` is the
  organisation), 6/9 a user or group on another server (federated: organisation), 7 a circle/team,
  10 a Talk room, 12 a Deck board (group scope).

Never copied from a record: the link's token or URL (they open the share), the password (its hash), e-mail
addresses of recipients.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable

from vendorscan.model import Grant, Scope

SOURCE = "ocs-share"
# Nextcloud's \OCP\Constants::PERMISSION_*
READ, UPDATE, CREATE, DELETE, SHARE = 1, 2, 4, 8, 16
USER, GROUP, LINK, EMAIL, REMOTE, CIRCLE, GUEST, REMOTE_GROUP, ROOM, DECK, SCIENCEMESH = (
    0, 1, 3, 4, 6, 7, 8, 9, 10, 12, 15)


def rights(permissions: int, folder: bool) -> frozenset[str]:
    """Nextcloud's permission bits as read/list/write/admin (resharing counts as admin)."""
    out = set()
    if permissions & READ:
        out |= {"read", "list"} if folder else {"read"}
    if permissions & (UPDATE | CREATE | DELETE):
        out.add("write")
    if permissions & SHARE:
        out.add("admin")
    return frozenset(out)


def expiry(share: dict[str, Any]) -> datetime.date | None:
    """The share's expiry date ("2026-12-31 00:00:00"), or None when it has none (or it cannot be read)."""
    value = share.get("expiration")
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def has_password(share: dict[str, Any]) -> bool:
    """True when a link or mail share asks for a password (Nextcloud < 15 put its hash in share_with)."""
    if share.get("password"):
        return True
    return int(share.get("share_type", -1)) == LINK and bool(share.get("share_with"))


def grant(share: dict[str, Any], broad_groups: frozenset[str], today: datetime.date,
          inherited: bool = False) -> Grant | None:
    """One share record as a Grant (None for a record without permissions)."""
    try:
        kind, permissions = int(share.get("share_type", -1)), int(share.get("permissions") or 0)
    except (TypeError, ValueError):
        return None
    folder = share.get("item_type") == "folder"
    granted = rights(permissions, folder)
    if not granted:
        return None
    who = str(share.get("share_with_displayname") or share.get("share_with") or "").strip()
    label = str(share.get("label") or "").strip()
    by = str(share.get("uid_owner") or "").strip()
    notes, effective = [], True
    ends = expiry(share)
    if kind in (LINK, EMAIL):
        if kind == LINK:
            principal = f"anyone with the public link{f' {label!r}' if label else ''}"
            if not permissions & READ and permissions & CREATE:
                notes.append("file drop: upload only, nothing can be read through it")
        else:
            principal = "anyone with the link mailed to one address"
        notes.append("password-protected" if has_password(share) else "no password")
        if share.get("hide_download") in (1, "1", True):
            notes.append("download button hidden (the content still shows)")
        scope = Scope.PUBLIC
    elif kind == USER:
        principal, scope = f"user {who or '?'}", Scope.USER
    elif kind == GROUP:
        principal = f"group {who or '?'}"
        names = {str(share.get("share_with") or "").lower(), who.lower()}
        scope = Scope.ORGANISATION if names & broad_groups else Scope.GROUP
    elif kind in (REMOTE, REMOTE_GROUP, SCIENCEMESH):
        principal = f"{'group' if kind == REMOTE_GROUP else 'user'} {who or '?'} on another server (federated)"
        scope = Scope.ORGANISATION
    elif kind in (CIRCLE, ROOM, DECK):
        what = {CIRCLE: "team (circle)", ROOM: "Talk room", DECK: "Deck board"}[kind]
        principal, scope = f"{what} {who or share.get('share_with') or '?'}", Scope.GROUP
    else:  # a share type this mapping does not know: broad until someone looks
        principal, scope = f"share of type {kind} with {who or '?'}", Scope.ORGANISATION
        notes.append("a share type vendorscan does not know: counted as organisation-wide")
    if ends is not None:
        if ends <= today:
            effective = False
            notes.append(f"expired on {ends.isoformat()}")
        else:
            notes.append(f"expires {ends.isoformat()}")
    elif kind in (LINK, EMAIL):
        notes.append("no expiry date")
    if by:
        notes.append(f"shared by {by}")
    return Grant(principal, scope, granted, SOURCE, inherited=inherited, effective=effective, note="; ".join(notes))


def grants(shares: Iterable[dict[str, Any]], broad_groups: frozenset[str], today: datetime.date | None = None,
           inherited: bool = False) -> tuple[Grant, ...]:
    """The Grants of a file's or folder's share records, in the order given; records without rights left out."""
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    out = [grant(s, broad_groups, today, inherited) for s in shares]
    return tuple(g for g in out if g is not None)


def owner_of(shares: Iterable[dict[str, Any]]) -> str | None:
    """The file owner the share records name (displayname_file_owner, else uid_file_owner)."""
    for s in shares:
        name = s.get("displayname_file_owner") or s.get("uid_file_owner")
        if name:
            return str(name)
    return None


def records(answer: Any) -> list[dict[str, Any]] | None:
    """The share records of an OCS answer ({"ocs": {"meta": …, "data": [...]}}), or None when it is not one."""
    if not isinstance(answer, dict) or not isinstance(answer.get("ocs"), dict):
        return None
    data = answer["ocs"].get("data")
    if data is None or data == {}:  # PHP's empty array
        data = []
    if isinstance(data, dict):  # one share
        data = [data]
    if not isinstance(data, list):
        return None
    return [d for d in data if isinstance(d, dict)]


def meta_status(answer: Any) -> tuple[str, int | None]:
    """The OCS answer's meta status ("ok"/"failure") and statuscode (v2: HTTP-like; v1: 100 = ok)."""
    meta = answer.get("ocs", {}).get("meta", {}) if isinstance(answer, dict) else {}
    code = meta.get("statuscode")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return str(meta.get("status", "")), code
