"""Reading a resource's text through the content checks: the pieces a whole read (agent/worker.py) and a byte
range's read (agent/range_read.py) share."""
from __future__ import annotations

from vendorscan.format import Problem
from vendorscan.formats.text import LineLocator
from vendorscan.model import Chunk, Resource, Skipped


def timed_out(resource: Resource, seconds: int, count: int) -> Skipped:
    """The skip of a resource that took longer than resource_timeout; parts found unreadable are listed too."""
    return Skipped(resource.uri, "timeout", f"stopped after {seconds}s at byte {count}", resource.target)


def text_location(line: int, col: int, hit) -> dict[str, int]:
    """Where a hit in a plain text is: line, columns and character offset."""
    return {"line": line, "column": col, "end_column": col + hit.end - hit.start, "offset": hit.start}


def scan_chunk(chunk: Chunk, resource: Resource, contexts, problems: list[Problem]):
    """(check id, hit, line, column) for every hit of every content check in one chunk; what a check could not
    scan goes to `problems`, once per resource (a Problem it yields among its hits: a pattern that timed out)."""
    locator = None
    for cid, check, cctx in contexts:
        for hit in check.scan(chunk, resource, cctx):
            if isinstance(hit, Problem):
                member = chunk.location.member if chunk.location is not None else None
                if member and not hit.member:  # in an archive: the member it was in
                    hit = Problem(hit.reason, hit.detail, member)
                if hit not in problems:
                    problems.append(hit)
                continue
            if locator is None:  # most chunks have no hit: don't build a locator for them
                locator = LineLocator(chunk)
            line, col = locator.locate(hit.start)
            yield cid, hit, line, col


class CountingReader:
    """Counts bytes as they stream by (coverage), without buffering them; seeks when the stream can."""

    __slots__ = ("_f", "count")

    def __init__(self, f, already: int):
        self._f = f
        self.count = already

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self.count += len(data)
        return data

    def __getattr__(self, name: str):
        return getattr(self._f, name)  # seek, tell, closed, name, …: what document libraries ask of a file
