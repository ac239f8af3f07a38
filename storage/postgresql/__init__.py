"""The PostgreSQL engine: a pooled database shared by any number of bot instances.

`PostgresStorage` (engine.py) bundles the repositories that implement storage/contract.py;
`storage.engines.open_storage` picks it for `DATABASE_URL=postgresql://…`. Raw SQL per engine
over asyncpg, not SQLAlchemy: see engine.py for the measurement behind that choice.
"""
