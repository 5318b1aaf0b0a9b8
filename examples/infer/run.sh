#!/bin/bash
# examples/infer/run.sh - a model trained in the "cloud", flagging spikes
# on the gateway, next to es-detect's z-score on the same stream.
#
#   examples/infer/run.sh [N]     (N records to score, default 1000000)
#
# 1. The "cloud": gen-sensors --seed 1 (200000 records) trains spikes.json
#    (train-spikes.py, python3-xgboost; the label: the spikes gen-sensors
#    plants, seq % 997 == 0 on temp readings).
# 2. The gateway: another stream (gen-sensors --seed 42, N records) goes
#    through es-filter 'sensor == "temp"' | es-infer --only-if, whose
#    output is what would go upstream (| es-mqtt-pub ... in production;
#    here a file, or BROKER=host:port to publish it with es-mqtt-pub).
# 3. Precision and recall of what was sent, against the planted truth,
#    and es-detect --zscore 5 --window 100 on the same readings.
# Environment: ES_BIN (default: the repository root). Needs Debian's
# python3-xgboost and ../shared/bench/gen-sensors.
set -euo pipefail
N=${1:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${ES_BIN:-$(cd "$HERE/../.." && pwd)}
GEN="$HERE/../../../shared/bench/gen-sensors"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$GEN" 200000 --seed 1 > "$TMP/train.ndjson"
/usr/bin/python3 "$HERE/train-spikes.py" "$TMP/train.ndjson" "$TMP/spikes.json"
"$BIN/es-infer" --model "$TMP/spikes.json" --probabilities --as anomaly --check

"$GEN" "$N" --seed 42 > "$TMP/all.ndjson"
"$BIN/es-filter" 'sensor == "temp"' "$TMP/all.ndjson" > "$TMP/temp.ndjson"
"$BIN/es-filter" 'sensor == "temp"' "$TMP/all.ndjson" |
	"$BIN/es-infer" --model "$TMP/spikes.json" --probabilities --as anomaly \
		--only-if 'anomaly_p > 0.5' --stats > "$TMP/upstream.ndjson" 2> "$TMP/stats"
if [ -n "${BROKER:-}" ]; then
	"$BIN/es-mqtt-pub" -h "${BROKER%:*}" -p "${BROKER##*:}" -t 'alerts/{device}' -q 1 \
		"$TMP/upstream.ndjson"
fi

# The planted spikes among the temp readings.
planted=$(awk '{ match($0, /"seq":[0-9]+/)
	n += substr($0, RSTART + 6, RLENGTH - 6) % 997 == 0 } END { print n + 0 }' "$TMP/temp.ndjson")

# score NAME FILE: one table row; the records of FILE are those flagged.
score() {
	awk -v name="$1" -v total="$planted" '
		{
			match($0, /"seq":[0-9]+/)
			seq = substr($0, RSTART + 6, RLENGTH - 6) + 0
			tp += seq % 997 == 0; fp += seq % 997 != 0
		}
		END {
			printf "| %s | %d | %d | %d | %.2f%% | %.2f%% |\n", name, tp, fp,
				total - tp, tp + fp ? 100 * tp / (tp + fp) : 0,
				total ? 100 * tp / total : 0
		}' "$2"
}
"$BIN/es-detect" -k device --zscore 5 --window 100 --only-anomalies \
	"$TMP/temp.ndjson" > "$TMP/detect.ndjson"

echo
echo "$(wc -l < "$TMP/temp.ndjson") temp readings of $N records (gen-sensors --seed 42):"
echo
echo "| stage | true pos. | false pos. | missed | precision | recall |"
echo "|---|---|---|---|---|---|"
score "es-infer --only-if 'anomaly_p > 0.5'" "$TMP/upstream.ndjson"
score "es-detect --zscore 5 --window 100" "$TMP/detect.ndjson"
echo
echo "es-infer --stats: $(tail -1 "$TMP/stats")"
