#!/bin/sh
# Makes a directory that looks like a build (es-*, unit/*, examples/...)
# whose programs are wrappers running the cross-built ones under qemu-user,
# so that tests/run drives arm binaries unchanged. QEMU_LD_PREFIX names
# the target's libraries for qemu itself and for the programs they start
# (a --config reload re-runs the program with --check), which the kernel
# hands to qemu through binfmt_misc (tests/cross-deps.sh registers it).
# Usage: qemu-bin.sh REALBIN OUTDIR QEMU SYSROOT
real=$1 out=$2 qemu=$3 sysroot=$4
wrap() {
	mkdir -p "$(dirname "$2")"
	cat > "$2" <<EOW
#!/bin/sh
QEMU_LD_PREFIX=$sysroot exec $qemu "$1" "\$@"
EOW
	chmod +x "$2"
}
for p in "$real"/es-* "$real"/unit/* "$real"/examples/screening/gen-screening; do
	[ -f "$p" ] && [ -x "$p" ] || continue
	wrap "$p" "$out/${p#"$real"/}"
done
