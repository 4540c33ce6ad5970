# One image for web, worker and beat (the compose services differ only in their command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# collectstatic needs settings that load; the real keys come at run time.
RUN SECRET_KEY=build-only-0123456789abcdef0123456789 HASH_KEY=build-only-hash-0123456789abcdef012345 \
    python manage.py collectstatic --noinput -v0
RUN useradd --system --uid 10001 personvern && mkdir -p /data/private && chown personvern /data/private
USER personvern
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--forwarded-allow-ips", "*"]
