#!/bin/bash
# pipeline.sh - the entrance-screening edge pipeline, es-* programs and pipes
#
# Usage: pipeline.sh THERMAL BADGES OUTDIR
#
# THERMAL and BADGES are files or named pipes of raw NDJSON (see
# gen-screening): a thermal camera's face readings and the badge reader's
# events of every gate. What goes upstream:
#
#   alerts     one record per visitor whose face was above 37.5 C: gate,
#              badge, name, the highest temperature, the first frame of the
#              face, the time the face was first seen
#   summary    per gate and minute: visitors, fevers, p95 of the passes'
#              highest temperatures
#   anomalies  per gate and minute: a camera silent while badges came
#              ("camera silent"), or one whose readings do not move
#              ("camera stuck")
#
# The raw thermal readings are kept on the gateway for a day (es-archive,
# in OUTDIR/raw, --max-age 1d, --max-size 2G, keyed by gate): the minute
# around an alert can be replayed on request (es-replay, or es-archive's
# query mode) without shipping every reading upstream.
#
# Each goes to OUTDIR/alerts.ndjson, OUTDIR/summary.ndjson and
# OUTDIR/anomalies-{silent,stuck}.ndjson; with BROKER=host:port (and
# es-mqtt-pub on PATH) they are published instead, QoS 1 through a spool in
# OUTDIR/spool, on TOPIC_PREFIX/alerts, /summary and /anomalies
# (TOPIC_PREFIX defaults to screening). Bad input lines go to
# OUTDIR/dead.ndjson; late ones to OUTDIR/late.ndjson.
#
# The stages:
#   0. es-archive: every reading stored, and passed on once its batch is
#      committed (a reading downstream saw is in the archive);
#   1. es-window --session: the readings of one face (a track) become one
#      pass with its highest and lowest temperature;
#   2. es-join --within: a pass meets the badge event of its gate that came
#      0 to 3 s after the face was first seen (gates are 8 s apart at
#      least); badges no pass meets come out alone (--type right);
#   3. es-filter + es-map: fevers become alerts; es-map + es-window: the
#      summary; es-filter + es-window: the camera anomalies.
set -eu -o pipefail

if [ $# -ne 3 ]; then
	echo "usage: pipeline.sh THERMAL BADGES OUTDIR" >&2
	exit 2
fi
thermal=$1 badges=$2 out=$3
mkdir -p "$out"
prefix=${TOPIC_PREFIX:-screening}
fever=37.5

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One pipe per consumer of a stream that several read.
mkfifo "$tmp/passes.join" "$tmp/passes.summary" "$tmp/passes.stuck" \
	"$tmp/joined.alerts" "$tmp/joined.silent"

# publish NAME TOPIC: stdin upstream, to MQTT or to OUTDIR/NAME.ndjson.
publish() {
	if [ -n "${BROKER:-}" ]; then
		es-mqtt-pub -h "${BROKER%:*}" -p "${BROKER##*:}" -t "$prefix/$2" \
			-q 1 --id "screening-$1" --spool "$out/spool/$1" \
			--stats 2>> "$out/stats.log"
	else
		cat > "$out/$1.ndjson"
	fi
}

# 1. passes: the readings of one track (33 ms apart), closed 0.5 s after its
# last reading
# (readings arrive up to 0.8 s out of order: 1 s lateness). When no gate
# sees a face, no reading comes to move the watermark: after 1 s of such
# silence it follows the wall clock (--idle), which is safe because a
# reading is never more than 0.8 s late, and keeps alerts within ~2.5 s.
# 0. the raw readings of the day, kept (a bad line is dead-lettered here)
es-archive --dir "$out/raw" --max-age 1d --max-size 2G -k gate \
	--dead-letter "$out/dead.ndjson" --stats "$thermal" 2>> "$out/stats.log" |
es-window --session 500ms --lateness 1s --idle 1s -g gate,track_id \
	-a 'count as readings,max(temp) as max_temp,min(temp) as min_temp,first(frame) as frame' \
	--late "$out/late.ndjson" --stats 2>> "$out/stats.log" |
	tee -p "$tmp/passes.summary" "$tmp/passes.stuck" > "$tmp/passes.join" &

# 2. who was it: the badge event of the same gate 0 to 3 s after the face
# was first seen. Passes come out when they close, so their start times
# are out of order by a few seconds: 10 s lateness.
es-join --left "$tmp/passes.join" --right "$badges" --on gate \
	--time-field window_start=ts --within 0s,3s --lateness 10s --idle 5s \
	--type right --stats 2>> "$out/stats.log" |
	tee -p "$tmp/joined.silent" > "$tmp/joined.alerts" &

# 3a. alerts: fevers with who, where and when.
es-filter "exists(max_temp) && max_temp > $fever" "$tmp/joined.alerts" |
	es-map 'ts = left_window_start' --time-format rfc3339 \
		--keep ts,gate,badge,name,max_temp,frame |
	publish alerts alerts &

# 3b. per gate and minute: visitors, fevers, p95 of their temperatures.
es-map "fever = if(max_temp > $fever, 1, 0)" "$tmp/passes.summary" |
	es-window --tumbling 1m --time-field window_start --lateness 10s --idle 5s \
		-g gate -a 'count as visitors,sum(fever) as fevers,p95(max_temp) as p95_temp' \
		--time-format rfc3339 |
	publish summary summary &

# 3c. a camera that is silent while badges come, or stuck at one value.
es-filter '!exists(max_temp)' "$tmp/joined.silent" |
	es-window --tumbling 1m --time-field right_ts --lateness 10s --idle 5s \
		-g gate -a 'count as badges_without_face' --time-format rfc3339 |
	es-filter 'badges_without_face >= 2' |
	es-map 'problem = "camera silent"' |
	publish anomalies-silent anomalies &

es-filter 'readings >= 10 && max_temp == min_temp' "$tmp/passes.stuck" |
	es-window --tumbling 1m --time-field window_start --lateness 10s --idle 5s \
		-g gate -a 'count as stuck_passes' --time-format rfc3339 |
	es-map 'problem = "camera stuck"' |
	publish anomalies-stuck anomalies &

# Every stage's status: the pipeline fails if one did.
failed=0
for job in $(jobs -p); do
	wait "$job" || failed=1
done
exit $failed
