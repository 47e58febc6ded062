"""Exposure: personal data x broad access, one finding per exposed folder; real ids in test areas."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import groupby
from typing import Iterator

from vendorscan import severity
from vendorscan.model import AccessPolicy, Finding, Grant, Scope
from vendorscan.check import SCOPE_NAMES, Correlation, evidence, message, require_known
from vendorscan.directory import path_text, reach_details

_DATA = {"national_id", "financial", "contact"}
# Targets that are databases: their tables are the database, not a copy of one.
DATABASE_CONNECTORS = frozenset({"odbc"})
REFERENCES = ("GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32", "GDPR Art. 33", "NIS2 Art. 21",
              "ISO/IEC 27001 A.5.15")


class ExposureCheck(Correlation):
    """Personal data readable by far more people than it should be, and real ids in test areas."""

    id = "exposure"
    version = "1"

    @dataclass(frozen=True)
    class Options:
        broad_scopes: list[str] = field(default_factory=lambda: ["public", "everyone", "organisation"])

        def __post_init__(self):
            require_known(self.broad_scopes, SCOPE_NAMES, "scopes")

    def correlate(self, store, ctx) -> Iterator[Finding]:
        """One finding per folder whose personal data a broad scope can read; one per test target with real ids."""
        broad = {Scope(s) for s in self.options.broad_scopes}
        rows = store.data_resources(ctx.target)
        grants: dict[str, Grant | None] = {}  # a folder's files mostly share one access: decoded once
        for parent, group in groupby(rows, key=lambda r: r[1]):
            exposed, principals, best, special, widest, judged = [], set(), None, False, None, ""
            for uri, _parent, access_json, categories in group:
                if not categories & _DATA or not access_json:
                    continue
                if access_json not in grants:
                    if len(grants) >= 4096:
                        grants.clear()
                    grants[access_json] = AccessPolicy.from_dict(json.loads(access_json)).broadest("read", "list")
                grant = grants[access_json]
                if grant is None or grant.scope not in broad:
                    continue
                exposed.append(uri)
                principals.add(grant.principal)
                special = special or "special_category" in categories
                if best is None or grant.scope.rank < best.rank:
                    best, judged = grant.scope, grant.breadth
                if grant.accounts is not None and (widest is None or grant.accounts > widest.accounts):
                    widest = grant
            if exposed:
                yield self._finding(store, ctx, parent or exposed[0], exposed, principals, best, special, widest,
                                    judged)
        if ctx.extra.get("connector") not in DATABASE_CONNECTORS:
            yield from self._database_copies(store, ctx)
        if ctx.environment in ("test", "shared"):
            persons = store.distinct_persons(ctx.target)
            if persons:
                title, msg = message("Real-looking national identifiers in a {environment} environment",
                                     environment=ctx.environment)
                shown, emsg = evidence(message("distinct persons: {persons}", "evidence", persons=persons))
                yield Finding(
                    check_id=self.id, severity=severity.test_environment(persons), confidence=1.0, title=title,
                    resource=f"target://{ctx.target}", target=ctx.target, kind="exposure.test_environment",
                    category="exposure", verdict="real", count=persons, distinct=persons,
                    evidence=shown,
                    remediation=("Test and shared environments must hold synthetic or pseudonymised data: replace "
                                 "the copy with de-identified data and delete the real one, including backups."),
                    references=("GDPR Art. 5(1)(b)", "GDPR Art. 5(1)(c)", "GDPR Art. 25", "GDPR Art. 32"),
                    details={"environment": ctx.environment, "persons": persons, **msg, **emsg})

    def _database_copies(self, store, ctx) -> Iterator[Finding]:
        """One finding per file read as database tables (SQLite, Access, a dump, a data-lake file) with real ids."""
        tables: dict[str, set[str]] = {}
        for uri, names in store.table_findings(ctx.target):
            tables.setdefault(uri, set()).update(names)
        for uri, names in tables.items():
            persons = store.persons_in([uri])
            title, msg = message("Database copy with {persons} persons' national identifiers in a file share",
                                 persons=persons)
            yield Finding(
                check_id=self.id, severity=severity.database_copy(persons, ctx.environment), confidence=1.0,
                title=title, resource=uri, target=ctx.target, kind="exposure.database_copy", category="exposure",
                verdict="real", count=len(names), distinct=persons, evidence=tuple(sorted(names))[:5],
                remediation=("A database copy on a share escapes the database's own access control, logging and "
                             "retention: delete it (and its backups), or replace it with de-identified data kept "
                             "where the contract allows."),
                references=("GDPR Art. 5(1)(e)", "GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32"),
                details={"persons": persons, "tables": sorted(names), "environment": ctx.environment, **msg})

    def _finding(self, store, ctx, folder, exposed, principals, scope, special, widest, judged) -> Finding:
        """One exposed folder; `widest` is the grant a directory measured to reach the most accounts, if any."""
        persons = store.persons_in(exposed)
        accounts = widest.accounts if widest is not None else None
        sev = severity.exposure(scope, persons, special, ctx.environment, accounts)
        if accounts is not None:
            msgid = ("{persons} persons' national identifiers with special-category data readable by {accounts} "
                     "enabled accounts" if special else
                     "{persons} persons' national identifiers readable by {accounts} enabled accounts")
            if not persons:
                msgid = "Personal data readable by {accounts} enabled accounts"
            title, msg = message(msgid, persons=persons, accounts=accounts)
            if widest.via:
                shown, emsg = evidence(message("{principal}: {accounts} enabled accounts (via {path})", "evidence",
                                               principal=widest.principal, accounts=accounts,
                                               path=path_text(widest.via)))
            else:  # Everyone, Authenticated Users: every enabled account, through no group
                shown, emsg = evidence(message("{principal}: {accounts} enabled accounts", "evidence",
                                               principal=widest.principal, accounts=accounts))
            msg.update(emsg)
        elif persons:
            msgid = ("{persons} persons' national identifiers with special-category data readable by {scope} scope"
                     if special else "{persons} persons' national identifiers readable by {scope} scope")
        else:
            msgid = "Personal data readable by {scope} scope"
        if accounts is None:
            title, msg = message(msgid, persons=persons, scope=scope.value)
            shown = tuple(sorted(principals))[:5]
        remediation, rmsg = message("Restrict the folder to the people who process this data under the contract "
                                    "(remove {principals}), then remove or pseudonymise the identifiers.",
                                    field="remediation", principals=", ".join(sorted(principals)))
        msg.update(rmsg)
        return Finding(
            check_id=self.id, severity=sev, confidence=1.0, title=title,
            resource=folder, target=ctx.target, kind=f"exposure.{scope.value}", category="exposure",
            verdict="real", count=len(exposed), distinct=persons,
            evidence=shown,
            remediation=remediation,
            references=REFERENCES + (("GDPR Art. 9",) if special else ()),
            details={"persons": persons, "resources": len(exposed), "principals": sorted(principals),
                     "scope": scope.value, "environment": ctx.environment, "special_category": special,
                     "examples": exposed[:5], **reach_details(widest, judged), **msg})

