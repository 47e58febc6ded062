"""Evidence bundles: the reports, a manifest of their SHA-256 hashes, and an Ed25519 signature."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "bundle-signing.key"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def signing_key(state: Path) -> Ed25519PrivateKey:
    """The state dir's signing key, generated (0600) on first use."""
    path = state / KEY_FILE
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def public_text(key: Ed25519PublicKey) -> str:
    """'ed25519:' and the raw public key in base64: what the report prints and --public-key takes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def _public_from_text(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if not text.startswith("ed25519:"):
        raise ValueError("a public key looks like ed25519:BASE64 (as printed in the report)")
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text[8:]))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make(files: list[Path], result, state: Path, out_dir: Path) -> Path:
    """A bundle directory with copies of `files`, manifest.json and its detached signature."""
    key = signing_key(state)
    bundle = out_dir / f"bundle-{result.scan_id}"
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True, mode=0o700)
    hashes = {}
    for src in files:
        dst = bundle / src.name
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o600)
        hashes[src.name] = _sha256(dst)
    manifest = {
        "scan_id": result.scan_id, "started": result.started, "ended": result.ended,
        "agent_version": result.agent_version, "config_digest": result.config_digest,
        "host": result.host, "operator": result.operator, "complete": result.complete,
        "files": dict(sorted(hashes.items())), "public_key": public_text(key.public_key()),
    }
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    (bundle / MANIFEST).write_bytes(body)
    (bundle / SIGNATURE).write_text(base64.b64encode(key.sign(body)).decode() + "\n")
    for name in (MANIFEST, SIGNATURE):
        os.chmod(bundle / name, 0o600)
    return bundle


def verify(bundle: Path, public_key: str | None = None) -> tuple[list[str], str]:
    """(problems, key used): every alteration found; no problems means intact and signed."""
    problems: list[str] = []
    try:
        body = (bundle / MANIFEST).read_bytes()
        signature = base64.b64decode((bundle / SIGNATURE).read_text().strip())
        manifest = json.loads(body)
    except FileNotFoundError as exc:
        return [f"missing {Path(exc.filename).name}"], ""
    except (ValueError, OSError) as exc:
        return [f"manifest or signature unreadable: {type(exc).__name__}"], ""
    key_text = public_key or manifest.get("public_key", "")
    try:
        _public_from_text(key_text).verify(signature, body)
    except InvalidSignature:
        problems.append("signature does not match manifest.json (the manifest was changed or swapped)")
    except ValueError as exc:
        problems.append(f"public key unusable: {exc}")
    if public_key and manifest.get("public_key") != public_key:
        problems.append("manifest names another signing key than --public-key")
    listed = manifest.get("files", {})
    for name, digest in sorted(listed.items()):
        path = bundle / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif _sha256(path) != digest:
            problems.append(f"{name}: changed (SHA-256 differs from the manifest)")
    for path in sorted(bundle.iterdir()):
        if path.name not in listed and path.name not in (MANIFEST, SIGNATURE):
            problems.append(f"{path.name}: not in the manifest (added after signing)")
    return problems, key_text
