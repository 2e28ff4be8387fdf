"""On PostgreSQL, one trigram index per table on search_text replaces the per-column ones of
0004: searches now match one column with a plain LIKE '%term%'."""

from django.db import migrations

from customers.migrations import _trigram

NEW = [
    ("account_search_trgm", "customers_account", '"search_text"'),
    ("contact_search_trgm", "customers_contact", '"search_text"'),
]
OLD = [
    (name, table, f'UPPER("{column}"::text)')
    for name, table, column in [
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
]


def forwards(apps, schema_editor):
    _trigram.create(schema_editor, NEW)
    _trigram.drop(schema_editor, OLD)


def backwards(apps, schema_editor):
    _trigram.create(schema_editor, OLD)
    _trigram.drop(schema_editor, NEW)


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_backfill_search_text")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
