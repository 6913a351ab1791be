"""The anonymity secret: a file of its own, mode 0600, never in the database or its backups."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from bot.errors import ConfigError

SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret from `path`, creating it (mode 0600) on first run."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not both write a secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES).hex().encode() + b"\n")
    try:
        raw = path.read_bytes().strip()
        data = bytes.fromhex(raw.decode())
    except (OSError, ValueError, UnicodeDecodeError):
        raise ConfigError(
            f"The anonymity secret at {path} is unreadable. Restore it from your key backup, or see "
            "docs/privacy.md for how to rotate it."
        ) from None
    if len(data) < SECRET_BYTES:
        raise ConfigError(f"The anonymity secret at {path} is too short ({len(data)} bytes; 32 needed).")
    return data


def secret_permissions_warning(path: Path) -> str | None:
    """Return a warning when the secret file can be read by anyone but its owner."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if mode & 0o077:
        return f"{path} has permissions {mode:o}; only its owner should read it. Run: chmod 600 {path}"
    return None
