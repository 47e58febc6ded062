"""Progress on a terminal (rich); nothing at all in CI, cron or with --quiet."""
from __future__ import annotations

from vendorscan.model import Coverage


class Progress:
    """A live per-target line: resources read/seen, bytes, findings."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "Progress":
        if self.enabled:
            from rich.progress import Progress as RichProgress, SpinnerColumn, TextColumn, TimeElapsedColumn
            self._progress = RichProgress(SpinnerColumn(), TextColumn("{task.description}"),
                                          TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), transient=True)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def update(self, target: str, cov: Coverage, findings: int) -> None:
        """Refresh the line of one target."""
        if self._progress is None:
            return
        stats = (f"{cov.resources_read}/{cov.resources_seen} read · {cov.bytes_read / 2**20:.1f} MiB · "
                 f"{cov.skipped_total} skipped · {findings} findings")
        if target not in self._tasks:
            self._tasks[target] = self._progress.add_task(target, total=None, stats=stats)
        self._progress.update(self._tasks[target], stats=stats)
