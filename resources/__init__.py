"""Icons, themes, templates and sounds shipped with the app."""
