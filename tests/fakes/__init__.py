"""Fakes of the outside world for tests (in-process, real protocols where it matters)."""
