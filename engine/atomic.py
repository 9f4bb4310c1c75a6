"""Atomic file writes: write a temporary file beside the target, then move it in place."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def temporary_sibling(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary path in ``target``'s folder; remove it if still there on exit."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _finish(path: Path) -> None:
    """Flush ``path`` to disk and give it the umask-based mode (mkstemp makes it 0600)."""
    os.chmod(path, 0o666 & ~_current_umask())
    _fsync(path)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then replace ``target`` with the result in one step."""
    target = Path(target)
    with temporary_sibling(target) as temporary:
        write(temporary)
        _finish(temporary)
        os.replace(temporary, target)
    return target


def write_new(target: Path, write: Callable[[Path], None]) -> Path:
    """Like :func:`write_atomic`, but raise ``FileExistsError`` instead of replacing a file.

    The final step is a hard link, which fails when ``target`` exists, so a file
    that appeared meanwhile is never overwritten.
    """
    target = Path(target)
    with temporary_sibling(target) as temporary:
        write(temporary)
        _finish(temporary)
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise
        except OSError:
            # Some file systems (FAT, several network shares) have no hard links.
            # NOTE: this fallback has a short window in which a racing writer could win.
            if target.exists():
                raise FileExistsError(errno.EEXIST, "file exists", str(target)) from None
            os.replace(temporary, target)
    return target
