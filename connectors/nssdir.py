"""The scanning machine's own users and groups (NSS: /etc/passwd and /etc/group, or sssd/LDAP behind them).

For local and NFS paths whose uids and gids are this machine's: a group reaches its listed members and every
account whose primary group it is; an account with a no-login shell, or a system account (uid below min_uid),
is not an enabled account.
"""
from __future__ import annotations

import grp
import pwd
from dataclasses import dataclass

from vendorscan.directory import Directory, Reach, Thresholds

_NO_LOGIN = ("nologin", "/false", "/sync", "/shutdown", "/halt")


class NssDirectory(Directory):
    """Users and groups as this machine's name service (getent passwd / group) knows them."""

    id = "nss"

    @dataclass(frozen=True, kw_only=True)
    class Options(Thresholds):
        min_uid: int = 1000  # accounts below it are system accounts, not people

    def __init__(self, options, name: str):
        super().__init__(options, name)
        self._users: dict[str, tuple[int, bool]] | None = None  # name -> (primary gid, enabled)

    def _load(self) -> dict[str, tuple[int, bool]]:
        if self._users is None:
            self._users = {p.pw_name: (p.pw_gid, p.pw_uid >= self.options.min_uid
                                       and not p.pw_shell.endswith(_NO_LOGIN)) for p in pwd.getpwall()}
        return self._users

    def enabled_accounts(self) -> int:
        """Enabled accounts of this machine."""
        return sum(enabled for _gid, enabled in self._load().values())

    def reach(self, principal: str) -> Reach | None:
        """'group NAME' or 'user NAME' as POSIX policies name them."""
        users = self._load()
        kind, _, name = principal.partition(" ")
        if kind == "group":
            try:
                g = grp.getgrnam(name)
            except KeyError:
                return None
            members = {m for m in g.gr_mem if users.get(m, (0, False))[1]}
            members |= {u for u, (gid, enabled) in users.items() if enabled and gid == g.gr_gid}
            return Reach(principal, "group", name, len(members), (name,))
        if kind == "user" and name in users:
            enabled = users[name][1]
            return Reach(principal, "user", name, int(enabled), note="" if enabled else "not an enabled account")
        return None
