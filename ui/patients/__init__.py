"""The patient registry's widgets: search list, table model, register/edit dialog, header."""
