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
pkgs="crossbuild-essential-$arch qemu-user"
for l in libjansson-dev libcsv-dev libmosquitto-dev librdkafka-dev; do
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
PKGS="$pkgs" exec sh "$(dirname "$0")/deps.sh"
