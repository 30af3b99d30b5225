"""Widgets and views. Render DTOs, emit intents; no I/O, no store access."""
