#!/bin/bash
# demo.sh - the entrance-screening pipeline end to end, with a report
#
# Usage: demo.sh [HOURS]    (make demo runs it; default 4 hours of events)
#
# Generates a morning at an 8-gate site (gen-screening), starts a mosquitto
# broker of its own on a free loopback port (BROKER=host:port uses another
# instead), subscribes to the upstream topics, runs pipeline.sh over the
# raw data, and reports what came in, what went upstream, the alerts and
# the speed. It checks the alerts against what the generator planted. Then,
# as the center would, it asks es-replay (over the same broker) for the raw
# readings of the minute around the first alert, at its gate, from the
# archive the pipeline kept on the gateway, and checks them against
# es-archive's query of the same minute. It stops everything it started.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${ES_BIN:-$here/../..}
PATH="$BIN:$PATH"
GEN=${GEN:-$BIN/examples/screening/gen-screening}
hours=${1:-4}
work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2> /dev/null || true
	done
	wait 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }

# ---- the broker ----
if [ -z "${BROKER:-}" ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/mosquitto.conf"
	mosquitto -c "$work/mosquitto.conf" 2> "$work/broker.log" &
	pids+=($!)
	for _ in $(seq 100); do
		(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
		sleep 0.05
	done
	BROKER=127.0.0.1:$port
	say "broker: mosquitto on $BROKER (started for the demo)"
else
	say "broker: $BROKER"
fi
export BROKER
host=${BROKER%:*} port=${BROKER##*:}
prefix=${TOPIC_PREFIX:-screening-demo-$$}
export TOPIC_PREFIX=$prefix

# ---- the data ----
say "generating $hours h of raw data at 8 gates (gen-screening, seed 1)..."
"$GEN" --hours "$hours" --thermal "$work/thermal.ndjson" --badges "$work/badges.ndjson" \
	--truth "$work/truth.ndjson"

# ---- upstream: one subscriber per topic, ready before the pipeline ----
for topic in alerts summary anomalies; do
	es-mqtt-sub -h "$host" -p "$port" -q 1 -t "$prefix/$topic" \
		> "$work/up-$topic.ndjson" 2> "$work/sub-$topic.err" &
	pids+=($!)
done
# A probe on each topic tells when the subscribers are listening.
for _ in $(seq 100); do
	for topic in alerts summary anomalies; do
		echo '{"probe":true}' | es-mqtt-pub -h "$host" -p "$port" -q 1 \
			-t "$prefix/$topic" 2> /dev/null || true
	done
	ready=0
	for topic in alerts summary anomalies; do
		grep -q '"probe"' "$work/up-$topic.ndjson" && ready=$((ready + 1))
	done
	[ "$ready" -eq 3 ] && break
	sleep 0.1
done

# ---- the pipeline ----
say "running examples/screening/pipeline.sh..."
start=$(date +%s.%N)
"$here/pipeline.sh" "$work/thermal.ndjson" "$work/badges.ndjson" "$work/out"
end=$(date +%s.%N)

# Every record the publishers had acknowledged must reach the subscribers.
sent=$(grep -o '"acknowledged":[0-9]*' "$work/out/stats.log" | cut -d: -f2 |
	awk '{ n += $1 } END { print n + 0 }')
for _ in $(seq 100); do
	got=$(cat "$work"/up-*.ndjson | grep -vc '"probe"' || true)
	[ "$got" -ge "$sent" ] && break
	sleep 0.1
done

# ---- the report ----
count() { grep -vc '"probe"' "$1" || true; }
bytes() { grep -v '"probe"' "$1" | wc -c; }
raw_n=$(($(wc -l < "$work/thermal.ndjson") + $(wc -l < "$work/badges.ndjson")))
raw_b=$(($(wc -c < "$work/thermal.ndjson") + $(wc -c < "$work/badges.ndjson")))
na=$(count "$work/up-alerts.ndjson") ns=$(count "$work/up-summary.ndjson")
nn=$(count "$work/up-anomalies.ndjson")
up_n=$((na + ns + nn))
up_b=$(($(bytes "$work/up-alerts.ndjson") + $(bytes "$work/up-summary.ndjson") + \
	$(bytes "$work/up-anomalies.ndjson")))
awk -v rn="$raw_n" -v rb="$raw_b" -v un="$up_n" -v ub="$up_b" -v na="$na" \
	-v ns="$ns" -v nn="$nn" -v s="$start" -v e="$end" 'BEGIN {
	printf "\n  raw in     %10d records %9.1f MB  (thermal readings, badge events)\n", rn, rb / 1e6
	printf "  upstream   %10d records %9.3f MB  (%d alerts, %d summaries, %d anomalies)\n", un, ub / 1e6, na, ns, nn
	printf "  reduction  %10.0fx fewer records; upstream is %.2f%% of the raw bytes\n", rn / un, 100 * ub / rb
	printf "  wall time  %10.2f s: %.0f events/s through the whole pipeline\n\n", e - s, rn / (e - s)
}'
say "alerts (visitors above 37.5 C), as received on $prefix/alerts:"
grep -v '"probe"' "$work/up-alerts.ndjson" |
	jq -r '[.ts[11:19], .gate, .badge, .name, .max_temp, .frame] | @tsv' |
	sort | awk -F'\t' '{ printf "  %s  %-3s  %s  %-22s %.2f C  %s\n", $1, $2, $3, $4, $5, $6 }'
say ""
say "camera anomalies, as received on $prefix/anomalies (minutes with the fault):"
grep -v '"probe"' "$work/up-anomalies.ndjson" |
	jq -r '[.gate, .problem, .window_start[11:16]] | @tsv' | sort |
	awk -F'\t' '{ k = $1 "\t" $2; if (!(k in first)) { first[k] = $3; order[n++] = k }
		     last[k] = $3; count[k]++ }
		END { for (i = 0; i < n; i++) { k = order[i]; split(k, f, "\t")
			printf "  %-3s  %-14s %s to %s UTC, %d minutes\n", f[1], f[2],
				first[k], last[k], count[k] } }'

# ---- the check ----
want=$(jq -c '[.gate, .badge, .max_temp]' "$work/truth.ndjson" | sort)
have=$(grep -v '"probe"' "$work/up-alerts.ndjson" | jq -c '[.gate, .badge, .max_temp]' | sort)
say ""
if [ "$want" = "$have" ]; then
	say "check: all $(wc -l < "$work/truth.ndjson") planted fevers alerted, no false alert"
else
	say "check FAILED: the alerts differ from the planted fevers:"
	diff <(echo "$want") <(echo "$have") || true
	exit 1
fi

# ---- the replay: the raw readings around the first alert, on request ----
rtopic=$prefix/gw/replay reply=$prefix/center/replay-1
es-replay --id demo-gw -h "$host" -p "$port" -t "$rtopic" --dir "$work/out/raw" \
	--stats > "$work/replay.out" 2> "$work/replay.err" &
pids+=($!)
mosquitto_sub -h "$host" -p "$port" -q 1 -N -t "$reply" > "$work/replay.ndjson" \
	2> "$work/replay-sub.err" &
pids+=($!)
# A probe (an empty span) answered on the reply topic tells that both
# listen; probes are answered first (in order), with no record.
for _ in $(seq 100); do
	mosquitto_pub -h "$host" -p "$port" -q 1 -t "$rtopic" \
		-m "{\"to\":0,\"reply\":\"$reply\"}"
	sleep 0.1
	grep -q '"done"' "$work/replay.ndjson" && break
done
first=$(grep -v '"probe"' "$work/up-alerts.ndjson" | jq -c -s 'sort_by(.ts) | .[0]')
gate=$(jq -r .gate <<< "$first")
ms=$(jq '(.ts[0:19] + "Z" | fromdate) * 1000 + (.ts[20:23] | tonumber)' <<< "$first")
from=$((ms - 30000)) to=$((ms + 30000))
request="{\"from\":$from,\"to\":$to,\"key_is\":{\"gate\":\"$gate\"},\"reply\":\"$reply\"}"
mosquitto_pub -h "$host" -p "$port" -q 1 -t "$rtopic" -m "$request"
for _ in $(seq 200); do
	tail -1 "$work/replay.ndjson" | grep -q '"done":true,"records":[1-9]' && break
	sleep 0.05
done
say ""
say "replay: the minute around the first alert, asked of es-replay on $rtopic:"
say "  $request"
grep '"ts"' "$work/replay.ndjson" > "$work/replayed.ndjson" || true
jq -r --argjson a "$first" 'select(.frame >= $a.frame and .temp == $a.max_temp) |
	"  the alert\u0027s highest reading: \(.temp) C at \(.frame), track \(.track_id)"' \
	"$work/replayed.ndjson" | head -1
tail -1 "$work/replay.ndjson" |
	jq -r '"  \(.records) readings of gate '"$gate"' in \(.messages) messages"'
es-archive --dir "$work/out/raw" --from "$from" --to "$to" --key-is "gate=$gate" > "$work/query.ndjson"
if [ -s "$work/replayed.ndjson" ] && cmp -s "$work/query.ndjson" "$work/replayed.ndjson" &&
	jq -s -e --argjson a "$first" 'any(.[]; .frame == $a.frame)' "$work/replayed.ndjson" > /dev/null; then
	say "check: the replay is es-archive's query of the same minute, record for record, and holds the alert's first frame"
else
	say "check FAILED: the replay differs from es-archive's query (or misses the alert's face)"
	exit 1
fi
