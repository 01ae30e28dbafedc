#!/usr/bin/env bash
# Local SPID/CIE OpenID Connect Federation test identity provider (see idp/README.md).
#
#   scripts/idp.sh install                 create .idp-venv and install idp/requirements.txt
#   scripts/idp.sh bootstrap [--rp ENTITY_ID=JWKS_FILE ...]
#                                          migrate, create/update TA, OPs, users, relying parties
#   scripts/idp.sh start | stop | status   background servers (logs, pids in $IDP_DATA_DIR)
#   scripts/idp.sh serve                   start, wait until Ctrl+C, then stop
#
# Environment: IDP_HOST (127.0.0.1), IDP_TA_PORT (8000), IDP_CIE_PORT (8002),
# IDP_DATA_DIR (instance/idp, relative to the repository root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IDP_DIR="$ROOT/idp"
VENV="$ROOT/.idp-venv"
PY="$VENV/bin/python"
REQ="$IDP_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"

export IDP_HOST="${IDP_HOST:-127.0.0.1}"
export IDP_TA_PORT="${IDP_TA_PORT:-8000}"
export IDP_CIE_PORT="${IDP_CIE_PORT:-8002}"
IDP_DATA_DIR="${IDP_DATA_DIR:-instance/idp}"
case "$IDP_DATA_DIR" in
  /*) ;;
  *) IDP_DATA_DIR="$ROOT/$IDP_DATA_DIR" ;;
esac
export IDP_DATA_DIR
export PYTHONWARNINGS=ignore
export DJANGO_SETTINGS_MODULE=localidp.settings

ROLES=(cie ta-spid)

log() { echo "idp: $*" >&2; }

port_of() { if [ "$1" = cie ]; then echo "$IDP_CIE_PORT"; else echo "$IDP_TA_PORT"; fi; }

# URLs that must answer for a role to be considered up.
health_urls() {
  local port
  port="$(port_of "$1")"
  if [ "$1" = ta-spid ]; then
    echo "http://$IDP_HOST:$port/.well-known/openid-federation"
  fi
  echo "http://$IDP_HOST:$port/oidc/op/.well-known/openid-federation"
}

req_hash() { sha256sum "$REQ" | cut -d' ' -f1; }

cmd_install() {
  if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(req_hash)" ]; then
    return 0
  fi
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  log "installing idp/requirements.txt into .idp-venv"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  req_hash >"$STAMP"
}

manage() { (cd "$IDP_DIR" && "$PY" -W ignore manage.py "$@"); }

cmd_bootstrap() {
  cmd_install
  mkdir -p "$IDP_DATA_DIR"
  local args=() rp
  while [ $# -gt 0 ]; do
    case "$1" in
      --rp) [ $# -ge 2 ] || { log "--rp needs ENTITY_ID=JWKS_FILE"; exit 2; }
            args+=(--rp "$2"); shift 2 ;;
      --rp=*) args+=(--rp "${1#--rp=}"); shift ;;
      *) log "unknown bootstrap argument: $1"; exit 2 ;;
    esac
  done
  # The CIE OP first: the Trust Anchor registers its public keys.
  IDP_ROLE=cie manage bootstrap_federation "${args[@]}"
  IDP_ROLE=ta-spid manage bootstrap_federation "${args[@]}"
}

pidfile() { echo "$IDP_DATA_DIR/$1.pid"; }
logfile() { echo "$IDP_DATA_DIR/$1.log"; }

running_pid() {
  local f pid
  f="$(pidfile "$1")"
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  return 1
}

healthy() {
  local url
  for url in $(health_urls "$1"); do
    "$PY" - "$url" <<'EOF' || return 1
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
  done
}

cmd_start() {
  cmd_install
  mkdir -p "$IDP_DATA_DIR"
  if [ ! -f "$IDP_DATA_DIR/ta-spid.sqlite3" ] || [ ! -f "$IDP_DATA_DIR/cie.sqlite3" ] \
     || [ ! -f "$IDP_DATA_DIR/trust-anchor.jwks.json" ]; then
    cmd_bootstrap
  fi
  local role pid started=() all_up=1
  for role in "${ROLES[@]}"; do
    if pid="$(running_pid "$role")"; then
      log "$role already running (pid $pid)"
      continue
    fi
    all_up=0
    (
      cd "$IDP_DIR"
      IDP_ROLE="$role" exec setsid "$PY" -W ignore manage.py runserver --noreload --insecure \
        "$IDP_HOST:$(port_of "$role")" >"$(logfile "$role")" 2>&1 </dev/null
    ) &
    echo $! >"$(pidfile "$role")"
    started+=("$role")
  done
  local deadline=$((SECONDS + 40)) ok
  while :; do
    ok=1
    for role in "${ROLES[@]}"; do
      if ! running_pid "$role" >/dev/null; then
        log "$role exited; last log lines:"
        tail -n 30 "$(logfile "$role")" >&2 || true
        cmd_stop >/dev/null 2>&1 || true
        exit 1
      fi
      healthy "$role" || ok=0
    done
    [ "$ok" = 1 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "not healthy after 40 s; last log lines:"
      for role in "${ROLES[@]}"; do
        echo "--- $(logfile "$role")" >&2
        tail -n 30 "$(logfile "$role")" >&2 || true
      done
      cmd_stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.3
  done
  if [ "$all_up" = 1 ]; then
    log "already running and healthy"
  fi
  log "Trust Anchor  http://$IDP_HOST:$IDP_TA_PORT/"
  log "SPID OP       http://$IDP_HOST:$IDP_TA_PORT/oidc/op/"
  log "CIE OP        http://$IDP_HOST:$IDP_CIE_PORT/oidc/op/"
}

cmd_stop() {
  local role pid i
  for role in "${ROLES[@]}"; do
    if pid="$(running_pid "$role")"; then
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      log "$role stopped (pid $pid)"
    fi
    rm -f "$(pidfile "$role")"
  done
}

cmd_status() {
  local role pid rc=0
  for role in "${ROLES[@]}"; do
    if pid="$(running_pid "$role")"; then
      if [ -x "$PY" ] && healthy "$role"; then
        echo "$role: running (pid $pid), healthy on port $(port_of "$role")"
      else
        echo "$role: running (pid $pid), NOT answering on port $(port_of "$role")"
        rc=1
      fi
    else
      echo "$role: stopped"
      rc=3
    fi
  done
  return $rc
}

cmd_serve() {
  cmd_start
  trap 'cmd_stop; exit 0' INT TERM
  log "serving; Ctrl+C to stop"
  while :; do
    for role in "${ROLES[@]}"; do
      if ! running_pid "$role" >/dev/null; then
        log "$role exited; see $(logfile "$role")"
        cmd_stop
        exit 1
      fi
    done
    sleep 1 &
    wait $! || true
  done
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  bootstrap) shift; cmd_bootstrap "$@" ;;
  start) shift; cmd_start ;;
  stop) shift; cmd_stop ;;
  status) shift; cmd_status ;;
  serve) shift; cmd_serve ;;
  *) echo "usage: $0 {install|bootstrap [--rp ENTITY_ID=JWKS_FILE ...]|start|stop|status|serve}" >&2; exit 2 ;;
esac
