#!/usr/bin/env bats
# es-infer: predictions against xgboost's own (models trained here, at test
# time, by tests/infer-train.py with Debian's python3-xgboost), XGBoost 2.x's
# base_score, missing features, the outputs (--as, --labels,
# --probabilities), --fill, --only-if, --check, bad input, corrupt models,
# the model swapped under a live stream, --stats; a TensorFlow Lite MLP
# (tests/infer-tflite.py) through Arm NN against numpy; --sequence: a
# model over each key's window of readings (two interleaved keys,
# eviction, a reload under a live stream, trees over lagged features).
# The common options (-i/--input-format, -o/--output-format, -d/--delimiter,
# --null-values, --timezone, --stats-file, --stats-every, --version):
# tests/read-options.bats, tests/stats-file.bats, tests/build.bats;
# --config: tests/config.bats and the reload test here.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

# Debian's python3, which has python3-xgboost and python3-numpy (another
# python3 may come first on PATH).
PY=/usr/bin/python3
TRAIN="$BATS_TEST_DIRNAME/infer-train.py"
COMPARE="$BATS_TEST_DIRNAME/infer-compare.py"

# Each kind of model trained once for the file: $M/KIND/{model.json,
# rows.ndjson,expected.txt}.
setup_file() {
	export M="$BATS_FILE_TMPDIR/models"
	local k
	for k in reg binary softprob softmax logistic logitraw; do
		mkdir -p "$M/$k"
		/usr/bin/python3 "$BATS_TEST_DIRNAME/infer-train.py" "$k" "$M/$k"
	done
	mkdir -p "$M/tflite" "$M/seq"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/infer-tflite.py" "$M/tflite"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/infer-tflite.py" --sequence "$M/seq"
}

# The formats es-infer knows, as it says them.
known() {
	if [ -n "${ES_CROSS:-}" ]; then
		# Under qemu-user a TFLite load hangs (the loader's fork): ask the
		# binary behind qemu-bin.sh's wrapper whether it links the parser.
		local real
		real=$(sed -n 's/.*exec [^ ]* "\([^"]*\)".*/\1/p' "$(command -v es-infer)")
		if grep -q libarmnnTfLiteParser "$real"; then
			echo "XGBoost JSON, TensorFlow Lite"
		else
			echo "XGBoost JSON"
		fi
	elif es-infer --model "$M/tflite/model.tflite" -f a,b,c --check > /dev/null 2>&1; then
		echo "XGBoost JSON, TensorFlow Lite"
	else
		echo "XGBoost JSON"
	fi
}

# TensorFlow Lite is there when es-infer was linked with Arm NN (the
# Makefile's TFLITE, by default when libarmnntfliteparser-dev is installed).
# make check installs it and builds with it: only a cross build (whose
# target may lack Arm NN's packages) may go without.
need_tflite() {
	skip_tflite_under_qemu
	es-infer --model "$M/tflite/model.tflite" -f a,b,c --check 2>&1 |
		grep -q 'not a model this program knows' || return 0
	[ -n "${ES_CROSS:-}" ] || fail "es-infer was built without TensorFlow Lite (Arm NN)"
	skip "es-infer was built without TensorFlow Lite (Arm NN)"
}

teardown() {
	live_teardown
}

# A hand-made model of one tree over features a and b: a < 1.5 gives -1,
# else +1; a missing a goes left. $1: base_score as the file writes it,
# $2: the objective, $3: the second leaf (default 1.0).
tiny_model() {
	printf '%s' '{"learner":{"attributes":{},"feature_names":["a","b"],"feature_types":[],' \
		'"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"1"},' \
		'"tree_info":[0],"trees":[{"base_weights":[0.0,0.0,0.0],"categories":[],"categories_nodes":[],' \
		'"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,' \
		'"left_children":[1,-1,-1],"loss_changes":[1.0,0.0,0.0],"parents":[2147483647,0,0],' \
		'"right_children":[2,-1,-1],"split_conditions":[1.5,-1.0,' "${3:-1.0}" '],' \
		'"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[2.0,1.0,1.0],' \
		'"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},' \
		'"name":"gbtree"},"learner_model_param":{"base_score":"' "$1" \
		'","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},' \
		'"objective":{"name":"' "${2:-reg:squarederror}" '","reg_loss_param":{"scale_pos_weight":"1"}}},' \
		'"version":[1,7,4]}'
	echo
}

# ---- predictions against xgboost ----

@test "es-infer: regression (reg:squarederror) agrees with xgboost's predict within float32 rounding, missing features included" {
	run_out es-infer --model "$M/reg/model.json" "$M/reg/rows.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run $PY "$COMPARE" "$T/out" "$M/reg/expected.txt" score
	assert_success
	assert_output --regexp '^200 rows, 200 values, max difference [01] ulp$'
	# about one feature in ten was missing (absent or null)
	[ "$(grep -c null "$M/reg/rows.ndjson")" -gt 10 ]
	[ "$(grep -vc '"temp"' "$M/reg/rows.ndjson")" -gt 2 ]
}

@test "es-infer: binary:logistic: the class and its probability (--probabilities) agree with xgboost" {
	run_out es-infer --model "$M/binary/model.json" --probabilities "$M/binary/rows.ndjson"
	[ "$status" -eq 0 ]
	run $PY "$COMPARE" "$T/out" "$M/binary/expected.txt" class_p
	assert_success
	assert_output --regexp '^200 rows, 200 values, max difference [01] ulp$'
	# class is 1 exactly when the probability is above 0.5
	run jq -r 'select((.class == 1) != (.class_p > 0.5)) | .id' "$T/out"
	assert_output ''
	run jq -s 'map(.class) | unique' -c "$T/out"
	assert_output '[0,1]'
}

@test "es-infer: multi:softprob and multi:softmax: one probability per class, agreeing with xgboost; the class is the most probable" {
	local k
	for k in softprob softmax; do
		run_out es-infer --model "$M/$k/model.json" --probabilities "$M/$k/rows.ndjson"
		[ "$status" -eq 0 ]
		run $PY "$COMPARE" "$T/out" "$M/$k/expected.txt" class_p
		assert_success
		assert_output --regexp '^200 rows, 600 values, max difference [01] ulp$'
		run jq -r '.class_p as $p | select(.class != ([$p["0"], $p["1"], $p["2"]] | index(max))) | .id' "$T/out"
		assert_output ''
	done
}

@test "es-infer: reg:logistic and binary:logitraw agree with xgboost" {
	run_out es-infer --model "$M/logistic/model.json" "$M/logistic/rows.ndjson"
	run $PY "$COMPARE" "$T/out" "$M/logistic/expected.txt" score
	assert_success
	assert_output --regexp '^200 rows, 200 values, max difference [01] ulp$'
	# logitraw is a classifier whose probability is the raw margin
	run_out es-infer --model "$M/logitraw/model.json" "$M/logitraw/rows.ndjson"
	run $PY "$COMPARE" "$T/out" "$M/logitraw/expected.txt" score
	assert_success
	assert_output --regexp '^200 rows, 200 values, max difference [01] ulp$'
}

@test "es-infer: XGBoost 2.x's base_score (\"[5E-1]\") predicts as 1.x's (\"5E-1\")" {
	local k
	for k in reg binary softprob; do
		sed 's/"base_score":"\([^"]*\)"/"base_score":"[\1]"/' "$M/$k/model.json" > "$T/m2.json"
		grep -q '"base_score":"\[5E-1\]"' "$T/m2.json"
		es-infer --model "$M/$k/model.json" --probabilities "$M/$k/rows.ndjson" > "$T/one" 2>/dev/null ||
			es-infer --model "$M/$k/model.json" "$M/$k/rows.ndjson" > "$T/one"
		es-infer --model "$T/m2.json" --probabilities "$M/$k/rows.ndjson" > "$T/two" 2>/dev/null ||
			es-infer --model "$T/m2.json" "$M/$k/rows.ndjson" > "$T/two"
		[ -s "$T/one" ]
		assert_file_is "$T/two" < "$T/one"
	done
	# and a base_score other than 0.5, in both forms
	tiny_model 2.5E0 > "$T/a.json"
	tiny_model '[2.5E0]' > "$T/b.json"
	printf '{"a":1}\n{"a":2}\n' > "$T/in"
	run es-infer --model "$T/a.json" "$T/in"
	assert_output '{"a":1,"score":1.5}
{"a":2,"score":3.5}'
	run es-infer --model "$T/b.json" "$T/in"
	assert_output '{"a":1,"score":1.5}
{"a":2,"score":3.5}'
	# one per class (a 3-class model of tests/fuzz/seeds/xgb.txt, by hand:
	# margins 0.5 + (-0.3, 0.1, -0.7) with 0.5 each, 1, 0.5, 0 each)
	sed -n 5p "$BATS_TEST_DIRNAME/fuzz/seeds/xgb.txt" > "$T/c.json"
	run es-infer --model "$T/c.json" --probabilities <<< '{"x":1}'
	assert_output '{"x":1,"class":1,"class_p":{"0":0.31624106,"1":0.47177625,"2":0.21198273}}'
	sed 's/"\[5E-1\]"/"[1E0,5E-1,0E0]"/' "$T/c.json" > "$T/d.json"
	run es-infer --model "$T/d.json" --probabilities <<< '{"x":1}'
	assert_output '{"x":1,"class":0,"class_p":{"0":0.46480617,"1":0.420574,"2":0.1146198}}'
	sed 's/"\[5E-1\]"/"[1E0,5E-1]"/' "$T/c.json" > "$T/e.json"
	assert_usage_errors es-infer \
		"--model $T/e.json|--model $T/e.json: not a valid XGBoost JSON model: base_score \"[1E0,5E-1]\" is not a number, or one per class"
}

# ---- features ----

@test "es-infer: a missing or null feature takes the tree's default direction; --fill V gives it a value" {
	tiny_model 5E-1 > "$T/m.json"
	printf '%s\n' '{"a":1,"b":0}' '{"a":2}' '{"b":0}' '{"a":null}' '{"a":1.5}' > "$T/in"
	run es-infer --model "$T/m.json" "$T/in"
	assert_success
	assert_output '{"a":1,"b":0,"score":-0.5}
{"a":2,"score":1.5}
{"b":0,"score":-0.5}
{"a":null,"score":-0.5}
{"a":1.5,"score":1.5}'
	run es-infer --model "$T/m.json" --fill 7 "$T/in"
	assert_output '{"a":1,"b":0,"score":-0.5}
{"a":2,"score":1.5}
{"b":0,"score":1.5}
{"a":null,"score":1.5}
{"a":1.5,"score":1.5}'
}

@test "es-infer: -f names the feature fields (nested paths too), in the model's order; by default the model's feature names" {
	tiny_model 5E-1 > "$T/m.json"
	run es-infer --model "$T/m.json" -f 'm.x,"b b"' <<< '{"m":{"x":3},"b b":0,"a":0}'
	assert_output '{"m":{"x":3},"b b":0,"a":0,"score":1.5}'
	run es-infer --model "$T/m.json" --features b,a <<< '{"a":0,"b":3}'
	assert_output '{"a":0,"b":3,"score":1.5}'
}

@test "es-infer: CSV in, CSV out: an empty cell is a missing feature" {
	tiny_model 5E-1 > "$T/m.json"
	run_out es-infer --model "$T/m.json" --as y <<< $'a,b,note\n1,0,x\n2,0,"y, z"\n,1,\n'
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	a,b,note,y
	1,0,x,-0.5
	2,0,"y, z",1.5
	,1,,-0.5
	EOF
}

# ---- outputs ----

@test "es-infer: --as names the output; --labels names the classes; --probabilities adds NAME_p" {
	tiny_model 5E-1 binary:logistic > "$T/m.json"
	printf '{"a":1}\n{"a":2}\n' > "$T/in"
	run es-infer --model "$T/m.json" "$T/in"
	assert_output '{"a":1,"class":0}
{"a":2,"class":1}'
	run es-infer --model "$T/m.json" --as state --labels normal,spike --probabilities "$T/in"
	# sigmoid(0 - 1) and sigmoid(0 + 1) in float32 (base 0.5: margin 0),
	# as xgboost itself predicts them with this model
	assert_output '{"a":1,"state":"normal","state_p":0.26894143}
{"a":2,"state":"spike","state_p":0.7310586}'
	run $PY -c 'import sys, numpy as np, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
print(*b.predict(xgb.DMatrix(np.array([[1, np.nan], [2, np.nan]]), feature_names=["a", "b"])))' "$T/m.json"
	assert_output '0.26894143 0.7310586'
}

@test "es-infer: a multi-class model's probabilities are an object keyed by label" {
	run es-infer --model "$M/softprob/model.json" --labels low,mid,high --probabilities --as level \
		<<< '{"temp":35,"rh":30,"co2":900}'
	assert_success
	run jq -c '[.level, (.level_p | keys_unsorted), (.level_p | add | . * 1000 | round)]' <<< "$output"
	assert_output '["high",["low","mid","high"],1000]'
	# a CSV record is flat: one column per class, named by the path (labels
	# that are not names are quoted)
	run es-infer --model "$M/softprob/model.json" --labels low,mid,high --probabilities \
		<<< $'temp,rh,co2\n35,30,900'
	assert_line -n 0 'temp,rh,co2,class,class_p.low,class_p.mid,class_p.high'
	run es-infer --model "$M/softprob/model.json" --probabilities <<< $'temp,rh,co2\n35,30,900'
	assert_line -n 0 'temp,rh,co2,class,"class_p.""0""","class_p.""1""","class_p.""2"""'
	assert_line -n 1 --regexp '^35,30,900,2,0\.[0-9]+,0\.[0-9]+,0\.9[0-9]+$'
}

@test "es-infer: --only-if passes only the records an expression over the outputs is true for; the rest are counted as filtered" {
	run_out es-infer --model "$M/binary/model.json" --probabilities --as anomaly \
		--only-if 'anomaly_p > 0.9 && id < 100' --stats "$M/binary/rows.ndjson"
	[ "$status" -eq 0 ]
	es-infer --model "$M/binary/model.json" --probabilities --as anomaly "$M/binary/rows.ndjson" |
		jq -c 'select(.anomaly_p > 0.9 and .id < 100)' > "$T/exp"
	[ "$(wc -l < "$T/exp")" -gt 5 ]
	assert_file_is "$T/out" < "$T/exp"
	local n
	n=$(wc -l < "$T/exp")
	run jq -c '[.in, .out, .filtered, .bad, .inferences]' <<< "$stderr"
	assert_output "[200,$n,$((200 - n)),0,200]"
}

@test "es-infer: --check prints the model's inputs and outputs and reads nothing" {
	run es-infer --model "$M/softprob/model.json" --labels low,mid,high --probabilities --check < /dev/null
	assert_success
	assert_output 'model: xgboost 1.7.4 gbtree, 60 trees, multi:softprob
input 0: temp
input 1: rh
input 2: co2
output: class (the class: low mid high)
output: class_p.low (the probability of low)
output: class_p.mid (the probability of mid)
output: class_p.high (the probability of high)'
	run es-infer --model "$M/reg/model.json" -f t,h,c --as y --check
	assert_output 'model: xgboost 1.7.4 gbtree, 20 trees, reg:squarederror
input 0: t
input 1: h
input 2: c
output: y (a number)'
}

# ---- bad input ----

@test "es-infer: a string where a number is needed, an out-of-range number, a line that is not JSON: bad input, counted, to --dead-letter" {
	tiny_model 5E-1 > "$T/m.json"
	printf '%s\n' '{"a":1}' '{"a":"1"}' '{"a":1e999}' 'oops' '{"a":true}' '{"a":2}' > "$T/in"
	run_out es-infer --model "$T/m.json" --dead-letter "$T/dead" --stats "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"a":1,"score":-0.5}
	{"a":2,"score":1.5}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"a":"1"}
	{"a":1e999}
	oops
	{"a":true}
	EOF
	run jq -c '[.in, .out, .bad, .filtered, .inferences]' <<< "$(tail -1 "$T/err")"
	assert_output '[6,2,4,0,2]'
	run head -4 "$T/err"
	assert_output "es-infer: $T/in:2: field 'a' is a string, a number is needed
es-infer: $T/in:3: field 'a' is out of range
es-infer: $T/in:4: not a JSON object
es-infer: $T/in:5: field 'a' is a boolean, a number is needed"
	run es-infer --model "$T/m.json" --strict "$T/in"
	assert_failure 3
}

# ---- the model file ----

@test "es-infer: a corrupt, truncated or unsupported model is a clear error (exit 2), never a crash" {
	local m="$M/softprob/model.json" size
	size=$(wc -c < "$m")
	head -c $((size / 2)) "$m" > "$T/half.json"
	: > "$T/empty.json"
	tiny_model 5E-1 | head -c 100 > "$T/cut.json"
	printf 'PK\003\004' > "$T/zip.json"
	tiny_model 5E-1 | sed 's/"left_children":\[1,-1,-1\]/"left_children":[5,-1,-1]/' > "$T/range.json"
	tiny_model 5E-1 | sed 's/"left_children":\[1,-1,-1\]/"left_children":[2,-1,-1]/' > "$T/twice.json"
	tiny_model 5E-1 | sed 's/"split_indices":\[0,0,0\]/"split_indices":[9,0,0]/' > "$T/feat.json"
	tiny_model 5E-1 | sed 's/"split_type":\[0,0,0\]/"split_type":[1,0,0]/' > "$T/cat.json"
	tiny_model 5E-1 survival:cox > "$T/obj.json"
	tiny_model 5E-1 | sed 's/"name":"gbtree"/"name":"dart"/' > "$T/dart.json"
	tiny_model 2E0 binary:logistic > "$T/base.json"
	tiny_model 5E-1 | sed 's/"num_nodes":"3"/"num_nodes":"4"/' > "$T/nodes.json"
	assert_usage_errors es-infer \
		"--model $T/none.json|--model $T/none.json: No such file or directory" \
		"--model $T/empty.json|--model $T/empty.json: not a model this program knows ($(known))" \
		"--model $T/zip.json|--model $T/zip.json: not a model this program knows ($(known))" \
		"--model $T/cut.json|--model $T/cut.json: not a valid XGBoost JSON model: line 1 column 100: ':' expected near end of file" \
		"--model $T/range.json|--model $T/range.json: not a valid XGBoost JSON model: tree 0: a node's children or feature are out of range" \
		"--model $T/twice.json|--model $T/twice.json: not a valid XGBoost JSON model: tree 0: a node is reached twice" \
		"--model $T/feat.json|--model $T/feat.json: not a valid XGBoost JSON model: tree 0: a node's children or feature are out of range" \
		"--model $T/cat.json|--model $T/cat.json: not a valid XGBoost JSON model: tree 0 has a categorical split (not supported)" \
		"--model $T/obj.json|--model $T/obj.json: not a valid XGBoost JSON model: objective survival:cox is not supported" \
		"--model $T/dart.json|--model $T/dart.json: not a valid XGBoost JSON model: booster dart is not supported (gbtree only)" \
		"--model $T/base.json|--model $T/base.json: not a valid XGBoost JSON model: base_score 2E0 is not in (0,1) for a logistic objective" \
		"--model $T/nodes.json|--model $T/nodes.json: not a valid XGBoost JSON model: a tree's \"left_children\" has 3 elements, not num_nodes"
	run --separate-stderr es-infer --model "$T/half.json" < /dev/null
	assert_failure 2
	assert_output ''
	[[ "$stderr" == "es-infer: --model $T/half.json: not a valid XGBoost JSON model: line 1 column $((size / 2)): "* ]] ||
		fail "$stderr"
}

@test "es-infer: every prefix of a model and mutated models load or fail cleanly (the xgb fuzz target over them)" {
	[ -x "$UNIT/fuzz-xgb" ] || fail "no $UNIT/fuzz-xgb (make units)"
	local m="$M/binary/model.json" size i
	size=$(wc -c < "$m")
	mkdir -p "$T/cases"
	for ((i = 0; i < size; i += size / 97 + 1)); do
		head -c "$i" "$m" > "$T/cases/prefix-$i"
	done
	# numbers changed one at a time: indexes out of range, negative, huge
	$PY - "$m" "$T/cases" <<-'EOF'
	import re, sys
	text = open(sys.argv[1]).read()
	nums = [m.span() for m in re.finditer(r'-?\d+', text)]
	for k, (a, b) in enumerate(nums[::max(1, len(nums) // 150)]):
	    for j, v in enumerate(["-1", "2147483647", "99999999999999999999", "3", "1e400", '"x"', "null"]):
	        open("%s/mut-%d-%d" % (sys.argv[2], k, j), "w").write(text[:a] + v + text[b:])
	EOF
	[ "$(ls "$T/cases" | wc -l)" -gt 500 ]
	run --separate-stderr "$UNIT/fuzz-xgb" "$T"/cases/* "$M"/*/model.json \
		$(find "$BATS_TEST_DIRNAME/fuzz/regress/xgb" -type f 2> /dev/null)
	assert_success
	assert_output ''
	assert_stderr ''
}

@test "es-infer: the model file is replaced under a live stream and SIGHUP: records before use the old model, after the new, none lost" {
	tiny_model 5E-1 > "$T/m.json"
	tiny_model 1.05E1 > "$T/new.json"
	start_live es-infer --model "$T/m.json" -f a,b --stats
	local i
	for ((i = 0; i < 100; i++)); do echo "{\"i\":$i,\"a\":1}"; done >&$W
	await_out 100
	mv "$T/new.json" "$T/m.json"
	kill -HUP "$PID"
	await_err "es-infer: --model $T/m.json reloaded: xgboost 1.7.4 gbtree, 1 trees, reg:squarederror"
	for ((i = 100; i < 200; i++)); do echo "{\"i\":$i,\"a\":1}"; done >&$W
	await_out 200
	# a model that does not load keeps the running one
	echo '{"learner":' > "$T/bad.json"
	mv "$T/bad.json" "$T/m.json"
	kill -HUP "$PID"
	await_err "keeping the running model"
	for ((i = 200; i < 300; i++)); do echo "{\"i\":$i,\"a\":1}"; done >&$W
	await_out 300
	finish_live
	[ "$status" -eq 0 ]
	run jq -r '"\(.i) \(.score)"' "$T/out"
	assert_output "$(for ((i = 0; i < 300; i++)); do
		if ((i < 100)); then echo "$i -0.5"; else echo "$i 9.5"; fi; done)"
	run grep -c . "$T/err"
	assert_output 3
	assert_equal "$(sed -n 2p "$T/err")" "es-infer: cannot reload --model $T/m.json: not a valid XGBoost JSON model: line 2 column 0: unexpected token near end of file; keeping the running model"
	run jq -c '[.in, .out, .bad, .inferences]' <<< "$(tail -1 "$T/err")"
	assert_output '[300,300,0,300]'
}

@test "es-infer: with --config and --watch-config, a changed model file or configuration is picked up between two records" {
	tiny_model 5E-1 > "$T/m.json"
	printf 'model = %s\nas = y\n' "$T/m.json" > "$T/i.conf"
	start_live es-infer --config "$T/i.conf" --watch-config
	echo '{"a":2}' >&$W
	await_out 1
	tiny_model 1.05E1 | rewrite_later "$T/m.json"
	await_err "--model $T/m.json reloaded"
	echo '{"a":2}' >&$W
	await_out 2
	printf 'model = %s\nas = z\n' "$T/m.json" | rewrite_later "$T/i.conf"
	await_err "--config $T/i.conf reloaded: --model $T/m.json: xgboost 1.7.4 gbtree, 1 trees, reg:squarederror"
	echo '{"a":2}' >&$W
	await_out 3
	# a configuration whose model does not load is refused by its check
	printf 'model = %s/none.json\n' "$T" | rewrite_later "$T/i.conf"
	await_err "cannot reload --config $T/i.conf"
	echo '{"a":1}' >&$W
	await_out 4
	finish_live
	assert_file_is "$T/out" <<-'EOF'
	{"a":2,"y":1.5}
	{"a":2,"y":11.5}
	{"a":2,"z":11.5}
	{"a":1,"z":9.5}
	EOF
}

# ---- TensorFlow Lite through Arm NN ----

@test "es-infer: a TFLite MLP (tests/infer-tflite.py) through Arm NN: its probabilities agree with numpy's float32 forward pass" {
	need_tflite
	run es-infer --model "$M/tflite/model.tflite" -f temp,rh,co2 --probabilities --check
	assert_success
	assert_output 'model: tflite (libarmnn 22.0.0), 3 inputs, 3 outputs
input 0: temp (no missing values)
input 1: rh (no missing values)
input 2: co2 (no missing values)
output: class (the class: 0 1 2)
output: class_p."0" (the probability of 0)
output: class_p."1" (the probability of 1)
output: class_p."2" (the probability of 2)'
	run_out es-infer --model "$M/tflite/model.tflite" -f temp,rh,co2 --probabilities "$M/tflite/rows.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	# numpy sums and exponentiates in another order: a few float32 ulps
	run $PY "$COMPARE" "$T/out" "$M/tflite/expected.txt" class_p 8
	assert_success
	assert_output --regexp '^50 rows, 150 values, max difference [0-8] ulp$'
}

@test "es-infer: a TFLite model takes no missing feature without --fill" {
	need_tflite
	printf '%s\n' '{"temp":1,"rh":2}' '{"temp":1,"rh":2,"co2":0}' > "$T/in"
	run_out es-infer --model "$M/tflite/model.tflite" -f temp,rh,co2 "$T/in"
	assert_equal "$stderr" "es-infer: $T/in:1: field 'co2' is missing, the model needs a number (--fill)"
	# with --fill 0 the first is scored as the second
	run es-infer --model "$M/tflite/model.tflite" -f temp,rh,co2 --fill 0 --probabilities "$T/in"
	assert_success
	assert_equal "${#lines[@]}" 2
	run jq -c '[.class, .class_p]' <<< "$output"
	assert_equal "${lines[0]}" "${lines[1]}"
	[[ "${lines[0]}" == '[0,{"0":0.'* ]]
}

@test "es-infer: a truncated or corrupt TFLite model is a clear error, never a crash (Arm NN loads it first in a child)" {
	need_tflite
	skip_if_slow	# some 330 loads of Arm NN
	local m="$M/tflite/model.tflite" size i v rc
	size=$(wc -c < "$m")
	head -c 500 "$m" > "$T/cut.tflite"
	assert_usage_errors es-infer \
		"--model $T/cut.tflite -f a,b,c|--model $T/cut.tflite: not a valid TensorFlow Lite model: Buffer doesn't conform to the expected Tensorflow Lite flatbuffers format. size:500  at function LoadModelFromBinary [./src/armnnTfLiteParser/TfLiteParser.cpp:3079]"
	# every 7th byte set to 7 and to 255, and every 50th prefix: exit 0 or 2
	$PY - "$m" "$T" <<-'EOF'
	import sys
	b = open(sys.argv[1], "rb").read()
	for i in range(0, len(b), 7):
	    for v in (7, 255):
	        open("%s/mut-%d-%d" % (sys.argv[2], i, v), "wb").write(b[:i] + bytes([v]) + b[i + 1:])
	for i in range(0, len(b), 50):
	    open("%s/pre-%d" % (sys.argv[2], i), "wb").write(b[:i])
	EOF
	local crashed=0 n=0
	for f in "$T"/mut-* "$T"/pre-*; do
		es-infer --model "$f" -f a,b,c --check > /dev/null 2>&1 && rc=0 || rc=$?
		n=$((n + 1))
		[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { crashed=$((crashed + 1)); echo "$f: $rc"; }
	done
	[ "$n" -gt 300 ]
	assert_equal "$crashed" 0
	# the crash the child absorbed, said as such (byte 462 set to 7)
	$PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[462] = 7; open(sys.argv[2], "wb").write(b)' \
		"$m" "$T/crash.tflite"
	assert_usage_errors es-infer \
		"--model $T/crash.tflite -f a,b,c|--model $T/crash.tflite: not a valid TensorFlow Lite model: Arm NN crashed on it: a corrupt file"
	# the fuzz target's file whose input [1, 3] became [1, 1027]: Arm NN
	# would load it and read past the weights; the sizes are checked first
	local fc="$BATS_TEST_DIRNAME/fuzz/regress/tflite/crash-a7e8aa3690229c520cad1d61d56611aebe1707e8"
	assert_usage_errors es-infer \
		"--model $fc -f a|--model $fc: not a valid TensorFlow Lite model: a fully connected layer's input (1027 values) or output (8) does not fit its weights [8, 3]: a corrupt file"
}

# ---- --sequence: a window of readings per key ----

@test "es-infer --sequence: a TFLite model over each key's last 4 readings ([1,4,2] and [1,8]) agrees with numpy on two interleaved keys; nulls while warming" {
	need_tflite
	run es-infer --model "$M/seq/window.tflite" -f temp,rh --sequence 4 --key device --check
	assert_success
	assert_output 'model: tflite (libarmnn 22.0.0), 8 inputs as [1,4,2], 1 outputs
window: the last 4 readings of each key (device), oldest first: model input t*2+i is input i of reading t
input 0: temp (no missing values)
input 1: rh (no missing values)
output: score (a number)'
	local m
	for m in window flat; do
		run_out es-infer --model "$M/seq/$m.tflite" -f temp,rh --sequence 4 -k device --stats "$M/seq/rows.ndjson"
		[ "$status" -eq 0 ]
		run $PY "$COMPARE" "$T/out" "$M/seq/expected.txt" score 2
		assert_success
		assert_output --regexp '^40 rows, 40 values, max difference [0-2] ulp$'
		# the first 3 readings of each device are warming, written with null
		run jq -r 'select(.score == null) | "\(.id) \(.device)"' "$T/out"
		assert_output '0 a
1 a
2 a
7 b
8 b
11 b'
		run jq -c '[.in, .out, .bad, .filtered, .warming, .inferences, .keys, .evicted, .state_bytes > 64]' <<< "$stderr"
		assert_output '[40,40,0,0,6,34,2,0,true]'
	done
	# the records keep their text; only score is added
	run diff <(sed 's/,"score":[^}]*}$/}/' "$T/out") "$M/seq/rows.ndjson"
	assert_success
	# --only-if over a warming record's null score is false: filtered
	local n
	n=$(awk '$1 != "null" && $1 > -1' "$M/seq/expected.txt" | wc -l)
	[ "$n" -gt 5 ] && [ "$n" -lt 34 ]
	run_out es-infer --model "$M/seq/window.tflite" -f temp,rh --sequence 4 -k device \
		--only-if 'score > -1' --stats "$M/seq/rows.ndjson"
	assert_equal "$(wc -l < "$T/out")" "$n"
	run jq -c '[.in, .out, .filtered, .bad, .warming, .inferences]' <<< "$stderr"
	assert_output "[40,$n,$((40 - n)),0,6,34]"
}

@test "es-infer --sequence: at --max-keys the least recently seen key's readings are forgotten (said once, counted); it warms up again" {
	need_tflite
	es-infer --model "$M/seq/window.tflite" -f temp,rh --sequence 4 -k device "$M/seq/rows.ndjson" > "$T/all"
	run_out es-infer --model "$M/seq/window.tflite" -f temp,rh --sequence 4 -k device --max-keys 1 --stats "$M/seq/rows.ndjson"
	[ "$status" -eq 0 ]
	# with one key kept, a record is scored only when the 3 before it are
	# of its device, and then as with both kept (the same 4 readings)
	jq -c --slurp '. as $r | [range(length) | . as $i |
		$r[$i] | if $i >= 3 and ([$r[$i-3:$i+1][].device] | unique | length) == 1
		then . else .score = null end] | .[]' "$T/all" > "$T/exp"
	jq -c . "$T/out" | assert_file_is "$T/exp"
	run jq -c 'select(.score != null) | .id' "$T/out"
	assert_output "$(printf '%s\n' 3 4 5 6 37 38 39)"
	assert_equal "$(head -1 "$T/err")" "es-infer: --max-keys 1 reached: forgetting the least recently seen key's readings (counted as \"evicted\" in --stats)"
	run jq -c '[.in, .out, .warming + .inferences, .keys, .evicted]' <<< "$(tail -1 "$T/err")"
	assert_output "[40,40,40,1,$(jq -rs '[range(1; length) as $i | select(.[$i].device != .[$i-1].device)] | length' "$M/seq/rows.ndjson")]"
	assert_equal "$(wc -l < "$T/err")" 2
}

@test "es-infer --sequence: a new model under a live stream (SIGHUP) keeps every key's window; --config changing the window starts them again" {
	need_tflite
	cp "$M/seq/window.tflite" "$T/m.tflite"
	printf 'model = %s\nfeatures = temp,rh\nsequence = 4\nkey = device\n' "$T/m.tflite" > "$T/i.conf"
	start_live es-infer --config "$T/i.conf" --stats
	head -20 "$M/seq/rows.ndjson" >&$W
	await_out 20
	cp "$M/seq/next.tflite" "$T/m.tflite"
	kill -HUP "$PID"
	await_err "reloaded: --model $T/m.tflite: tflite (libarmnn 22.0.0), 8 inputs as [1,4,2], 1 outputs; the state of 2 keys kept"
	sed -n 21,40p "$M/seq/rows.ndjson" >&$W
	await_out 40
	# the window shortened: every key starts again (and the model, of 8
	# inputs, does not take 3 readings of 2: refused, all kept)
	printf 'model = %s\nfeatures = temp,rh\nsequence = 3\nkey = device\n' "$T/m.tflite" > "$T/i.conf"
	kill -HUP "$PID"
	await_err "--sequence 3 of 2 features: the model takes [1,4,2]"
	head -1 "$M/seq/rows.ndjson" >&$W
	await_out 41
	printf 'model = %s\nfeatures = temp,rh\nsequence = 4\nkey = id\n' "$T/m.tflite" > "$T/i.conf"
	kill -HUP "$PID"
	await_err "the series changed: the state of 2 keys reset"
	head -1 "$M/seq/rows.ndjson" >&$W
	await_out 42
	finish_live
	[ "$status" -eq 0 ]
	{ head -20 "$M/seq/expected.txt"; sed -n 21,40p "$M/seq/expected-next.txt"; } > "$T/exp"
	head -40 "$T/out" > "$T/out40"
	run $PY "$COMPARE" "$T/out40" "$T/exp" score 2
	assert_success
	assert_output --regexp '^40 rows, 40 values, max difference [0-2] ulp$'
	# record 41 (device a again) took the window kept; 42, keyed by id, warms
	sed -n 41p "$T/out" | jq -e '.score != null' > /dev/null
	assert_equal "$(sed -n 42p "$T/out" | jq -c .score)" null
	run jq -c '[.in, .out, .warming, .inferences]' <<< "$(tail -1 "$T/err")"
	assert_output '[42,42,7,35]'
}

@test "es-infer --sequence with trees: the window is the model's features, lagged readings oldest first" {
	# feature 0 (a's reading before the last) < 1.5: -1, else +1
	tiny_model 5E-1 > "$T/m.json"
	printf '{"a":1}\n{"a":2}\n{"a":1}\n{"a":2}\n{"b":0}\n{"a":3}\n' > "$T/in"
	run es-infer --model "$T/m.json" -f a --sequence 2 "$T/in"
	assert_output '{"a":1,"score":null}
{"a":2,"score":-0.5}
{"a":1,"score":1.5}
{"a":2,"score":-0.5}
{"b":0,"score":1.5}
{"a":3,"score":-0.5}'
}

@test "es-infer --sequence: usage errors say what does not fit" {
	tiny_model 5E-1 > "$T/m.json"
	assert_usage_errors es-infer \
		"--model $T/m.json --key d|--key, --max-keys and --max-state go with --sequence" \
		"--model $T/m.json --max-keys 5|--key, --max-keys and --max-state go with --sequence" \
		"--model $T/m.json --sequence 0|invalid argument '0' for --sequence: expected a count from 1 to 100000" \
		"--model $T/m.json --sequence 2|--sequence needs -f: the model's 2 inputs are a window of readings" \
		"--model $T/m.json -f a --sequence 3|--sequence 3 of 1 features is 3 inputs, the model takes 2"
	need_tflite
	assert_usage_errors es-infer \
		"--model $M/seq/window.tflite -f temp,rh|-f gives 2 features, the model takes 8 as a window of readings (--sequence)" \
		"--model $M/seq/window.tflite -f temp,rh --sequence 2|--sequence 2 of 2 features: the model takes [1,4,2]" \
		"--model $M/seq/window.tflite -f temp,rh,co2,x --sequence 2|--sequence 2 of 4 features: the model takes [1,4,2]" \
		"--model $M/seq/flat.tflite -f temp,rh --sequence 3|--sequence 3 of 2 features is 6 inputs, the model takes 8"
}

@test "es-infer: an operator Arm NN 20.08 lacks (EXPAND_DIMS, as TF 2.3+ converts a Keras Conv1D) is a clear one-line error" {
	need_tflite
	assert_usage_errors es-infer \
		"--model $M/seq/conv1d.tflite -f a,b --sequence 4|--model $M/seq/conv1d.tflite: not a valid TensorFlow Lite model: Failed to parse operator #0 within subgraph #0 error: Operator not supported. subgraph:0 operator:0 opcode_index:0 opcode:F / EXPAND_DIMS  at function ParseUnsupportedOperator [./src/armnnTfLiteParser/TfLiteParser.cpp:883]"
}

# ---- options ----

@test "es-infer: usage errors name the option and why" {
	tiny_model 5E-1 > "$T/m.json"
	tiny_model 5E-1 binary:logistic > "$T/b.json"
	assert_usage_errors es-infer \
		"|missing --model" \
		"--model $T/m.json -f a|-f gives 1 features, the model takes 2" \
		"--model $T/b.json --labels x,y,z|--labels gives 3 labels, the model has 2 classes" \
		"--model $T/m.json --labels x,y|--labels: the model is a regression" \
		"--model $T/m.json --probabilities|--probabilities: the model is a regression" \
		"--model $T/m.json --fill x|invalid argument 'x' for --fill: a number is needed" \
		"--model $T/m.json --fill 1e999|invalid argument '1e999' for --fill: a number is needed" \
		"--model $T/m.json --as x[0]|invalid output name 'x[0]': array elements cannot be set" \
		"--model $T/m.json -f a,,b|invalid -f 'a,,b' at column 3: expected a field name or a quoted key" \
		"--model $T/b.json --labels a,,b|invalid --labels 'a,,b': empty or with a quote or backslash"
	run --separate-stderr es-infer --model "$T/m.json" --only-if 'score >' < /dev/null
	assert_failure 2
}

@test "es-infer: a model without feature names needs -f" {
	tiny_model 5E-1 | sed 's/"feature_names":\["a","b"\]/"feature_names":[]/' > "$T/m.json"
	assert_usage_errors es-infer \
		"--model $T/m.json|the model names no features: give them with -f (2)"
	run es-infer --model "$T/m.json" -f x,y <<< '{"x":2,"y":0}'
	assert_output '{"x":2,"y":0,"score":1.5}'
}

@test "es-infer: --stats gives inferences and the model's time per record in microseconds" {
	run --separate-stderr es-infer --model "$M/softprob/model.json" --stats "$M/softprob/rows.ndjson"
	assert_success
	run jq -c '[.in, .out, .inferences, (.infer_us_mean > 0), (.infer_us_p99 > 0)]' <<< "$stderr"
	assert_output '[200,200,200,true,true]'
}

@test "es-infer: every option is in --help, the man page and this file" {
	assert_long_options_documented es-infer model features as labels probabilities fill only-if \
		sequence key max-keys max-state
}
