#!/usr/bin/env bash
# Make sure the local backing services are running:
#   PostgreSQL 127.0.0.1:5432 (trust auth, user postgres)
#   Redis      127.0.0.1:6379
#   NATS       127.0.0.1:4222 with JetStream
# Only services that are down get started (and installed via apt if their
# binaries are missing). Idempotent; when everything is up it only probes the
# ports. CHAT_SKIP_SERVICES=1 makes it a no-op.
#
# The functions take host/port/dirs as arguments so they can be exercised on
# other ports; `main` pins them to the standard addresses. The script can be
# sourced (nothing runs then) for testing.
set -uo pipefail

WAIT_SECS=30

log() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }

# --- helpers ---------------------------------------------------------------

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  printf '%s\n' "$((t / 1000))"
}

# wait_until NAME DESC PID PROBE...: run PROBE every 100 ms until it succeeds,
# for at most WAIT_SECS seconds. If PID is non-empty and that process dies
# first, give up early. Prints a failure line naming the service.
wait_until() {
  local name=$1 desc=$2 pid=$3
  shift 3
  local deadline=$(($(now_ms) + WAIT_SECS * 1000))
  while :; do
    if "$@"; then
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      err "$name: FAILED - process $pid exited before $desc came up"
      return 1
    fi
    if (($(now_ms) >= deadline)); then
      err "$name: FAILED - $desc did not come up within ${WAIT_SECS}s"
      return 1
    fi
    sleep 0.1
  done
}

APT_UPDATED=0
APT_LOG=""

# apt_install PKG...: non-interactive install; `apt-get update` at most once.
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    err "apt-get not found; install $* manually"
    return 1
  fi
  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo -n)
    else
      err "need root to apt-get install $*"
      return 1
    fi
  fi
  [[ -n $APT_LOG ]] || APT_LOG=$(mktemp -t chat-services-apt.XXXXXX)
  if ((APT_UPDATED == 0)); then
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$APT_LOG" 2>&1; then
      err "apt-get update failed (log: $APT_LOG):"
      tail -n 20 "$APT_LOG" >&2
      return 1
    fi
    APT_UPDATED=1
  fi
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "$@" >>"$APT_LOG" 2>&1; then
    err "apt-get install $* failed (log: $APT_LOG):"
    tail -n 20 "$APT_LOG" >&2
    return 1
  fi
}

show_log_tail() {
  [[ -f $1 && -r $1 ]] && tail -n 15 "$1" | sed 's/^/    /' >&2
  return 0
}

# --- postgres --------------------------------------------------------------

pg_up() { # HOST PORT
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" -t 1
  else
    tcp_open "$1" "$2"
  fi
}

pg_bin_versions() {
  local d
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $d ]] || continue
    d=${d#/usr/lib/postgresql/}
    printf '%s\n' "${d%%/*}"
  done | sort -V
}

pg_first_version() {
  [[ -d /etc/postgresql ]] || return 1
  local v
  # shellcheck disable=SC2012 # version dirs are plain names like "15"
  v=$(ls /etc/postgresql 2>/dev/null | head -1)
  [[ -n $v ]] && printf '%s\n' "$v"
}

# pg_trust_localhost VERSION CLUSTER: make 127.0.0.1/32 and ::1/128 "trust"
# (only used on clusters this script created) and reload.
pg_trust_localhost() {
  local ver=$1 cluster=$2
  local hba=/etc/postgresql/$ver/$cluster/pg_hba.conf
  [[ -f $hba ]] || { err "postgres: $hba not found"; return 1; }
  if ! grep -q '^# chat-local: trust localhost' "$hba"; then
    local tmp
    tmp=$(mktemp) || return 1
    {
      echo '# chat-local: trust localhost (added by deploy/local/services.sh)'
      echo 'host    all             all             127.0.0.1/32            trust'
      echo 'host    all             all             ::1/128                 trust'
      cat "$hba"
    } >"$tmp" && cat "$tmp" >"$hba" # keep owner/mode of the original
    rm -f "$tmp"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" reload >/dev/null 2>&1 || true
  # pg_ctl reload is asynchronous; give the postmaster a moment
  sleep 0.3
}

pg_check_trust() { # HOST PORT
  command -v psql >/dev/null 2>&1 || return 0
  PGCONNECT_TIMEOUT=3 psql -X -w -q -h "$1" -p "$2" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1
}

# ensure_postgres HOST PORT [VERSION CLUSTER]
ensure_postgres() {
  local host=$1 port=$2 ver=${3:-} cluster=${4:-main}
  local name=postgres fresh=0
  if pg_up "$host" "$port"; then
    log "$name: up ($host:$port)"
    return 0
  fi

  [[ -n $ver ]] || ver=$(pg_first_version) || ver=""
  if [[ -z $ver ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    local had_cluster=0
    [[ -n $ver ]] && had_cluster=1
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ -z $(pg_bin_versions) ]]; then
      log "$name: installing postgresql (apt)..."
      apt_install postgresql || { err "$name: FAILED - could not install postgresql"; return 1; }
    fi
    ver=$(pg_first_version) || ver=""
    if [[ -z $ver ]]; then
      # binaries present but no cluster: create one for the newest version
      local binver
      binver=$(pg_bin_versions | tail -1)
      [[ -n $binver ]] || { err "$name: FAILED - no PostgreSQL binaries after install"; return 1; }
      pg_createcluster "$binver" "$cluster" -p "$port" >/dev/null \
        || { err "$name: FAILED - pg_createcluster $binver $cluster"; return 1; }
      ver=$binver
    fi
    ((had_cluster)) || fresh=1
  fi

  if [[ ! -d /etc/postgresql/$ver/$cluster ]]; then
    err "$name: FAILED - no cluster /etc/postgresql/$ver/$cluster"
    return 1
  fi

  # the package's postinst may already have started it
  if ! pg_up "$host" "$port"; then
    local out
    if ! out=$(pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start 2>&1); then
      # exit 2 = already running (e.g. still starting up); anything else is real
      if ! pg_up "$host" "$port" && ! grep -qi 'already running' <<<"$out"; then
        err "$name: FAILED - pg_ctlcluster $ver $cluster start:"
        printf '    %s\n' "$out" >&2
        return 1
      fi
    fi
  fi
  wait_until "$name" "$host:$port" "" pg_up "$host" "$port" || {
    show_log_tail "/var/log/postgresql/postgresql-$ver-$cluster.log"
    return 1
  }

  if ((fresh)); then
    pg_trust_localhost "$ver" "$cluster" || return 1
  fi
  if ! pg_check_trust "$host" "$port"; then
    err "$name: FAILED - started, but passwordless login as postgres on $host:$port is refused;" \
      "set 'trust' for $host in /etc/postgresql/$ver/$cluster/pg_hba.conf and reload"
    return 1
  fi
  log "$name: started ($host:$port)"
}

# --- redis -----------------------------------------------------------------

# ensure_redis HOST PORT DIR LOGFILE
ensure_redis() {
  local host=$1 port=$2 dir=$3 logfile=$4
  local name=redis
  if tcp_open "$host" "$port"; then
    log "$name: up ($host:$port)"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "$name: installing redis-server (apt)..."
    apt_install redis-server || { err "$name: FAILED - could not install redis-server"; return 1; }
    # the package may have started its own instance on the same port
    if tcp_open "$host" "$port"; then
      log "$name: started ($host:$port)"
      return 0
    fi
  fi
  mkdir -p "$dir" "$(dirname "$logfile")" || { err "$name: FAILED - cannot create $dir"; return 1; }
  local bind=(127.0.0.1 -::1)
  [[ $host == 127.0.0.1 ]] || bind=("$host")
  if ! redis-server --daemonize yes --bind "${bind[@]}" --port "$port" \
      --save "" --appendonly no --dir "$dir" --logfile "$logfile"; then
    err "$name: FAILED - redis-server did not start"
    show_log_tail "$logfile"
    return 1
  fi
  wait_until "$name" "$host:$port" "" tcp_open "$host" "$port" || {
    show_log_tail "$logfile"
    return 1
  }
  log "$name: started ($host:$port)"
}

# --- s3 (s3rver, the local S3-compatible endpoint of the cold tier) ----------

ensure_s3() {
  local host=$1 port=$2 dir=$3 logfile=$4
  local name=s3
  if tcp_open "$host" "$port"; then
    log "$name: up ($host:$port)"
    return 0
  fi
  local bin
  bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/node_modules/s3rver/bin/s3rver.js"
  [[ -f $bin ]] || { err "$name: FAILED - $bin is missing (npm ci first)"; return 1; }
  mkdir -p "$dir" "$(dirname "$logfile")" || { err "$name: FAILED - cannot create $dir"; return 1; }
  nohup node "$bin" --address "$host" --port "$port" --directory "$dir" --silent >>"$logfile" 2>&1 &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  wait_until "$name" "$host:$port" "$pid" tcp_open "$host" "$port" || {
    show_log_tail "$logfile"
    return 1
  }
  log "$name: started ($host:$port, data in $dir)"
}

# ensure_s3_cors ENDPOINT BUCKET: browsers PUT attachments to presigned URLs of the
# local S3 from the web client's origin; s3rver answers them only with CORS rules on the
# bucket. Set whether s3rver was started here or was running already (idempotent).
ensure_s3_cors() {
  local endpoint=$1 bucket=$2
  local script
  script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/s3-cors.mjs"
  if node "$script" "$endpoint" "$bucket"; then
    log "s3: CORS rules set on bucket $bucket (browser uploads)"
  else
    err "s3: FAILED - could not set the CORS rules of bucket $bucket"
    return 1
  fi
}

# --- nats ------------------------------------------------------------------

# nats_check_jetstream NAME MONITOR_HOST MONITOR_PORT: when the monitoring
# endpoint is reachable, fail if it reports JetStream disabled. Skipped
# silently when there is no monitor port (the app checks at start).
nats_check_jetstream() {
  local name=$1 mhost=$2 mport=$3
  tcp_open "$mhost" "$mport" || return 0
  command -v curl >/dev/null 2>&1 || return 0
  local jsz
  jsz=$(curl -s --max-time 2 "http://$mhost:$mport/jsz") || return 0
  if grep -Eq '"disabled"[[:space:]]*:[[:space:]]*true' <<<"$jsz"; then
    err "$name: FAILED - running, but JetStream is disabled (per http://$mhost:$mport/jsz);" \
      "restart nats-server with -js"
    return 1
  fi
}

# ensure_nats HOST PORT STORE_DIR LOGFILE PIDFILE [MONITOR_PORT]
ensure_nats() {
  local host=$1 port=$2 store=$3 logfile=$4 pidfile=$5 mport=${6:-8222}
  local name=nats
  if tcp_open "$host" "$port"; then
    nats_check_jetstream "$name" "$host" "$mport" || return 1
    log "$name: up ($host:$port)"
    return 0
  fi
  if ! command -v nats-server >/dev/null 2>&1; then
    log "$name: installing nats-server (apt)..."
    apt_install nats-server || { err "$name: FAILED - could not install nats-server"; return 1; }
  fi
  local bin=/usr/sbin/nats-server
  [[ -x $bin ]] || bin=$(command -v nats-server)
  mkdir -p "$store" "$(dirname "$logfile")" "$(dirname "$pidfile")" \
    || { err "$name: FAILED - cannot create $store"; return 1; }
  # --pidfile scopes --oknodo to *this* instance (port), so an unrelated
  # nats-server process does not make this a silent no-op.
  if ! start-stop-daemon --start --oknodo --background \
      --pidfile "$pidfile" --make-pidfile --exec "$bin" \
      -- -a "$host" -p "$port" -js -sd "$store" -l "$logfile"; then
    err "$name: FAILED - start-stop-daemon could not start $bin"
    return 1
  fi
  local pid=""
  [[ -r $pidfile ]] && pid=$(<"$pidfile")
  wait_until "$name" "$host:$port" "$pid" tcp_open "$host" "$port" || {
    show_log_tail "$logfile"
    return 1
  }
  log "$name: started ($host:$port)"
}

# ensure_tool BIN PKG: a program the tests use (not a service): installed when missing.
ensure_tool() {
  local bin=$1 pkg=$2
  if command -v "$bin" >/dev/null 2>&1; then
    log "$bin: present"
    return 0
  fi
  apt_install "$pkg" || { err "$bin: FAILED - could not install $pkg"; return 1; }
  log "$bin: installed"
}

# --- main ------------------------------------------------------------------

main() {
  if [[ ${CHAT_SKIP_SERVICES:-} == 1 ]]; then
    log "services: skipped (CHAT_SKIP_SERVICES=1)"
    return 0
  fi
  local rc=0
  ensure_postgres 127.0.0.1 5432 || rc=1
  ensure_redis 127.0.0.1 6379 /var/lib/redis /var/log/redis/ci.log || rc=1
  ensure_nats 127.0.0.1 4222 /var/lib/nats-server /var/log/nats-server.log \
    /run/nats-server-4222.pid 8222 || rc=1
  ensure_s3 127.0.0.1 4569 /var/lib/chat-s3 /var/log/chat-s3.log && ensure_s3_cors http://127.0.0.1:4569 chat || rc=1
  # The load balancer of deploy/lb, which the multi-gateway tests run in front of the gateways.
  PATH="$PATH:/usr/sbin" ensure_tool haproxy haproxy || rc=1
  # The headless browser the admin page e2e test drives through playwright-core.
  ensure_tool chromium chromium || rc=1
  # libfaketime: the clock-skew fault test runs a gateway with its clock 10 minutes off.
  ensure_tool faketime faketime || rc=1
  # redis-cli builds the private Redis Cluster of the registry tests (--cluster create).
  ensure_tool redis-cli redis-tools || rc=1
  if [[ -n $APT_LOG ]] && ((rc == 0)); then
    rm -f "$APT_LOG"
  fi
  return "$rc"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
