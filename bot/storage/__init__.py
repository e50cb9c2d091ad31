"""Storage stage: the relational database (PostgreSQL in production, SQLite for `make run`)."""
