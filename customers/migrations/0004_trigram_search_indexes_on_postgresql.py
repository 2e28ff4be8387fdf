"""Trigram indexes for the substring searches over names, pinyin, phones and emails.

PostgreSQL only (SQLite has no trigram index); Django's icontains compiles to
UPPER(col::text) LIKE UPPER(...), so the indexes are built on that expression.
"""

from django.db import migrations

INDEXES = [
    ("account_name_trgm", "customers_account", "name"),
    ("account_pinyin_trgm", "customers_account", "name_pinyin"),
    ("account_initials_trgm", "customers_account", "name_initials"),
    ("account_email_trgm", "customers_account", "email"),
    ("account_phone_trgm", "customers_account", "phone_digits"),
    ("contact_name_trgm", "customers_contact", "name"),
    ("contact_pinyin_trgm", "customers_contact", "name_pinyin"),
    ("contact_initials_trgm", "customers_contact", "name_initials"),
    ("contact_email_trgm", "customers_contact", "email"),
    ("contact_phone_trgm", "customers_contact", "phone_digits"),
    ("contact_mobile_trgm", "customers_contact", "mobile_digits"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_list_filter_sort_and_lookup_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
