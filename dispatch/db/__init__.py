"""Database plumbing of the dispatch service: engines, write turns, wake-ups, the Alembic runner.

The declarative base and column types live one level down, in `dbschema`, so that `notify` can share them.
"""
