#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running kubelite demo, in one command run from the repository, as
# root (a minimal Debian has no sudo, and root needs none):
#   scripts/setup.sh
# Run as another user, it re-runs itself through sudo (and says to run it as root when there is no sudo).
# Checks Node.js (>= 20), installs the run-time packages, makes Docker answer, installs and builds
# kubelite, puts `kubelite` on the PATH, builds the local images, and starts the demo (scripts/demo.sh).
# Safe to run again: every step skips what is already done.
#
# Environment: KUBELITE_BIN_DIR where the `kubelite` command goes [/usr/local/bin];
#              KUBELITE_SKIP_DEMO=1 stops before starting the demo.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
bin_dir=${KUBELITE_BIN_DIR:-/usr/local/bin}

step() { printf '\n==> %s\n' "$*"; }
die() {
	printf 'setup: %s\n' "$*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "run this as root (this system has no sudo): it installs packages and starts Docker"
	exec sudo -E bash "$repo/scripts/setup.sh" "$@"
fi

step "Node.js"
node_major=0
if command -v node >/dev/null 2>&1; then
	node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
fi
if [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
	found=$(command -v node >/dev/null 2>&1 && node --version 2>/dev/null || echo "none")
	cat >&2 <<EOF
setup: kubelite needs Node.js 20 or newer with npm (found: $found).
Debian 12's own nodejs package is version 18. Install Node.js 20 or newer, for example from NodeSource:
    curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
    apt-get install -y nodejs
or with nvm (https://github.com/nvm-sh/nvm), then run scripts/setup.sh again.
EOF
	exit 1
fi
echo "node $(node --version), npm $(npm --version)"

step "Debian packages"
packages=(docker.io iptables nftables conntrack busybox-static iproute2 ca-certificates curl dnsutils openssl haproxy chromium etcd-server)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	echo "all present: ${packages[*]}"
fi

step "Docker engine"
"$repo/scripts/ensure-docker.sh"
docker info --format 'Docker {{.ServerVersion}} answers ({{.Driver}}, cgroup {{.CgroupVersion}})'

step "npm ci"
npm ci --no-audit --no-fund

step "npm run build"
npm run build

step "kubelite on the PATH"
cli="$repo/dist/cli/main.js"
[ -f "$cli" ] || die "$cli is missing after the build"
mkdir -p "$bin_dir"
# A small wrapper rather than a symlink or `npm link`: it names the node found now, so it works under
# sudo's PATH and with nvm; bin/kubelite holds the node flags the server runs with.
{
	echo '#!/bin/sh'
	echo "# written by scripts/setup.sh of $repo"
	printf 'KUBELITE_NODE=%q exec %q "$@"\n' "$(command -v node)" "$repo/bin/kubelite"
} >"$bin_dir/kubelite.tmp"
chmod 755 "$bin_dir/kubelite.tmp"
mv -f "$bin_dir/kubelite.tmp" "$bin_dir/kubelite"
echo "$bin_dir/kubelite -> $repo/bin/kubelite"

step "images"
"$bin_dir/kubelite" images build

if [ "${KUBELITE_SKIP_DEMO:-}" = 1 ]; then
	step "done (KUBELITE_SKIP_DEMO=1: demo not started)"
	exit 0
fi
step "demo"
"$repo/scripts/demo.sh"
