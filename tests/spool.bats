#!/usr/bin/env bats
# The store-and-forward queue (lib/spool.c) on its own, through the unit
# driver tests/unit/spool-test.c: order, acknowledgements in any order,
# rewind, reopening, drop-oldest, the memory form. The MQTT side is in
# es-mqtt-pub.bats.
bats_require_minimum_version 1.5.0
load test_helper

spool() {
	run --separate-stderr "$UNIT/spool-test" "$@"
}

@test "spool: records come back in order; acked ones are gone after a reopen" {
	spool "$T/sp" <<-'EOF'
	append one
	append two
	append three
	next
	next
	ack 1
	pending
	EOF
	assert_success
	assert_output "$(printf '0\n1\n2\n0 one\n1 two\npending 3 read 2 dropped 0')"
	# 1 was acked but not 0: nothing is forgotten yet, all three come back
	spool "$T/sp" <<-'EOF'
	next
	ack 0
	next
	next
	ack 2
	next
	pending
	EOF
	# only the acknowledged prefix is kept: 1 was acked in the first run
	# only, and 2 now, but 1 is not (in this run), so both stay
	assert_output "$(printf '0 one\n1 two\n2 three\nnone\npending 2 read 2 dropped 0')"
	assert_stderr ""
	spool "$T/sp" <<-'EOF'
	next
	ack 1
	append four
	next
	next
	EOF
	assert_output "$(printf '1 two\n3\n2 three\n3 four')"
}

@test "spool: rewind reads again from the oldest unacknowledged record" {
	spool "$T/sp" <<-'EOF'
	append a
	append b
	append c
	next
	next
	next
	ack 1
	rewind
	next
	next
	next
	EOF
	assert_output "$(printf '0\n1\n2\n0 a\n1 b\n2 c\n0 a\n1 b\n2 c')"
}

@test "spool: segments roll, and files of acknowledged segments are removed" {
	local cmds="" i
	for i in $(seq 1 300); do cmds="${cmds}append record-number-$i-padding-padding-padding
"; done
	spool "$T/sp" 64k <<< "$cmds"
	assert_success
	[ "$(ls "$T/sp" | grep -c '^seg-')" -gt 2 ]
	cmds=""
	for i in $(seq 0 299); do cmds="${cmds}next
ack $i
"; done
	spool "$T/sp" 64k <<< "${cmds}pending"
	assert_line --index 0 '0 record-number-1-padding-padding-padding'
	assert_line --index 299 '299 record-number-300-padding-padding-padding'
	assert_line --index 300 'pending 0 read 0 dropped 0'
	assert_equal "$(ls "$T/sp" | grep -c '^seg-')" 1
}

@test "spool: full under block, the oldest dropped under drop-oldest" {
	local cmds="" i
	for i in $(seq 1 2000); do cmds="${cmds}append record-number-$i-padding-padding-padding
"; done
	spool "$T/b" 64k block <<< "${cmds}full"
	assert_line --index 2000 'full'
	spool "$T/d" 64k drop-oldest <<< "${cmds}full
pending
next"
	assert_line --index 2000 'room'
	local dropped first
	dropped=$(grep -o 'dropped [0-9]*' <<< "$output" | cut -d' ' -f2)
	[ "$dropped" -gt 500 ]
	assert_line --index 2001 "pending $((2000 - dropped)) read 0 dropped $dropped"
	assert_line --index 2002 "$dropped record-number-$((dropped + 1))-padding-padding-padding"
}

@test "spool: in memory, a bounded ring of records" {
	spool - 2 <<-'EOF'
	append x
	full
	append y
	full
	next
	next
	ack 0
	full
	append z
	next
	EOF
	assert_output "$(printf '0\nroom\n1\nfull\n0 x\n1 y\nroom\n2\n2 z')"
}

@test "spool: a second user of a directory is refused; sizes parse" {
	mkfifo "$T/f"
	exec 5<> "$T/f"
	"$UNIT/spool-test" "$T/sp" < "$T/f" 5>&- &
	local pid=$!
	sleep 0.2
	spool "$T/sp" < /dev/null
	exec 5>&-
	wait "$pid"
	[ "$status" -eq 1 ]
	assert_stderr "spool-test: spool $T/sp is in use by another process"
	spool - 64k < /dev/null
	assert_success
	spool - 64x < /dev/null
	[ "$status" -eq 2 ]
}

@test "spool: a DIR whose parents do not exist is made whole; one that cannot be made: why, exit 1" {
	spool "$T/a/b/sp" <<< 'append one'
	assert_success
	assert_output 0
	[ -f "$T/a/b/sp/lock" ]
	: > "$T/file"
	spool "$T/file/sp" <<< 'append one'
	assert_failure 1
	assert_stderr "spool-test: spool $T/file/sp: cannot create it: Not a directory"
}

# The bytes pending (spool_pending_bytes): what was appended and not yet
# forgotten, the same in memory and on disk, and again after a reopen.
@test "spool: the bytes pending, in memory and on disk, across a reopen" {
	local cmds='append one
append two
append three
bytes
next
next
ack 1
bytes
ack 0
bytes'
	spool - 8 <<< "$cmds"
	assert_output "$(printf '0\n1\n2\nbytes 11\n0 one\n1 two\nbytes 11\nbytes 5')"
	spool "$T/sp" <<< "$cmds"
	assert_output "$(printf '0\n1\n2\nbytes 11\n0 one\n1 two\nbytes 11\nbytes 5')"
	# reopened: "three" is pending, read again from the file
	spool "$T/sp" <<-'EOF2'
	bytes
	append four
	bytes
	next
	ack 2
	bytes
	next
	ack 3
	bytes
	EOF2
	assert_output "$(printf 'bytes 5\n3\nbytes 9\n2 three\nbytes 4\n3 four\nbytes 0')"
	assert_stderr ''
}

@test "spool: the bytes pending over rolled segments, after drop-oldest and a reopen" {
	local cmds="" i
	# records of 39 bytes: 55 with the frame header, segments of 8k
	for i in $(seq 1 1000); do cmds="${cmds}append $(printf 'record-%04d-padding-padding-padding-pad' "$i")
"; done
	spool "$T/sp" 64k <<< "${cmds}bytes"
	assert_line --index 1000 'bytes 39000'
	[ "$(ls "$T/sp" | grep -c '^seg-')" -gt 2 ]
	cmds=""
	for i in $(seq 0 599); do cmds="${cmds}next
"; done
	for i in $(seq 0 499); do cmds="${cmds}ack $i
"; done
	spool "$T/sp" 64k <<< "${cmds}bytes
pending"
	assert_line --index 600 'bytes 19500'
	assert_line --index 601 'pending 500 read 100 dropped 0'
	spool "$T/sp" 64k <<< 'bytes'
	assert_output 'bytes 19500'
	# drop-oldest: every record dropped leaves the count
	cmds=""
	for i in $(seq 1 2000); do cmds="${cmds}append $(printf 'record-%04d-padding-padding-padding-pad' "$i")
"; done
	spool "$T/d" 64k drop-oldest <<< "${cmds}pending
bytes"
	local pending
	pending=$(grep -o 'pending [0-9]*' <<< "$output" | cut -d' ' -f2)
	[ "$pending" -lt 2000 ]
	assert_line --index 2001 "bytes $((pending * 39))"
	spool "$T/d" 64k <<< 'bytes'
	assert_output "bytes $((pending * 39))"
}
