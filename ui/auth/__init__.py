"""Who is at the keyboard: the sign-in screen, the lock screen and break-the-glass."""
