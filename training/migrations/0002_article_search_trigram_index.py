"""On PostgreSQL, a trigram index on the articles' search column, so a search for any
substring (Chinese has no spaces to split words on) is an index scan; nothing on SQLite."""

from django.db import migrations

from customers.migrations import _trigram

INDEXES = [("article_search_trgm", "training_article", '"search_text"')]


def forwards(apps, schema_editor):
    _trigram.create(schema_editor, INDEXES)


def backwards(apps, schema_editor):
    _trigram.drop(schema_editor, INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_trigram_search_indexes_on_postgresql"),
        ("training", "0001_courses_enrollments_mentoring_articles_ladder"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
