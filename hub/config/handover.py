"""A config the CLI loaded, handed to the flow it runs in the same process.

``hub run`` loads and checks the config before Prefect starts (a config error
should not wait for Prefect's start-up); the flow it then runs in the same
process would read and check every file again. The CLI hands its
:class:`~hub.config.loading.LoadedConfig` over here, and the flow takes it when
it asks for the same file and none of the files (the config and its mappings)
changed since. A deployment's flow run, in its own process, loads as before.
"""

from __future__ import annotations

import threading
from pathlib import Path

from handoff_hub.hub.config.loading import LoadedConfig, load_config

__all__ = ["hand_over", "load_once"]

_lock = threading.Lock()
_handed: tuple[LoadedConfig, dict[Path, int | None]] | None = None


def hand_over(loaded: LoadedConfig) -> None:
    """Keep ``loaded`` for the next :func:`load_once` of its file in this process."""
    global _handed
    with _lock:
        _handed = (loaded, _stamps(loaded))


def load_once(path: str | Path) -> LoadedConfig:
    """The config handed over for ``path`` if its files are unchanged, else a fresh load."""
    global _handed
    with _lock:
        handed, _handed = _handed, None
    if handed is not None:
        loaded, stamps = handed
        if loaded.path == Path(path).resolve() and _stamps(loaded) == stamps:
            return loaded
    return load_config(path)


def _stamps(loaded: LoadedConfig) -> dict[Path, int | None]:
    files = [loaded.path]
    files += [loaded.base_dir / s.mapping for s in loaded.config.systems.values()]
    return {file: _modified(file) for file in files}


def _modified(file: Path) -> int | None:
    try:
        return file.stat().st_mtime_ns
    except OSError:
        return None
