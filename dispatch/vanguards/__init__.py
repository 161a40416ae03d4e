"""Vanguards: the volunteer responders, their skills and when they are on call."""
