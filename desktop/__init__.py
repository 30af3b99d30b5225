"""The Qt application: entry point, composition root, task runner, presenters."""
