#!/bin/sh
# tests/layers.sh [LIBDIR] - lib/'s layers kept: a file may include the
# headers of its own layer and of the layers below, never of one above.
# Fails, naming the file and the include, on an include upwards or on a
# lib file the table below does not know, and on headers that include
# each other (a cycle, within a layer). The table is lib/README's.
#
#   1 base     memory, diagnostics, output, signals and timers, input, sizes
#   2 text     values, JSON, field paths, CSV, time
#   3 record   the reader and writer, keys, counters, dead letters
#   4 engines  what a program does to records
#   5 runtime  options, config, reload, the program framework, event loop
#   6 net      MQTT, Kafka, the spool, publishing
dir=${1:-$(dirname "$0")/../lib}
cd "$dir" || exit 2

table='
mem 1
scratch 1
utf8 1
diag 1
out 1
loop 1
notify 1
input 1
size 1
swar 1
simd16 1
value 2
number 2
number_print 2
number_impl 2
json 2
jsonslot 2
scan 2
scan_sse2 2
scan_avx2 2
scan_neon 2
scan_utf8 2
fieldset 2
path 2
csv 2
time 2
record 3
keys 3
stats 3
statsprom 3
dead 3
held 3
influx 3
watermark 4
keyed 4
agg 4
roll 4
expr 4
edit 4
join 4
enrich 4
enrich_table 4
ijoin 4
ijoin_impl 4
ijoin_buf 4
ijoin_out 4
window 4
dedup 4
series 4
deadband 4
detect 4
modbus_map 4
modbus_decode 4
modbus_plan 4
archive 4
archive_query 4
archive_store 4
replay 4
model 4
xgb 4
infer 4
infer_seq 4
tflite 4
opts 5
optgroup 5
config 5
reload 5
prog 5
main 5
proghooks 5
evloop 5
ijoin_read 5
mqtt 6
mqttprog 6
mqttrec 6
gateway 6
spool 6
publish 6
publoop 6
pubprog 6
pubtmpl 6
pubmqtt 6
pubkafka 6
modbus_dev 6
modbus_poll 6
pubhttp 6
'

# The table, then each file and the lib headers it includes, to awk.
{
	printf '%s\n' "$table" | sed '/^$/d; s/^/layer /'
	for f in *.c *.h; do
		[ -e "$f" ] || continue
		printf 'file %s\n' "$f"
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
			sed "s|^|inc $f |"
	done
} | awk '
function stem(f) { sub(/\.[ch]$/, "", f); return f }
BEGIN {
	split("base text record engines runtime net", name, " ")
	bad = 0; files = 0
}
$1 == "layer" { layer[$2] = $3; next }
$1 == "file" {
	files++
	if ($2 ~ /\.h$/)
		hdr[++nh] = $2
	if (!(stem($2) in layer)) {
		printf "lib/%s: not in the table of layers (tests/layers.sh, lib/README)\n", $2
		bad = 1
	}
	next
}
$1 == "inc" {
	f = $2; h = $3; s = stem(f); t = stem(h)
	if (f ~ /\.h$/)
		incs[f] = incs[f] " " h
	if (!(s in layer))
		next
	if (!(t in layer)) {
		printf "lib/%s: includes \"%s\", which is not in the table of layers\n", f, h
		bad = 1
	} else if (layer[t] > layer[s]) {
		printf "lib/%s: includes \"%s\" of layer %d %s from layer %d %s\n", \
			f, h, layer[t], name[layer[t]], layer[s], name[layer[s]]
		bad = 1
	}
}
# A header that, through the headers it includes, includes itself: said
# where the walk (headers in file order, includes in order) closes it.
function cycle(h, path,    n, i, l, c) {
	if (state[h] == 1) {
		c = substr(path, index(" " path, " " h " "))
		printf "lib/%s: an include cycle: %s%s\n", h, c, h
		bad = 1
		return
	}
	if (state[h] == 2)
		return
	state[h] = 1
	n = split(incs[h], l, " ")
	for (i = 1; i <= n; i++)
		cycle(l[i], path h " -> ")
	state[h] = 2
}
END {
	for (i = 1; i <= nh; i++)
		cycle(hdr[i], "")
	if (bad)
		exit 1
	print "layers: every lib file has its layer; none includes a header above it; no include cycle"
}'
