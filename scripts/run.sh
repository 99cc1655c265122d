#!/usr/bin/env bash
# Command 1: install and run Wuye in its embedded mode — an SQLite file under instance/,
# jobs in-process, demo data, and the sandbox bank, device platform and 12345 hotline on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export FLASK_APP=app
PORT=${PORT:-5000}
export BANK_GATEWAY_URL=${BANK_GATEWAY_URL:-http://127.0.0.1:8101}
export DEVICE_PLATFORM_URL=${DEVICE_PLATFORM_URL:-http://127.0.0.1:8102}
export HOTLINE_URL=${HOTLINE_URL:-http://127.0.0.1:8103}

.venv/bin/flask db upgrade heads
.venv/bin/flask calendar seed
.venv/bin/flask bpmn deploy
.venv/bin/flask demo seed

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -f sandbox/bank.py ]; then
  .venv/bin/python -m sandbox.bank --port 8101 --notify-url "http://127.0.0.1:${PORT}/api/v1/integrations/bank/notifications" >instance/sandbox-bank.log 2>&1 &
  pids+=($!)
fi
if [ -f sandbox/devices.py ]; then
  .venv/bin/python -m sandbox.devices --port 8102 --demo --push-url "http://127.0.0.1:${PORT}/api/v1/integrations/devices/events" >instance/sandbox-devices.log 2>&1 &
  pids+=($!)
fi
if [ -f sandbox/hotline.py ]; then
  .venv/bin/python -m sandbox.hotline --port 8103 --wuye-url "http://127.0.0.1:${PORT}" >instance/sandbox-hotline.log 2>&1 &
  pids+=($!)
fi
# Timers, statement pulls and reconciliation: run in this separate process (no Redis needed).
.venv/bin/flask scheduler >instance/scheduler.log 2>&1 &
pids+=($!)

echo
echo "Wuye 物业监管 is running at http://127.0.0.1:${PORT}/  (sandbox bank :8101, device platform :8102, 12345 hotline :8103)"
echo "Log in with any demo account above (password Wuye2026demo). Ctrl-C stops everything."
echo
.venv/bin/flask run --host 127.0.0.1 --port "$PORT"
