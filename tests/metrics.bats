#!/usr/bin/env bats
# --stats-file FILE.prom: the counters in Prometheus's text exposition
# format (lib/statsprom.c), for node_exporter's textfile collector; checked
# line by line and by promtool (Debian's prometheus package).
bats_require_minimum_version 1.5.0
load test_helper

# The file with its times (seconds since the epoch, from the clock) as T.
untimed() {
	sed -E 's/^(edgestream_(start|last_output)_time_seconds\{[^}]*\}) [0-9]+\.[0-9]{3}$/\1 T/' "$1"
}

@test "es-filter --stats-file x.prom: every counter with HELP and TYPE, labelled program and pipeline" {
	printf '%s\n' '{"v":1}' '{"v":5}' 'oops' '{"v":7}' |
		EDGESTREAM_PIPELINE=sensors es-filter 'v > 2' --stats-file "$T/es-filter.prom" \
		> "$T/out" 2> "$T/err"
	assert_file_is "$T/out" <<< $'{"v":5}\n{"v":7}'
	run untimed "$T/es-filter.prom"
	assert_output '# HELP edgestream_records_in_total Records read.
# TYPE edgestream_records_in_total counter
edgestream_records_in_total{program="es-filter",pipeline="sensors"} 4
# HELP edgestream_records_out_total Records written.
# TYPE edgestream_records_out_total counter
edgestream_records_out_total{program="es-filter",pipeline="sensors"} 2
# HELP edgestream_records_bad_total Input lines that could not be read (bad input).
# TYPE edgestream_records_bad_total counter
edgestream_records_bad_total{program="es-filter",pipeline="sensors"} 1
# HELP edgestream_records_late_total Records behind the watermark (late events).
# TYPE edgestream_records_late_total counter
edgestream_records_late_total{program="es-filter",pipeline="sensors"} 0
# HELP edgestream_records_dropped_total Records dropped for a reason said on stderr.
# TYPE edgestream_records_dropped_total counter
edgestream_records_dropped_total{program="es-filter",pipeline="sensors"} 0
# HELP edgestream_filtered_total The program'"'"'s "filtered" counter of --stats (its manual page says what it counts).
# TYPE edgestream_filtered_total counter
edgestream_filtered_total{program="es-filter",pipeline="sensors"} 1
# HELP edgestream_start_time_seconds When the program started, in seconds since the epoch.
# TYPE edgestream_start_time_seconds gauge
edgestream_start_time_seconds{program="es-filter",pipeline="sensors"} T
# HELP edgestream_last_output_time_seconds When the program last wrote output, in seconds since the epoch.
# TYPE edgestream_last_output_time_seconds gauge
edgestream_last_output_time_seconds{program="es-filter",pipeline="sensors"} T'
}

@test "es-window x.prom: its levels as gauges, the last event time; no pipeline label without EDGESTREAM_PIPELINE" {
	printf '%s\n' '{"ts":1700000000,"v":1}' '{"ts":1700000005,"v":5}' |
		env -u EDGESTREAM_PIPELINE es-window --tumbling 10s --agg count \
		--stats-file "$T/w.prom" > /dev/null
	run grep -v '^#' "$T/w.prom"
	assert_output --regexp '^edgestream_records_in_total\{program="es-window"\} 2
edgestream_records_out_total\{program="es-window"\} 1
edgestream_records_bad_total\{program="es-window"\} 0
edgestream_records_late_total\{program="es-window"\} 0
edgestream_records_dropped_total\{program="es-window"\} 0
edgestream_groups\{program="es-window"\} 1
edgestream_evicted_total\{program="es-window"\} 0
edgestream_state_bytes\{program="es-window"\} 0
edgestream_start_time_seconds\{program="es-window"\} [0-9]+\.[0-9]{3}
edgestream_last_event_time_seconds\{program="es-window"\} 1700000005\.000
edgestream_last_output_time_seconds\{program="es-window"\} [0-9]+\.[0-9]{3}$'
	run grep -c '^# TYPE edgestream_groups gauge$' "$T/w.prom"
	assert_output 1
}

@test "a pipeline name with a quote, a backslash and a newline is escaped in the label" {
	EDGESTREAM_PIPELINE=$'a"b\\c\nd' es-cat --stats-file "$T/c.prom" < /dev/null
	run grep -m1 '^edgestream_records_in_total' "$T/c.prom"
	assert_output 'edgestream_records_in_total{program="es-cat",pipeline="a\"b\\c\nd"} 0'
}

@test "a name not ending in .prom still gets the JSON object" {
	es-cat --stats-file "$T/c.json" < /dev/null
	run jq -c '{program, in, out}' "$T/c.json"
	assert_output '{"program":"es-cat","in":0,"out":0}'
}

@test "promtool check metrics: the files of a record program and of a connector pass" {
	command -v promtool > /dev/null || skip "promtool not installed (Debian package prometheus)"
	printf '%s\n' '{"ts":1700000000,"v":1}' 'bad' |
		EDGESTREAM_PIPELINE=sensors es-window --tumbling 10s --agg count \
		--stats-file "$T/w.prom" > /dev/null 2>&1
	run promtool check metrics < "$T/w.prom"
	assert_success
	assert_output ""
	# es-mqtt-pub's own counters (spooled, delivered...), with no broker:
	# it gives up draining after --drain-timeout
	printf '{"v":1}\n' | EDGESTREAM_PIPELINE=sensors es-mqtt-pub -h 127.0.0.1 -p 9 \
		-t x --drain-timeout 100ms --stats-file "$T/p.prom" > /dev/null 2>&1 || true
	grep -q '^edgestream_' "$T/p.prom" || fail "no metrics in $T/p.prom"
	run promtool check metrics < "$T/p.prom"
	assert_success
	assert_output ""
	# what waits in the queue is a level: the message (2 + 1 bytes of
	# topic, 7 of payload) left undelivered
	run grep -E '^edgestream_queued|^# TYPE edgestream_queued' "$T/p.prom"
	assert_output '# TYPE edgestream_queued gauge
edgestream_queued{program="es-mqtt-pub",pipeline="sensors"} 1
# TYPE edgestream_queued_bytes gauge
edgestream_queued_bytes{program="es-mqtt-pub",pipeline="sensors"} 10'
}

@test "scraped: node_exporter's textfile collector serves the .prom files of two programs of a pipeline" {
	command -v prometheus-node-exporter > /dev/null ||
		skip "prometheus-node-exporter not installed"
	mkdir "$T/metrics"
	printf '%s\n' '{"v":1}' '{"v":5}' |
		EDGESTREAM_PIPELINE=sensors es-filter 'v > 2' \
		--stats-file "$T/metrics/sensors.es-filter.prom" |
		EDGESTREAM_PIPELINE=sensors es-cat \
		--stats-file "$T/metrics/sensors.es-cat.prom" > /dev/null
	local port
	port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$T/metrics" 2> "$T/ne.err" &
	local ne=$! i
	for ((i = 0; i < 200; i++)); do
		python3 - "$port" > "$T/scrape" 2> /dev/null <<'PY' && break
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode(), end="")
PY
		sleep 0.05
	done
	kill "$ne"
	wait "$ne" || true
	run grep -E '^edgestream_records_(in|out)_total|^node_textfile_scrape_error' "$T/scrape"
	assert_output 'edgestream_records_in_total{pipeline="sensors",program="es-cat"} 1
edgestream_records_in_total{pipeline="sensors",program="es-filter"} 2
edgestream_records_out_total{pipeline="sensors",program="es-cat"} 1
edgestream_records_out_total{pipeline="sensors",program="es-filter"} 1
node_textfile_scrape_error 0'
}
