# syntax=docker/dockerfile:1

# Front-end assets, built as scripts/setup builds them: the stylesheet compiled from
# GOV.UK Frontend, and the scripts and images copied out of node_modules.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY static/ static/
RUN mkdir -p static/build static/vendor \
 && npm run --silent build \
 && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/vendor/ \
 && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/ \
 && rm -rf static/vendor/govuk-images \
 && cp -r node_modules/govuk-frontend/dist/govuk/assets/images static/vendor/govuk-images


# The application: one image for the web server, the Celery worker and Celery beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=thrive_site.settings.production
WORKDIR /app

# psycopg[binary] bundles libpq, so no compiler or system libraries are needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
COPY --from=assets /app/static/build/ static/build/
COPY --from=assets /app/static/vendor/ static/vendor/

# Static files are part of the image (WhiteNoise serves them). Production settings
# refuse to load without SECRET_KEY, so this one step gets a throwaway key that is
# not kept in the image.
RUN SECRET_KEY=collectstatic-only-not-used-at-run-time python manage.py collectstatic --no-input -v0

RUN useradd --system --user-group --no-create-home thrive
USER thrive

EXPOSE 8000
CMD ["gunicorn", "thrive_site.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
