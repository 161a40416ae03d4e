"""Database plumbing shared by every domain package: engine, declarative base, unit of work."""
