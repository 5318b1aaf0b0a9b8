# Live input helpers for es-join.bats, es-window.bats and latency.bats:
# programs started in the background, each in a process group of its own,
# reading a FIFO whose write end this shell holds; output compared against
# $T/exp as it arrives (await_exp; test_helper's await_out counts lines).
# Load after test_helper.
#
# A file that loads this sets, in setup, BG="" and W="" (and WL, WR if it
# opens more FIFOs), calls bg_teardown from its teardown, and may set
# AWAIT_EXIT_SECONDS (default 2) for await_exit.

# bg_teardown: closes the FIFO write ends this shell still holds ($W, $WL,
# $WR), gives each process group leader in $BG 1 s to end, then stops its
# group with SIGTERM and SIGKILL.
bg_teardown() {
	local fd p i
	for fd in W WL WR; do
		if [ -n "${!fd:-}" ]; then
			eval "exec ${!fd}>&-"
			eval "$fd=''"
		fi
	done
	for p in ${BG:-}; do
		for ((i = 0; i < 20; i++)); do
			kill -0 "$p" 2> /dev/null || break
			sleep 0.05
		done
		kill -TERM -- "-$p" 2> /dev/null || true
		kill -KILL -- "-$p" 2> /dev/null || true
	done
}

# start_bg CMD...: CMD in the background, in a process group of its own,
# stdin the FIFO $T/fifo (made if missing), stdout $T/out, stderr $T/err
# (and not bats' fd 3). Sets PID.
start_bg() {
	[ -p "$T/fifo" ] || mkfifo "$T/fifo"
	setsid "$@" < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	PID=$!
	BG="$BG $PID"
}

# Opens the FIFO's write end in this shell (after the reader was started).
open_writer() {
	exec {W}> "$T/fifo"
}

close_writer() {
	exec {W}>&-
	W=""
}

# await_exp [SECONDS]: polls $T/out every 50 ms until it holds exactly the
# bytes of $T/exp; fails after SECONDS (default 1).
await_exp() {
	local limit=${1:-1} i n
	n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 20 }')
	for ((i = 0; i < n; i++)); do
		cmp -s "$T/out" "$T/exp" && return 0
		sleep 0.05
	done
	cmp -s "$T/out" "$T/exp" && return 0
	fail "not written within $limit s; expected: $(cat "$T/exp"); got: $(cat "$T/out")"
}

# await_exit PID [SECONDS]: SECONDS (default $AWAIT_EXIT_SECONDS, else 2)
# at most for PID to end; its status is then in $st.
await_exit() {
	local limit=${2:-${AWAIT_EXIT_SECONDS:-2}} i n
	n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 20 }')
	for ((i = 0; i < n; i++)); do
		kill -0 "$1" 2> /dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2> /dev/null && fail "process $1 still running after $limit s"
	wait "$1" && st=0 || st=$?
}

# Seconds since $1 (an $EPOCHREALTIME value), as a decimal.
since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
