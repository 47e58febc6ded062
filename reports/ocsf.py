"""findings.ocsf.jsonl: one OCSF 1.8 Data Security Finding event (class 2006) per finding, JSON Lines, masked."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from vendorscan.model import Finding, Severity
from vendorscan.report import Report, atomic_text, dump_json

OCSF_VERSION = "1.8.0"
CLASS_UID, CLASS_NAME = 2006, "Data Security Finding"  # category 2 (Findings) * 1000 + class 6
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
CREATE, UPDATE, CLOSE = 1, 2, 3
_ACTIVITY = {CREATE: "Create", UPDATE: "Update", CLOSE: "Close"}
_SEVERITY = {Severity.INFO: (1, "Informational"), Severity.LOW: (2, "Low"), Severity.MEDIUM: (3, "Medium"),
             Severity.HIGH: (4, "High"), Severity.CRITICAL: (5, "Critical")}
# A finding's status_id (the Finding class's enum): nobody has reviewed a new or persisting finding; an accepted risk
# was reviewed and set aside (Suppressed); one gone from a target scanned in full is Resolved.
_STATUS = {"new": (1, "New"), "persisting": (1, "New"), "accepted": (3, "Suppressed"), "resolved": (4, "Resolved")}
# data_classification.category_id: what kind of data a finding is about.
_DATA_CATEGORY = {"national_id": (1, "Personal"), "contact": (1, "Personal"), "special_category": (1, "Personal"),
                  "exposure": (1, "Personal"), "financial": (3, "Financial")}
_PRIVATE = 5  # confidentiality_id Private: personal data
_AT_REST = 1  # data_lifecycle_state_id Data at-Rest: what is stored in shares, buckets and tables
_DISCOVERY = 4  # detection_system_id Data Discovery & Classification


class OcsfReport(Report):
    """OCSF Data Security Finding events (JSON Lines) for SIEMs and data lakes: Create, Update, Close per finding."""

    id = "ocsf"
    version = "1"

    def render(self, result, out_dir: Path) -> list[Path]:
        """Write findings.ocsf.jsonl: an event per finding of the scan, then a Close event per finding it resolved."""
        path = out_dir / "findings.ocsf.jsonl"
        when = _ms(result.ended or result.started)
        head = {"version": result.agent_version, "scan_id": result.scan_id, "time": when}
        with atomic_text(path) as fh:
            for f, life in result.store.findings_with_lifecycle():
                fh.write(dump_json(_event(f, life, head)) + "\n")
            for row in result.resolved_findings():
                fh.write(dump_json(_closed(row, head)) + "\n")
        return [path]


def _ms(stamp: str | None) -> int | None:
    """Milliseconds since the epoch (OCSF timestamp_t) of an ISO 8601 time."""
    return int(datetime.fromisoformat(stamp).timestamp() * 1000) if stamp else None


def _base(activity: int, severity: Severity, status: str, head: dict, fingerprint: str) -> dict:
    sev_id, sev_name = _SEVERITY[severity]
    status_id, status_name = _STATUS[status]
    return {
        "class_uid": CLASS_UID, "class_name": CLASS_NAME, "category_uid": CATEGORY_UID, "category_name": CATEGORY_NAME,
        "activity_id": activity, "activity_name": _ACTIVITY[activity],
        "type_uid": CLASS_UID * 100 + activity, "type_name": f"{CLASS_NAME}: {_ACTIVITY[activity]}",
        "severity_id": sev_id, "severity": sev_name, "status_id": status_id, "status": status_name,
        "time": head["time"],
        "metadata": {"version": OCSF_VERSION, "uid": f"{head['scan_id']}/{fingerprint}",
                     "correlation_uid": head["scan_id"], "log_name": "findings.ocsf.jsonl",
                     "product": {"name": "vendorscan", "vendor_name": "vendorscan", "version": head["version"]}},
        "is_alert": activity != CLOSE and severity != Severity.INFO and status != "accepted",
    }


def _data_security(check_id: str, kind: str, category: str, title: str) -> dict:
    cat_id, cat_name = _DATA_CATEGORY.get(category, (0, "Unknown"))
    return {"category_id": cat_id, "category": cat_name, "confidentiality_id": _PRIVATE, "confidentiality": "Private",
            "data_lifecycle_state_id": _AT_REST, "data_lifecycle_state": "Data at-Rest",
            "detection_system_id": _DISCOVERY, "detection_system": "Data Discovery & Classification",
            "detection_pattern": kind,
            "classifier_details": {"type": check_id, "uid": f"{check_id}/{kind}", "name": title}}


def _resource(uri: str, target: str) -> dict:
    return {"uid": uri, "name": uri.rstrip("/").rsplit("/", 1)[-1] or uri, "type": uri.split(":", 1)[0],
            "group": {"name": target}}


def _event(f: Finding, life: dict | None, head: dict) -> dict:
    status = life["status"] if life else "new"
    activity = CREATE if status == "new" else UPDATE
    event = _base(activity, f.severity, status, head, f.fingerprint)
    info = {"uid": f.fingerprint, "title": f.title, "types": [f"{f.check_id}/{f.kind}"],
            "desc": f.remediation or f.title}
    if life:
        info.update(first_seen_time=_ms(life["first_seen"]), last_seen_time=_ms(life["last_seen"]))
    event.update(
        message=f"{f.title}: {f.count} occurrence(s), {f.distinct} distinct",
        count=f.count,
        confidence_score=round(f.confidence * 100),
        confidence_id=3 if f.confidence >= 0.8 else 2 if f.confidence >= 0.5 else 1,
        finding_info=info,
        resources=[_resource(f.resource, f.target)],
        data_security=_data_security(f.check_id, f.kind, f.category, f.title),
        unmapped={"vendorscan": {"check_id": f.check_id, "kind": f.kind, "verdict": f.verdict, "target": f.target,
                                 "part": f.part, "severity": f.severity.value, "evidence": list(f.evidence),
                                 "distinct": f.distinct, "references": list(f.references), "lifecycle": status}})
    return event


def _category_of(check_id: str, kind: str) -> str:
    """A resolved finding's data category (the state db keeps no category), from its check and kind."""
    if kind in ("iban", "card"):
        return "financial"
    return "national_id" if check_id in ("identifiers", "special_categories", "exposure") else ""


def _closed(row: dict, head: dict) -> dict:
    severity = Severity(row["severity"]) if row.get("severity") else Severity.INFO
    event = _base(CLOSE, severity, "resolved", head, row["fingerprint"])
    event.update(
        message=f"{row['title']}: no longer found",
        finding_info={"uid": row["fingerprint"], "title": row["title"] or row["kind"],
                      "types": [f"{row['check_id']}/{row['kind']}"],
                      "first_seen_time": _ms(row["first_seen"]), "last_seen_time": _ms(row["last_seen"])},
        resources=[_resource(row["resource"], row["target"])],
        data_security=_data_security(row["check_id"], row["kind"], _category_of(row["check_id"], row["kind"]),
                                     row["title"] or row["kind"]),
        unmapped={"vendorscan": {"check_id": row["check_id"], "kind": row["kind"], "target": row["target"],
                                 "severity": row["severity"], "lifecycle": "resolved"}})
    return event
