"""Which checklist library the CLI uses: the defaults plus LAUNCHDECK_CHECKLISTS_DIR (or a path)."""

from pathlib import Path

from sqlmodel import Session

from checklists.catalog import Directory
from checklists.instantiate import load_for_session
from checklists.loader import Library, load_library
from orchestrator.core.settings import get_settings
from orchestrator.directory.seed import load_seed


def extra_dirs(path: Path | None = None) -> list[Path]:
    if path is not None:
        return [path]
    configured = get_settings().checklists_dir
    return [configured] if configured is not None else []


def library_from_seed(path: Path | None = None) -> Library:
    """Validated against the teams and regions of the seed file, so no database is needed."""
    directory = Directory.from_seed(load_seed(get_settings().seed_file))
    return load_library(directory=directory, extra_dirs=extra_dirs(path))


def library_for(session: Session) -> Library:
    return load_for_session(session, extra_dirs=extra_dirs())
