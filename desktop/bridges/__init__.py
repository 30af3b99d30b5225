"""Cross-cutting Qt pieces between the backend and the views: change notifications (and,
in later issues, the upload queue and the audio device)."""
