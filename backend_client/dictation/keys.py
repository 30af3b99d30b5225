"""The workstation key: 32 random bytes that wrap every recording's key (docs/dictation.md).

Why a workstation key rather than the author's password: a stopped recording must upload
after its author signed out, and an interrupted one must open after a crash. It lives in
the OS keyring (service ``dr-assistant``, one entry per data dir so two installations do
not share one), and where there is no usable keyring (headless Linux: no backend, or the
"fail" backend) in ``<data dir>/dictation/workstation.key``, mode 0600, written
atomically. Nothing here runs at import: the keyring is asked only when a key is needed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

from backend_client.dictation.sealing import KEY_SIZE, atomic_write, new_key

SERVICE = "dr-assistant"
KEY_FILE = "workstation.key"

_lock = threading.Lock()


def dictation_dir(data_dir: Path) -> Path:
    """``<data dir>/dictation``, made 0700 if missing."""
    path = Path(data_dir) / "dictation"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def keyring_user(data_dir: Path) -> str:
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return f"workstation-key:{digest}"


def _keyring():  # type: ignore[no-untyped-def]
    """The usable keyring module, or None (no backend / the fail backend / broken)."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception:  # noqa: BLE001 - not installed or broken: use the file
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:  # noqa: BLE001 - a backend that cannot even be asked
        return None
    return keyring


def workstation_key(data_dir: Path, *, use_keyring: bool = True) -> bytes:
    """This workstation's key for ``data_dir``, made on first use.

    Args:
        data_dir: the app's data folder.
        use_keyring: False forces the 0600 file (tests, and a keyring the user refuses).
    """
    with _lock:
        kr = _keyring() if use_keyring else None
        if kr is not None:
            user = keyring_user(data_dir)
            try:
                stored = kr.get_password(SERVICE, user)
                if stored:
                    key = base64.b64decode(stored)
                    if len(key) == KEY_SIZE:
                        return key
                key = new_key()
                kr.set_password(SERVICE, user, base64.b64encode(key).decode())
                return key
            except Exception:  # noqa: BLE001 - NoKeyringError, locked keyring, D-Bus gone
                pass
        return _file_key(data_dir)


def _file_key(data_dir: Path) -> bytes:
    path = dictation_dir(data_dir) / KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) == KEY_SIZE:
            return key
    except FileNotFoundError:
        pass
    key = new_key()
    # O_EXCL on the temp name is not needed: one process per data dir holds the app lock.
    atomic_write(path, key)
    os.chmod(path, 0o600)
    return key
