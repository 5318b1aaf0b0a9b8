#!/usr/bin/env bats
# Readiness and the watchdog for systemd (lib/notify.c): the test binds a
# NOTIFY_SOCKET of its own (tests/notify-listen.py) and reads what the
# programs send there: READY=1 once started (a connector: once connected),
# WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 at the end, and
# nothing from a forked --check.
bats_require_minimum_version 1.5.0
load mqtt_helper

LISTEN="$BATS_TEST_DIRNAME/notify-listen.py"

# listen SOCKET: the listener on SOCKET, writing $T/notify; waits until it
# is bound.
listen() {
	bg "$T/listen.out" "$T/listen.err" python3 "$LISTEN" "$1" "$T/notify"
	local i
	for ((i = 0; i < 200; i++)); do
		[ -e "$T/notify" ] && return 0
		sleep 0.05
	done
	fail "the listener did not bind $1: $(cat "$T/listen.err")"
}

# The messages received, without their times.
messages() {
	cut -d' ' -f2- "$T/notify"
}

# The messages with runs of WATCHDOG=1 folded into one "WATCHDOG=1 xN"
# line, N replaced by "many" when it is at least $1.
folded() {
	messages | uniq -c | awk -v min="$1" '{
		n = $1; $1 = ""; sub(/^ /, "")
		if ($0 == "WATCHDOG=1") print $0 " x" (n >= min ? "many" : n)
		else for (i = 0; i < n; i++) print }'
}

# Fails unless every gap between two WATCHDOG=1 is at least LOW and at
# most HIGH seconds.
assert_watchdog_gaps() {
	awk -v lo="$1" -v hi="$2" '$2 == "WATCHDOG=1" {
		if (prev != "" && ($1 - prev < lo || $1 - prev > hi)) {
			printf "gap %.3f s\n", $1 - prev; bad = 1 }
		prev = $1 } END { exit bad }' "$T/notify" ||
		fail "WATCHDOG=1 gaps outside [$1, $2] s: $(cat "$T/notify")"
}

# await_message TEXT: up to 10 s for TEXT among the messages.
await_message() {
	local i
	for ((i = 0; i < 200; i++)); do
		messages | grep -qx -- "$1" && return 0
		sleep 0.05
	done
	fail "no $1 received: $(cat "$T/notify")"
}

@test "es-window on a slow input: READY=1, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 at the end" {
	skip_if_slow
	listen "$T/notify.sock"
	mkfifo "$T/fifo"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 \
		es-window --tumbling 10s --agg count < "$T/fifo" > "$T/out" 2> "$T/err" &
	PID=$!
	echo "$PID" >> "$T/bg.pids"
	exec {W}> "$T/fifo"
	await_message READY=1
	local i
	for i in 1 2 3 4 5; do
		printf '{"ts":%d}\n' "$i" >&"$W"
		sleep 0.6
	done
	exec {W}>&-
	W=""
	wait "$PID"
	sleep 0.2	# the last datagram is in the listener's socket
	run folded 3
	assert_output "READY=1
WATCHDOG=1 xmany
STOPPING=1"
	# each within the watchdog's second, none much sooner than half of it
	# (the times are when the listener read them)
	assert_watchdog_gaps 0.4 1.0
	assert_file_is "$T/out" <<< '{"window_start":0,"window_end":10,"count":5}'
}

@test "es-window --config: a SIGHUP's forked --check says nothing; one STOPPING=1, last" {
	skip_if_slow
	listen "$T/notify.sock"
	printf 'tumbling = 10s\nagg = count\n' > "$T/w.conf"
	mkfifo "$T/fifo"
	NOTIFY_SOCKET="$T/notify.sock" \
		es-window --config "$T/w.conf" < "$T/fifo" > "$T/out" 2> "$T/err" &
	PID=$!
	echo "$PID" >> "$T/bg.pids"
	exec {W}> "$T/fifo"
	await_message READY=1
	printf 'tumbling = 20s\nagg = count\n' > "$T/w.conf"
	kill -HUP "$PID"
	await_err "es-window: --config $T/w.conf reloaded"
	exec {W}>&-
	W=""
	wait "$PID"
	sleep 0.2
	run messages
	assert_output "READY=1
STOPPING=1"
}

@test "NOTIFY_SOCKET in the abstract namespace (@name); no WATCHDOG_USEC, no WATCHDOG=1" {
	local name="@edgestream-test-$$-$RANDOM"
	listen "$name"
	run --separate-stderr env NOTIFY_SOCKET="$name" es-filter 'v > 1' <<< '{"v":2}'
	assert_success
	assert_output '{"v":2}'
	sleep 0.2
	run messages
	assert_output "READY=1
STOPPING=1"
}

@test "WATCHDOG_PID names another process: no WATCHDOG=1 (the watchdog is not ours)" {
	skip_if_slow
	listen "$T/notify.sock"
	# an input that stays open for half a second, then ends
	sleep 0.5 | NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=100000 \
		WATCHDOG_PID=1 es-window --tumbling 1s --agg count > "$T/out"
	sleep 0.2
	run messages
	assert_output "READY=1
STOPPING=1"
}

@test "es-mqtt-sub: WATCHDOG=1 while the broker is away, READY=1 only once connected, STOPPING=1 at SIGTERM" {
	skip_if_slow
	listen "$T/notify.sock"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=600000 \
		bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'n/#' \
		--reconnect-min 100ms --reconnect-max 200ms
	local sub=$BG
	sleep 1.5
	run messages
	[ "${#lines[@]}" -ge 3 ] || fail "too few: $output"
	refute_line READY=1
	broker_start
	await_message READY=1
	wait_subscribed 'n/#'
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -t n/1 -m '{"v":1}'
	wait_lines "$T/sub" 1
	sleep 1
	kill -TERM "$sub"
	wait_status "$sub"
	[ "$status" -eq 0 ]
	sleep 0.2
	run folded 3
	assert_output "WATCHDOG=1 xmany
READY=1
WATCHDOG=1 xmany
STOPPING=1"
	assert_watchdog_gaps 0.2 0.6
	assert_file_is "$T/sub" <<< '{"v":1}'
}
