#!/usr/bin/env bats
# es-http-pub: requests and their bodies (one a record, batches, JSON
# array, CSV, line protocol, gzip), headers and secrets, the answers (2xx,
# retried 5xx and 429 with Retry-After, dead-lettered 4xx), a server down
# then up and a SIGKILL (the spool delivers, in order), TLS, the proxy,
# timeouts, reloads, usage errors; and a real InfluxDB 1.x.
# The scripted server: tests/http_server.py (tests/http_helper.bash).
# The common --stats-file and --stats-every: tests/stats-file.bats; --config
# and --watch-config: tests/config.bats (and the reload below); -i/--input-format,
# --strict: as es-cat's reader (tests/es-cat.bats); -o/--output-format: the payloads below.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load http_helper

# The tests talk to 127.0.0.1 only: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# records A B: {"ts":N,"n":N} for N from A to B, a line each.
records() {
	local i
	for ((i = $1; i <= $2; i++)); do
		printf '{"ts":%d,"n":%d}\n' "$i" "$i"
	done
}

# bodies: each request's body, in order, after "N STATUS:" on a line.
bodies() {
	local n st
	while read -r _ n _ _ st; do
		printf '%s %s:\n' "$n" "$st"
		cat "$T/requests.$n.body"
	done < "$T/requests"
}

URL() {
	printf 'http://127.0.0.1:%s%s' "$PORT" "${1:-/in}"
}

# ---- requests and bodies ----

@test "es-http-pub: a record a request, POSTed as NDJSON, in order; --stats" {
	server_start
	records 1 3 > "$T/in"
	run --separate-stderr es-http-pub --stats "$(URL)" "$T/in"
	assert_success
	assert_stderr '{"program":"es-http-pub","in":3,"out":3,"bad":0,"late":0,"dropped":0,"requests":3,"sent":3,"acknowledged":3,"retried":0,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":0,"last_status":200}'
	assert_file_is "$T/requests" <<- 'EOF'
	REQUEST 1 POST /in 200
	REQUEST 2 POST /in 200
	REQUEST 3 POST /in 200
	EOF
	assert_file_is "$T/requests.1.headers" <<< 'Content-Type: application/x-ndjson'
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	{"ts":1,"n":1}
	2 200:
	{"ts":2,"n":2}
	3 200:
	{"ts":3,"n":3}
	EOF
}

@test "es-http-pub: --batch 3 sends 3, 3 and the last one; -X PUT" {
	server_start
	records 1 7 > "$T/in"
	run --separate-stderr es-http-pub --batch 3 -X PUT "$(URL /b)" "$T/in"
	assert_success
	assert_stderr ''
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	{"ts":1,"n":1}
	{"ts":2,"n":2}
	{"ts":3,"n":3}
	2 200:
	{"ts":4,"n":4}
	{"ts":5,"n":5}
	{"ts":6,"n":6}
	3 200:
	{"ts":7,"n":7}
	EOF
	assert_equal "$(cut -d' ' -f3,4 "$T/requests" | sort -u)" "PUT /b"
}

@test "es-http-pub: --linger holds a batch that is not full until it has waited" {
	server_start
	start_live es-http-pub --batch 10 --linger 1s "$(URL)"
	local t0 t1
	t0=$(date +%s.%N)
	records 1 2 >&"$W"
	await_requests 1
	t1=$(date +%s.%N)
	# sent once the first record had waited 1 s, both in one request
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1) }' ||
		fail "sent after $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
	finish_live
	assert_equal "$status" 0
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	{"ts":1,"n":1}
	{"ts":2,"n":2}
	EOF
}

@test "es-http-pub: --json-array, -o csv (the header in every request), --payload-field" {
	server_start
	records 1 3 > "$T/in"
	es-http-pub --batch 2 --json-array "$(URL /a)" "$T/in"
	es-http-pub --batch 2 -o csv "$(URL /c)" "$T/in"
	printf '%s\n' '{"msg":"hi there"}' '{"msg":42}' | es-http-pub --batch 5 --payload-field msg "$(URL /p)"
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	[{"ts":1,"n":1},{"ts":2,"n":2}]2 200:
	[{"ts":3,"n":3}]3 200:
	ts,n
	1,1
	2,2
	4 200:
	ts,n
	3,3
	5 200:
	hi there
	42
	EOF
	assert_file_is "$T/requests.1.headers" <<< 'Content-Type: application/json'
	assert_file_is "$T/requests.3.headers" <<< 'Content-Type: text/csv'
	assert_file_is "$T/requests.5.headers" <<< 'Content-Type: application/octet-stream'
}

@test "es-http-pub: -o influx sends line protocol; --gzip compresses the body" {
	server_start
	records 1 2 > "$T/in"
	es-http-pub --batch 10 --gzip -o influx --measurement m --precision s "$(URL /w)" "$T/in"
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	m n=1i 1
	m n=2i 2
	EOF
	assert_file_is "$T/requests.1.headers" <<- 'EOF'
	Content-Encoding: gzip
	Content-Type: text/plain; charset=utf-8
	EOF
}

@test "es-http-pub: the URL's {field}s: a batch per URL, in order; a value a URL cannot hold is bad input" {
	server_start
	printf '%s\n' '{"site":"a","v":1}' '{"site":"a","v":2}' '{"site":"b-2","v":3}' \
		'{"site":"x y","v":4}' '{"v":5}' '{"site":"a","v":6}' > "$T/in"
	run --separate-stderr es-http-pub --batch 10 "$(URL '/s/{site}')" "$T/in"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: $T/in:4: field 'site' for the URL holds a character a URL would need escaped (only A-Z a-z 0-9 - . _ ~)" \
		"es-http-pub: $T/in:5: field 'site' for the URL is missing")"
	cut -d' ' -f4 "$T/requests" > "$T/paths"
	assert_file_is "$T/paths" <<- 'EOF'
	/s/a
	/s/b-2
	/s/a
	EOF
	assert_equal "$(cat "$T/requests.1.body")" "$(printf '%s\n' '{"site":"a","v":1}' '{"site":"a","v":2}')"
}

@test "es-http-pub: -H, --header-file and --token-file; Content-Type given replaces ours" {
	server_start
	printf 'X-Scope-OrgID: gw1\nX-Api-Key: k3y\n' > "$T/hdrs"
	printf 's3cret\nignored\n' > "$T/token"
	records 1 1 | es-http-pub -H 'X-One: 1' -H 'Content-Type: application/json' \
		--header-file "$T/hdrs" --token-file "$T/token" "$(URL)"
	assert_file_is "$T/requests.1.headers" <<- 'EOF'
	Authorization: Bearer s3cret
	Content-Type: application/json
	X-Api-Key: k3y
	X-One: 1
	X-Scope-OrgID: gw1
	EOF
}

# ---- answers ----

@test "es-http-pub: 500 then 200: sent again, delivered once, said once" {
	server_start 500
	records 1 2 > "$T/in"
	run --separate-stderr es-http-pub --stats "$(URL)" "$T/in"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: POST $(URL): HTTP 500: error 500; sending again (1 record stays queued)" \
		"es-http-pub: POST $(URL): delivered again" \
		'{"program":"es-http-pub","in":2,"out":2,"bad":0,"late":0,"dropped":0,"requests":3,"sent":2,"acknowledged":2,"retried":1,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":0,"last_status":200}')"
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 500:
	{"ts":1,"n":1}
	2 200:
	{"ts":1,"n":1}
	3 200:
	{"ts":2,"n":2}
	EOF
}

@test "es-http-pub: 429 with Retry-After: 2 waits 2 s; 503 and 408 are sent again too" {
	server_start 429:2 503 408
	run --separate-stderr es-http-pub "$(URL)" <<< '{"a":1}'
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: POST $(URL): HTTP 429: error 429; sending again (1 record stays queued)" \
		"es-http-pub: POST $(URL): HTTP 503: error 503; sending again (1 record stays queued)" \
		"es-http-pub: POST $(URL): HTTP 408: error 408; sending again (1 record stays queued)" \
		"es-http-pub: POST $(URL): delivered again")"
	awk 'BEGIN { exit !(ARGV[2] - ARGV[1] >= 2) }' "$(cat "$T/requests.1.time")" \
		"$(cat "$T/requests.2.time")" || fail "Retry-After: 2 not waited"
	assert_equal "$(cut -d' ' -f5 "$T/requests" | tr '\n' ' ')" '429 503 408 200 '
}

@test "es-http-pub: 400 refuses the batch: said with the answer's first line, dead-lettered, the stream goes on, exit 1" {
	server_start 200 400
	records 1 5 > "$T/in"
	run --separate-stderr es-http-pub --batch 2 --dead-letter "$T/dead" --stats "$(URL)" "$T/in"
	assert_failure 1
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: POST $(URL): HTTP 400: error 400: 2 records refused (to --dead-letter)" \
		"es-http-pub: 2 messages refused by the broker or the library: not delivered (counted as bad, their payloads to --dead-letter)" \
		'{"program":"es-http-pub","in":5,"out":3,"bad":2,"late":0,"dropped":0,"requests":3,"sent":5,"acknowledged":3,"retried":0,"dead_lettered":2,"queued":0,"queued_bytes":0,"spooled":0,"last_status":200}')"
	records 3 4 | assert_file_is "$T/dead"
	bodies > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	1 200:
	{"ts":1,"n":1}
	{"ts":2,"n":2}
	2 400:
	{"ts":3,"n":3}
	{"ts":4,"n":4}
	3 200:
	{"ts":5,"n":5}
	EOF
	# the dead letter holds the records alone: sent again as they are,
	# the same body
	es-http-pub --batch 2 "$(URL /again)" "$T/dead"
	assert_equal "$(sed -n 4p "$T/requests")" 'REQUEST 4 POST /again 200'
	assert_file_is "$T/requests.4.body" < "$T/requests.2.body"
}

@test "es-http-pub: a refused CSV batch is dead-lettered under its header" {
	server_start 404
	printf 'a,b\n1,x\n2,y\n' | {
		run --separate-stderr es-http-pub --batch 5 -o csv --dead-letter "$T/dead" "$(URL)"
		assert_failure 1
	}
	assert_file_is "$T/dead" <<- 'EOF'
	a,b
	1,x
	2,y
	EOF
	# read back as CSV and sent again: the same body
	es-http-pub --batch 5 -o csv "$(URL)" "$T/dead"
	assert_file_is "$T/requests.2.body" < "$T/requests.1.body"
}

@test "es-http-pub: bad input is said, dead-lettered and counted; the good records go" {
	server_start
	printf '%s\n' '{"a":1}' 'not json' '{"a":2}' > "$T/in"
	run --separate-stderr es-http-pub --batch 5 --dead-letter "$T/dead" --stats "$(URL)" "$T/in"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: $T/in:2: not a JSON object" \
		'{"program":"es-http-pub","in":3,"out":2,"bad":1,"late":0,"dropped":0,"requests":1,"sent":2,"acknowledged":2,"retried":0,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":0,"last_status":200}')"
	assert_file_is "$T/dead" <<< 'not json'
	assert_equal "$(cat "$T/requests.1.body")" "$(printf '%s\n' '{"a":1}' '{"a":2}')"
}

# ---- outages: the spool ----

@test "es-http-pub: a server down, then up: spooled, then delivered, nothing lost, order kept" {
	records 1 20 > "$T/in"
	bg "$T/out" "$T/err" es-http-pub --batch 4 --spool "$T/spool" --drain-timeout 60s \
		--stats "$(URL)" "$T/in"
	local pub=$BG
	await_err "Couldn't connect to server; sending again (4 records stay queued)" 20
	server_start
	wait "$pub" && status=0 || status=$?
	assert_equal "$status" 0
	assert_equal "$(tail -n 1 "$T/err" | sed 's/"requests":[0-9]*,//; s/"retried":[0-9]*,//')" \
		'{"program":"es-http-pub","in":20,"out":20,"bad":0,"late":0,"dropped":0,"sent":20,"acknowledged":20,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":20,"last_status":200}'
	grep -q '"retried":[1-9]' "$T/err" || fail "no retry counted: $(cat "$T/err")"
	cat "$T"/requests.{1..5}.body > "$T/got"
	assert_file_is "$T/got" < "$T/in"
	assert_equal "$(wc -l < "$T/requests")" 5
}

@test "es-http-pub: SIGKILL mid-stream: the spool delivers the rest on restart, in order" {
	skip_if_slow
	server_start 200 200 '*503'
	records 1 6 > "$T/in"
	bg "$T/out" "$T/err" es-http-pub --spool "$T/spool" --drain-timeout 60s "$(URL)" "$T/in"
	local pub=$BG
	# the acks of 1 and 2 are on disk (written within 200 ms) long
	# before the third 503 (back-off of 250 ms and more each)
	await_requests 5
	kill -9 "$pub"
	wait "$pub" 2> /dev/null || true
	server_stop
	: > "$T/requests"
	rm -f "$T"/requests.*
	server_start
	run --separate-stderr es-http-pub --spool "$T/spool" --stats "$(URL)" < /dev/null
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: spool $T/spool: 4 records left from before go first" \
		'{"program":"es-http-pub","in":0,"out":4,"bad":0,"late":0,"dropped":0,"requests":4,"sent":4,"acknowledged":4,"retried":0,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":0,"last_status":200}')"
	cat "$T"/requests.{1..4}.body > "$T/got"
	records 3 6 | assert_file_is "$T/got"
}

@test "es-http-pub: the spool options: --spool-max, --spool-full, --fsync always" {
	server_start
	records 1 50 > "$T/in"
	run --separate-stderr es-http-pub --spool "$T/sp" --spool-max 64k --spool-full block \
		--fsync always --batch 20 --stats "$(URL)" "$T/in"
	assert_success
	assert_stderr '{"program":"es-http-pub","in":50,"out":50,"bad":0,"late":0,"dropped":0,"requests":3,"sent":50,"acknowledged":50,"retried":0,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":50,"last_status":200}'
	cat "$T"/requests.{1..3}.body > "$T/got"
	assert_file_is "$T/got" < "$T/in"
}

# assert_stderr_untimed LINE...: stderr is the LINEs but for the counts of
# requests and retries (how often a batch went in a while depends on the
# back-off's jitter).
assert_stderr_untimed() {
	assert_equal "$(sed 's/"requests":[0-9]*,//; s/"retried":[0-9]*,//' <<< "$stderr")" \
		"$(printf '%s\n' "$@")"
}

@test "es-http-pub: a server that keeps failing: --drain-timeout ends the wait, exit 1, the records stay spooled; queued and queued_bytes count them, also after a restart" {
	server_start '*503'
	records 1 3 > "$T/in"
	run --separate-stderr es-http-pub --batch 5 --spool "$T/spool" --drain-timeout 1s --stats "$(URL)" "$T/in"
	assert_failure 1
	# a message: 8 bytes (the lengths of the URL and the CSV header kept
	# with it, both empty here) and its payload: 22 bytes for {"ts":N,"n":N}
	assert_stderr_untimed \
		"es-http-pub: POST $(URL): HTTP 503: error 503; sending again (3 records stay queued)" \
		"es-http-pub: 3 messages not delivered (they remain in the spool $T/spool)" \
		'{"program":"es-http-pub","in":3,"out":0,"bad":0,"late":0,"dropped":0,"sent":3,"acknowledged":0,"dead_lettered":0,"queued":3,"queued_bytes":66,"spooled":3,"last_status":503}'
	# again with two records of 24 bytes more: the spool read again counts
	# them all
	records 10 11 > "$T/in2"
	run --separate-stderr es-http-pub --batch 5 --spool "$T/spool" --drain-timeout 1s --stats "$(URL)" "$T/in2"
	assert_failure 1
	assert_stderr_untimed \
		"es-http-pub: spool $T/spool: 3 records left from before go first" \
		"es-http-pub: POST $(URL): HTTP 503: error 503; sending again (5 records stay queued)" \
		"es-http-pub: 5 messages not delivered (they remain in the spool $T/spool)" \
		'{"program":"es-http-pub","in":2,"out":0,"bad":0,"late":0,"dropped":0,"sent":5,"acknowledged":0,"dead_lettered":0,"queued":5,"queued_bytes":114,"spooled":2,"last_status":503}'
}

# queued_of FILE: the queue's counts in the --stats-file FILE.
queued_of() {
	jq -c '{queued, queued_bytes}' "$1" 2> /dev/null
}

# await_queued FILE JSON: up to 10 s for queued_of FILE to be JSON.
await_queued() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(queued_of "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	assert_equal "$(queued_of "$1")" "$2"
}

@test "es-http-pub --stats-file: queued and queued_bytes rise while the server is down" {
	server_start '*503'
	start_live es-http-pub --batch 10 --drain-timeout 200ms --stats-file "$T/s.json" \
		--stats-every 100ms "$(URL)"
	records 1 2 >&"$W"
	await_requests 1
	await_queued "$T/s.json" '{"queued":2,"queued_bytes":44}'
	records 3 3 >&"$W"
	await_queued "$T/s.json" '{"queued":3,"queued_bytes":66}'
	finish_live
	assert_equal "$status" 1
	assert_equal "$(queued_of "$T/s.json")" '{"queued":3,"queued_bytes":66}'
}

@test "es-http-pub: --timeout gives up on a request that gets no answer (sent again later)" {
	server_start hang
	run --separate-stderr es-http-pub --timeout 300ms --connect-timeout 5s \
		--drain-timeout 1s "$(URL)" <<< '{"a":1}'
	assert_failure 1
	[[ "${stderr%%$'\n'*}" == "es-http-pub: POST $(URL): Operation timed out after "*" milliseconds with 0 bytes received; sending again (1 record stays queued)" ]] ||
		fail "$stderr"
	assert_equal "${stderr##*$'\n'}" "es-http-pub: 1 messages not delivered"
}

@test "es-http-pub: --proxy: the request goes to the proxy, for the URL" {
	server_start
	records 1 1 | es-http-pub --proxy "http://127.0.0.1:$PORT" 'http://ingest.invalid/v1/x'
	assert_file_is "$T/requests" <<< 'REQUEST 1 POST http://ingest.invalid/v1/x 200'
}

# ---- TLS ----

make_certs() {
	(
		cd "$T"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
			-subj /CN=es-test-ca 2> /dev/null
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj /CN=localhost 2> /dev/null
		printf 'subjectAltName=DNS:localhost\n' > san.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile san.ext 2> /dev/null
		openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
			-subj /CN=gw1 2> /dev/null
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out client.crt -days 2 2> /dev/null
	)
}

@test "es-http-pub: HTTPS with --cacert, a client certificate (--cert, --key); --insecure; an unknown CA is retried, a missing CA file ends it" {
	make_certs
	HTTP_TLS_CERT="$T/server.crt" HTTP_TLS_KEY="$T/server.key" HTTP_TLS_CA="$T/ca.crt" server_start
	# (a long --drain-timeout: TLS under qemu-user on a busy machine takes
	# seconds; delivered, the programs end at once)
	records 1 1 | es-http-pub --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" \
		--drain-timeout 60s "https://localhost:$PORT/tls"
	records 2 2 | es-http-pub --insecure --drain-timeout 60s "https://127.0.0.1:$PORT/tls"
	run --separate-stderr es-http-pub --drain-timeout 1s "https://localhost:$PORT/tls" <<< '{"n":3}'
	assert_failure 1
	[[ "$stderr" == *"SSL certificate problem: "*"; sending again (1 record stays queued)"* ]] ||
		fail "$stderr"
	# a CA file that is not there: no retry mends it, exit 1 at once
	run --separate-stderr es-http-pub --cacert "$T/none.crt" "https://127.0.0.1:$PORT/tls" <<< '{"n":4}'
	assert_failure 1
	assert_stderr "$(printf '%s\n' \
		"es-http-pub: POST https://127.0.0.1:$PORT/tls: error setting certificate file: $T/none.crt" \
		"es-http-pub: 1 messages not delivered")"
	cut -d' ' -f1-5 "$T/requests" > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	REQUEST 1 POST /tls 200
	REQUEST 2 POST /tls 200
	EOF
	assert_file_is "$T/requests.1.headers" <<- 'EOF'
	Content-Type: application/x-ndjson
	X-Client-CN: gw1
	EOF
	assert_equal "$(cat "$T/requests.2.body")" '{"ts":2,"n":2}'
}

# ---- reload ----

@test "es-http-pub: SIGHUP reloads --config: a new header from the next request" {
	skip_if_slow
	server_start
	printf 'header = X-V: 1\n' > "$T/conf"
	start_live es-http-pub --config "$T/conf" "$(URL /one)"
	records 1 1 >&"$W"
	await_requests 1
	printf 'header = X-V: 2\n' > "$T/conf"
	kill -HUP "$PID"
	await_err "--config $T/conf reloaded"
	records 2 2 >&"$W"
	await_requests 2
	finish_live
	assert_equal "$status" 0
	assert_file_is "$T/requests.1.headers" <<- 'EOF'
	Content-Type: application/x-ndjson
	X-V: 1
	EOF
	assert_file_is "$T/requests.2.headers" <<- 'EOF'
	Content-Type: application/x-ndjson
	X-V: 2
	EOF
	assert_equal "$(cat "$T/err")" "es-http-pub: --config $T/conf reloaded: POST $(URL /one), --batch 1"
}

@test "es-http-pub --url: a --config file gives the URL; a reload moves the queue's next requests to a new one" {
	skip_if_slow
	server_start
	printf 'url = %s\n' "$(URL /one)" > "$T/conf"
	start_live es-http-pub --config "$T/conf"
	records 1 1 >&"$W"
	await_requests 1
	printf 'url = %s\n' "$(URL '/two/{n}')" > "$T/conf"
	kill -HUP "$PID"
	await_err "--config $T/conf reloaded"
	records 2 2 >&"$W"
	await_requests 2
	# a template that does not compile fails --check: the reload is refused
	printf 'url = %s\n' "$(URL '/{n')" > "$T/conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	records 3 3 >&"$W"
	await_requests 3
	finish_live
	assert_equal "$status" 0
	cut -d' ' -f1-5 "$T/requests" > "$T/got"
	assert_file_is "$T/got" <<- 'EOF'
	REQUEST 1 POST /one 200
	REQUEST 2 POST /two/2 200
	REQUEST 3 POST /two/3 200
	EOF
	assert_equal "$(head -n 1 "$T/err")" "es-http-pub: --config $T/conf reloaded: POST $(URL '/two/{n}'), --batch 1"
}

# ---- options ----

@test "es-http-pub: every long option is in --help, in man/es-http-pub.1 and in this file" {
	assert_long_options_documented es-http-pub \
		method header header-file token-file batch linger json-array gzip timeout \
		connect-timeout proxy cacert cert key insecure payload-field queue spool \
		spool-max spool-full fsync drain-timeout output-format dead-letter stats \
		help version
	run es-http-pub --version
	assert_output 'es-http-pub (edgestream) 0.1.0'
}

@test "man/es-http-pub.1 is clean for groff -man -ww" {
	command -v groff > /dev/null || skip "groff not installed"
	run groff -man -Tutf8 -ww -z "$BATS_TEST_DIRNAME/../man/es-http-pub.1"
	assert_success
	assert_output ''
}

@test "es-http-pub: usage errors name the option; --check" {
	local try="Try 'es-http-pub --help' for more information."
	run --separate-stderr es-http-pub < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' 'es-http-pub: missing URL' "$try")"
	run --separate-stderr es-http-pub ftp://x/y < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: URL: 'ftp://x/y' is not an http:// or https:// URL" "$try")"
	run --separate-stderr es-http-pub 'http://x/{a' < /dev/null
	assert_failure 2
	run --separate-stderr es-http-pub -X GET http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: invalid argument 'GET' for -X/--method: expected POST or PUT" "$try")"
	run --separate-stderr es-http-pub -H 'no colon' http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: -H/--header: 'no colon' is not a header (Name: value)" "$try")"
	run --separate-stderr es-http-pub --header-file "$T/none" http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: --header-file $T/none: No such file or directory" "$try")"
	: > "$T/empty"
	run --separate-stderr es-http-pub --token-file "$T/empty" http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: --token-file $T/empty: no token on its first line" "$try")"
	run --separate-stderr es-http-pub --json-array -o csv http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: --json-array goes with NDJSON records (not with -o csv or --payload-field)" "$try")"
	run --separate-stderr es-http-pub --cert c.pem http://x/ < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-http-pub: --cert and --key go together" "$try")"
	run --separate-stderr es-http-pub --batch 0 http://x/ < /dev/null
	assert_failure 2
	run --separate-stderr es-http-pub --linger soon http://x/ < /dev/null
	assert_failure 2
	run --separate-stderr es-http-pub --timeout 0 http://x/ < /dev/null
	assert_failure 2
	run --separate-stderr es-http-pub --connect-timeout x http://x/ < /dev/null
	assert_failure 2
	run --separate-stderr es-http-pub --check --spool "$T/sp" http://x/
	assert_success
	assert_stderr ''
	[ ! -e "$T/sp" ]
}

@test "es-http-pub: a spool is for one URL: another one is refused while records wait" {
	server_start '*503'
	records 1 1 | { es-http-pub --spool "$T/sp" --drain-timeout 200ms "$(URL /a)" 2> /dev/null || true; }
	run --separate-stderr es-http-pub --spool "$T/sp" "$(URL /b)" < /dev/null
	assert_failure 2
	[[ "$stderr" == *"$(URL /a)"* ]] || fail "$stderr"
}

# ---- a real InfluxDB ----

@test "es-http-pub: --batch 5000 --linger -o influx into InfluxDB 1.x, read back exactly" {
	influx_start
	awk 'BEGIN { for (i = 0; i < 12000; i++)
		printf "{\"ts\":17000000%05d,\"site\":\"s%d\",\"dev\":\"d %d\",\"t\":%d.5,\"n\":%d,\"ok\":%s,\"s\":\"x,\\\"%d\\\"\"}\n",
			i, i % 3, i % 7, i % 40, i, i % 2 ? "true" : "false", i }' > "$T/in"
	# the first batch fills (linger) and is not the 256 records read
	# in a turn; all 12000 are queued at once
	run --separate-stderr es-http-pub --batch 5000 --linger 5s --queue 20000 --stats -o influx --measurement 'env data' \
		--tags site,dev --precision ms "http://127.0.0.1:$PORT/write?db=edge&precision=ms" "$T/in"
	assert_success
	assert_stderr '{"program":"es-http-pub","in":12000,"out":12000,"bad":0,"late":0,"dropped":0,"requests":3,"sent":12000,"acknowledged":12000,"retried":0,"dead_lettered":0,"queued":0,"queued_bytes":0,"spooled":0,"last_status":204}'
	run influx_query 'SELECT count(n) FROM "env data"'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"env data","columns":["time","count"],"values":[[0,12000]]}]}]}'
	run influx_query "SELECT * FROM \"env data\" WHERE n = 8 OR n = 11999"
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"env data","columns":["time","dev","n","ok","s","site","t"],"values":[[1700000000008000000,"d 1",8,false,"x,\"8\"","s2",8.5],[1700000011999000000,"d 1",11999,true,"x,\"11999\"","s2",39.5]]}]}]}'
	run influx_query 'SHOW TAG VALUES FROM "env data" WITH KEY = dev'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"env data","columns":["key","value"],"values":[["dev","d 0"],["dev","d 1"],["dev","d 2"],["dev","d 3"],["dev","d 4"],["dev","d 5"],["dev","d 6"]]}]}]}'
}

@test "es-http-pub: InfluxDB refuses a line (field type conflict): dead-lettered with its answer" {
	influx_start
	printf '%s\n' '{"ts":1,"v":1}' '{"ts":2,"v":"text"}' > "$T/in"
	run --separate-stderr es-http-pub --dead-letter "$T/dead" -o influx --measurement m \
		--precision s "http://127.0.0.1:$PORT/write?db=edge&precision=s" "$T/in"
	assert_failure 1
	[[ "${stderr%%$'\n'*}" == "es-http-pub: POST http://127.0.0.1:$PORT/write?db=edge&precision=s: HTTP 400: {\"error\":\"partial write: field type conflict: "*": 1 record refused (to --dead-letter)" ]] ||
		fail "$stderr"
	assert_file_is "$T/dead" <<< 'm v="text" 2'
	run influx_query 'SELECT * FROM m'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[1000000000,1]]}]}]}'
}
