# Servicedesk production image: gunicorn for web, the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system servicedesk && useradd --system --gid servicedesk --home /app servicedesk
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY servicedesk ./servicedesk
COPY design ./design
COPY delivery ./delivery
COPY feedback ./feedback
COPY recovery ./recovery
RUN pip install -c constraints.txt -e .

COPY . .
# collectstatic needs settings, not secrets: a throwaway key for the build step only.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-$(python -c "import secrets; print(secrets.token_urlsafe(50))") \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
    && chown -R servicedesk:servicedesk /app

USER servicedesk
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "servicedesk.wsgi", "--config", "gunicorn.conf.py"]
