# A mosquitto broker of the test's own: a free port on 127.0.0.1, a config
# file and a persistence directory in $T, started on demand and always
# stopped in teardown, with every background program the test started.
load net_helper

setup() {
	T="$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	BROKER_EXTRA=""
	: > "$T/bg.pids"
}

teardown() {
	bg_stop_all
	broker_stop
}

# broker_start [CONFIG LINE]...: the lines replace the default access rule
# (allow_anonymous true).
broker_start() {
	mkdir -p "$T/db"
	{
		echo "listener $PORT 127.0.0.1"
		# as root mosquitto would become user mosquitto, who cannot
		# write in the test's directory
		[ "$(id -u)" = 0 ] && echo "user root"
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; else echo "allow_anonymous true"; fi
		echo "max_queued_messages 0"
		echo "persistence true"
		echo "persistence_location $T/db/"
		echo "log_dest file $T/broker.log"
		echo "log_type subscribe"
		echo "log_type error"
	} > "$T/mosquitto.conf"
	broker_run
}

# Starts the broker on the config already written and waits until it
# accepts connections.
broker_run() {
	mosquitto -c "$T/mosquitto.conf" 2>> "$T/broker.err" &
	echo $! > "$T/broker.pid"
	await_port && return 0
	cat "$T/broker.err" >&2
	fail "mosquitto did not start on port $PORT"
}

broker_stop() {
	[ -s "$T/broker.pid" ] || return 0
	local pid
	pid=$(cat "$T/broker.pid")
	kill -CONT "$pid" 2> /dev/null || true	# if a test froze it
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	: > "$T/broker.pid"
}

# Waits until the broker has logged a subscription to FILTER (so that a
# publisher started next is not too early), up to 5 s.
wait_subscribed() {
	local i
	for i in $(seq 1 250); do
		# the log line ends "CLIENT QOS FILTER"
		awk -v f=" $1" 'substr($0, length($0) - length(f) + 1) == f { ok = 1 }
			END { exit !ok }' "$T/broker.log" 2> /dev/null && return 0
		sleep 0.02
	done
	fail "no subscription to $1 seen by the broker"
}

# Waits until FILE holds N distinct sequence numbers (a QoS 1 message may
# come twice after a reconnect), up to SECONDS (default 15).
wait_distinct() {
	local file=$1 n=$2 secs=${3:-15} i
	for i in $(seq 1 $((secs * 10))); do
		[ "$(seqs < "$file" | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	fail "$file has $(seqs < "$file" | wc -l) distinct records, not $n"
}

# Waits until the pipe open on descriptor FD has no unread bytes (the
# program reading it has taken everything), up to 10 s.
wait_pipe_empty() {
	local i
	for i in $(seq 1 500); do
		[ "$(python3 -c 'import array, fcntl, sys, termios
a = array.array("i", [0])
fcntl.ioctl(int(sys.argv[1]), termios.FIONREAD, a)
print(a[0])' "$1")" = 0 ] && return 0
		sleep 0.02
	done
	fail "the pipe on descriptor $1 was not read"
}

# Waits for a background pid; sets $status.
wait_status() {
	wait "$1" && status=0 || status=$?
}

# N NDJSON records {"seq":i,"site":"sK"} for i = FROM..TO.
records() {
	seq "$1" "$2" | awk '{ printf "{\"seq\":%d,\"site\":\"s%d\"}\n", $1, $1 % 3 }'
}

# Distinct sequence numbers in NDJSON lines on stdin, sorted.
seqs() {
	grep -o '"seq":[0-9]*' | cut -d: -f2 | sort -n -u
}
