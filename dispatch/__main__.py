"""`python -m dispatch` is the `dispatch` command."""

from dispatch.cli import app

app()
