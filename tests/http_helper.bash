# The peers of es-http-pub's tests, each the test's own on a free port of
# 127.0.0.1 with its files in $T, always stopped in teardown with every
# background program the test started: tests/http_server.py (status codes
# scripted per request) and a real InfluxDB 1.x (influxd).
load net_helper

setup() {
	T="$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	: > "$T/bg.pids"
}

teardown() {
	bg_stop_all
	server_stop
	influx_stop
}

# server_start [STATUS...]: the scripted server; the Nth request gets the
# Nth STATUS ("429:2": with Retry-After: 2), later ones 200. Each request
# is logged to $T/requests (method, path, headers, body: see the script).
server_start() {
	python3 "$BATS_TEST_DIRNAME/http_server.py" "$PORT" "$T/requests" "$@" \
		2>> "$T/server.err" &
	echo $! > "$T/server.pid"
	await_port || fail "the test server did not start on port $PORT: $(cat "$T/server.err")"
}

server_stop() {
	[ -s "$T/server.pid" ] || return 0
	kill "$(cat "$T/server.pid")" 2> /dev/null || true
	wait "$(cat "$T/server.pid")" 2> /dev/null || true
	: > "$T/server.pid"
}

requests_seen() {
	cat "$T/requests" 2> /dev/null | grep -c '^REQUEST'
}

# await_requests N: up to 20 s for the server to have answered N requests.
await_requests() {
	local i
	for ((i = 0; i < 400; i++)); do
		[ "$(requests_seen)" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "the server had $(requests_seen) requests, not $1"
}

# influx_start: influxd on $PORT (its RPC port another free one), data in
# $T/influx, database "edge" made.
influx_start() {
	command -v influxd > /dev/null || skip "influxd not installed"
	local d="$T/influx"
	mkdir -p "$d"
	cat > "$d/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:$(free_port)"
[meta]
  dir = "$d/meta"
  logging-enabled = false
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:$PORT"
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "error"
CONF
	influxd run -config "$d/influxdb.conf" > "$d/log" 2>&1 &
	echo $! > "$T/influx.pid"
	local i
	for ((i = 0; i < 600; i++)); do
		curl -sf "http://127.0.0.1:$PORT/ping" > /dev/null && break
		sleep 0.05
	done
	curl -sf "http://127.0.0.1:$PORT/ping" > /dev/null ||
		fail "influxd did not start on port $PORT: $(tail -5 "$d/log")"
	influx_query "CREATE DATABASE edge" > /dev/null
}

# influx_query Q: the /query API's JSON answer for Q on database edge.
influx_query() {
	curl -sS -G "http://127.0.0.1:$PORT/query" --data-urlencode "db=edge" \
		--data-urlencode "epoch=ns" --data-urlencode "q=$1"
}

influx_stop() {
	[ -s "$T/influx.pid" ] || return 0
	kill "$(cat "$T/influx.pid")" 2> /dev/null || true
	wait "$(cat "$T/influx.pid")" 2> /dev/null || true
	: > "$T/influx.pid"
}
