# What the tests with servers of their own share (mqtt_helper, http_helper
# and modbus_helper load this): a free loopback port, programs in the
# background stopped in teardown, waiting for a port or for lines.
load test_helper

# A free TCP port of 127.0.0.1 (the kernel's choice).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# bg OUT ERR CMD...: CMD in the background (stdout, stderr to the files
# given), noted in $T/bg.pids for bg_stop_all; BG: its pid.
bg() {
	local out=$1 err=$2
	shift 2
	# 0<&0: a background command's stdin would be /dev/null otherwise;
	# 5>&-: a test's FIFO writer on descriptor 5 is not held open by it
	"$@" 0<&0 5>&- > "$out" 2> "$err" &
	BG=$!
	echo "$BG" >> "$T/bg.pids"
}

# For teardown: every program bg started, killed and waited for.
bg_stop_all() {
	local p
	for p in $(cat "$T/bg.pids" 2> /dev/null); do
		kill -9 "$p" 2> /dev/null || true
		wait "$p" 2> /dev/null || true	# (bash's "Killed" goes there too)
	done
}

# await_port [PORT]: up to 20 s for 127.0.0.1:PORT (default $PORT) to take
# connections; 1 if it does not.
await_port() {
	local port=${1:-$PORT} i
	for ((i = 0; i < 400; i++)); do
		(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_lines FILE N [SECONDS]: until FILE has at least N lines, up to
# SECONDS (default 10).
wait_lines() {
	local file=$1 n=$2 secs=${3:-10} i
	for i in $(seq 1 $((secs * 50))); do
		[ "$(wc -l < "$file" 2> /dev/null || echo 0)" -ge "$n" ] && return 0
		sleep 0.02
	done
	fail "$file has $(wc -l < "$file") lines, not $n"
}
