#!/usr/bin/env bats
# The systemd units (packaging/systemd/) and the pipeline runner of
# edgestream@.service (packaging/edgestream-pipeline): systemd-analyze
# verify and security on a scratch root laid out as the package lays it
# out, and the runner's pipeline, its failure and its reload by SIGHUP to
# its process group (the unit's ExecReload).
bats_require_minimum_version 1.5.0
load test_helper
load live_helper

PKG="$BATS_TEST_DIRNAME/../packaging"
UNITS="edgestream@.service es-ctl.service es-heartbeat.service es-replay.service"

setup() {
	T="$BATS_TEST_TMPDIR"
	BG="" W=""
}

teardown() {
	bg_teardown
}

# A root with the units, the runner, the programs, their man pages, and
# what the units name from systemd (sysinit.target...) and /bin/kill.
make_root() {
	local r=$T/root u
	mkdir -p "$r/lib/systemd/system" "$r/usr/lib/edgestream" "$r/usr/bin" \
		"$r/bin" "$r/usr/share/man/man1" "$r/usr/share/man/man7"
	cp -r /lib/systemd/system/. "$r/lib/systemd/system/"
	for u in $UNITS; do
		cp "$PKG/systemd/$u" "$r/lib/systemd/system/"
	done
	cp "$PKG/edgestream-pipeline" "$r/usr/lib/edgestream/"
	cp "$ES_BIN"/es-* "$r/usr/bin/"
	cp "$BATS_TEST_DIRNAME"/../man/*.1 "$r/usr/share/man/man1/"
	cp "$BATS_TEST_DIRNAME"/../man/*.7 "$r/usr/share/man/man7/"
	cp /bin/kill "$r/bin/"
}

need_analyze() {
	systemd-analyze --version > /dev/null 2>&1 ||
		skip "systemd-analyze cannot run here (package systemd)"
	[ -d /lib/systemd/system ] || skip "no /lib/systemd/system to verify against"
}

@test "systemd-analyze verify: the units, with their commands and man pages, say nothing" {
	need_analyze
	make_root
	cd "$T/root/lib/systemd/system"
	run env MANPATH="$T/root/usr/share/man" systemd-analyze verify \
		--root="$T/root" es-ctl.service es-heartbeat.service es-replay.service \
		edgestream@sensors.service
	assert_success
	assert_output ""
}

@test "systemd-analyze verify: a misspelt key is said (the check above can fail)" {
	need_analyze
	make_root
	sed 's/^Type=notify/Typ=notify/' "$PKG/systemd/es-ctl.service" \
		> "$T/root/lib/systemd/system/es-bad.service"
	local line
	line=$(grep -n '^Typ=' "$T/root/lib/systemd/system/es-bad.service" | cut -d: -f1)
	cd "$T/root/lib/systemd/system"
	run env MANPATH="$T/root/usr/share/man" systemd-analyze verify \
		--root="$T/root" es-bad.service
	assert_output "$T/root/lib/systemd/system/es-bad.service:$line: Unknown key 'Typ' in section [Service], ignoring."
}

@test "systemd-analyze security: the sandbox's exposure level" {
	need_analyze
	make_root
	local u
	for u in edgestream@sensors.service es-ctl.service es-heartbeat.service es-replay.service; do
		systemd-analyze security --offline=yes --root="$T/root" "$u" 2>&1 |
			grep '^→ Overall' | sed 's/ [^ ]*$//'
	done > "$T/levels"
	assert_file_is "$T/levels" <<'EOF2'
→ Overall exposure level for edgestream@sensors.service: 1.8 OK
→ Overall exposure level for es-ctl.service: 1.7 OK
→ Overall exposure level for es-heartbeat.service: 1.7 OK
→ Overall exposure level for es-replay.service: 1.7 OK
EOF2
}

@test "the units: restart on failure with a delay and a limit, reload by SIGHUP, unprivileged, read-only system" {
	local u
	for u in $UNITS; do
		run grep -hE '^(Restart|RestartSec|StartLimitIntervalSec|StartLimitBurst|User|NoNewPrivileges|ProtectSystem|Type)=' \
			"$PKG/systemd/$u"
		assert_output "StartLimitIntervalSec=10min
StartLimitBurst=5
Type=notify
Restart=on-failure
RestartSec=5s
User=edgestream
NoNewPrivileges=yes
ProtectSystem=strict"
	done
	run grep -h '^ExecReload=' "$PKG/systemd/edgestream@.service"
	assert_output 'ExecReload=/bin/kill -HUP -- -${MAINPID}'
}

@test "edgestream-pipeline: runs the file's pipeline; SIGHUP to its process group reloads the programs, the shell stays" {
	skip_if_slow
	printf 'expr = value > 40\n' > "$T/f.conf"
	cat > "$T/p.pipeline" <<'EOF2'
# a comment, then a pipeline over two lines
es-filter --config "$CONF" |
	es-cat --stats
EOF2
	export CONF="$T/f.conf"
	start_bg "$PKG/edgestream-pipeline" "$T/p.pipeline"
	open_writer
	printf '{"value":41}\n{"value":39}\n' >&"$W"
	await_out 1
	printf 'expr = value > 38\n' > "$T/f.conf"
	kill -HUP -- "-$PID"	# what ExecReload does
	await_err "es-filter: --config $T/f.conf reloaded: value > 38"
	printf '{"value":39}\n{"value":37}\n' >&"$W"
	close_writer
	await_exit "$PID" 5
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"value":41}\n{"value":39}'
	assert_file_is "$T/err" <<EOF2
es-filter: --config $T/f.conf reloaded: value > 38
{"program":"es-cat","in":2,"out":2,"bad":0,"late":0,"dropped":0}
EOF2
}

@test "edgestream-pipeline: a program that fails fails the pipeline (pipefail), so the unit restarts" {
	printf 'es-filter "value >" | es-cat\n' > "$T/p.pipeline"
	run --separate-stderr "$PKG/edgestream-pipeline" "$T/p.pipeline" < /dev/null
	assert_failure 2
	assert_stderr "es-filter: syntax error at column 8: unexpected end of expression
  value >
         ^"
	run --separate-stderr "$PKG/edgestream-pipeline" "$T/none.pipeline"
	assert_failure 2
	assert_stderr "edgestream-pipeline: cannot read $T/none.pipeline"
}

@test "the example pipeline (packaging/examples/sensors.pipeline): every program accepts its options (--check)" {
	cd "$T"
	# each program of the file run with --check added: it parses its
	# options, reads nothing, writes nothing
	run bash -c 'set -o pipefail
		for p in es-mqtt-sub es-filter es-window es-mqtt-pub; do
			eval "$p() { command $p \"\$@\" --check; }"
		done
		EDGESTREAM_METRICS=$PWD/metrics/sensors
		. "$1"' sh "$PKG/examples/sensors.pipeline"
	assert_success
	assert_output ""
	run ls -A "$T"
	assert_output ""
}
