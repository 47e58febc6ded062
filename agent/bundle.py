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


def parse_public(text: str) -> str:
    """The canonical 'ed25519:BASE64' of a public key written that way; ValueError if it is anything else."""
    text = text.strip()
    if not text.startswith("ed25519:"):
        raise ValueError("a public key looks like ed25519:BASE64 (as printed in the report)")
    _strict_b64(text[8:], 32, "the public key")
    return text


def state_public_key(state: Path) -> str | None:
    """The public key of a state dir's signing key, if it has one (never creates one)."""
    path = state / KEY_FILE
    if not path.exists():
        return None
    return public_text(serialization.load_pem_private_key(path.read_bytes(), password=None).public_key())


def _strict_b64(text: str | bytes, size: int, what: str) -> bytes:
    # b64decode() skips characters outside the alphabet by default: junk appended to a signature would pass.
    try:
        text = text.decode("ascii") if isinstance(text, bytes) else text
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise ValueError(f"{what} is not base64") from None
    if len(raw) != size or base64.b64encode(raw).decode() != text:
        raise ValueError(f"{what} is not exactly {size} bytes in canonical base64")
    return raw


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
    bundle.mkdir(mode=0o700)
    os.chmod(bundle, 0o700)
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


def verify(bundle: Path, trusted: list[str]) -> tuple[list[str], str]:
    """(problems, trusted key that signed it): every alteration found; no problems means intact and signed.

    `trusted` are pinned keys (ed25519:…); the key the manifest names is never trusted on its own word."""
    problems: list[str] = []
    try:
        body = (bundle / MANIFEST).read_bytes()
        sig_text = (bundle / SIGNATURE).read_bytes()
        manifest = json.loads(body)
    except FileNotFoundError as exc:
        return [f"missing {Path(exc.filename).name}"], ""
    except (ValueError, OSError) as exc:
        return [f"manifest unreadable: {type(exc).__name__}"], ""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return ["manifest.json is not a bundle manifest"], ""
    try:
        # exactly what make() writes: the base64 of 64 bytes and one newline
        signature = _strict_b64(sig_text.removesuffix(b"\n"), 64, SIGNATURE)
    except ValueError as exc:
        signature = b""
        problems.append(f"{exc} (the signature was altered)")
    used = next((key for key in trusted if _signed_by(key, signature, body)), "") if signature else ""
    named = _shown(manifest.get("public_key", ""))
    if signature and not used:
        problems.append("signature does not match manifest.json under any trusted key (the manifest was changed or "
                        "swapped)" if named in trusted else
                        f"not signed by a trusted key: the manifest names {named or 'no key'}, which is not trusted "
                        "(re-signed with another key, or signed by another state dir)")
    elif used and named != used:
        problems.append(f"manifest names another signing key ({named}) than the trusted key that signed it")
    scan_id, dir_name = _shown(manifest.get("scan_id")), _shown(bundle.resolve().name)
    if dir_name != f"bundle-{scan_id}":
        problems.append(f"the directory is named {dir_name} but the signed manifest is of scan {scan_id} "
                        f"(expected bundle-{scan_id}: renamed, or swapped with another scan's bundle)")
    listed = manifest["files"]
    for name, digest in sorted(listed.items()):
        path = bundle / name
        if not path.exists():
            problems.append(f"{_shown(name)}: missing")
        elif _sha256(path) != digest:
            problems.append(f"{_shown(name)}: changed (SHA-256 differs from the manifest)")
    for path in sorted(bundle.iterdir()):
        if path.name not in listed and path.name not in (MANIFEST, SIGNATURE):
            problems.append(f"{_shown(path.name)}: not in the manifest (added after signing)")
    return problems, used


def _shown(value) -> str:
    """Text from the bundle as it may be printed: control characters (terminal escapes) and length defused."""
    text = str(value)
    return text if text.isprintable() and len(text) <= 200 else repr(text[:200])


def _signed_by(key: str, signature: bytes, body: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_strict_b64(key[8:], 32, "the public key")).verify(signature, body)
    except InvalidSignature:
        return False
    return True
