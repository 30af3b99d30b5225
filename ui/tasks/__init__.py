"""Tasks: a patient's tasks, the "New task" form, my inbox and its status-bar count."""
