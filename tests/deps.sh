#!/bin/sh
# Installs the Debian packages in $PKGS that are missing (when root), or
# says exactly which ones to install.
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "edgestream: missing Debian packages:$missing" >&2
	echo "edgestream: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "edgestream: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Try without a fresh package list first: it is slow and often not needed.
apt-get install -y -qq $missing >/dev/null 2>&1 ||
	{ apt-get update -qq && apt-get install -y -qq $missing; } ||
	{ echo "edgestream: could not install$missing" >&2; exit 1; }
