"""The patient registry: registration, demographics, duplicates and search."""
