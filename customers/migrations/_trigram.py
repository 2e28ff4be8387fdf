"""Trigram index helpers for the migrations: PostgreSQL only, a no-op on SQLite."""


def create(schema_editor, indexes):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in indexes:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)"
        )


def drop(schema_editor, indexes):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in indexes:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
