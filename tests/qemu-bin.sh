#!/bin/sh
# Makes a directory that looks like a build (es-*, unit/*, examples/...)
# whose programs are wrappers running the cross-built ones under qemu-user,
# so that tests/run drives arm binaries unchanged (this machine has no
# binfmt_misc registration to do it by itself).
# Usage: qemu-bin.sh REALBIN OUTDIR QEMU SYSROOT
real=$1 out=$2 qemu=$3 sysroot=$4
wrap() {
	mkdir -p "$(dirname "$2")"
	cat > "$2" <<EOW
#!/bin/sh
exec $qemu -L $sysroot "$1" "\$@"
EOW
	chmod +x "$2"
}
for p in "$real"/es-* "$real"/unit/* "$real"/examples/screening/gen-screening; do
	[ -f "$p" ] && [ -x "$p" ] || continue
	wrap "$p" "$out/${p#"$real"/}"
done
