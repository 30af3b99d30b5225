"""Scheduling: providers' hours, appointment types, booking, moving, cancelling,
recurring series, the waitlist and the status flow (check-in opens an encounter)."""
