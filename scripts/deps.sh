#!/usr/bin/env bash
# Install what steer's build and tests need on Debian 12 (bookworm), then
# fetch the Go modules.
#
#   scripts/deps.sh
#
# Idempotent and quick when everything is present: one dpkg-query, no apt-get.
# apt-get runs (update + install) only when a package is missing, which needs
# root; as another user the script succeeds only if nothing is missing.
# Go is not installed here: it must be on PATH or in /usr/local/go/bin.
set -euo pipefail

cd "$(dirname "$0")/.."

log()  { printf 'deps: %s\n' "$*"; }
die()  { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

# The DPDK runtime (tools, EAL, PMD plugins) and its headers + pkg-config file.
# libdpdk-dev depends on every librte-* library and driver; the three plugins
# steer cannot start without are named so a partial install is caught too
# (without mempool-ring no mempool can be created; pcap and tap are the
# virtual ports of the tests and demos).
PKGS=(
	dpdk libdpdk-dev
	librte-mempool-ring23 librte-net-pcap23 librte-net-tap23
	pkg-config gcc make libc6-dev
	libpcap-dev
	iproute2 tcpdump jq python3
	iputils-ping iperf3 # the tap end-to-end tests ping and iperf through steer
	traceroute procps   # ... traceroute through it; sysctl in their namespaces
	ca-certificates # the Go module proxy is reached over HTTPS
	clang libclang-rt-14-dev # libFuzzer + ASan/UBSan for the C fast path's fuzz target (make fuzz)
)

# Minimum Go: 1.22, or the go.mod `go` line when that is newer (an older
# toolchain would try to download a newer one; we never do that here).
MIN_GO=1.22

missing=()
while read -r pkg; do
	missing+=("$pkg")
done < <(
	# One dpkg-query for all packages; a package dpkg has never heard of
	# prints nothing on stdout (only an error on stderr), so diff the lists.
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null |
		awk '$2 == "ii" { print $1 }' || true)
	for p in "${PKGS[@]}"; do
		grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
	done
)

if ((${#missing[@]} == 0)); then
	log "all ${#PKGS[@]} Debian packages present"
else
	log "missing: ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		die "packages missing (${missing[*]}); run as root: sudo $0"
	fi
	[[ -r /etc/debian_version ]] || die "not a Debian system; install the equivalent of: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# apt's chatter is shown only when a step fails.
	log "apt-get update"
	out=$(apt-get update -qq 2>&1) || {
		printf '%s\n' "$out" >&2
		die "apt-get update failed (network? /etc/apt/sources.list?)"
	}
	log "apt-get install ${missing[*]}"
	out=$(apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "apt-get install ${missing[*]} failed"
	}
	log "installed: ${missing[*]}"
fi

# --- Go ----------------------------------------------------------------------

if ! command -v go >/dev/null 2>&1; then
	if [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	else
		die "Go >= $MIN_GO not found on PATH nor in /usr/local/go/bin.
  Install it from https://go.dev/dl/ into /usr/local/go (tar -C /usr/local -xzf go*.linux-amd64.tar.gz),
  then re-run $0. This script does not download Go."
	fi
fi

# version_ge A B: is dotted version A >= B?
version_ge() {
	[[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

gover=$(go env GOVERSION 2>/dev/null || true) # "go1.26.8", maybe with a suffix
gover=${gover#go}
gover=${gover%%[!0-9.]*}
[[ -n $gover ]] || die "cannot tell the version of $(command -v go)"

modgo=$(awk '$1 == "go" { print $2; exit }' go.mod 2>/dev/null || true)
need=$MIN_GO
if [[ -n $modgo ]] && version_ge "$modgo" "$need"; then
	need=$modgo
fi
if ! version_ge "$gover" "$need"; then
	die "Go $gover at $(command -v go) is too old: steer needs Go >= $need (go.mod says ${modgo:-nothing}).
  Install a newer Go from https://go.dev/dl/ into /usr/local/go and re-run $0."
fi
log "go $gover at $(command -v go) (needs >= $need)"

# GOTOOLCHAIN=local: never let the go command fetch a toolchain behind our back.
# Quiet when it works (and near-instant when the module cache is warm).
if ! out=$(GOTOOLCHAIN=local go mod download 2>&1); then
	printf '%s\n' "$out" >&2
	die "go mod download failed (no network to the module proxy? GOPROXY=$(go env GOPROXY))"
fi
log "Go modules downloaded"

# --- DPDK ----------------------------------------------------------------------

dpdkver=$(pkg-config --modversion libdpdk 2>/dev/null) ||
	die "pkg-config cannot find libdpdk (is libdpdk-dev installed? PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-})"
case $dpdkver in
22.11 | 22.11.*) log "DPDK $dpdkver (pkg-config libdpdk): ok" ;;
*) die "DPDK $dpdkver found by pkg-config, steer is written for 22.11.x (Debian 12's libdpdk-dev)" ;;
esac

log "everything present"
