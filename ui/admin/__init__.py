"""An administrator's windows: signed-in sessions."""
