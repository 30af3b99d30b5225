"""Dictation: capture on the workstation, keep it safe there, deliver it to object storage
(docs/dictation.md)."""
