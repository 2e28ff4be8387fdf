"""Fills the new search_text column of existing accounts and contacts, in primary-key
batches; rerunning recomputes the same values."""

from django.db import migrations

from customers import text

BATCH = 2000


def backfill(apps, schema_editor):
    columns = {
        "Account": ("name", "name_pinyin", "name_initials", "email", "phone_digits"),
        "Contact": (
            "name",
            "name_pinyin",
            "name_initials",
            "email",
            "phone_digits",
            "mobile_digits",
        ),
    }
    for model_name, fields in columns.items():
        model = apps.get_model("customers", model_name)
        last_pk = 0
        while True:
            rows = list(
                model._base_manager.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[
                    :BATCH
                ]
            )
            if not rows:
                break
            for row in rows:
                row.search_text = text.search_text(*(getattr(row, field) for field in fields))
            model._base_manager.bulk_update(rows, ["search_text"])
            last_pk = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_search_text_column_with_one_trigram_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
