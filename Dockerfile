FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# xmlsec1: pysaml2 signs and verifies SAML single sign-on messages with it (sso/saml.py).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 curl xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir -c requirements.lock .
COPY . .
COPY --from=assets /app/node_modules ./node_modules
RUN SECRET_KEY=build python manage.py collectstatic --noinput
EXPOSE 8000
# WSGI pages and API: gunicorn reads gunicorn.conf.py from /app (gthread workers, decision 1940).
# The live-updates websocket runs as its own process from the same image (docker-compose.yml's
# `live`: uvicorn pmhub.asgi:application).
CMD ["gunicorn", "pmhub.wsgi", "--bind", "0.0.0.0:8000"]
