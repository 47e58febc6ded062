"""POSIX permissions (mode bits and ACLs) into AccessPolicy, with the parents' traverse rule."""
from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from functools import lru_cache

from vendorscan.model import AccessPolicy, Grant, Scope

try:
    import posix1e
except ImportError:  # without pylibacl only mode bits are read; the policy says so
    posix1e = None

OTHER = "other (every local account)"
DEFAULT_BROAD_GROUPS = ("users", "staff", "domain users", "everyone", "employees")


@dataclass(frozen=True, slots=True)
class DirPerm:
    """What a directory lets others do on the way through it (the x bits, after the ACL mask)."""

    path: str
    uid: int
    gid: int
    other_x: bool
    group_x: bool
    named_groups_x: frozenset[int]


@lru_cache(maxsize=4096)
def user_name(uid: int) -> str:
    """Account name of a uid, or the number."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@lru_cache(maxsize=4096)
def group_name(gid: int) -> str:
    """Group name of a gid, or the number."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _acl(path: str, default: bool = False):
    if posix1e is None:
        return None
    try:
        if default:
            acl = posix1e.ACL(filedef=path)
            return acl if len(list(acl)) else None
        return posix1e.ACL(file=path) if posix1e.has_extended(path) else None
    except OSError:
        return None


def dir_perm(path: str, st, read_acl: bool = True) -> DirPerm:
    """Traverse permissions of one directory (st needs st_mode, st_uid, st_gid)."""
    mode = st.st_mode
    other_x, group_x, named = bool(mode & stat.S_IXOTH), bool(mode & stat.S_IXGRP), set()
    acl = _acl(path) if read_acl else None
    if acl is not None:
        mask_x = True
        entries = list(acl)
        for e in entries:
            if e.tag_type == posix1e.ACL_MASK:
                mask_x = e.permset.execute
        for e in entries:
            if e.tag_type == posix1e.ACL_GROUP_OBJ:
                group_x = e.permset.execute and mask_x
            elif e.tag_type == posix1e.ACL_GROUP and e.permset.execute and mask_x:
                named.add(e.qualifier)
    return DirPerm(path, st.st_uid, st.st_gid, other_x, group_x, frozenset(named))


def ancestors(path: str) -> tuple[DirPerm, ...]:
    """DirPerms of every directory from / down to `path` itself (which must be a directory)."""
    chain, current = [], os.path.abspath(path)
    while True:
        try:
            chain.append(dir_perm(current, os.stat(current)))
        except OSError:
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return tuple(reversed(chain))


def _blocked_for_other(chain: tuple[DirPerm, ...]) -> str | None:
    return next((d.path for d in chain if not d.other_x), None)


def _blocked_for_group(chain: tuple[DirPerm, ...], gid: int) -> str | None:
    return next((d.path for d in chain
                 if not (d.other_x or (d.gid == gid and d.group_x) or gid in d.named_groups_x)), None)


def _rights(read: bool, write: bool, is_dir: bool) -> frozenset[str]:
    rights = set()
    if read:
        rights.update(("read", "list") if is_dir else ("read",))
    if write:
        rights.add("write")
    return frozenset(rights)


def policy(path: str, st, chain: tuple[DirPerm, ...], broad_groups: frozenset[str], *,
           read_acl: bool = True, user_of=user_name, group_of=group_name, mode_source: str = "posix-mode") -> AccessPolicy:
    """AccessPolicy of a file or folder; `chain` is the DirPerms of its parents, / first.

    `st` needs st_mode, st_uid and st_gid; a remote caller (SFTP) passes read_acl=False and its own
    uid/gid -> name functions.
    """
    is_dir = stat.S_ISDIR(st.st_mode)
    mode = st.st_mode
    acl = _acl(path) if read_acl else None
    # Files of one folder share mode, owner, group and parents: without an ACL their policy is one object.
    # Keyed by the identity of the parents' chain (one tuple per folder), checked on a hit: no deep hashing.
    key = None if is_dir or acl is not None else (mode, st.st_uid, st.st_gid, id(chain), id(broad_groups), read_acl,
                                                    id(user_of), id(group_of), mode_source)
    if key is not None:
        cached = _POLICIES.get(key)
        if cached is not None and cached[0] is chain and cached[1] is broad_groups:
            return cached[2]
    grants: list[Grant] = []

    def group_grant(gid: int, read: bool, write: bool, source: str, note: str = "") -> None:
        rights = _rights(read, write, is_dir)
        if not rights:
            return
        name = group_of(gid)
        scope = Scope.ORGANISATION if name.lower() in broad_groups else Scope.GROUP
        blocked = _blocked_for_group(chain, gid)
        if blocked:
            note = (note + "; " if note else "") + f"not reachable: {blocked} lets group {name} not through"
        grants.append(Grant(f"group {name}", scope, rights, source, effective=blocked is None, note=note))

    def other_grant(read: bool, write: bool, source: str, note: str = "", inherited: bool = False) -> None:
        rights = _rights(read, write, is_dir)
        if not rights:
            return
        blocked = _blocked_for_other(chain)
        if blocked:
            note = (note + "; " if note else "") + f"not reachable: {blocked} lacks o+x"
        grants.append(Grant(OTHER, Scope.EVERYONE, rights, source, inherited=inherited,
                            effective=blocked is None, note=note))

    owner = user_of(st.st_uid)
    setgid = " (setgid folder: new files get this group)" if is_dir and mode & stat.S_ISGID else ""
    if acl is None:
        if _rights(bool(mode & stat.S_IRUSR), bool(mode & stat.S_IWUSR), is_dir):
            grants.append(Grant(f"user {owner}", Scope.USER, _rights(bool(mode & stat.S_IRUSR),
                                bool(mode & stat.S_IWUSR), is_dir), mode_source))
        group_grant(st.st_gid, bool(mode & stat.S_IRGRP), bool(mode & stat.S_IWGRP), mode_source, setgid.strip())
        other_grant(bool(mode & stat.S_IROTH), bool(mode & stat.S_IWOTH) and not (is_dir and mode & stat.S_ISVTX),
                    mode_source)
    else:
        entries = list(acl)
        mask_r = mask_w = True
        for e in entries:
            if e.tag_type == posix1e.ACL_MASK:
                mask_r, mask_w = e.permset.read, e.permset.write
        for e in entries:
            p = e.permset
            if e.tag_type == posix1e.ACL_USER_OBJ:
                rights = _rights(p.read, p.write, is_dir)
                if rights:
                    grants.append(Grant(f"user {owner}", Scope.USER, rights, "posix-acl"))
            elif e.tag_type == posix1e.ACL_USER:
                rights = _rights(p.read and mask_r, p.write and mask_w, is_dir)
                if rights:
                    grants.append(Grant(f"user {user_of(e.qualifier)}", Scope.USER, rights, "posix-acl"))
            elif e.tag_type == posix1e.ACL_GROUP_OBJ:
                group_grant(st.st_gid, p.read and mask_r, p.write and mask_w, "posix-acl", setgid.strip())
            elif e.tag_type == posix1e.ACL_GROUP:
                group_grant(e.qualifier, p.read and mask_r, p.write and mask_w, "posix-acl")
            elif e.tag_type == posix1e.ACL_OTHER:
                other_grant(p.read, p.write and not (is_dir and mode & stat.S_ISVTX), "posix-acl")
    if is_dir and read_acl:
        default = _acl(path, default=True)
        for e in default or ():
            note = "default ACL: given to new files"
            if e.tag_type == posix1e.ACL_OTHER:
                other_grant(e.permset.read, e.permset.write, "posix-acl", note, inherited=True)
            elif e.tag_type == posix1e.ACL_GROUP:
                group_grant(e.qualifier, e.permset.read, e.permset.write, "posix-acl", note)
    unknown = None if posix1e is not None or not read_acl else "pylibacl is not installed: POSIX ACLs were not read"
    result = AccessPolicy(owner, tuple(grants), unknown)
    if key is not None:
        if len(_POLICIES) >= 4096:
            _POLICIES.clear()
        _POLICIES[key] = (chain, broad_groups, result)
    return result


_POLICIES: dict[tuple, tuple] = {}
