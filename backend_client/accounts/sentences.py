"""What the session checks say to a person, importable without any store library (the
window shows them before the stores are loaded)."""

from __future__ import annotations

NOT_SIGNED_IN = "Nobody is signed in at this workstation. Sign in to continue."
LOCKED = "The workstation is locked. Enter your password to continue."
ENDED = {
    "revoked": "An administrator ended your session. Sign in again to continue; nothing you "
               "typed has been lost.",
    "expired": "Your session reached its time limit. Sign in again to continue; nothing you "
               "typed has been lost.",
    "ended": "Your session has ended. Sign in again to continue; nothing you typed has been "
             "lost.",
}
