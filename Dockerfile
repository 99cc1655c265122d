FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/wuye
COPY pyproject.toml package.json package-lock.json ./
COPY app app
COPY forms forms
COPY workers workers
COPY sandbox sandbox
COPY bpmn bpmn
COPY migrations migrations
RUN pip install --no-cache-dir -e . && npm ci --omit=dev --no-audit --no-fund
ENV FLASK_APP=app
