from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command


@pytest.fixture(autouse=True, scope="session")
def _compiled_catalogues() -> None:
    """Build the .mo files when they are missing or older than the .po (they are not committed)."""
    locale = Path(settings.BASE_DIR) / "locale"
    stale = [po for po in locale.rglob("*.po") if not po.with_suffix(".mo").exists()
             or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]  # fmt: skip
    if stale:
        if not shutil.which("msgfmt"):
            reason = "msgfmt (gettext) is not installed: `make test` installs it"
            pytest.fail(f"CI=true: {reason}") if os.environ.get("CI") == "true" else pytest.skip(reason)
        call_command("compilemessages", locale=[p.parent.parent.name for p in stale], verbosity=0,
                     ignore_patterns=[".venv", "node_modules"])  # fmt: skip
