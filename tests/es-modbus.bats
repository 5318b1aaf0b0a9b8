#!/usr/bin/env bats
# es-modbus against an independent implementation: pymodbus's server
# (tests/modbus_server.py, a datastore of known values encoded by Python's
# struct) over TCP on a free loopback port and over RTU on a socat pty
# pair. Every type and word order, scale and offset, coils, requests over
# a gap, exceptions, a server that stops and comes back, a slow device
# beside a fast one, live latency, the map file and its bad lines, --check,
# --stats, options. The engine's pure parts through tests/unit/modbus-test.
# The common --stats-file, --stats-every: tests/stats-file.bats; -i/--input-format,
# -d/--delimiter, --null-values, --timezone: no input to read here (read-options.bats).
# -o/--output-format csv, --help and --version: below.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load modbus_helper

ROOT="$BATS_TEST_DIRNAME/.."

# Every type and order the datastore holds, as --point words.
ALL_TYPES="--point i16=hr:0:int16 --point u16=hr:1:uint16 --point i32=hr:2:int32
--point u32=hr:4:uint32 --point f_abcd=hr:6:float32 --point f_cdab=hr:8:float32:cdab
--point f_badc=hr:10:float32:badc --point f_dcba=hr:12:float32:dcba
--point nan=hr:14:float32 --point i64=hr:16:int64 --point f64=hr:20:float64
--point i64_cdab=hr:24:int64:cdab --point text=hr:28:string4
--point i32_cdab=hr:33:int32:cdab --point i16_badc=hr:60:int16:badc"

ALL_TYPES_OUT='{"ts":T,"device":"meter-1","name":"i16","value":-5}
{"ts":T,"device":"meter-1","name":"u16","value":65000}
{"ts":T,"device":"meter-1","name":"i32","value":-123456}
{"ts":T,"device":"meter-1","name":"u32","value":3000000000}
{"ts":T,"device":"meter-1","name":"f_abcd","value":231.4}
{"ts":T,"device":"meter-1","name":"f_cdab","value":231.4}
{"ts":T,"device":"meter-1","name":"f_badc","value":231.4}
{"ts":T,"device":"meter-1","name":"f_dcba","value":231.4}
{"ts":T,"device":"meter-1","name":"nan","value":null}
{"ts":T,"device":"meter-1","name":"i64","value":-1234567890123}
{"ts":T,"device":"meter-1","name":"f64","value":3.141592653589793}
{"ts":T,"device":"meter-1","name":"i64_cdab","value":-1234567890123}
{"ts":T,"device":"meter-1","name":"text","value":"EDGE12"}
{"ts":T,"device":"meter-1","name":"i32_cdab","value":-2}
{"ts":T,"device":"meter-1","name":"i16_badc","value":-1}'

@test "es-modbus --tcp: exact records for every type and word order (negative int32, NaN, int64)" {
	PORT=$(free_port)
	server_tcp "$PORT"
	# shellcheck disable=SC2086
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name meter-1 -C 1 $ALL_TYPES
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$ALL_TYPES_OUT"
	assert_stderr ''
}

@test "es-modbus --rtu over a socat pty pair: the same records" {
	socat -d -d "pty,raw,echo=0,link=$T/pty-a" "pty,raw,echo=0,link=$T/pty-b" \
		2> "$T/socat.err" &
	echo $! >> "$T/bg.pids"
	local i
	for i in $(seq 1 200); do
		[ -e "$T/pty-a" ] && [ -e "$T/pty-b" ] && break
		sleep 0.05
	done
	bg "$T/server.out" "$T/server.err" $PY "$SERVER" rtu "$T/pty-a"
	wait_text "$T/server.out" ready 20
	# shellcheck disable=SC2086
	run_out es-modbus --rtu "$T/pty-b" --baud 19200 --parity N --data-bits 8 \
		--stop-bits 1 --byte-timeout 200ms --timeout 2s --name meter-1 -C 1 $ALL_TYPES
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$ALL_TYPES_OUT"
	assert_stderr ''
}

@test "es-modbus: scale and offset, coils and discrete inputs, a map file with tags and unit ids" {
	PORT=$(free_port)
	server_tcp "$PORT"
	cat > "$T/map.csv" <<-'EOF'
	# a comment, then the header
	name,table,address,type,order,scale,offset,unit_id,units,site,every
	volts,hr,32,uint16,,0.1,,1,V,north,
	volts_shifted,hr,32,uint16,,0.1,-200,,V,,
	energy,ir,0,uint32,abcd,0.01,,,kWh,north,15m
	c0,coil,0,bool,,,,,,,
	c1,coil,1,bool,,,,,,,
	c3,coil,3,bool,,,,,,,
	c7,coil,7,bool,,,,,,,
	d1,di,1,bool,,,,,,,
	d2,di,2,bool,,,,,,,

	twice,hr,32,uint16,,2,0.5,,,,
	EOF
	run_out es-modbus --tcp "127.0.0.1:$PORT" --unit 1 --map "$T/map.csv" -C 1 \
		--point 'p=hr:32:uint16*0.1+-200'
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"volts","value":231.5,"units":"V","site":"north"}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"volts_shifted","value":31.5,"units":"V"}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"energy","value":1234.56,"units":"kWh","site":"north"}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"c0","value":true}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"c1","value":false}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"c3","value":true}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"c7","value":true}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"d1","value":true}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"d2","value":false}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"twice","value":4630.5}' \
		'{"ts":T,"device":"127.0.0.1:'"$PORT"'","name":"p","value":31.5}')"
	assert_stderr ''
}

@test "es-modbus --max-gap: points across a gap share a request up to the bound; the records are the same" {
	PORT=$(free_port)
	server_tcp "$PORT"
	local pts="--point a=hr:0:int16 --point b=hr:50:uint16 --point c=coil:0:bool --point d=coil:7:bool"
	# shellcheck disable=SC2086
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 --max-gap 49 $pts --stats
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"m","name":"a","value":-5}' \
		'{"ts":T,"device":"m","name":"b","value":7}' \
		'{"ts":T,"device":"m","name":"c","value":true}' \
		'{"ts":T,"device":"m","name":"d","value":true}')"
	assert_stderr '{"program":"es-modbus","in":4,"out":4,"bad":0,"late":0,"dropped":0,"polls":1,"requests":2,"values":4,"failed":0,"exceptions":0,"timeouts":0,"disconnects":0,"reconnects":0,"overruns":0,"skipped":0}'
	cp "$T/out" "$T/merged"
	# shellcheck disable=SC2086
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 --max-gap 5 $pts --stats
	assert_equal "$(no_ts "$T/out")" "$(no_ts "$T/merged")"
	assert_stderr '{"program":"es-modbus","in":4,"out":4,"bad":0,"late":0,"dropped":0,"polls":1,"requests":4,"values":4,"failed":0,"exceptions":0,"timeouts":0,"disconnects":0,"reconnects":0,"overruns":0,"skipped":0}'
}

@test "modbus_plan: requests within 125 registers and 2000 bits, by unit and table, gaps bounded" {
	run "$UNIT/modbus-test" plan 2000 a=hr:0:int16 b=hr:124:int32 c=hr:3:float64 \
		d=coil:0:bool e=coil:1999:bool f=coil:2000:bool g=ir:5:uint16 h=hr:1:int16
	assert_success
	assert_output "$(printf '%s\n' \
		'unit 1 coil 0+2000: d e' 'unit 1 coil 2000+1: f' \
		'unit 1 hr 0+7: a h c' 'unit 1 hr 124+2: b' 'unit 1 ir 5+1: g')"
	run "$UNIT/modbus-test" plan 0 a=hr:0:int16 b=hr:1:int16 c=hr:5:int16 d=hr:1:int32 e=hr:3:uint16
	assert_output "$(printf '%s\n' 'unit 1 hr 0+4: a b d e' 'unit 1 hr 5+1: c')"
}

@test "modbus_plan_next: the schedule does not drift; overrun polls are skipped and counted" {
	run "$UNIT/modbus-test" next 1000 100 1030
	assert_output '1100 0'
	run "$UNIT/modbus-test" next 1000 100 1100
	assert_output '1100 0'
	run "$UNIT/modbus-test" next 1000 100 1350
	assert_output '1400 3'
}

@test "modbus_decode: orders of 16, 32 and 64 bits, scale by division, strings, NaN and infinity" {
	local u=$UNIT/modbus-test
	run "$u" decode a=hr:0:int32:cdab FFFE FFFF
	assert_output '-2'
	run "$u" decode a=hr:0:int64:dcba 35FB 048E E0FE FFFF
	assert_output '-1234567890123'
	run "$u" decode a=hr:0:int64:badc FFFF E0FE 048E 35FB
	assert_output '-1234567890123'
	run "$u" decode a=hr:0:float32:dcba 6666 6743
	assert_output '231.4'
	run "$u" decode a=hr:0:float32 7F80 0000
	assert_output 'null'
	run "$u" decode 'a=hr:0:uint16*0.1' 0003
	assert_output '0.3'
	run "$u" decode 'a=hr:0:int16*0.5+1' FFFF
	assert_output '0.5'
	run "$u" decode a=hr:0:string3:badc 4241 4320 0000
	assert_output '"AB C"'
	run "$u" decode a=hr:0:bool 0002
	assert_output 'true'
}

@test "modbus_map_point: --point words parsed, and why a bad one is bad" {
	run "$UNIT/modbus-test" point 'v=hr:10:float32:cdab' 'e=ir:20:uint32*0.01@1m' \
		'o=hr:1:int16*2+-3' 's=hr:5:string10@250ms' 'bad' 'x=coil:1:int16' \
		'y=hr:65535:int32' 'z=hr:0:string65' 't=hr:0:float32*abc' 'w=ai:0:int16' \
		'k=hr:0:int16:abdc' 'b=hr:0:bool*2' '=hr:0:int16' 'q=hr:-1:int16' \
		'r=hr:0:int16@0s' 'u=hr:0:int16@500us'
	assert_output "$(printf '%s\n' \
		'v hr 10 float32 2 cdab 1 0 0' \
		'e ir 20 uint32 2 abcd 0.01 0 60000000' \
		'o hr 1 int16 1 abcd 2 -3 0' \
		's hr 5 string 10 abcd 1 0 250000' \
		'error: expected NAME=TABLE:ADDRESS:TYPE[:ORDER][*SCALE][+OFFSET][@EVERY]' \
		'error: coil holds bits: the type is bool' \
		'error: address 65535 + 2 registers is past 65535' \
		"error: unknown type 'string65' (bool, int16, uint16, int32, uint32, int64, float32, float64 or stringN, N registers up to 64)" \
		"error: bad scale or offset at '*abc' (*SCALE, +OFFSET)" \
		"error: unknown table 'ai' (coil, di, hr or ir)" \
		"error: unknown order 'abdc' (abcd, cdab, badc or dcba)" \
		'error: a scale or offset needs a number type' \
		'error: a point needs a name of 1 to 128 bytes' \
		"error: bad address '-1' (0 to 65535, 0-based)" \
		"error: bad interval '0s' (a duration of at least 1ms)" \
		"error: bad interval '500us' (a duration of at least 1ms)")"
}

@test "es-modbus: an exception from the server is said once, counted, and the other points still read; --stats" {
	PORT=$(free_port)
	server_tcp "$PORT"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 3 --every 300ms \
		--point a=hr:0:int16 --point x=hr:300:uint16 --stats
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"m","name":"a","value":-5}' \
		'{"ts":T,"device":"m","name":"a","value":-5}' \
		'{"ts":T,"device":"m","name":"a","value":-5}')"
	assert_stderr "$(printf '%s\n' \
		'es-modbus: m: unit 1 hr 300-300 (x): Illegal data address' \
		'{"program":"es-modbus","in":6,"out":3,"bad":0,"late":0,"dropped":3,"polls":3,"requests":6,"values":3,"failed":3,"exceptions":3,"timeouts":0,"disconnects":0,"reconnects":0,"overruns":0,"skipped":0}')"
}

@test "es-modbus --error-records: a point not read gives a record with error; -o csv" {
	PORT=$(free_port)
	server_tcp "$PORT"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 2 --every 100ms \
		--point a=hr:0:int16 --point x=hr:300:uint16 --error-records
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"m","name":"a","value":-5}' \
		'{"ts":T,"device":"m","name":"x","error":"Illegal data address"}' \
		'{"ts":T,"device":"m","name":"a","value":-5}' \
		'{"ts":T,"device":"m","name":"x","error":"Illegal data address"}')"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 -o csv \
		--point a=hr:0:int16 --point t=hr:28:string4 --point f=hr:6:float32
	[ "$status" -eq 0 ]
	run sed -E 's/^[0-9T:.Z-]+,/T,/' "$T/out"
	assert_output "$(printf '%s\n' 'ts,device,name,value' 'T,m,a,-5' 'T,m,t,EDGE12' 'T,m,f,231.4')"
}

@test "es-modbus --wide: one record per device and poll, a field per point" {
	PORT=$(free_port)
	server_tcp "$PORT"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 --wide \
		--point a=hr:0:int16 --point f=hr:6:float32 --point c=coil:0:bool --point x=hr:300:uint16
	assert_equal "$(no_ts "$T/out")" '{"ts":T,"device":"m","a":-5,"f":231.4,"c":true,"x":null}'
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 --wide --error-records -o csv \
		--point a=hr:0:int16 --point x=hr:300:uint16
	run sed -E 's/^[0-9T:.Z-]+,/T,/' "$T/out"
	assert_output "$(printf '%s\n' 'ts,device,error,a,x' 'T,m,Illegal data address,-5,')"
}

@test "es-modbus: a server that stops and comes back: reconnect with back-off, no records invented for the gap" {
	PORT=$(free_port)
	server_tcp "$PORT"
	bg "$T/out" "$T/err" es-modbus --tcp "127.0.0.1:$PORT" --name m --every 100ms \
		--point a=hr:0:int16 --stats
	local es=$BG
	wait_lines "$T/out" 3
	local down up
	down=$(now)
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2> /dev/null || true
	wait_text "$T/err" "m: cannot connect: Connection refused; retrying with back-off"
	local before
	before=$(wc -l < "$T/out")
	up=$(now)
	server_tcp "$PORT"
	wait_text "$T/err" "m: connected" 20
	wait_lines "$T/out" $((before + 3)) 20
	kill -TERM "$es"
	wait "$es" && status=0 || status=$?
	[ "$status" -eq 0 ]
	# every record is a value read, none between the stop and the restart
	run awk -v d="$down" -v u="$up" '$1 > d && $1 < u { print "invented:", $0 }
		$4 != "-5" { print "wrong value:", $0 }' <(epochs "$T/out")
	assert_output ''
	run grep -c '"disconnects":1,"reconnects":1,' "$T/err"
	assert_output 1
	run grep -c 'm: connection lost' "$T/err"
	assert_output 1
}

@test "es-modbus: a point with an interval of its own (@EVERY, the map's every) keeps it on the device's grid" {
	skip_if_slow
	PORT=$(free_port)
	server_tcp "$PORT"
	printf '%s\n' 'name,table,address,type,every' 'c,hr,1,uint16,1s' > "$T/map.csv"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m --every 200ms -C 6 \
		--point a=hr:0:int16 --point 'b=hr:1:uint16@1s' --map "$T/map.csv" --stats
	[ "$status" -eq 0 ]
	# polls at 0, 200, ..., 1000 ms: b and c at 0 and 1000 only (map points
	# first, then --point); the 1s group has its own request (b and c)
	run sh -c "grep -o '\"name\":\"[abc]\"' '$T/out' | cut -d'\"' -f4 | tr -d '\n'"
	assert_output 'cabaaaacab'
	run grep -oE '"polls":[0-9]+,"requests":[0-9]+' <<< "$stderr"
	assert_output '"polls":6,"requests":8'
}

@test "es-modbus --timeout: a device that answers too late: a timeout, the connection made again, counted" {
	PORT=$(free_port)
	server_tcp "$PORT" --delay 1500
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m --timeout 200ms -C 2 --every 100ms \
		--point a=hr:0:int16 --error-records --stats
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"m","name":"a","error":"Connection timed out"}' \
		'{"ts":T,"device":"m","name":"a","error":"Connection timed out"}')"
	assert_equal "$(grep -v '^{' <<< "$stderr")" "$(printf '%s\n' \
		'es-modbus: m: unit 1 hr 0-0 (a): Connection timed out' \
		'es-modbus: m: connection lost: Connection timed out' \
		'es-modbus: m: connected' \
		'es-modbus: m: connection lost: Connection timed out')"
	run grep -oE '"values":0,"failed":2,"exceptions":0,"timeouts":2,"disconnects":2,"reconnects":1,' <<< "$stderr"
	assert_success
}

@test "es-modbus: a slow device does not delay a fast one; its overruns are counted" {
	skip_if_slow
	FAST=$(free_port)
	SLOW=$(free_port)
	server_tcp "$FAST"
	server_tcp "$SLOW" --delay 800
	run_out es-modbus --every 100ms -C 3 --point a=hr:0:int16 --stats \
		--tcp "127.0.0.1:$SLOW" --name slow --timeout 3s \
		--tcp "127.0.0.1:$FAST" --name fast
	[ "$status" -eq 0 ]
	epochs "$T/out" > "$T/times"
	# the fast device's three polls all came before the slow one's first answer
	run awk '$2 == "slow" && !first { first = $1 }
		$2 == "fast" { n++; if (!last || $1 > last) last = $1 }
		END { print n, (last < first ? "before" : "after") }' "$T/times"
	assert_output '3 before'
	run grep -c '"device":"slow"' "$T/out"
	assert_output 3
	run grep -oE '"overruns":[0-9]+' <<< "$stderr"
	[ "${output#*:}" -gt 0 ]
}

@test "es-modbus: live latency: a value changed in the server appears within one poll interval" {
	skip_if_slow
	PORT=$(free_port)
	server_tcp "$PORT" --ctl "$T/ctl"
	bg "$T/out" "$T/err" es-modbus --tcp "127.0.0.1:$PORT" --name m --every 250ms \
		--point v=hr:100:uint16
	local es=$BG
	wait_lines "$T/out" 1
	echo "hr 100 42" > "$T/ctl.new"
	mv "$T/ctl.new" "$T/ctl"
	wait_text "$T/out" '"value":42'
	local seen applied
	seen=$(now)
	kill -TERM "$es"
	wait "$es" || true
	applied=$(awk '$1 == "applied" { print $2 }' "$T/server.$PORT.out")
	# the first record with the new value was read within a poll interval
	# (250 ms, plus 100 ms for the answer) of the server taking the change,
	# and no record after it has the old one
	run awk -v a="$applied" '$4 == 42 && !seen { seen = 1; print ($1 - a < 0.25 + 0.1 ? "in time" : "late: " $1 - a) }
		seen && $4 != 42 { print "old value after the new:", $0 }' <(epochs "$T/out")
	assert_output 'in time'
	# on the output at once: between the change and seeing it in the file,
	# a poll interval plus scheduling slack on a loaded machine (our own
	# 50 ms look at the file included)
	run awk -v a="$applied" -v s="$seen" 'BEGIN { d = s - a; print (d < 0.25 + 0.3 ? "in time" : "late: " d) }'
	assert_output 'in time'
}

@test "es-modbus: bad map lines are said, go to --dead-letter and are counted; good points are read; --strict" {
	PORT=$(free_port)
	server_tcp "$PORT"
	printf '%s\n' 'name,table,address,type,site' 'a,hr,0,int16,north' 'b,hr,x,int16,' \
		'c,hr,1' 'd,coil,0,float32,' 'e,hr,1,uint16,' '"f,hr' > "$T/map.csv"
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name m -C 1 --map "$T/map.csv" \
		--dead-letter "$T/dead.csv" --stats
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"m","name":"a","value":-5,"site":"north"}' \
		'{"ts":T,"device":"m","name":"e","value":65000}')"
	assert_stderr "$(printf '%s\n' \
		"es-modbus: $T/map.csv:3: bad address 'x' (0 to 65535, 0-based)" \
		"es-modbus: $T/map.csv:4: 3 cells, the header has 5" \
		"es-modbus: $T/map.csv:5: coil holds bits: the type is bool" \
		"es-modbus: $T/map.csv:7: unterminated quote" \
		'{"program":"es-modbus","in":2,"out":2,"bad":4,"late":0,"dropped":0,"polls":1,"requests":1,"values":2,"failed":0,"exceptions":0,"timeouts":0,"disconnects":0,"reconnects":0,"overruns":0,"skipped":0}')"
	assert_file_is "$T/dead.csv" <<-'EOF'
	name,table,address,type,site
	b,hr,x,int16,
	c,hr,1
	d,coil,0,float32,
	"f,hr
	EOF
	run --separate-stderr es-modbus --tcp "127.0.0.1:$PORT" -C 1 --map "$T/map.csv" --strict
	assert_failure 3
	assert_output ''
}

@test "es-modbus --strict, a bad map line: the run ends before it starts (no thread, no socket; under strace, so no race hides a poll)" {
	command -v strace > /dev/null || skip "strace is not installed"
	[ -z "${ES_SANITIZE:-}" ] || skip "LeakSanitizer does not run under strace"
	printf '%s\n' 'name,table,address,type' 'a,hr,0,int16' 'b,hr,x,int16' > "$T/map.csv"
	# the same map without --strict starts a poller thread and connects
	timeout 5 strace -f -o "$T/trace" -e trace=clone,clone3,socket,connect \
		es-modbus --tcp 127.0.0.1:9 -C 1 --map "$T/map.csv" > /dev/null 2>&1 || true
	run grep -cE '^[0-9]+ +(clone3?|connect)\(' "$T/trace"
	[ "$output" -ge 2 ]
	run --separate-stderr strace -f -o "$T/trace" -e trace=clone,clone3,socket,connect \
		es-modbus --tcp 127.0.0.1:9 -C 1 --map "$T/map.csv" --strict
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" "es-modbus: $T/map.csv:3: bad address 'x' (0 to 65535, 0-based)"
	run grep -vE '^[0-9]+ +\+\+\+ exited with 3 \+\+\+$' "$T/trace"
	assert_output ''
}

@test "es-modbus --check: parses the maps and points, connects to nothing" {
	# port 9 on loopback: nothing listens, and --check must not try
	run --separate-stderr es-modbus --tcp 127.0.0.1:9 --map "$ROOT/examples/modbus/sdm630.csv" \
		--point 'x=hr:0:int16' --check
	assert_success
	assert_output ''
	assert_stderr ''
	printf '%s\n' 'name,table,address,type' 'a,hr,0,int99' > "$T/map.csv"
	run --separate-stderr es-modbus --tcp 127.0.0.1:9 --map "$T/map.csv" --point 'x=hr:0:int16' --check
	assert_success
	assert_stderr "es-modbus: $T/map.csv:2: unknown type 'int99' (bool, int16, uint16, int32, uint32, int64, float32, float64 or stringN, N registers up to 64)"
}

@test "es-modbus: a device that cannot be reached: said once, polls skipped and counted, --error-records, exit 0" {
	PORT=$(free_port)
	run_out es-modbus --tcp "127.0.0.1:$PORT" --name gone -C 2 --every 100ms \
		--point a=hr:0:int16 --error-records --stats
	[ "$status" -eq 0 ]
	assert_equal "$(no_ts "$T/out")" "$(printf '%s\n' \
		'{"ts":T,"device":"gone","name":"a","error":"not connected: Connection refused"}' \
		'{"ts":T,"device":"gone","name":"a","error":"not connected"}')"
	assert_stderr "$(printf '%s\n' \
		'es-modbus: gone: cannot connect: Connection refused; retrying with back-off' \
		'{"program":"es-modbus","in":2,"out":2,"bad":0,"late":0,"dropped":0,"polls":2,"requests":0,"values":0,"failed":2,"exceptions":0,"timeouts":0,"disconnects":0,"reconnects":0,"overruns":0,"skipped":2}')"
}

@test "es-modbus --config: a new map applies from the next poll (--watch-config)" {
	skip_if_slow
	PORT=$(free_port)
	server_tcp "$PORT"
	printf 'tcp = 127.0.0.1:%s\nname = m\nevery = 100ms\npoint = a=hr:0:int16\n' "$PORT" > "$T/es.conf"
	bg "$T/out" "$T/err" es-modbus --config "$T/es.conf" --watch-config
	local es=$BG
	wait_lines "$T/out" 1
	printf 'tcp = 127.0.0.1:%s\nname = m\nevery = 100ms\npoint = b=hr:1:uint16\n' "$PORT" > "$T/es.conf.new"
	touch -d "@$(($(date +%s) + 60))" "$T/es.conf.new"
	mv "$T/es.conf.new" "$T/es.conf"
	wait_text "$T/err" "reloaded: 1 devices, 1 points"
	wait_text "$T/out" '"name":"b","value":65000'
	kill -TERM "$es"
	wait "$es" || true
	# a's records, then b's: never both, never one after the other's
	run sh -c "grep -o '\"name\":\"[ab]\"' '$T/out' | uniq"
	assert_output "$(printf '%s\n' '"name":"a"' '"name":"b"')"
}

@test "es-modbus: bad options and arguments are usage errors" {
	assert_usage_errors es-modbus \
		"--point a=hr:0:int16|no device: give --tcp HOST or --rtu DEVICE" \
		"--tcp 127.0.0.1|device 127.0.0.1:502 has no points: give --map or --point" \
		"--tcp h:0 --point a=hr:0:int16|invalid port in 'h:0' for --tcp" \
		"--tcp :502 --point a=hr:0:int16|invalid address ':502' for --tcp: no host" \
		"--tcp h --point a=hr:0:int17|invalid argument 'a=hr:0:int17' for --point: unknown type 'int17' (bool, int16, uint16, int32, uint32, int64, float32, float64 or stringN, N registers up to 64)" \
		"--tcp h --point a=hr:0:int16 --every 0s|invalid duration '0s' for --every: must be above 0" \
		"--tcp h --point a=hr:0:int16 --unit 256|invalid argument '256' for --unit: expected 0 to 255" \
		"--rtu /dev/null --parity X --point a=hr:0:int16|invalid argument 'X' for --parity: N, E or O" \
		"--rtu /dev/null --baud 0 --point a=hr:0:int16|invalid argument '0' for --baud: expected 50 to 4000000" \
		"--rtu /dev/null --data-bits 9 --point a=hr:0:int16|invalid argument '9' for --data-bits: expected 5 to 8" \
		"--rtu /dev/null --stop-bits 3 --point a=hr:0:int16|invalid argument '3' for --stop-bits: expected 1 to 2" \
		"--tcp h --point a=hr:0:int16 --timeout x|invalid duration 'x' for --timeout: expected a number in duration" \
		"--tcp h --point a=hr:0:int16 --byte-timeout 0|invalid duration '0' for --byte-timeout: must be above 0" \
		"--tcp h --point a=hr:0:int16 --max-gap -1|invalid argument '-1' for --max-gap: expected 0 to 2000" \
		"--tcp h --point a=hr:0:int16 -C 0|invalid argument '0' for -C/--count: expected a count > 0" \
		"--tcp h --map /nonexistent.csv|cannot read map /nonexistent.csv: No such file or directory" \
		"--tcp h --point a=hr:0:int16 --point a=hr:1:int16|device h:502 has two points named 'a'" \
		"--tcp h --point a=hr:0:int16 extra|unexpected argument 'extra' (es-modbus reads no input)"
}

@test "es-modbus: options before the first device apply to every device, after it to that one" {
	PORT=$(free_port)
	server_tcp "$PORT"
	run_out es-modbus --point a=hr:0:int16 -C 1 \
		--tcp "127.0.0.1:$PORT" --name one --point b=hr:1:uint16 \
		--tcp "127.0.0.1:$PORT" --name two
	[ "$status" -eq 0 ]
	run sort <(no_ts "$T/out")
	assert_output "$(printf '%s\n' \
		'{"ts":T,"device":"one","name":"a","value":-5}' \
		'{"ts":T,"device":"one","name":"b","value":65000}' \
		'{"ts":T,"device":"two","name":"a","value":-5}')"
}

@test "es-modbus: every option is in --help, the man page and this file" {
	assert_long_options_documented es-modbus tcp rtu baud parity data-bits stop-bits \
		unit timeout byte-timeout name map point every max-gap wide error-records count
	run es-modbus --version
	assert_output "es-modbus (edgestream) 0.1.0"
}
