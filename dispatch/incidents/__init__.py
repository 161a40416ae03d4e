"""Incidents: intake, their state machine and their timeline."""
