"""Write reports/schema/report.schema.json (and framework.schema.json, a framework file's) from the definitions it constrains (kinds, verdicts, severities, skip
reasons, connectors, scopes): the schema is generated, never kept in step by hand.

    .venv/bin/python scripts/report_schema.py          # rewrite the schema
    .venv/bin/python scripts/report_schema.py --check  # exit 1 when the shipped schema differs (tests run this)
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "reports" / "schema" / "report.schema.json"
FRAMEWORK_SCHEMA = ROOT / "reports" / "schema" / "framework.schema.json"

# Evidence of a personal-data finding always hides part of the value: a mask character stands in it.
MASKED_EVIDENCE = r"[*Xx#•?]"
DATA_CATEGORIES = ["national_id", "financial", "contact"]
# A plugin package's or a config's own identifier kinds: not listed, but shaped like these.
PLUGIN_KINDS = [r"^[a-z]{2}\.[a-z0-9_]+$", r"^custom\.[a-z0-9_]+(\.[a-z0-9_]+)*$"]


def _kinds() -> list[str]:
    from vendorscan.checks import idspecs, posture, special_categories
    from vendorscan.model import Scope
    scopes = [s.value for s in Scope]
    found = list(idspecs.BY_KIND) + [idspecs.MASKED_NATIONAL.kind]
    found += [f"special.{c}" for c in special_categories.NAMES]
    found += ["access.unknown"] + [f"access.{r}.{s}" for r in ("read", "write") for s in scopes]
    found += [f"exposure.{s}" for s in scopes] + ["exposure.test_environment", "exposure.database_copy"]
    found += [f"posture.{rule[0]}" for rule in posture.RULES]
    return found


def _connectors() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(project["project"]["entry-points"]["vendorscan.connectors"])


def _strict(properties: dict, required: list[str] | None = None) -> dict:
    """An object with exactly these properties (those in `required` always there)."""
    return {"type": "object", "required": required or [], "properties": properties, "additionalProperties": False}


def build() -> dict:
    """The report.json schema, from the current definitions."""
    from vendorscan.model import ENVIRONMENTS, Scope, Severity, Verdict
    from vendorscan.skips import REASONS
    from vendorscan.reports import compliance as matrix
    from vendorscan import directory
    integer, string, boolean = {"type": "integer", "minimum": 0}, {"type": "string"}, {"type": "boolean"}
    strings = {"type": "array", "items": string}
    message = {"type": "array", "prefixItems": [string, {"type": "object"}], "minItems": 2, "maxItems": 2}
    digest = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    when = {"type": "string", "format": "date-time"}
    severities = [s.value for s in Severity]
    environment = {"enum": list(ENVIRONMENTS)}
    lifecycle = _strict({k: integer for k in ("new", "persisting", "resolved", "accepted")},
                        ["new", "persisting", "resolved", "accepted"])
    decided = _strict({  # one requirement or contract clause, decided by this scan
        "id": string, "title": string, "description": string, "status": {"enum": list(matrix.STATUSES)},
        "reason": {"enum": ["", *matrix.REASONS]}, "reason_args": {"type": "object"},
        "findings": {"type": "array", "maxItems": matrix.MAX_LINKED, "items": {"type": "string"}},
        "findings_total": integer}, ["id", "title", "status", "reason", "findings", "findings_total"])
    compliance = _strict({
        "frameworks": {"type": "array", "items": _strict({
            "id": string, "name": string, "version": string, "description": string,
            "requirements": {"type": "array", "items": decided}}, ["id", "name", "requirements"])},
        "contract": {"type": "array", "items": decided}, "contract_name": string}, ["frameworks", "contract"])
    location = _strict({
        "line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1},
        "offset": integer, "page": {"type": "integer", "minimum": 1}, "sheet": string, "cell": string,
        "member": string, "table": string, "column_name": string, "row_key": string, "section": string,
        "paragraph": {"type": "integer", "minimum": 1},
        "region": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
        "end_column": {"type": "integer", "minimum": 1}})
    details = _strict({
        "notes": strings, "environment": environment, "rows_sampled": integer,
        "rows_total": {"type": ["integer", "null"], "minimum": 0}, "share_of_rows": {"type": "number", "minimum": 0},
        "identifier_column": boolean, "estimated_persons": integer, "title_msg": message, "remediation_msg": message,
        "evidence_msg": {"type": "array", "items": message},
        "persons": integer, "resources": integer, "principals": strings, "scope": {"enum": [s.value for s in Scope]},
        "special_category": boolean, "examples": strings, "tables": strings, "children_covered": integer,
        "rights": strings, "accounts": integer, "via": strings,
        "breadth": {"enum": [directory.BREADTH_DIRECTORY, directory.BREADTH_NAMES, directory.BREADTH_UNREACHABLE]}})
    hashed = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    status = {"enum": ["new", "persisting", "accepted", "resolved"]}
    fingerprint = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    lifecycle_of = _strict({"status": status, "first_seen": when, "last_seen": when},
                           ["status", "first_seen", "last_seen"])
    resolved = _strict({"fingerprint": fingerprint, "status": {"const": "resolved"}, "first_seen": when,
                        "last_seen": when, "target": string, "resource": string, "check_id": string,
                        "kind": {"$ref": "#/$defs/kind"}, "severity": {"$ref": "#/$defs/severity"}, "title": string},
                       ["fingerprint", "status", "first_seen", "last_seen", "target", "resource", "check_id", "kind",
                        "severity", "title"])
    occurrence = _strict({"value_hash": {"anyOf": [hashed, {"type": "null"}]}, "confidence": {"type": "number"},
                          "evidence": string, "location": location},
                         ["value_hash", "confidence", "evidence", "location"])
    finding = {
        **_strict({
            "fingerprint": fingerprint, "check_id": string, "lifecycle": lifecycle_of,
            "severity": {"$ref": "#/$defs/severity"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "title": {"type": "string", "minLength": 1}, "resource": string, "target": string,
            "kind": {"$ref": "#/$defs/kind"}, "part": string, "category": string,
            "verdict": {"enum": [v.value for v in Verdict] + [""]}, "evidence": strings,
            "value_hash": hashed,  # a finding about one value only; otherwise the key is left out
            "count": integer, "distinct": integer, "locations": {"type": "array", "items": location},
            "remediation": string, "references": strings, "details": details,
            "occurrences": {"type": "array", "items": occurrence}, "occurrences_omitted": integer},
            ["fingerprint", "check_id", "severity", "confidence", "title", "resource", "target", "kind", "verdict",
             "evidence", "count", "distinct", "locations", "occurrences"]),
        # personal data is shown masked: every sample of its evidence hides part of the value
        "if": {"required": ["category"], "properties": {"category": {"enum": DATA_CATEGORIES}}},
        "then": {"properties": {
            "evidence": {"items": {"pattern": MASKED_EVIDENCE}},
            "occurrences": {"items": {"properties": {"evidence": {"pattern": MASKED_EVIDENCE}}}}}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://vendorscan.example/schema/report-1.0.json",
        "title": "vendorscan report",
        "description": ("report.json written by vendorscan: masked evidence and keyed hashes only, never a "
                        "plaintext identifier. Generated by scripts/report_schema.py from the definitions it names."),
        **_strict({
            "schema_version": {"const": "1.0"},
            "scan": _strict({
                "scan_id": string, "agent_version": string, "config_digest": digest, "checks_digest": digest,
                "started": when, "ended": when, "complete": boolean, "host": string, "operator": string,
                "fail_on": {"$ref": "#/$defs/severity"}, "errors": strings, "signing_public_key": string,
                "lifecycle": {"anyOf": [lifecycle, _strict({})]}, "resumed_from": string},
                ["scan_id", "agent_version", "config_digest", "checks_digest", "started", "ended", "complete"]),
            "summary": _strict({
                "risk": {"enum": [s for s in severities if s != "info"] + ["none found"]},
                "findings_by_severity": _strict({s: integer for s in severities}, severities),
                "findings_total": integer, "exposed_persons": integer, "readable_by_accounts": integer, "resources_seen": integer,
                "resources_read": integer, "resources_skipped": integer, "bytes_read": integer,
                "complete": boolean, "severity_rule": string},
                ["risk", "findings_by_severity", "findings_total", "exposed_persons", "complete"]),
            "checks": {"type": "array", "items": _strict(
                {"id": string, "version": string, "kind": {"enum": ["content", "resource", "correlation"]},
                 "description": string}, ["id", "version", "kind"])},
            "targets": {"type": "array", "items": _strict({
                "target": string, "connector": {"anyOf": [{"enum": _connectors()}, {"pattern": "^[a-z0-9_]+$"}]},
                "environment": environment, "resources_seen": integer, "resources_read": integer,
                "resources_unchanged": integer, "bytes_read": integer, "rows_sampled": integer,
                "skipped": {"type": "object", "propertyNames": {"$ref": "#/$defs/reason"},
                            "additionalProperties": integer},
                "skipped_total": integer, "errors": strings, "complete": boolean, "weaknesses": strings,
                "breadth": string, "breadth_msg": message},
                ["target", "connector", "environment", "resources_seen", "resources_read", "skipped", "complete"])},
            "compliance": compliance,
            "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
            "resolved": {"type": "array", "items": resolved},
            "skipped": {"type": "array", "items": _strict(
                {"uri": string, "target": string, "reason": {"$ref": "#/$defs/reason"}, "detail": string},
                ["uri", "target", "reason", "detail"])},
        }, ["schema_version", "scan", "summary", "checks", "targets", "compliance", "findings", "skipped"]),
        "$defs": {
            "severity": {"enum": severities},
            "reason": {"enum": sorted(REASONS)},
            "kind": {"anyOf": [{"enum": _kinds()}] + [{"type": "string", "pattern": p} for p in PLUGIN_KINDS]},
            "finding": finding,
        },
    }


def build_framework() -> dict:
    """The schema of a framework file (reports/frameworks/*.json, or a buyer's own), from the loader's fields."""
    from vendorscan.reports import compliance as matrix
    held = {"text": {"type": "string", "minLength": 1}, "flag": {"type": "boolean"},
            "list": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}}
    requirement = _strict({k: held[v] for k, v in matrix.FIELDS.items()}, list(matrix.REQUIRED))
    requirement["properties"]["description"] = {"type": "string"}
    requirement["anyOf"] = [{"required": ["manual"], "properties": {"manual": {"const": True}}},
                            {"required": ["follows"]}, {"required": ["checks", "fails_on"]}]
    framework = _strict({k: held[v] for k, v in matrix.FRAMEWORK_FIELDS.items()}, ["id", "name", "requirements"])
    framework["properties"].update({"$schema": {"type": "string"}, "description": {"type": "string"},
                                    "requirements": {"type": "array", "minItems": 1, "items": requirement}})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://vendorscan.example/schema/framework-1.0.json",
            "title": "vendorscan compliance framework", **framework}


def main() -> int:
    """Rewrite the schemas, or with --check say whether the shipped ones are current."""
    sys.path.insert(0, str(ROOT))
    stale = []
    for path, schema in ((SCHEMA, build()), (FRAMEWORK_SCHEMA, build_framework())):
        text = json.dumps(schema, ensure_ascii=False, indent=1) + "\n"
        if "--check" not in sys.argv:
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    for path in stale:
        print(f"{path} is not what scripts/report_schema.py makes: run it and commit the result")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
