"""The state dir and the key for value hashes (from env, a file, or generated once and kept)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from vendorscan.errors import ConfigError


def state_path(configured: str = "") -> Path:
    """--state-dir / [scan].state_dir, else $VENDORSCAN_STATE, else ~/.local/state/vendorscan (not created)."""
    raw = configured or os.environ.get("VENDORSCAN_STATE") or "~/.local/state/vendorscan"
    return Path(raw).expanduser()


def state_dir(configured: str = "") -> Path:
    """The state dir (see state_path), created 0700 if it is not there."""
    path = state_path(configured)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def hash_key(state: Path, key_env: str = "", key_file: str = "") -> bytes:
    """The HMAC key: named env var, named file, or state_dir/hash.key (created 0600 on first use)."""
    if key_env:
        value = os.environ.get(key_env)
        if not value:
            raise ConfigError("scan.hash_key_env", f"environment variable {key_env} is not set or empty")
        return _check(value.encode(), "scan.hash_key_env")
    if key_file:
        try:
            return _check(Path(key_file).expanduser().read_bytes().strip(), "scan.hash_key_file")
        except OSError as exc:
            raise ConfigError("scan.hash_key_file", f"cannot read {key_file}: {exc.strerror}") from None
    path = state / "hash.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _check(path.read_bytes().strip(), str(path))
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def _check(key: bytes, where: str) -> bytes:
    if len(key) < 16:
        raise ConfigError(where, "the hash key must be at least 16 bytes long")
    return key
