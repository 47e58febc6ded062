"""Storage posture: buckets without default encryption, TLS-only policy, versioning or Block Public Access;
Azure storage accounts open to public access, plain HTTP or old TLS, or without soft delete."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from vendorscan.model import Finding, Resource, Severity
from vendorscan.check import ResourceCheck

REFERENCES = ("GDPR Art. 32", "ISO/IEC 27001 A.8.24", "NIS2 Art. 21")

# (posture key, test that says "weak", severity, title, remediation)
RULES = (
    ("default_encryption", lambda v: v is None, Severity.MEDIUM, "Bucket has no default encryption",
     "Turn on default encryption (SSE-KMS with a customer key where the contract asks for it)."),
    ("tls_only_policy", lambda v: v is False, Severity.LOW, "Bucket policy does not deny plain-HTTP access",
     "Add a Deny statement on aws:SecureTransport = false."),
    ("versioning", lambda v: v != "Enabled", Severity.LOW, "Bucket versioning is off",
     "Enable versioning (and object lock where backups must be immutable)."),
    ("block_public_access", lambda v: isinstance(v, dict) and not all(v.values()), Severity.LOW,
     "Block Public Access is not fully on", "Turn on all four Block Public Access settings on the bucket or account."),
    ("share_permissions", lambda v: isinstance(v, str) and v.startswith("unknown"), Severity.INFO,
     "Share-level permissions unknown",
     "Share permissions can narrow what the folder ACLs allow; read them on the server (or give the audit account "
     "the right to) and attach them to the audit. Until then the folder ACLs are taken as they are."),
    # Azure storage accounts (connectors/azureposture.py): the blob endpoint shows soft delete, ARM the others.
    ("blob_public_access_allowed", lambda v: v is True, Severity.LOW, "Storage account allows public access to blobs",
     "Set allowBlobPublicAccess to false on the storage account: no container can then be opened to anonymous "
     "readers, whatever its own access level."),
    ("https_only", lambda v: v is False, Severity.MEDIUM, "Storage account accepts plain HTTP",
     "Turn on secure transfer required (supportsHttpsTrafficOnly) on the storage account."),
    ("minimum_tls_version", lambda v: isinstance(v, str) and v.upper() in ("TLS1_0", "TLS1_1"), Severity.LOW,
     "Storage account accepts TLS versions older than 1.2", "Set the storage account's minimum TLS version to 1.2."),
    ("blob_soft_delete", lambda v: v is False, Severity.LOW, "Blob soft delete is off",
     "Turn on blob soft delete (a retention of at least 7 days) so that deleted or overwritten data can be restored."),
    ("container_soft_delete", lambda v: v is False, Severity.LOW, "Container soft delete is off",
     "Turn on container soft delete so that a deleted container can be restored."),
    ("account_settings", lambda v: isinstance(v, str) and v.startswith("unknown"), Severity.INFO,
     "Storage account settings unknown",
     "Public access on the account, HTTPS only and the minimum TLS version are settings of the storage account "
     "that the blob endpoint does not show: export them (az storage account show) and give the file as "
     "account_properties_file, or check them in the Azure portal."),
)


class PostureCheck(ResourceCheck):
    """Bucket configuration weaknesses: encryption, TLS-only access, versioning, Block Public Access."""

    id = "posture"
    version = "1"

    @dataclass(frozen=True)
    class Options:
        versioning: bool = True  # report buckets without versioning

    def evaluate(self, resource: Resource, ctx) -> Iterator[Finding]:
        """One finding per weak setting of a bucket (or other resource with posture facts)."""
        posture = resource.posture or {}
        for key, weak, sev, title, remediation in RULES:
            if key not in posture or (key == "versioning" and not self.options.versioning):
                continue
            if weak(posture[key]):
                value = posture[key]
                evidence = (f"{key}: {value}",) if not isinstance(value, dict) else tuple(
                    f"{k}: {v}" for k, v in value.items())
                yield Finding(check_id=self.id, severity=sev, confidence=1.0, title=title, resource=resource.uri,
                              target=ctx.target, kind=f"posture.{key}", category="posture", evidence=evidence,
                              remediation=remediation, references=REFERENCES)
