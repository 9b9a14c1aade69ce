# Helpers shared by scripts/demo, scripts/run-tests and bench/run (source me after scripts/env.sh).
# Every process or container started here is stopped by its PID or name, never by a pattern.

ZIPAPP_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZIPAPP_CACHE=$ZIPAPP_REPO/.cache

step() { printf '\n==== %s ====\n' "$*"; }

# start_artifacts PORT [DIR]: serve DIR (default examples/dist) on 127.0.0.1:PORT (tests/artifact_server.py).
# Sets ZIPAPP_ARTIFACTS_STARTED=1 when it started the server, 0 when it reused the one this checkout runs
# (then stop_artifacts is the starter's job).
start_artifacts() {
  local port=$1 dir=${2:-$ZIPAPP_REPO/examples/dist} pidfile=$ZIPAPP_CACHE/artifacts-$1.pid pid i
  ZIPAPP_ARTIFACTS_STARTED=0
  # reuse the server this checkout started, if it still runs (the pid alone could have been recycled)
  if [ -s "$pidfile" ] && { tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline"; } 2>/dev/null |
    grep -qF "$ZIPAPP_REPO/tests/artifact_server.py --dir $dir --port $port"; then
    return 0
  fi
  ZIPAPP_ARTIFACTS_STARTED=1
  # a port that answers already belongs to someone else (another checkout's server, say): serving its files
  # instead of ours would test the wrong artifacts
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null; then
    echo "127.0.0.1:$port answers already, not from this checkout's artifact server: stop that server first" >&2
    return 1
  fi
  python3 "$ZIPAPP_REPO/tests/artifact_server.py" --dir "$dir" --port "$port" \
    >"$ZIPAPP_CACHE/artifacts-$port.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  for i in $(seq 50); do
    # the answer must come from our server: when another one holds the port, ours exits
    kill -0 "$pid" 2>/dev/null || break
    curl -fsS -o /dev/null "http://127.0.0.1:$port/SHA256SUMS" 2>/dev/null && return 0
    sleep 0.2
  done
  cat "$ZIPAPP_CACHE/artifacts-$port.log" >&2
  echo "the artifact server did not start on 127.0.0.1:$port" >&2
  rm -f "$pidfile"
  return 1
}

stop_artifacts() {
  local pidfile=$ZIPAPP_CACHE/artifacts-$1.pid
  if [ -s "$pidfile" ] && { tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline"; } 2>/dev/null |
    grep -qF "$ZIPAPP_REPO/tests/artifact_server.py"; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# start_host NAME SUITE: a systemd test host (host network, systemd as PID 1); waits until it booted.
start_host() {
  local name=$1 suite=$2
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --network host \
    --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    "containerless-zipapp-host:$suite" >/dev/null
  local state="" i
  for i in $(seq 60); do  # until systemd answers on its bus, then until it finished booting
    state=$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in
      running|degraded) return 0 ;;
    esac
    sleep 1
  done
  echo "test host $name did not boot (state: ${state:-none})" >&2
  return 1
}

# host_inventory NAME FILE: an inventory with one test host reached with `docker exec`.
host_inventory() {
  cat >"$2" <<INV
all:
  hosts:
    $1:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
INV
}

# wait_background JOB: until the background job scripts/setup started is done (it holds .cache/JOB.lock while it
# runs; bounded: 30 min); fails unless it ended with status 0.
wait_background() {
  local job=$1
  if ! flock -s -w 1800 "$ZIPAPP_CACHE/$job.lock" true; then
    echo "the background build $job did not finish in 30 min: $ZIPAPP_CACHE/$job.log" >&2
    return 1
  fi
  if [ "$(cat "$ZIPAPP_CACHE/$job.rc" 2>/dev/null)" != 0 ]; then
    tail -n 40 "$ZIPAPP_CACHE/$job.log" >&2 2>/dev/null
    echo "the background build $job failed (or scripts/setup never started it): $ZIPAPP_CACHE/$job.log" >&2
    return 1
  fi
  tail -n 1 "$ZIPAPP_CACHE/$job.log"
}

# wait_python_fixtures: the background builds for the python role's scenario: the Python runtimes
# (.cache/python-fixtures) and the example's pex, orjson and pyuwsgi builds.
wait_python_fixtures() {
  wait_background python-fixtures && wait_background example-extras
}
