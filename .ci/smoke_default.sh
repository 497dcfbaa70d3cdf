#!/usr/bin/env bash
# Proves the server-less default: with no DATABASE_URL / REDIS_URL, the real web server,
# Celery worker, Celery beat and local fake ESP start from the Procfile on a fresh SQLite
# database and file-system broker, the admin answers, and a campaign goes out exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL REDIS_URL

export VAR_DIR; VAR_DIR=$(mktemp -d /tmp/remarketing-smoke.XXXXXX)
export WEB_PORT=18700 FAKE_ESP_PORT=18725
export WEB_ADDR="127.0.0.1:${WEB_PORT}"
export POSTMARK_API_URL="http://127.0.0.1:${FAKE_ESP_PORT}/"
export SITE_URL="http://127.0.0.1:${WEB_PORT}"
PY=.venv/bin/python

$PY manage.py migrate --noinput -v0
$PY manage.py load_starter_templates
$PY manage.py seed_demo --customers 60 --seed 7
$PY manage.py create_demo_staff

.venv/bin/honcho start -f Procfile > "$VAR_DIR/processes.log" 2>&1 &
honcho_pid=$!
cleanup() {
  kill -INT "$honcho_pid" 2>/dev/null || true
  sleep 3
  kill -TERM "$honcho_pid" 2>/dev/null || true
  pkill -f "config worker" 2>/dev/null || true
  pkill -f "config beat" 2>/dev/null || true
  pkill -f "fake_esp --port ${FAKE_ESP_PORT}" 2>/dev/null || true
  pkill -f "runserver ${WEB_ADDR}" 2>/dev/null || true
}
trap 'status=$?; cleanup; if [ $status -ne 0 ]; then tail -n 80 "$VAR_DIR/processes.log"; fi; exit $status' EXIT

for _ in $(seq 1 60); do
  curl -fs -o /dev/null "http://${WEB_ADDR}/admin/login/" 2>/dev/null && break
  sleep 1
done
curl -fsS -o /dev/null "http://${WEB_ADDR}/admin/login/"
echo "admin login page answers on the default settings"

$PY .ci/smoke_send.py
