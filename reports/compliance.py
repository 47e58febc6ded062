"""Requirements and contract clauses decided from a scan: met, not met, not assessed, or for the assessor (manual).

Frameworks are data files (reports/frameworks/<id>.json, or a buyer's own file named in the config), one per
framework, each requirement naming the finding kinds that break it and the checks that must have run for it to
be decided. A requirement is met only when those checks ran, the environments it speaks of were scanned, every
target they cover was scanned in full, and no finding breaks it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import translate
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable

from vendorscan.errors import ConfigError
from vendorscan.model import ENVIRONMENTS

STATUSES = ("met", "not_met", "not_assessed", "manual")
# Why a requirement is manual or not assessed (reports translate them, then fill in the arguments).
MANUAL = "for the assessor: this scan's findings are input, not a decision"
NO_CHECK = "the check {checks} did not run"
NO_ENVIRONMENT = "no {environments} environment was scanned"
NO_TARGET = "no target it speaks of was scanned"
INCOMPLETE = "the scan of {targets} was incomplete"
REASONS = (MANUAL, NO_CHECK, NO_ENVIRONMENT, NO_TARGET, INCOMPLETE)
MAX_LINKED = 50  # findings listed per requirement; the total is always given
# Findings that show what the rule asks for, not a breach of it: official test numbers, masked values.
_NOT_EVIDENCE = frozenset({"test", "masked"})
# A requirement's (or a contract clause's) keys and what each holds; the loader and the published schema
# (reports/schema/framework.schema.json, made by scripts/report_schema.py) both come from this table.
FIELDS = {"id": "text", "title": "text", "description": "text", "checks": "list", "fails_on": "list",
          "environments": "list", "targets": "list", "resources": "list", "special_category": "flag",
          "follows": "list", "manual": "flag", "informed_by": "list"}
REQUIRED = ("id", "title")
FRAMEWORK_FIELDS = {"id": "text", "name": "text", "version": "text", "description": "text"}


@dataclass(frozen=True)
class Rule:
    """What decides a requirement or a clause: the kinds that break it and where they count."""

    checks: tuple[str, ...] = ()
    fails_on: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()  # it speaks of these environments only (test, shared); empty: all
    targets: tuple[str, ...] = ()  # only these targets (names); empty: all
    resources: tuple[str, ...] = ()  # only resources whose (masked) uri matches one of these globs
    special_category: bool = False  # only findings about data with special categories
    follows: tuple[str, ...] = ()  # decided as these other requirements ("framework:requirement") are
    manual: bool = False
    informed_by: tuple[str, ...] = ()  # checks whose findings the assessor of a manual requirement reads

    def breaks(self, finding: dict) -> bool:
        """True when a finding breaks this rule."""
        return (finding["verdict"] not in _NOT_EVIDENCE
                and _glob(self.fails_on).match(finding["kind"]) is not None
                and self.covers(finding["target"], finding["environment"])
                and (not self.resources or _glob(self.resources).match(finding["resource"]) is not None)
                and (not self.special_category or bool(finding["special_category"])))

    def covers(self, target: str, environment: str) -> bool:
        """True when a target of that name and environment is within this rule."""
        return ((not self.targets or target in self.targets)
                and (not self.environments or environment in self.environments))


@lru_cache(maxsize=1024)
def _glob(patterns: tuple[str, ...]) -> re.Pattern:
    """One compiled pattern for a rule's globs (fnmatchcase's meaning): a scan tests every finding against them."""
    return re.compile("|".join(translate(p) for p in patterns) or "(?!)")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework (or one clause of a contract)."""

    id: str
    title: str
    description: str
    rule: Rule


@dataclass(frozen=True)
class Framework:
    """A framework's requirements, as its data file has them."""

    id: str
    name: str
    version: str
    description: str
    requirements: tuple[Requirement, ...] = field(default=())


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(where, "must be a list of non-empty strings")
    return tuple(value)


def requirement(raw: dict, where: str) -> Requirement:
    """A requirement (or clause) from its data: every key checked, every error naming where it is."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    unknown = set(raw) - set(FIELDS)
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(FIELDS))})")
    for key in REQUIRED:
        if key not in raw:
            raise ConfigError(f"{where}.{key}", "required: a non-empty string")
    for key, value in raw.items():
        if FIELDS[key] == "text" and not (isinstance(value, str) and (value or key == "description")):
            raise ConfigError(f"{where}.{key}", "must be a non-empty string")
        if FIELDS[key] == "flag" and not isinstance(value, bool):
            raise ConfigError(f"{where}.{key}", "must be true or false")
    lists = {key: _strings(raw.get(key), f"{where}.{key}") for key, held in FIELDS.items() if held == "list"}
    rule = Rule(special_category=raw.get("special_category", False), manual=raw.get("manual", False), **lists)
    if not rule.manual and not rule.follows and not (rule.checks and rule.fails_on):
        raise ConfigError(where, "needs checks and fails_on (the checks that decide it, the finding kinds that "
                                 "break it), or follows, or manual = true")
    return Requirement(raw["id"], raw["title"], raw.get("description", ""), rule)


def framework(raw: dict, where: str) -> Framework:
    """A framework from its data file's content."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a JSON object")
    unknown = set(raw) - set(FRAMEWORK_FIELDS) - {"requirements", "$schema"}
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(FRAMEWORK_FIELDS))}, "
                                 "requirements)")
    for key in ("id", "name", "requirements"):
        if key not in raw:
            raise ConfigError(f"{where}: {key}", "required")
    if not isinstance(raw["requirements"], list) or not raw["requirements"]:
        raise ConfigError(f"{where}: requirements", "must be a non-empty list")
    reqs = tuple(requirement(r, f"{where}: requirements[{i}]") for i, r in enumerate(raw["requirements"]))
    ids = [r.id for r in reqs]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: requirements", "two requirements have the same id")
    return Framework(raw["id"], raw["name"], str(raw.get("version", "")), raw.get("description", ""), reqs)


def bundled() -> list[Path]:
    """The framework files that come with vendorscan."""
    return sorted(p for p in files(__package__).joinpath("frameworks").iterdir() if p.name.endswith(".json"))


def load(paths: Iterable[Path]) -> list[Framework]:
    """Frameworks from their files; an unreadable or malformed file is a config error naming it."""
    found = []
    for path in paths:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read the framework file: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(str(path), f"not valid JSON: {exc}") from None
        found.append(framework(raw, Path(path).name))
    ids = [f.id for f in found]
    if len(set(ids)) != len(ids):
        raise ConfigError("compliance.framework_files", "two frameworks have the same id")
    return found


def check_references(frameworks: list[Framework], clauses: list[Requirement], checks: set[str]) -> None:
    """Raise ConfigError for a name nothing has: a followed requirement, a check, an environment."""
    known = {f"{f.id}:{r.id}" for f in frameworks for r in f.requirements}
    for owner, reqs in [(f.id, f.requirements) for f in frameworks] + [("contract", tuple(clauses))]:
        for r in reqs:
            rule = r.rule
            for what, names, allowed, hint in (
                    ("requirements", rule.follows, known, "write them as framework-id:requirement-id"),
                    ("checks", rule.checks + rule.informed_by, checks, "installed: " + ", ".join(sorted(checks))),
                    ("environments", rule.environments, set(ENVIRONMENTS), "one of " + ", ".join(ENVIRONMENTS))):
                missing = [n for n in names if n not in allowed]
                if missing:
                    raise ConfigError(f"{owner}: {r.id}", f"names unknown {what} {missing} ({hint})")


class Evaluation:
    """Decides requirements and clauses against one scan's findings, checks and coverage."""

    def __init__(self, findings: Iterable[dict], ran: set[str], coverage: list[dict]):
        self.findings = list(findings)  # compact rows: fingerprint, kind, verdict, target, environment, resource…
        self.ran = ran
        self.coverage = coverage  # target, connector, environment, complete
        self._decided: dict[str, dict] = {}

    def decide(self, req: Requirement, by_ref: dict[str, Requirement]) -> dict:
        """{status, reason, reason_args, findings, findings_total} of one requirement."""
        rule = req.rule
        if rule.manual:
            related = [f for f in self.findings if f["check_id"] in rule.informed_by and f["verdict"] not in _NOT_EVIDENCE]
            return _outcome("manual", MANUAL, {}, related)
        if rule.follows:
            parts = [self._followed(ref, by_ref) for ref in rule.follows]
            broken = [f for p in parts for f in p["_all"]]
            if broken:
                return _outcome("not_met", "", {}, broken)
            open_ = next((p for p in parts if p["status"] != "met"), None)
            if open_ is not None:
                return _outcome(open_["status"], open_["reason"], open_["reason_args"], [])
            return _outcome("met", "", {}, [])
        broken = [f for f in self.findings if rule.breaks(f)]
        if broken:
            return _outcome("not_met", "", {}, broken)
        missing = [c for c in rule.checks if c not in self.ran]
        if missing:
            return _outcome("not_assessed", NO_CHECK, {"checks": ", ".join(missing)}, [])
        covered = [c for c in self.coverage if rule.covers(c["target"], c["environment"])]
        if not covered:
            if rule.environments:
                return _outcome("not_assessed", NO_ENVIRONMENT, {"environments": list(rule.environments)}, [])
            return _outcome("not_assessed", NO_TARGET, {}, [])
        cut = [c["target"] for c in covered if not c["complete"]]
        if cut:
            return _outcome("not_assessed", INCOMPLETE, {"targets": ", ".join(cut)}, [])
        return _outcome("met", "", {}, [])

    def _followed(self, ref: str, by_ref: dict[str, Requirement]) -> dict:
        if ref not in self._decided:
            self._decided[ref] = self.decide(by_ref[ref], by_ref)
        return self._decided[ref]


def _outcome(status: str, reason: str, args: dict, found: list[dict]) -> dict:
    return {"status": status, "reason": reason, "reason_args": args,
            "findings": [f["fingerprint"] for f in found[:MAX_LINKED]], "findings_total": len(found), "_all": found}


def evaluate(frameworks: list[Framework], clauses: list[Requirement], findings: Iterable[dict], ran: set[str],
             coverage: list[dict]) -> dict:
    """The `compliance` block of a report: every framework's requirements and every contract clause, decided."""
    ev = Evaluation(findings, ran, coverage)
    by_ref = {f"{f.id}:{r.id}": r for f in frameworks for r in f.requirements}

    def rows(reqs):
        out = []
        for r in reqs:
            row = {"id": r.id, "title": r.title, "description": r.description, **ev.decide(r, by_ref)}
            del row["_all"]
            out.append(row)
        return out

    return {"frameworks": [{"id": f.id, "name": f.name, "version": f.version, "description": f.description,
                            "requirements": rows(f.requirements)} for f in frameworks],
            "contract": rows(clauses)}


def decision_row(row: tuple, environment: str) -> dict:
    """The few fields of a finding that decide requirements (kept small: a scan may have many findings), from its
    (fingerprint, check_id, kind, verdict, target, resource, special category) in the run store."""
    fingerprint, check_id, kind, verdict, target, resource, special = row
    return {"fingerprint": fingerprint, "check_id": check_id, "kind": kind, "verdict": verdict, "target": target,
            "environment": environment, "resource": resource, "special_category": bool(special)}
