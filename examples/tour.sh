#!/bin/sh
# A tour of the programs on the bundled sample data: validate a stream,
# keep only what matters, convert between NDJSON and CSV, summarise, enrich,
# and set bad input aside. (make demo runs examples/screening/demo.sh.)
set -e
cd "$(dirname "$0")"
BIN=${ES_BIN:-..}
PATH="$BIN:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "validate 3000 readings from 3 gateways (counters on stderr)" \
	"es-cat --stats data/sensors.ndjson > /dev/null"
es-cat --stats data/sensors.ndjson > /dev/null

step "send upstream only the fever readings" \
	"es-filter 'sensor == \"temp\" && value > 40' data/sensors.ndjson"
es-filter 'sensor == "temp" && value > 40' data/sensors.ndjson

step "the same through CSV and back: a pipeline of three programs" \
	"es-cat -o csv data/sensors.ndjson | es-filter 'value > 40 && sensor == \"temp\"' | es-cat -o ndjson"
es-cat -o csv data/sensors.ndjson | es-filter 'value > 40 && sensor == "temp"' | es-cat -o ndjson

step "how many humidity readings came from plant-1 (CSV in, a count out)" \
	"es-cat -o csv data/sensors.ndjson | es-filter --count 'sensor == \"hum\" && site == \"plant-1\"'"
es-cat -o csv data/sensors.ndjson | es-filter --count 'sensor == "hum" && site == "plant-1"'

step "1000 temperature readings become one summary per gateway and 30 s" \
	"es-filter 'sensor == \"temp\"' data/sensors.ndjson | es-window --tumbling 30s --lateness 1s -g device -a 'count,mean(value) as avg,max(value),p95(value)' --time-format rfc3339"
es-filter 'sensor == "temp"' data/sensors.ndjson |
	es-window --tumbling 30s --lateness 1s -g device \
		-a 'count,mean(value) as avg,max(value),p95(value)' --time-format rfc3339

step "the first reading of each gateway with its room from a table (gw-002 has no row)" \
	"es-filter 'seq == 1' data/sensors.ndjson | es-join --table data/devices.csv --on device --type left"
es-filter 'seq == 1' data/sensors.ndjson |
	es-join --table data/devices.csv --on device --type left

step "bad input is reported, set aside, and the stream goes on" \
	"es-filter --dead-letter dead.ndjson 'value > 37.5' data/mixed.ndjson"
es-filter --dead-letter "$tmp/dead.ndjson" 'value > 37.5' data/mixed.ndjson
printf '$ cat dead.ndjson\n'
cat "$tmp/dead.ndjson"
