#!/bin/sh
# Installs what `make cross ARCH=$1` needs: Debian's cross toolchain, the
# libraries of the target architecture (multiarch) and qemu-user to run
# the result. The target architecture is added first (as root); then
# tests/deps.sh installs what is missing, or says what to install.
arch=$1
case $arch in
arm64|armhf) ;;
*) echo "edgestream: ARCH must be arm64 or armhf, not '$arch'" >&2; exit 2 ;;
esac
# binfmt-support and qemu-user-binfmt: the kernel runs an ARM program that
# another starts (a --config reload's --check) under qemu by itself.
pkgs="crossbuild-essential-$arch qemu-user qemu-user-binfmt binfmt-support"
# The target's -dev packages: the Makefile's BUILD_PKGS that are libraries
# (es-infer's Arm NN too: its TFLite backend is built when the parser is
# there, and the CpuRef backend runs the models in the tests).
for l in libjansson-dev libcsv-dev libmosquitto-dev librdkafka-dev \
	libmodbus-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev \
	libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22; do
	pkgs="$pkgs $l:$arch"
done
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	if [ "$(id -u)" != 0 ]; then
		echo "edgestream: first: sudo dpkg --add-architecture $arch && sudo apt-get update" >&2
		exit 1
	fi
	dpkg --add-architecture "$arch" && apt-get update -qq ||
		{ echo "edgestream: could not add the $arch architecture" >&2; exit 1; }
fi
PKGS="$pkgs" sh "$(dirname "$0")/deps.sh" || exit 1
# binfmt_misc: mounted (a container or a VM may not have it) and qemu's
# entry for the architecture enabled.
qemu=qemu-arm
[ "$arch" = arm64 ] && qemu=qemu-aarch64
[ -e /proc/sys/fs/binfmt_misc/$qemu ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "edgestream: first, as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable $qemu" >&2
	exit 1
fi
[ -e /proc/sys/fs/binfmt_misc/register ] ||
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable $qemu 2> /dev/null
[ -e /proc/sys/fs/binfmt_misc/$qemu ] ||
	{ echo "edgestream: could not register $qemu with binfmt_misc" >&2; exit 1; }
