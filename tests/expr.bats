#!/usr/bin/env bats
# The expression language of es-filter (lib/expr.c): every operator, every
# function, the null/missing rules, data errors and syntax errors, each
# through es-filter -- EXPR (an expression may start with "-") over tests/fixtures/expr.ndjson:
#   id 1..6 have various fields, id 7 has none but "id" (all missing).
bats_require_minimum_version 1.5.0
load test_helper

# selects EXPR IDS: es-filter EXPR over the fixture writes exactly the
# fixture's lines with these ids (in file order; "" for none), byte for
# byte, with nothing on stderr and exit 0.
selects() {
	local expr=$1 want=$2 id expected="" got
	for id in $want; do
		expected+=$(grep -E "^\{\"id\":$id[,}]" "$FIXTURES/expr.ndjson")$'\n'
	done
	run --separate-stderr es-filter -- "$expr" "$FIXTURES/expr.ndjson"
	[ "$status" -eq 0 ] || fail "es-filter '$expr': exit $status: $stderr"
	[ -z "$stderr" ] || fail "es-filter '$expr': stderr: $stderr"
	if [ "$output" != "${expected%$'\n'}" ]; then
		got=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' <<< "$output" | tr '\n' ' ')
		fail "es-filter '$expr' selects ids [${got% }], expected [$want]"
	fi
}

# data_error EXPR RECORD MESSAGE: the record is bad input with exactly this
# message; nothing written; exit 0.
data_error() {
	run --separate-stderr es-filter -- "$1" <<< "$2"
	[ "$status" -eq 0 ] || fail "es-filter '$1': exit $status"
	[ -z "$output" ] || fail "es-filter '$1' wrote: $output"
	[ "$stderr" = "es-filter: stdin:1: $3" ] ||
		fail "es-filter '$1' on $2: stderr [$stderr], expected [es-filter: stdin:1: $3]"
}

# syntax_error EXPR COLUMN MESSAGE: exit 2, nothing on stdout, and on stderr
# exactly the message line, the expression, and a caret under the column.
syntax_error() {
	local caret expected
	caret=$(printf '%*s^' $(($2 - 1)) '')
	expected="es-filter: syntax error at column $2: $3"$'\n'"  $1"$'\n'"  $caret"
	run --separate-stderr es-filter -- "$1" < /dev/null
	[ "$status" -eq 2 ] || fail "es-filter '$1': exit $status, expected 2; stderr: $stderr"
	[ -z "$output" ] || fail "es-filter '$1' wrote: $output"
	[ "$stderr" = "$expected" ] ||
		fail "$(printf 'es-filter %s:\n-- expected --\n%s\n-- actual --\n%s' "'$1'" "$expected" "$stderr")"
}

# ---- comparisons ----

@test "expr: < <= > >= on numbers; missing and null never order" {
	selects 'n > 3' '1 3 4'
	selects 'n >= 5' '1 3 4'
	selects 'n < 0' '2 5'
	selects 'n <= 0' '2 5 6'
	selects '3 < n' '1 3 4'
	selects 'x > 1e299' '4'
	selects 'x >= -2.5' '1 2 3 4 5'
	selects 'z > 0' ''
	selects 'z < 0' ''
	selects 'z >= z' ''
}

@test "expr: == and != on numbers compare by value (int and double alike)" {
	selects 'n == 5' '1'
	selects 'n == 5.0' '1'
	selects 'n == 5e0' '1'
	selects 'x == 2.50' '1'
	selects 'x == 0' '5'
	selects 'zero == 0' '1 2'
	selects 'n != 5' '2 3 4 5 6 7'
}

@test "expr: int64 extremes compare exactly, not through doubles" {
	selects 'n == 9223372036854775807' '4'
	selects 'n == 9223372036854775806' ''
	selects 'n > 9223372036854775806' '4'
	selects 'n == -9223372036854775808' '5'
	selects 'n < -9223372036854775807' '5'
	selects 'n == 9223372036854775808' ''
	selects 'n < 9223372036854775808' '1 2 3 4 5 6'
	selects 'n == 9.223372036854775807e18' ''
}

@test "expr: strings compare byte for byte, escapes decoded on both sides" {
	selects 's == "abc"' '1'
	selects "s == 'abc'" '1'
	selects 's == "ABC"' '2'
	selects 's == "café"' '3'
	selects 's == "caf\u00e9"' '3'
	selects 's == "a\"b"' '5'
	selects "s == 'a\"b'" '5'
	selects "s == 'a\\'b'" ''
	selects 's == ""' '6'
	selects 's < "b"' '1 2 5 6'
	selects 's >= "b"' '3 4'
	selects 's > "bz"' '3'
}

@test "expr: == across types is false, not an error" {
	selects 's == 1' ''
	selects 'n == "5"' ''
	selects 'b == 1' ''
	selects 'b == true' '1 3'
	selects 'b != true' '2 4 5 6 7'
	selects 'o == "v"' ''
}

@test "expr: objects and arrays compare by their JSON text" {
	run --separate-stderr es-filter 'p == q' <<'EOF'
{"id":1,"p":{"a":[1,2]},"q":{"a":[1,2]}}
{"id":2,"p":[1,2],"q":[1,3]}
{"id":3,"p":[1],"q":"[1]"}
EOF
	assert_success
	assert_output '{"id":1,"p":{"a":[1,2]},"q":{"a":[1,2]}}'
	assert_stderr ''
}

@test "expr: null and missing: equal to null and to each other" {
	selects 'z == null' '1 2 3 4 5 6 7'
	selects 'z != null' ''
	selects 'n == null' '7'
	selects 'n != null' '1 2 3 4 5 6'
	selects 'z == nothing' '1 2 3 4 5 6 7'
	selects 'null == null' '1 2 3 4 5 6 7'
}

# ---- truthiness, logic, precedence ----

@test "expr: a value on its own: false, null and missing are false, all else true (as jq)" {
	selects 'b' '1 3'
	selects 'zero' '1 2'
	selects 'e' '1 2'
	selects 'z' ''
	selects 'n' '1 2 3 4 5 6'
	selects 'o' '1 2 3'
	selects 'a' '1 2 3'
	selects 'nothing' ''
	selects 'true' '1 2 3 4 5 6 7'
	selects 'false' ''
	selects 'null' ''
	selects '0' '1 2 3 4 5 6 7'
	selects '""' '1 2 3 4 5 6 7'
}

@test "expr: ! and not" {
	selects '!b' '2 4 5 6 7'
	selects 'not b' '2 4 5 6 7'
	selects '! !b' '1 3'
	selects 'not not b' '1 3'
	selects '!z' '1 2 3 4 5 6 7'
	selects '!zero' '3 4 5 6 7'
}

@test "expr: && and, || or" {
	selects 'n > 0 && b' '1 3'
	selects 'n > 0 and b' '1 3'
	selects 'n < 0 || s == "b"' '2 4 5'
	selects 'n < 0 or s == "b"' '2 4 5'
	selects 'b && zero' '1'
	selects 'z || e' '1 2'
}

@test "expr: precedence: ! looser than a comparison, && tighter than ||" {
	selects '!n == 5' '2 3 4 5 6 7'
	selects '!(n == 5)' '2 3 4 5 6 7'
	selects 'n > 0 && b || n < 0' '1 2 3 5'
	selects 'n < 0 || n > 0 && b' '1 2 3 5'
	selects 'n > 0 && (b || n < 0)' '1 3'
	selects 'b || n < 0 && s == "b"' '1 3'
	selects '!b && n > 0' '4'
	selects 'n > 0 && (!b)' '4'
}

@test "expr: && and || short-cut: the right side is not evaluated (no data error)" {
	selects 'false && s > 1' ''
	selects 'true || s > 1' '1 2 3 4 5 6 7'
	selects 'exists(x) && x > 0 || id == 7' '1 2 4 7'
}

# ---- arithmetic ----

@test "expr: + - * / %" {
	selects 'n + 1 == 6' '1'
	selects 'n - 1 == 4' '1'
	selects 'n * 2 == 10' '1'
	selects 'n / 2 == 2.5' '1'
	selects 'n / 2 == 5' '3'
	selects 'n % 3 == 2' '1'
	selects 'n % 3 == -2' '5'
	selects 'n % 3 == 1' '3 4'
	selects 'x * 2 == 5' '1'
	selects 'x % 2 == 0.5' '1'
	selects 'x + 0.2 == 0.30000000000000004' '2'
	selects 'n + x == 7.5' '1 3'
}

@test "expr: arithmetic precedence and associativity" {
	selects '2 + 3 * 4 == 14' '1 2 3 4 5 6 7'
	selects '(2 + 3) * 4 == 20' '1 2 3 4 5 6 7'
	selects '10 - 2 - 3 == 5' '1 2 3 4 5 6 7'
	selects '2 * 3 % 4 == 2' '1 2 3 4 5 6 7'
	selects '12 / 2 / 3 == 2' '1 2 3 4 5 6 7'
	selects '-2 * -3 == 6' '1 2 3 4 5 6 7'
	selects '- n == -5' '1'
	selects '-n == -5' '1'
	selects '-x == 2.5' '3'
	selects '--n == 5' '1'
	selects 'n-1 == 4' '1'
}

@test "expr: int overflow becomes a double, not a wrap-around" {
	selects 'n + 1 > n' '1 2 3 4 5 6'
	selects 'n * 2 > n' '1 3 4'
	selects '-n > 0' '2 5'
	selects 'n % -1 == 0' '1 2 3 4 5 6'
}

@test "expr: null in arithmetic gives null; division by zero gives null" {
	selects 'z + 1 == null' '1 2 3 4 5 6 7'
	selects 'n + 1 == null' '7'
	selects '-z == null' '1 2 3 4 5 6 7'
	selects 'n / 0 == null' '1 2 3 4 5 6 7'
	selects 'n % 0 == null' '1 2 3 4 5 6 7'
	selects 'x / 0 == null' '1 2 3 4 5 6 7'
	selects 'x % 0 == null' '1 2 3 4 5 6 7'
	selects 'x * 1e300 == null' '4 6 7'
}

@test "expr: + on two strings concatenates" {
	selects 's + "!" == "abc!"' '1'
	selects '"<" + s + ">" == "<>"' '6'
	selects 's + z == null' '1 2 3 4 5 6 7'
}

# ---- =~ ----

@test "expr: =~ is an unanchored POSIX extended regex" {
	selects 's =~ "^a"' '1 5'
	selects 's =~ "b"' '1 4 5'
	selects 's =~ "^[A-Z]+$"' '2'
	selects 's =~ "^(abc|b)$"' '1 4'
	selects 's =~ "é$"' '3'
	selects 's =~ ""' '1 2 3 4 5 6'
	selects 's =~ "\""' '5'
	selects "s =~ 'c'" '1 3'
}

@test "expr: =~ on a number matches its text as written; other types never match" {
	selects 'n =~ "^-"' '2 5'
	selects 'n =~ "^9223"' '4'
	selects 'x =~ "e300$"' '4'
	selects 'b =~ "true"' ''
	selects 'z =~ ""' ''
	selects 'o =~ "k"' ''
	selects 'nothing =~ ""' ''
}

# ---- in ----

@test "expr: in [list] with constants" {
	selects 'n in [5, 10]' '1 3'
	selects 'n in [5.0]' '1'
	selects 's in ["abc", "b"]' '1 4'
	selects "s in ['abc', 5, true]" '1'
	selects 'n in []' ''
	selects 'z in [null]' '1 2 3 4 5 6 7'
	selects 'b in [true]' '1 3'
	selects 'n in [-3, -9223372036854775808]' '2 5'
	selects '!(n in [5, 10])' '2 4 5 6 7'
}

@test "expr: in [list] with computed members" {
	selects 'n in [1 + 4, 9 + 1]' '1 3'
	selects 'x in [n / 2]' '1 7'
	selects 's in [lower(s)]' '1 3 4 5 6 7'
}

# ---- functions ----

@test "expr: exists(path): present, even as null" {
	selects 'exists(z)' '1 2'
	selects 'exists(n)' '1 2 3 4 5 6'
	selects '!exists(n)' '7'
	selects 'exists(o.k)' '1 2'
	selects 'exists(meta.sensor.id)' '6'
	selects 'exists(a[2])' '1 3'
	selects 'exists(a[3])' ''
	selects 'exists(."odd key")' '4'
	selects 'exists(.in)' '5'
}

@test "expr: abs, round, floor, ceil" {
	selects 'abs(n) == 3' '2'
	selects 'abs(x) == 2.5' '1 3'
	selects 'abs(n) > 9223372036854775807' '5'
	selects 'abs(z) == null' '1 2 3 4 5 6 7'
	selects 'round(x) == 3' '1'
	selects 'round(x) == -3' '3'
	selects 'round(x) == 0' '2 5'
	selects 'floor(x) == 2' '1'
	selects 'floor(x) == -3' '3'
	selects 'ceil(x) == 3' '1'
	selects 'ceil(x) == -2' '3'
	selects 'ceil(x) == 1' '2'
	selects 'round(n) == n' '1 2 3 4 5 6 7'
	selects 'floor(z) == null' '1 2 3 4 5 6 7'
	selects 'str(round(x)) == "3"' '1'
}

@test "expr: min and max: nulls skipped, null when all are" {
	selects 'min(n, 3) == 3' '1 3 4 7'
	selects 'max(n, 3) == 3' '2 5 6 7'
	selects 'max(n, x) == 5' '1'
	selects 'max(n, x) == 1e300' '4'
	selects 'max(z, 1) == 1' '1 2 3 4 5 6 7'
	selects 'min(z) == null' '1 2 3 4 5 6 7'
	selects 'max(1, 2, 3) == 3' '1 2 3 4 5 6 7'
	selects 'min(n) == n' '1 2 3 4 5 6 7'
	selects 'min(n, -9223372036854775808) == -9223372036854775808' '1 2 3 4 5 6 7'
}

@test "expr: len of strings (code points), objects and arrays (members)" {
	selects 'len(s) == 3' '1 2 5'
	selects 'len(s) == 4' '3'
	selects 'len(s) == 0' '6'
	selects 'len(a) == 3' '1 3'
	selects 'len(a) == 0' '2'
	selects 'len(o) == 2' '1'
	selects 'len(o) == 0' '3'
	selects 'len(meta.list) == 2' '6'
	selects 'len(tags) == 2' '5'
	selects 'len(z) == null' '1 2 3 4 5 6 7'
}

@test "expr: lower and upper (ASCII letters)" {
	selects 'lower(s) == "abc"' '1 2'
	selects 'upper(s) == "ABC"' '1 2'
	selects 'upper(s) == "A\"B"' '5'
	selects 'lower(z) == null' '1 2 3 4 5 6 7'
}

@test "expr: starts_with, ends_with, contains" {
	selects 'starts_with(s, "ab")' '1'
	selects 'ends_with(s, "BC")' '2'
	selects 'ends_with(s, "é")' '3'
	selects 'contains(s, "\"")' '5'
	selects 'contains(s, "")' '1 2 3 4 5 6'
	selects 'contains(s, "abcd")' ''
	selects 'starts_with(z, "a") == null' '1 2 3 4 5 6 7'
	selects 'contains(s, z) == null' '1 2 3 4 5 6 7'
	selects 'starts_with(s, s)' '1 2 3 4 5 6'
}

@test "expr: replace swaps every occurrence, left to right; null in, null out" {
	selects 'replace(s, "b", "X") == "aXc"' '1'
	selects 'replace(s, "", "X") == s' '1 2 3 4 5 6 7'
	selects 'replace(s, "abc", "") == ""' '1 6'
	selects 'replace(s, z, "X") == null' '1 2 3 4 5 6 7'
	run es-map 'r = replace(s, ",", "--")' 'e = replace(s, ",,", ".")' <<< '{"s":"a,b,,,c"}'
	assert_success
	assert_output '{"s":"a,b,,,c","r":"a--b------c","e":"a,b.,c"}'
	data_error 'replace(n, ",", ".")' '{"n":1}' "field 'n' is a number, a string is needed in replace()"
}

@test "expr: decimal commas of a ';' export made numbers with num(replace(...))" {
	printf 'Date;CO(GT);T\n10/03/2004;2,6;13,6\n10/03/2004;-200;11,9\n11/03/2004;;x\n' > "$T/air.csv"
	run es-map -d ';' --null-values '-200,' -o ndjson \
		'."CO(GT)" = num(replace(."CO(GT)", ",", "."))' 'T = num(replace(T, ",", "."))' "$T/air.csv"
	assert_success
	assert_output '{"Date":"10/03/2004","CO(GT)":2.6,"T":13.6}
{"Date":"10/03/2004","CO(GT)":null,"T":11.9}
{"Date":"11/03/2004","CO(GT)":null,"T":null}'
}

@test "expr: num turns a numeric string into a number, anything else into null" {
	selects 'num(ns) == 42' '1'
	selects 'num(ns) == 45' '2'
	selects 'num(ns) == null' '3 4 5 6 7'
	selects 'num(n) == n' '1 2 3 4 5 6 7'
	selects 'num(b) == null' '1 2 3 4 5 6 7'
	selects 'num(s) == null' '1 2 3 4 5 6 7'
	selects 'num("-0.5") < 0' '1 2 3 4 5 6 7'
}

@test "expr: if(c, a, b): a when c is true, b when false, null or missing; both evaluated" {
	selects 'if(b, n, 0) == 5' '1'
	selects 'if(b, n, 0) == 0' '2 4 5 6 7'
	selects 'if(z, 1, 2) == 2' '1 2 3 4 5 6 7'
	selects 'if(n > 4, "hot", "cold") == "hot"' '1 3 4'
	selects 'if(s == "b", s, null) == null' '1 2 3 5 6 7'
	selects 'if(b, x, 0) == x' '1 3 5'
	# an error in the branch not taken is still an error of the record
	run --separate-stderr es-filter 'if(true, 1, s + 1) == 1' "$FIXTURES/expr.ndjson"
	assert_success
	assert_output '{"id":7}'
	local i exp=""
	for i in 1 2 3 4 5 6; do
		exp+="es-filter: $FIXTURES/expr.ndjson:$i: field 's' is a string, a number is needed"$'\n'
	done
	assert_stderr "${exp%$'\n'}"
}

@test "expr: str: numbers as written (or shortest when computed), booleans, JSON text" {
	selects 'str(n) == "5"' '1'
	selects 'str(x) == "2.5"' '1'
	selects 'str(x) == "1e300"' '4'
	selects 'str(x) == "-0"' '5'
	selects 'str(b) == "true"' '1 3'
	selects 'str(b) == "false"' '2'
	selects 'str(o) == "{\"k\":\"v\",\"n\":1}"' '1'
	selects 'str(a) == "[]"' '2'
	selects 'str(s) == s' '1 2 3 4 5 6 7'
	selects 'str(z) == null' '1 2 3 4 5 6 7'
	selects 'str(n / 4) == "1.25"' '1'
	selects 'str(x + 0.2) == "0.30000000000000004"' '2'
	selects 'str(n / 3) == "3.3333333333333335"' '3'
	selects 'str(n + 1) == "9223372036854775808"' ''
	selects 'str(n + 1) == "-9223372036854775807"' '5'
	selects 'str(n) + "!" == "5!"' '1'
}

@test "expr: a field named like a function or a keyword" {
	run --separate-stderr es-filter 'len > 3 && .in == 1 && .true' <<'EOF'
{"len":5,"in":1,"true":true}
{"len":2,"in":1,"true":true}
{"len":5,"in":2,"true":true}
{"len":5,"in":1,"true":false}
EOF
	assert_success
	assert_output '{"len":5,"in":1,"true":true}'
	assert_stderr ''
}

# ---- paths ----

@test "expr: paths: nested keys, array indexes, quoted keys" {
	selects 'meta.sensor.id == "s-7"' '6'
	selects 'meta.list[1].v == 2' '6'
	selects 'meta.list[2].v == null' '1 2 3 4 5 6 7'
	selects 'a[0] == 10' '1'
	selects 'a[1][0] == 2' '3'
	selects 'a[2] == "x,y"' '3'
	selects '."odd key" == 1' '4'
	selects '."odd\u0020key" == 1' '4'
	selects '."gw-id" == "g1"' '4'
	selects 'tags[0] == "hot"' '5'
	selects 'o."k" == "v"' '1'
	selects '.n == 5' '1'
	selects 'o.k.deeper == null' '1 2 3 4 5 6 7'
	selects 'a.x == null' '1 2 3 4 5 6 7'
	selects 'o[0] == null' '1 2 3 4 5 6 7'
}

@test "expr: a name has no '-': a-b is a subtraction" {
	run --separate-stderr es-filter 'a-b == 1' <<'EOF'
{"a":3,"b":2,"a-b":7}
{"a":3,"b":1,"a-b":1}
EOF
	assert_success
	assert_output '{"a":3,"b":2,"a-b":7}'
	assert_stderr ''
}

@test "expr: a key with JSON escapes in the record is matched decoded" {
	run --separate-stderr es-filter 'ab == 1 && ."x y" == 2' <<'EOF'
{"a\u0062":1,"x\u0020y":2}
{"ab":1,"x y":3}
EOF
	assert_success
	assert_output '{"a\u0062":1,"x\u0020y":2}'
	assert_stderr ''
}

@test "expr: a duplicated key: the last value is the one seen" {
	run --separate-stderr es-filter 'v == 2' <<'EOF'
{"v":1,"v":2}
{"v":2,"v":1}
EOF
	assert_success
	assert_output '{"v":1,"v":2}'
	assert_stderr ''
}

# ---- CSV fields ----

@test "expr: CSV cells: numbers compare as numbers, empty is null, other text a string" {
	printf 'id,v,name\n1,10,a\n2,9,b\n3,,c\n4,1e1,d\n5,-0,e\n' > "$T/in"
	run --separate-stderr es-filter 'v > 9' "$T/in"
	assert_success
	assert_output "$(printf 'id,v,name\n1,10,a\n4,1e1,d')"
	assert_stderr ''
	run --separate-stderr es-filter 'v == null || v == 0' "$T/in"
	assert_output "$(printf 'id,v,name\n3,,c\n5,-0,e')"
	run --separate-stderr es-filter 'exists(v) && !exists(w)' "$T/in"
	assert_output "$(printf 'id,v,name\n1,10,a\n2,9,b\n3,,c\n4,1e1,d\n5,-0,e')"
	run --separate-stderr es-filter 'name =~ "^[ab]$" && id < 3' "$T/in"
	assert_output "$(printf 'id,v,name\n1,10,a\n2,9,b')"
}

@test "expr: CSV cells like 007 or +1 are strings" {
	printf 'id,v\n1,007\n2,+1\n3,7\n' > "$T/in"
	run --separate-stderr es-filter 'v == "007" || v == "+1"' "$T/in"
	assert_success
	assert_output "$(printf 'id,v\n1,007\n2,+1')"
	assert_stderr ''
	run --separate-stderr es-filter 'v == 7' "$T/in"
	assert_output "$(printf 'id,v\n3,7')"
}

# csv_keeps EXPR ROWS: es-filter EXPR over $T/in writes its header and
# these rows (printf text; '' for none, and then no header either), with
# nothing on stderr.
csv_keeps() {
	local want=''
	[ -z "$2" ] || want=$(printf "%s\\n$2" "$(head -n 1 "$T/in")")
	run --separate-stderr es-filter "$1" "$T/in"
	assert_success
	assert_stderr ''
	assert_output "$want"
}

@test "expr: a field compared with a constant gives what the general way gives (the fused fast path)" {
	# field == "text" and field > number are tried on the field's text;
	# each case here is one where that try must give way or agree
	printf 'id,v,s\n1,5,5\n2,,\n3,5.0,temp\n4,x,007\n5,-0,0\n' > "$T/in"
	csv_keeps 's == "5"' ''		# 5 is a number
	csv_keeps 's == ""' ''		# empty is null
	csv_keeps 's != "temp"' '1,5,5\n2,,\n4,x,007\n5,-0,0'
	csv_keeps 's == "007" || s == "temp"' '3,5.0,temp\n4,x,007'
	csv_keeps 's != "007" && v >= 5 && v <= 5' '1,5,5\n3,5.0,temp'
	run --separate-stderr es-filter 'v < 0' "$T/in"		# x is an error
	assert_output ''
	assert_stderr "es-filter: $T/in:5: field 'v' is a string, a number is needed"
	# the constant first, a jump landing on the constant: the general way
	selects '"abc" == s' '1'
	selects '(b || z) == true' '1 3'
	selects 'b && s == "abc"' '1'
	selects 'n > 9223372036854775806' '4'
	selects 'x > 1e299 || x < -2' '3 4'
	selects 's != "abc" && s != "ABC"' '3 4 5 6 7'
}

@test "expr: a CSV column named like a dotted path is found by that path" {
	printf 'meta.id,v\nx,1\ny,2\n' > "$T/in"
	run --separate-stderr es-filter 'meta.id == "y"' "$T/in"
	assert_success
	assert_output "$(printf 'meta.id,v\ny,2')"
	assert_stderr ''
}

# ---- data errors: the record is bad input with the evaluator's message ----

@test "expr data errors: a field of the wrong type for an order comparison" {
	data_error 's > 1' '{"s":"x"}' "field 's' is a string, a number is needed"
	data_error '1 < s' '{"s":"x"}' "field 's' is a string, a number is needed"
	data_error 'b > 1' '{"b":true}' "field 'b' is a boolean, a number is needed"
	data_error 'o > 1' '{"o":{}}' "field 'o' is an object, a number is needed"
	data_error 'a <= 1' '{"a":[1]}' "field 'a' is an array, a number is needed"
	data_error 'o > "x"' '{"o":{"k":1}}' "field 'o' is an object, a string is needed"
	data_error 'meta.v >= 0' '{"meta":{"v":"1"}}' "field 'meta.v' is a string, a number is needed"
	data_error '"a" > 1' '{}' "string where a number is needed in '>'"
	data_error 's + "x" < 1' '{"s":"x"}' "string where a number is needed in '<'"
}

@test "expr data errors: arithmetic and negation" {
	data_error 's + 1 > 0' '{"s":"x"}' "field 's' is a string, a number is needed"
	data_error 'n + s > 0' '{"n":1,"s":"x"}' "field 's' is a string, a number is needed"
	data_error 's - "y" == 0' '{"s":"x"}' "field 's' is a string, a number is needed"
	data_error 'b * 2 == 0' '{"b":false}' "field 'b' is a boolean, a number is needed"
	data_error '-s == 1' '{"s":"x"}' "field 's' is a string, a number is needed"
	data_error '(1 + true) == 2' '{}' "boolean where a number is needed in '+'"
}

@test "expr data errors: function arguments" {
	data_error 'abs(s) > 0' '{"s":"x"}' "field 's' is a string, a number is needed in abs()"
	data_error 'round(b) > 0' '{"b":true}' "field 'b' is a boolean, a number is needed in round()"
	data_error 'len(n) > 0' '{"n":1}' "field 'n' is a number, a string, an object or an array is needed in len()"
	data_error 'lower(n) == "a"' '{"n":1}' "field 'n' is a number, a string is needed in lower()"
	data_error 'starts_with(s, 1)' '{"s":"x"}' "number where a string is needed in starts_with()"
	data_error 'contains(o, "k")' '{"o":{"k":1}}' "field 'o' is an object, a string is needed in contains()"
	data_error 'min(n, s) > 0' '{"n":1,"s":"x"}' "field 's' is a string, a number is needed in min()"
}

@test "expr data errors: the stream goes on, with the line number and the dead letter" {
	printf '{"v":1}\n{"v":"1"}\n\n{"v":2}\n{"v":{"x":1}}\n{"v":3}\n' > "$T/in"
	run_out es-filter --dead-letter "$T/dead" 'v >= 2' < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-filter: stdin:2: field 'v' is a string, a number is needed" \
		"es-filter: stdin:5: field 'v' is an object, a number is needed")"
	printf '{"v":2}\n{"v":3}\n' | assert_file_is "$T/out"
	printf '{"v":"1"}\n{"v":{"x":1}}\n' | assert_file_is "$T/dead"
}

@test "expr data errors: with -v the bad record is not written either" {
	printf '{"v":1}\n{"v":"1"}\n{"v":5}\n' > "$T/in"
	run --separate-stderr es-filter -v 'v > 3' "$T/in"
	assert_success
	assert_output '{"v":1}'
	assert_stderr "es-filter: $T/in:2: field 'v' is a string, a number is needed"
}

# ---- syntax errors: three lines on stderr, exit 2 ----

@test "expr syntax errors: incomplete expressions" {
	syntax_error 'value >' 8 'unexpected end of expression'
	syntax_error 'n ==' 5 'unexpected end of expression'
	syntax_error 'n > 1 and' 10 'unexpected end of expression'
	syntax_error 'not' 4 'unexpected end of expression'
	syntax_error '1 +' 4 'unexpected end of expression'
	syntax_error '(value > 3' 11 "expected ')'"
	syntax_error 'abs(1' 6 "expected ',' or ')'"
	syntax_error 'n in [1' 8 "expected ',' or ']'"
	syntax_error '' 1 'empty expression'
	syntax_error '   ' 4 'empty expression'
}

@test "expr syntax errors: single = & |" {
	syntax_error 'value = 3' 7 "unexpected '=' (use '==')"
	syntax_error 'value > 3 & x' 11 "unexpected '&' (use '&&')"
	syntax_error 'a | b' 3 "unexpected '|' (use '||')"
}

@test "expr syntax errors: unexpected tokens" {
	syntax_error 'n > 3 )' 7 "unexpected ')'"
	syntax_error 'n >> 1' 4 "unexpected '>'"
	syntax_error 'value > 3 value' 11 "unexpected 'value'"
	syntax_error 'é == 1' 1 "unexpected 'é'"
	syntax_error 'n ; 1' 3 "unexpected ';'"
	syntax_error "n $(printf 'a%.0s' {1..50})" 3 "unexpected '$(printf 'a%.0s' {1..40})...'"
}

@test "expr syntax errors: literals" {
	syntax_error '01 > 1' 1 "invalid number '01'"
	syntax_error 'n > 1.5.2' 5 "invalid number '1.5.2'"
	syntax_error 'n > 3abc' 5 "invalid number '3abc'"
	syntax_error 'n > 1.' 5 "invalid number '1.'"
	syntax_error 's == "abc' 6 'unterminated string'
	syntax_error "s == 'abc" 6 'unterminated string'
	syntax_error 's == "\q"' 7 "invalid escape '\q' in string"
	syntax_error 's == "\u12"' 7 'invalid \u escape in string'
	syntax_error 's == "\udc00"' 7 'invalid \u escape in string'
}

@test "expr syntax errors: comparisons, =~ and in" {
	syntax_error 'a < b < c' 7 "comparisons do not chain (use '&&')"
	syntax_error 'a == b != c' 8 "comparisons do not chain (use '&&')"
	syntax_error 's =~ x' 6 "'=~' needs a string literal on its right"
	syntax_error 's =~ "("' 6 'invalid regex: Unmatched ( or \('
	# a repetition right after another: undefined in POSIX ERE, and
	# glibc's regcomp takes seconds to minutes on a run of them
	local stacked="invalid regex: '%s' right after a repetition (undefined in POSIX ERE; group it: (x*)*)"
	syntax_error 's =~ "a**"' 6 "$(printf "$stacked" '*')"
	syntax_error 's =~ "^[a-c]*+$"' 6 "$(printf "$stacked" '+')"
	syntax_error 's =~ "a?*"' 6 "$(printf "$stacked" '*')"
	syntax_error 's =~ "x{1,2}{3}"' 6 "$(printf "$stacked" '{')"
	# glibc reads {,n} as {0,n}: an interval too (12 stacked crash regcomp)
	syntax_error 's =~ "a{,3}*"' 6 "$(printf "$stacked" '*')"
	syntax_error 's =~ "a{,3}{,2}"' 6 "$(printf "$stacked" '{')"
	syntax_error 's =~ "[0-9]{1,}{,}"' 6 "$(printf "$stacked" '{')"
	# regcomp copies a repeated element once per count ('+' twice), and the
	# copies multiply through nested groups: over 1000 compile slowly
	local copies="invalid regex: a repetition count times those of the groups around it is over 1000 (compiling it would be slow)"
	syntax_error 's =~ "(((a{1,9}){1,9}){1,9}){1,9}"' 6 "$copies"
	syntax_error 's =~ "^(x|(y{,9}z){2}){0,56}$"' 6 "$copies"
	syntax_error 's =~ "^.{0,1001}$"' 6 "$copies"
	syntax_error 's =~ "a{99999999999999999999}"' 6 "$copies"
	syntax_error 's =~ "(((((((((a+)+)+)+)+)+)+)+)+)+"' 6 "$copies"
	syntax_error 's =~ "((\\)[)]{2,}){40}[(]{9}){9}"' 6 "$copies"
	# regcomp's parser recurses once per group
	local deep
	deep=$(printf '%.0s(' {1..201})a$(printf '%.0s)' {1..201})
	syntax_error "s =~ \"$deep\"" 6 'invalid regex: groups nested more than 200 deep'
	syntax_error 'n in 3' 6 "expected '[' after 'in'"
	syntax_error 'n in [1,]' 9 "unexpected ']'"
	syntax_error 'n in [1 2]' 9 "expected ',' or ']'"
}

@test "expr syntax errors: functions" {
	syntax_error 'foo(1)' 1 "unknown function 'foo'"
	syntax_error 'n > 1 && bar()' 10 "unknown function 'bar'"
	syntax_error 'abs(1, 2)' 1 "function 'abs' takes 1 argument"
	syntax_error 'abs()' 1 "function 'abs' takes 1 argument"
	syntax_error 'starts_with("a")' 1 "function 'starts_with' takes 2 arguments"
	syntax_error 'if(1, 2)' 1 "function 'if' takes 3 arguments"
	syntax_error 'min()' 1 "function 'min' takes at least 1 argument"
	syntax_error 'exists("x")' 8 "function 'exists' takes a field path"
	syntax_error 'exists(1)' 8 "function 'exists' takes a field path"
}

@test "expr syntax errors: paths" {
	syntax_error 'meta. == 1' 6 'expected a field name or a quoted key'
	syntax_error 'a..b' 3 'expected a field name or a quoted key'
	syntax_error 'a[x]' 3 'expected an array index'
	syntax_error 'a[1' 4 "expected ']'"
	syntax_error 'a[1234567890] > 0' 3 'array index too large'
	syntax_error '."odd key' 2 'unterminated quoted key'
	syntax_error '."a\qb" == 1' 4 'invalid escape in quoted key'
	syntax_error "$(printf 'a%.0s.' {1..32})a == 1" 64 'path too deep (at most 32 steps)'
}

@test "expr syntax errors: nesting too deep" {
	local open close
	open=$(printf '(%.0s' {1..300})
	close=$(printf ')%.0s' {1..300})
	syntax_error "${open}1${close}" 201 'expression nested too deeply'
	syntax_error "$(printf -- '-%.0s ' {1..300})1" 400 'expression nested too deeply'
}

@test "expr: 200 levels of parentheses are fine" {
	local open close
	open=$(printf '(%.0s' {1..199})
	close=$(printf ')%.0s' {1..199})
	selects "${open}n == 5${close}" '1'
}

@test "expr: white space is free, including newlines and tabs" {
	selects "$(printf '\tn\n>\r\n3 ')" '1 3 4'
	selects 'n>3&&b' '1 3'
	selects 'n>-4' '1 2 3 4 6'
}

@test "expr: in with a long list of constants (1000 device names)" {
	local list
	list=$(awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%s\"gw-%03d\"", (i ? "," : ""), i }')
	printf '{"device":"gw-999"}\n{"device":"gw-1000"}\n{"device":"gw-000"}\n' > "$T/in"
	run --separate-stderr es-filter "device in [$list]" "$T/in"
	assert_success
	assert_output "$(printf '{"device":"gw-999"}\n{"device":"gw-000"}')"
	assert_stderr ''
}

@test "expr: % keeps the sign of the left side; / always divides exactly" {
	selects '-7 % 3 == -1' '1 2 3 4 5 6 7'
	selects '7 % -3 == 1' '1 2 3 4 5 6 7'
	selects '-7.5 % 2 == -1.5' '1 2 3 4 5 6 7'
	selects '7 / 2 == 3.5' '1 2 3 4 5 6 7'
	selects 'str(6 / 3) == "2"' '1 2 3 4 5 6 7'
}

@test "expr: =~ with a repetition after an escaped or bracketed '*', or a group's: not stacked" {
	selects 's =~ "^a\\**"' '1 5'
	selects 's =~ "^[*]*a[]*]*b"' '1'
	selects 's =~ "^[[:alpha:]*]*$"' '1 2 4 6'
	selects 's =~ "^(a*)*bc"' '1'
	selects 's =~ "^c{1}a+f*."' '3'
}

@test "expr: =~ reads {,n} as {0,n} and {,} as {0,}, as glibc does" {
	selects 's =~ "^a{,1}b"' '1 4'
	selects 's =~ "^[a-c]{,3}$"' '1 4 6'
	selects 's =~ "^.{,}$"' '1 2 3 4 5 6'
	selects 's =~ "^(a{,2}b){,2}c"' '1 3'
}

@test "expr: =~ takes nested counts that multiply to at most 1000, and any count of '*' and '?'" {
	selects 's =~ "^((a{1,9}){1,9}){1,9}bc"' '1'
	selects 's =~ "^.{0,1000}$"' '1 2 3 4 5 6'
	selects 's =~ "^a{1,1000}b{1,1000}c{1,1000}$"' '1'
	selects 's =~ "^((((((((a+)+)+)+)+)+)+)+)+b"' '1'
	selects 's =~ "^((((((((((a*)*)?)*)*)*)?)*)*)*)*b"' '1 4'
	selects 's =~ "^(x|(y{,9}z){2}){0,55}$"' '6'
	selects 's =~ "^[(]{1,1000}|[)]{1,1000}|\\({1,1000}"' ''
	local deep
	deep=$(printf '%.0s(' {1..200})b$(printf '%.0s)' {1..200})
	selects "s =~ \"^$deep\"" '4'
}

@test "expr: =~ keeps the counted patterns gateways use: device ids, IPv4 and MAC addresses" {
	printf '%s\n' '{"d":"gw-042","ip":"10.0.12.7","mac":"00:1a:2b:3c:4d:5e","t":"xabab"}' \
		'{"d":"gw-42","ip":"10.0.12","mac":"00:1a:2b","t":"xab"}' > "$T/in"
	run --separate-stderr es-filter 'd =~ "^gw-[0-9]{3}$" && t =~ "(ab){2}" &&
		ip =~ "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$" &&
		mac =~ "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"' "$T/in"
	assert_success
	assert_output '{"d":"gw-042","ip":"10.0.12.7","mac":"00:1a:2b:3c:4d:5e","t":"xabab"}'
	assert_stderr ''
	run --separate-stderr es-filter 'd =~ "^gw-[0-9]{3}$" || t =~ "(ab){2}" ||
		ip =~ "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$" ||
		mac =~ "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"' "$T/in"
	assert_success
	assert_output '{"d":"gw-042","ip":"10.0.12.7","mac":"00:1a:2b:3c:4d:5e","t":"xabab"}'
}

@test "expr: =~ sees a number as written in the input, a computed one in its shortest text" {
	run --separate-stderr es-filter 'v =~ "^7\\.50$"' <<< '{"v":7.50}'
	assert_success
	assert_output '{"v":7.50}'
	run --separate-stderr es-filter 'v =~ "^7\\.5$"' <<< '{"v":7.50}'
	assert_success
	assert_output ''
	run --separate-stderr es-filter 'v * 1 =~ "^7\\.5$"' <<< '{"v":7.50}'
	assert_success
	assert_output '{"v":7.50}'
	assert_stderr ''
}

@test "expr: =~ works on bytes in the C locale" {
	selects 's =~ "^caf.$"' ''
	selects 's =~ "^caf..$"' '3'
	selects 's =~ "^caf(é)+$"' '3'
	selects 's =~ "^[[:upper:]]+$"' '2'
}

@test "expr: reserved words as field names, with a leading dot" {
	run --separate-stderr es-filter '."null" == 1 && .and == 2 && .not == 3' <<'EOF'
{"null":1,"and":2,"not":3}
{"null":null,"and":2,"not":3}
EOF
	assert_success
	assert_output '{"null":1,"and":2,"not":3}'
	assert_stderr ''
}

@test "expr: a == !b is a syntax error" {
	syntax_error 'a == !b' 6 "unexpected '!'"
}

@test "expr: CSV: a one-key quoted path finds its column; a cell of JSON text is a string" {
	printf 'odd key,c\n1,"{""k"":1}"\n2,x\n' > "$T/in"
	run --separate-stderr es-filter '."odd key" == 1 && c == "{\"k\":1}" && !exists(c.k)' "$T/in"
	assert_success
	assert_output "$(printf 'odd key,c\n1,"{""k"":1}"')"
	assert_stderr ''
}

@test "expr: a duplicated key: paths below it see only the last value" {
	run --separate-stderr es-filter 'exists(m.a) || m[1] == 2 || m.b == 2' <<'EOF'
{"m":{"a":1},"m":{"c":2}}
{"m":{"a":1},"m":5}
{"m":[1,2],"m":[3]}
{"m":{"b":1},"m":{"b":2}}
EOF
	assert_success
	assert_output '{"m":{"b":1},"m":{"b":2}}'
	assert_stderr ''
}
