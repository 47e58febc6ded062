"""The scan configuration: TOML in, validated dataclasses out, before any scan starts."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from vendorscan import plugins
from vendorscan.errors import ConfigError
from vendorscan.model import ENVIRONMENTS
from vendorscan.options import ByteSize, build
from vendorscan.report import LANGUAGES

DEFAULT_CHECKS = ("identifiers", "special_categories", "access", "exposure", "posture")


@dataclass(frozen=True)
class ScanSettings:
    """[scan]: where reports go and when the exit code says "findings"."""

    out_dir: str = "vendorscan-report"
    formats: list[str] = field(default_factory=lambda: ["html", "json", "csv", "sarif"])
    fail_on: Literal["critical", "high", "medium", "low", "info"] = "high"
    state_dir: str = ""
    hash_key_env: str = ""
    hash_key_file: str = ""
    operator: str = ""
    lang: Literal[LANGUAGES] = "en"  # language of the HTML report (vendorscan.report.LANGUAGES)
    keep_runs: int = 30  # finished scans whose run store stays in the state dir (for bundles and re-rendering)
    # Occurrences listed per finding in report.json (every one is still counted and hashed for persons); the
    # `occurrences` format writes all of them, streamed and compressed, to occurrences.jsonl.gz.
    report_occurrences: int = 10_000


@dataclass(frozen=True)
class Limits:
    """[limits]: bounds on the work done per resource and per scan."""

    max_file_size: ByteSize = ByteSize(100 * 2**20)
    chunk_size: ByteSize = ByteSize(64 * 2**10)
    split_size: ByteSize = ByteSize(64 * 2**20)  # a larger plain-text file is read in ranges of this size; 0: never
    time_budget: int = 0  # seconds for the whole scan; 0 = none
    resource_timeout: int = 600  # seconds per resource
    max_locations: int = 5  # locations kept on a finding; every occurrence stays in the JSON report


@dataclass(frozen=True)
class FormatSettings:
    """[formats]: which containers are opened (documents, archives, images) and the bounds on unpacking them."""

    documents: bool = True  # Office, OpenDocument, PDF, e-mail
    archives: bool = True  # zip, tar, gzip/bzip2/xz
    ocr: bool = True  # images and scanned PDF pages through Tesseract (the slow path)
    ocr_languages: list[str] = field(default_factory=lambda: ["dan", "swe", "nor", "fin", "eng"])
    ocr_timeout: int = 60  # seconds per image
    max_depth: int = 3  # archives and attachments inside each other
    max_members: int = 10_000  # members per archive
    max_expanded_size: ByteSize = ByteSize(2**30)  # bytes unpacked from one resource, all members together
    max_ratio: int = 100  # unpacked bytes per packed byte before a member counts as a bomb
    sample_rows: int = 1000  # rows read per table of a database file, dump or data-lake file
    full_scan: bool = False  # every row of those tables


@dataclass(frozen=True)
class ExecutorSettings:
    """[executor]: how work units are run."""

    type: Literal["local", "dask", "dask-local"] = "local"  # dask: a cluster's scheduler; dask-local: a LocalCluster
    workers: int = 0  # 0 = one per core; 1 = in this process (local); worker processes of a dask-local cluster
    scheduler: str = ""  # type = "dask": the scheduler's address, tcp://host:8786 or tls://host:8786
    connect_timeout: int = 30  # seconds to reach the scheduler
    retries: int = 1  # a unit whose worker fails is run again this often before it is listed as skipped
    threads: int = 8  # resources read at once per worker, for connectors whose reads wait on a network
    unit_files: int = 64  # files per work unit
    max_pending: int = 0  # 0 = 2 x workers


@dataclass(frozen=True)
class AgentSettings:
    """[agent]: how `vendorscan agent` runs scheduled scans."""

    timezone: str = "UTC"
    jitter: int = 0  # seconds of random delay added to each scheduled run
    reports_dir: str = "vendorscan-reports"  # one dated directory per run below <reports_dir>/<target>/
    keep: int = 30  # runs kept per target; older report directories are removed
    deliver_to: str = ""  # a directory (the buyer's drop box) that gets each run's signed bundle


@dataclass(frozen=True)
class ComplianceSettings:
    """[compliance]: which frameworks the report's requirements matrix shows, and a buyer's own framework files."""

    frameworks: list[str] = field(default_factory=list)  # ids; empty: every bundled and added framework
    framework_files: list[str] = field(default_factory=list)  # more frameworks, one JSON file each


@dataclass(frozen=True)
class Compliance:
    """The frameworks to decide and the contract's clauses, loaded and checked."""

    frameworks: tuple = ()
    clauses: tuple = ()
    contract: str = ""  # the contract's name, as the report shows it
    shown: tuple = ()  # ids of the frameworks the report shows; empty: all (a shown one may follow any of them)


@dataclass(frozen=True)
class Target:
    """One [[targets]] entry with its connector's validated options."""

    name: str
    type: str
    environment: str
    options: Any
    raw: dict[str, Any]
    schedule: str = ""  # cron expression for `vendorscan agent` (5 fields, or 6 with seconds last)
    directory: str = ""  # the [directories.NAME] that measures who its grants reach; "": judged by names


@dataclass(frozen=True)
class DirectorySettings:
    """One [directories.NAME] table: a directory plugin with its validated options."""

    name: str
    type: str
    cls: type
    options: Any


@dataclass(frozen=True)
class CheckSelection:
    """One enabled check with its validated options."""

    id: str
    cls: type
    options: Any


@dataclass(frozen=True)
class Config:
    """A whole validated configuration."""

    scan: ScanSettings
    limits: Limits
    executor: ExecutorSettings
    targets: list[Target]
    checks: list[CheckSelection]
    raw: dict[str, Any]
    source: str = "<defaults>"
    agent: AgentSettings = AgentSettings()
    formats: FormatSettings = FormatSettings()
    compliance: Compliance = Compliance()
    directories: dict = field(default_factory=dict)  # name -> DirectorySettings

    def digest(self) -> str:
        """SHA-256 of the canonical config; secrets are never in it (only *_env/*_file names)."""
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()

    def listed_occurrences(self) -> int:
        """Occurrences each aggregate keeps listed: report.json's number, or every one (< 0) for occurrences.jsonl.gz."""
        return -1 if "occurrences" in self.scan.formats else self.scan.report_occurrences

    def checks_digest(self) -> str:
        """SHA-256 of the checks and their options alone (a change invalidates cached results)."""
        sel = [(c.id, getattr(c.cls, "version", ""), asdict(c.options), c.cls.cache_parts(c.options))
               for c in self.checks]
        sel.append(("listed", self.listed_occurrences()))  # a cached result lists only as many as it was made with
        from vendorscan.formats.registry import installed
        # What is opened, and with which handlers (a format plugin installed), changes what is found.
        sel.append(("formats", FORMATS_VERSION, asdict(self.formats), installed().versions()))
        return hashlib.sha256(json.dumps(sel, sort_keys=True, default=str).encode()).hexdigest()


_TOP = {"scan", "limits", "executor", "checks", "targets", "agent", "formats", "compliance", "contract",
        "directories"}
FORMATS_VERSION = "1"  # raised when a format handler changes what it extracts



def load_file(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), "file not found") from None
    except OSError as exc:
        raise ConfigError(str(p), f"cannot read: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), f"not valid TOML: {exc}") from None
    return parse(raw, source=str(p))


def parse(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a config mapping; every error names its key path."""
    for key in raw:
        if key not in _TOP:
            raise ConfigError(key, f"unknown section (allowed: {', '.join(sorted(_TOP))})")
    scan = build(ScanSettings, _table(raw, "scan"), "scan")
    limits = build(Limits, _table(raw, "limits"), "limits")
    if scan.keep_runs < 1:
        raise ConfigError("scan.keep_runs", "must be at least 1 (the scan just made)")
    if scan.report_occurrences < 0:
        raise ConfigError("scan.report_occurrences", "must be >= 0 (0: report.json lists none; every one is counted)")
    if limits.chunk_size < 4096:
        raise ConfigError("limits.chunk_size", "must be at least 4KiB")
    if limits.split_size and limits.split_size < limits.chunk_size:
        raise ConfigError("limits.split_size", "must be 0 (files are never split) or at least chunk_size")
    executor = build(ExecutorSettings, _table(raw, "executor"), "executor")
    if executor.workers < 0 or executor.unit_files < 1 or executor.threads < 1:
        raise ConfigError("executor", "workers must be >= 0, threads and unit_files >= 1")
    if executor.type == "dask" and not executor.scheduler.startswith(("tcp://", "tls://")):
        raise ConfigError("executor.scheduler", 'type = "dask" needs the scheduler\'s address: tcp://host:8786 or '
                          'tls://host:8786 (or type = "dask-local" to start a cluster on this machine)')
    if executor.retries < 0 or executor.connect_timeout < 1:
        raise ConfigError("executor", "retries must be >= 0 and connect_timeout >= 1")
    reports = plugins.available("reports")
    for i, fmt in enumerate(scan.formats):
        if fmt not in reports:
            raise ConfigError(f"scan.formats[{i}]", f"unknown report format '{fmt}' (installed: {', '.join(sorted(reports))})")
    checks = _checks(_table(raw, "checks"))
    directories = _directories(_table(raw, "directories"))
    targets = _targets(raw.get("targets", []))
    for i, t in enumerate(targets):
        if t.directory and t.directory not in directories:
            raise ConfigError(f"targets[{i}].directory", f"no [directories.{t.directory}] table "
                                                         f"(configured: {', '.join(sorted(directories)) or 'none'})")
    agent = build(AgentSettings, _table(raw, "agent"), "agent")
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(agent.timezone)
    except (KeyError, ValueError):
        raise ConfigError("agent.timezone", f"unknown time zone {agent.timezone!r} (e.g. Europe/Stockholm)") from None
    if agent.keep < 1 or agent.jitter < 0:
        raise ConfigError("agent", "keep must be >= 1 and jitter >= 0")
    formats = build(FormatSettings, _table(raw, "formats"), "formats")
    if formats.max_depth < 0 or formats.max_members < 1 or formats.max_ratio < 2 or formats.ocr_timeout < 1:
        raise ConfigError("formats", "max_depth must be >= 0, max_members and ocr_timeout >= 1, max_ratio >= 2")
    _check_format_handlers()
    compliance = _compliance(_table(raw, "compliance"), _table(raw, "contract"), Path(source).parent)
    return Config(scan, limits, executor, targets, checks, raw, source, agent, formats, compliance, directories)


def _compliance(table: dict[str, Any], contract: dict[str, Any], base: Path) -> Compliance:
    """The frameworks (bundled, plus the config's files) and the contract's clauses, every reference checked."""
    from vendorscan.reports import compliance as matrix
    settings = build(ComplianceSettings, table, "compliance")
    added = [Path(p) if Path(p).is_absolute() else base / p for p in settings.framework_files]
    frameworks = matrix.load(matrix.bundled() + added)
    if settings.frameworks:
        known = {f.id for f in frameworks}
        unknown = [f for f in settings.frameworks if f not in known]
        if unknown:
            raise ConfigError("compliance.frameworks", f"unknown frameworks {unknown} (known: {', '.join(sorted(known))})")
    unknown_keys = set(contract) - {"name", "clauses"}
    if unknown_keys:
        raise ConfigError("contract", f"unknown keys {sorted(unknown_keys)} (allowed: name, clauses)")
    raw_clauses = contract.get("clauses", [])
    if not isinstance(raw_clauses, list):
        raise ConfigError("contract.clauses", "must be an array of tables ([[contract.clauses]])")
    clauses = [matrix.requirement(c, f"contract.clauses[{i}]") for i, c in enumerate(raw_clauses)]
    if len({c.id for c in clauses}) != len(clauses):
        raise ConfigError("contract.clauses", "two clauses have the same id")
    matrix.check_references(frameworks, clauses, set(plugins.available("checks")))  # a clause may follow any framework
    return Compliance(tuple(frameworks), tuple(clauses), str(contract.get("name", "")), tuple(settings.frameworks))


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, "expected a table ([" + key + "])")
    return value


def _checks(table: dict[str, Any]) -> list[CheckSelection]:
    installed = plugins.available("checks")
    for name in table:
        if name not in installed:
            raise ConfigError(f"checks.{name}", f"unknown check (installed: {', '.join(sorted(installed))})")
    selected = []
    for name in installed:
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"checks.{name}", "expected a table")
        enabled = sub.get("enabled", name in DEFAULT_CHECKS)
        if not isinstance(enabled, bool):
            raise ConfigError(f"checks.{name}.enabled", f"expected true/false, got {enabled!r}")
        if not enabled:
            continue
        try:
            cls = plugins.load("checks", name)
        except plugins.PluginError as exc:
            raise ConfigError(f"checks.{name}", str(exc)) from None
        options = build(cls.Options, sub, f"checks.{name}", ignore=frozenset({"enabled"}))
        selected.append(CheckSelection(name, cls, options))
    return selected


def _targets(items: Any) -> list[Target]:
    if not isinstance(items, list):
        raise ConfigError("targets", "expected an array of tables ([[targets]])")
    connectors = plugins.available("connectors")
    targets, names = [], set()
    for i, item in enumerate(items):
        path = f"targets[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(path, "expected a table")
        for key in ("name", "type"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(f"{path}.{key}", "required string is missing")
        name, ctype = item["name"], item["type"]
        if name in names:
            raise ConfigError(f"{path}.name", f"target name '{name}' is used twice")
        names.add(name)
        env = item.get("environment", "production")
        if env not in ENVIRONMENTS:
            raise ConfigError(f"{path}.environment", f"expected one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        if ctype not in connectors:
            raise ConfigError(f"{path}.type", f"unknown target type '{ctype}' (installed: {', '.join(sorted(connectors))})")
        try:
            cls = plugins.load("connectors", ctype)
        except plugins.PluginError as exc:
            raise ConfigError(f"{path}.type", str(exc)) from None
        options = build(cls.Options, item, path,
                        ignore=frozenset({"name", "type", "environment", "schedule", "directory"}))
        directory = item.get("directory", "")
        if not isinstance(directory, str):
            raise ConfigError(f"{path}.directory", "expected the name of a [directories.NAME] table")
        schedule = item.get("schedule", "")
        if schedule:
            _check_cron(schedule, f"{path}.schedule")
        targets.append(Target(name, ctype, env, options, item, schedule, directory))
    return targets


def _directories(table: dict[str, Any]) -> dict[str, DirectorySettings]:
    """[directories.NAME] tables: each a directory plugin (`type`) and its options."""
    installed = plugins.available("directories")
    found = {}
    for name, sub in table.items():
        path = f"directories.{name}"
        if not isinstance(sub, dict):
            raise ConfigError(path, "expected a table")
        dtype = sub.get("type")
        if dtype not in installed:
            raise ConfigError(f"{path}.type", f"unknown directory type {dtype!r} (installed: "
                                              f"{', '.join(sorted(installed))})")
        try:
            cls = plugins.load("directories", dtype)
        except plugins.PluginError as exc:
            raise ConfigError(f"{path}.type", str(exc)) from None
        found[name] = DirectorySettings(name, dtype, cls, build(cls.Options, sub, path, ignore=frozenset({"type"})))
    return found


def _check_format_handlers() -> None:
    """Every installed format handler loads and declares itself consistently, before any scan starts."""
    from vendorscan.formats.registry import installed
    try:
        installed()
    except plugins.PluginError as exc:
        raise ConfigError("formats", str(exc)) from None


def _check_cron(expr: Any, path: str) -> None:
    from croniter import croniter
    if not isinstance(expr, str) or not croniter.is_valid(expr):
        raise ConfigError(path, f"not a cron expression: {expr!r} (e.g. \"0 2 * * *\"; a 6th field is seconds)")


def subset(config: Config, target_name: str) -> Config:
    """The same config with one target only (the agent scans one target at a time)."""
    raw = dict(config.raw)
    raw["targets"] = [t for t in config.raw.get("targets", []) if t.get("name") == target_name]
    return parse(raw, config.source)
