# Sourced by the benchmarks that run an HTTP server: start one in the background, wait until
# GET /health answers 200, stop it. One server at a time; its log goes to $server_log.
server_pid=""
server_log=""

# server_start PORT LOG COMMAND...
server_start() {
    local port=$1
    server_log=$2
    shift 2
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
        echo "port $port already answers /health: stop that server or set PORT" >&2
        return 1
    fi
    "$@" >"$server_log" 2>&1 &
    server_pid=$!
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then
            tail -n 20 "$server_log" >&2
            echo "$1 exited before it was ready (log above)" >&2
            server_pid=""
            return 1
        fi
        sleep 0.2
    done
    tail -n 20 "$server_log" >&2
    echo "$1 did not answer /health within 120 s (log above)" >&2
    return 1
}

server_stop() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
