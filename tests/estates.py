"""The contract's small estate on a local disk that a server shares (local paths, sshd, smbd)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Names are unique across folders: the contract knows a resource by its last uri segment.
FILES = {
    "hr/staff.csv": b"namn;personnummer\nAnna Lindqvist;850412-1230\n",
    "hr/old/2019.txt": b"CPR-nr: 120485-1006\n" * 50,
    "readme.txt": b"nothing personal here\n",
}


def plant(root: Path, files: dict[str, bytes], uid: int | None = None) -> None:
    """Write files (relative path -> bytes) under root: folders 0755, files 0644, owned by `uid` when given."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        if uid is not None:
            os.chown(path, uid, uid)


def random_files(sizes: list[int], seed: int = 1) -> dict[str, bytes]:
    """Random bytes of each size, named by position and size (f003-65537.bin): for exact-read tests."""
    import random
    rng = random.Random(seed)
    return {f"f{i:03d}-{size}.bin": rng.randbytes(size) for i, size in enumerate(sizes)}


def read_back(connector, files: dict, body: dict[str, bytes], steps: tuple[int, ...], in_flight) -> int:
    """Read every file through the connector in reads of each step size, checking it byte for byte and that it ends;
    returns the most requests in_flight() counted between reads."""
    most = 0
    for name, resource in sorted(files.items()):
        for step in steps:
            got = bytearray()
            with connector.open(resource) as f:
                while chunk := f.read(step):
                    got += chunk
                    most = max(most, in_flight())
                assert f.read(step) == b""
            assert bytes(got) == body[name], (name, step)
    return most


def peak_reading(connector, resource) -> int:
    """Peak bytes Python allocated while the resource was read through to its end."""
    import tracemalloc
    tracemalloc.start()
    try:
        with connector.open(resource) as f:
            while f.read(65536):
                pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class DiskEstate:
    """FILES planted under `root` (folders 0755, files 0644, owned by `uid`), and the contract's levers on them."""

    def __init__(self, root: Path, uid: int | None = None):
        self.root = root
        plant(root, FILES, uid)
        self.names = {Path(rel).name: root / rel for rel in FILES}

    def delete(self, name: str) -> None:
        """Remove the planted file of that name."""
        self.names[name].unlink()

    def make_unreadable(self, name: str) -> None:
        """Take every read right on the file from every account but root, its owner's too (mode 0000)."""
        os.chmod(self.names[name], 0)

    def snapshot(self) -> dict[str, tuple[str, int]]:
        """Each file's content digest and mtime, read beside the server (without moving its access time)."""
        out = {}
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
            with os.fdopen(fd, "rb") as f:
                out[str(path.relative_to(self.root))] = (hashlib.sha256(f.read()).hexdigest(), path.stat().st_mtime_ns)
        return out
