import os

# Tests run with the test profile (eager Celery, fast hashing) unless told otherwise.
os.environ.setdefault("DJANGO_ENV", "test")
