#!/bin/sh
# Every symbol a lib/ file exports starts with the file's name and "_", or
# with one of the file's short forms (lib/README, "Names"). Reads the
# objects of a build: tests/names.sh OBJDIR (its lib/*.o; default obj).
# Prints one line per symbol that does not, and exits 1 if any.
dir=${1:-obj}
bad=0
# The short forms: file, then its other prefixes.
forms() {
	case $1 in
	keys) echo "key_ keytab_" ;;
	mem) echo "x" ;;
	publish) echo "pub_" ;;
	record) echo "reader_ writer_" ;;
	time) echo "duration_ rfc3339_" ;;
	watermark) echo "wm_" ;;
	esac
}
for o in "$dir"/lib/*.o; do
	[ -f "$o" ] || { echo "names: no objects in $dir/lib" >&2; exit 2; }
	file=$(basename "$o" .o)
	prefixes="${file}_ $(forms "$file")"
	# names from "__" are the implementation's (ASan's __odr_asan.X)
	for sym in $(nm -g --defined-only "$o" |
		awk '$2 ~ /^[TDBR]$/ && $3 !~ /^__/ { print $3 }'); do
		ok=0
		for p in $prefixes; do
			case $sym in "$p"*) ok=1 ;; esac
		done
		[ "$sym" = "$file" ] && ok=1
		if [ $ok = 0 ]; then
			echo "lib/$file: exports $sym, whose prefix is not the file's"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "names: every exported symbol names its file"
exit $bad
