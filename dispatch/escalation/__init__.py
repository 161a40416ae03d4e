"""Escalation: the plan of waves and organisation levels, and durable timers that fire each step once."""
