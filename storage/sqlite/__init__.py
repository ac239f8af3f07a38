"""The SQLite engine: one file, WAL, one serialised writer, forward-only SQL migrations.

`SQLiteStorage` (engine.py) bundles the repositories that implement storage/contract.py;
`storage.engines.open_storage` picks it when `DATABASE_URL` is unset or `sqlite:///…`.
"""
