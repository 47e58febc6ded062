"""The installed format handlers (entry points `vendorscan.formats`) and the dispatch tables their classes declare.

Sniffing needs every handler's signatures, so all of them are loaded, once per process (`installed()`); each
handler imports its library only when it reads a file.
"""
from __future__ import annotations

import functools
from typing import IO

from vendorscan import plugins
from vendorscan.format import SWITCHES, FormatHandler

# Kinds the extractor itself decides: a handler cannot take them.
_RESERVED = frozenset({"text", "unknown"})


class Formats:
    """Kind → handler, signatures, name claims, sniffers and container probes, from the handlers' declarations."""

    def __init__(self, handlers: list[type[FormatHandler]]):
        self.handlers = {cls.id: cls() for cls in handlers if _check(cls) is None}
        self.by_kind: dict[str, FormatHandler] = {}
        self.claims: dict[str, str] = {}
        self.magic: list[tuple[bytes, str]] = []
        self.sniffers: list[FormatHandler] = []  # binary kinds recognised beyond a signature (tar)
        self.textual: list[FormatHandler] = []  # kinds recognised in heads that read as text (mail)
        self.probes: dict[str, list[FormatHandler]] = {}  # container kind → the handlers that tell its files apart
        for handler in self.handlers.values():
            for kind in (*handler.kinds, *handler.unread):
                _claim(self.by_kind, kind, handler, "kind")
            for suffix, kind in handler.extensions.items():
                _claim(self.claims, suffix, kind, "file-name extension")
            self.magic += handler.magic
            if handler.container:
                self.probes.setdefault(handler.container, []).append(handler)
            if _overrides(type(handler), "sniff"):
                (self.textual if handler.textual else self.sniffers).append(handler)
        seen: dict[bytes, str] = {}
        for signature, kind in self.magic:
            _claim(seen, signature, kind, "signature")

    def versions(self) -> list[tuple[str, str]]:
        """(id, version) of every handler: what files are read with, for the digest that keys cached results."""
        return sorted((h.id, h.version) for h in self.handlers.values())

    def handler(self, kind: str) -> FormatHandler | None:
        """The handler that reads (or knowingly refuses) a kind, or None when none is installed."""
        return self.by_kind.get(kind)

    def is_container(self, kind: str) -> bool:
        """Whether files of this kind are told apart by probing them (a zip may be a docx)."""
        return kind in self.probes

    def refine(self, f: IO[bytes], kind: str) -> str:
        """The kind a seekable container file really is, by its handlers' probes; the container kind if none."""
        for handler in self.probes.get(kind, ()):
            found = handler.probe(f)
            f.seek(0)
            if found in handler.kinds or found in handler.unread:
                return found
        return kind

    def needs_seek(self, kind: str) -> bool:
        """Whether a file of this kind is read from a seekable file (its handler seeks, or it is probed)."""
        handler = self.by_kind.get(kind)
        return self.is_container(kind) or (handler is not None and handler.seekable)

    def fits(self, claim: str, kind: str) -> bool:
        """Whether content of `kind` is what a name claiming `claim` promises."""
        have = self.by_kind.get(kind)
        if claim == kind or have is None:
            return claim == kind
        return (have.any_name and self.by_kind.get(claim) is have) or have.container == claim


@functools.cache
def installed() -> Formats:
    """Every installed handler, loaded and checked once per process."""
    names = sorted(plugins.available("formats"))
    if not names:  # an install from before formats were plugins: every document would pass as unsupported
        raise plugins.PluginError("no format handlers are installed (entry points vendorscan.formats): "
                                  "reinstall vendorscan (pip install .)")
    return Formats([plugins.load("formats", name) for name in names])


def _check(cls: type) -> None:
    """The declarations of one handler class are consistent, or PluginError naming what is wrong."""
    if not (isinstance(cls, type) and issubclass(cls, FormatHandler)):
        raise plugins.PluginError(f"format plugin '{getattr(cls, 'id', cls)}' is not a vendorscan.format.FormatHandler")
    handler, problems = cls, []
    own = set(handler.kinds) | set(handler.unread)
    if not own:
        problems.append("declares no kinds")
    if own & _RESERVED or set(handler.kinds) & set(handler.unread):
        problems.append(f"declares a reserved or doubled kind ({', '.join(sorted(own & _RESERVED)) or 'kinds and unread'})")
    if {kind for _, kind in handler.magic} - own or set(handler.extensions.values()) - set(handler.kinds):
        problems.append("names a kind in magic or extensions that it does not declare")
    if any(not s.startswith(".") or s != s.lower() for s in handler.extensions):
        problems.append("has an extension that is not a lower-case '.suffix'")
    if handler.switch is not None and handler.switch not in SWITCHES:
        problems.append(f"names switch '{handler.switch}' (known: {', '.join(SWITCHES)})")
    if handler.container and not _overrides(cls, "probe"):
        problems.append(f"declares container '{handler.container}' but no probe()")
    if handler.kinds and not _overrides(cls, "read"):
        problems.append("declares kinds but no read()")
    if problems:
        raise plugins.PluginError(f"format plugin '{handler.id}' ({cls.__module__}.{cls.__qualname__}) "
                                  + "; ".join(problems))


def _overrides(cls: type, name: str) -> bool:
    mine, base = getattr(cls, name), getattr(FormatHandler, name)
    return getattr(mine, "__func__", mine) is not getattr(base, "__func__", base)


def _claim(table: dict, key, value, what: str) -> None:
    if key in table and table[key] != value:
        theirs = getattr(table[key], "id", table[key])
        ours = getattr(value, "id", value)
        raise plugins.PluginError(f"format {what} {key!r} is claimed twice: by '{theirs}' and by '{ours}'")
    table[key] = value
