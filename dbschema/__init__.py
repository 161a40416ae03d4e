"""The one declarative base and the column types every package's tables share, below `dispatch` and `notify`.

One `Base` means one `MetaData`: Alembic autogenerate, `create_all` and the foreign keys between packages' tables
(a wellbeing check names an incident) see a single schema, while `notify` still imports nothing of `dispatch`.
"""
