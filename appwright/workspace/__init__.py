"""App bundles on disk with immutable, content-addressed versions: save, list, diff, restore.

    from appwright.workspace import save, list_versions, diff, restore
    v = save("my-app", "first try", with_data=True)
    print(diff("my-app", v.id))          # version -> working files
    restore("my-app", v.short_id)        # autosaves unsaved work first

CLI: `appwright versions save|list|diff|restore` (workspace/cli.py). Storage layout and
what this does not do: see workspace/store.py.
"""

from appwright.workspace.diff import diff
from appwright.workspace.restore import RestoreResult, restore
from appwright.workspace.store import (
    AW_DIR,
    DB_FILENAME,
    Version,
    WorkspaceError,
    get,
    list_versions,
    read_head,
    save,
)

__all__ = [
    "AW_DIR",
    "DB_FILENAME",
    "RestoreResult",
    "Version",
    "WorkspaceError",
    "diff",
    "get",
    "list_versions",
    "read_head",
    "restore",
    "save",
]
