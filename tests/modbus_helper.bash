# A pymodbus server of the test's own (tests/modbus_server.py: a datastore
# of known values, unit 1) on a free loopback port or on one end of a
# socat pty pair; every process a test starts is stopped in teardown.
load net_helper

# Debian's Python: pymodbus is its package, not another interpreter's.
PY=/usr/bin/python3
SERVER="$BATS_TEST_DIRNAME/modbus_server.py"

setup() {
	skip_threads_unemulated es-modbus
	T="$BATS_TEST_TMPDIR"
	: > "$T/bg.pids"
}

teardown() {
	bg_stop_all
}

# server_tcp PORT [ARG]...: a server on 127.0.0.1:PORT, up when this
# returns (up to 20 s: importing pymodbus is slow on a loaded machine);
# its pid in SERVER_PID.
server_tcp() {
	local port=$1
	shift
	bg "$T/server.$port.out" "$T/server.$port.err" $PY "$SERVER" tcp "$port" "$@"
	SERVER_PID=$BG
	await_port "$port" && return 0
	cat "$T/server.$port.err" >&2
	fail "the Modbus server did not start on port $port"
}

# Waits until FILE holds TEXT, up to SECONDS (default 10).
wait_text() {
	local file=$1 text=$2 secs=${3:-10} i
	for i in $(seq 1 $((secs * 20))); do
		grep -qF -- "$text" "$file" 2> /dev/null && return 0
		sleep 0.05
	done
	fail "$file lacks '$text' after $secs s: $(cat "$file")"
}

# NDJSON records with "ts" replaced by T (it is the time of the response).
no_ts() {
	sed -E 's/"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z"/"ts":T/' "$@"
}

# The wall clock as epoch seconds with microseconds.
now() {
	date +%s.%6N
}

# Each NDJSON record of FILE as "EPOCH DEVICE NAME VALUE" (ts as epoch
# seconds), for the timing tests.
epochs() {
	$PY -c 'import datetime, json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
    print("%.6f %s %s %s" % (t.timestamp(), r["device"], r["name"],
                             json.dumps(r.get("value", r.get("error")))))' "$1"
}
