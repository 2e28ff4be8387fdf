FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY salesmgmt ./salesmgmt
COPY teams ./teams
COPY customers ./customers
COPY pipeline ./pipeline
COPY performance ./performance
COPY incentives ./incentives
COPY training ./training
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs settings that pass the production checks; the real ones come at run time.
RUN SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_urlsafe(50))") \
    ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput

RUN useradd --create-home salesmgmt && mkdir -p /app/var && chown -R salesmgmt /app/var
USER salesmgmt
EXPOSE 8000
CMD ["gunicorn", "salesmgmt.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
