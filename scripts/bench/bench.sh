#!/usr/bin/env bash
# steer benchmark: `make bench` runs this after `make build`.
#
#   scripts/bench/bench.sh
#
# 1. installs what the baselines need (dpdk-dev: dpdk-testpmd; dpdk-doc: the
#    l3fwd source) and the fairness phase (iproute2, iputils-ping, taskset from
#    util-linux, sysctl from procps), quickly when it is all there;
# 2. reserves hugepages (scripts/hugepages.sh: 512 x 2 MiB, 768 with the
#    full-table traffic), or falls back to --no-huge with a loud note;
# 3. builds DPDK's l3fwd in a temporary folder with a three-line patch (RX
#    offloads masked by what the device reports: the pcap PMD has none; the
#    FIB's max_routes raised for full-table's 500,000 routes);
# 4. runs build/steer-bench (cmd/steer-bench, built by `make build`): traffic
#    pcaps, every row interleaved and repeated, the route API, slow-path and
#    fairness phases, one table on stdout and build/bench/results.json.
#
# Environment (all optional):
#   BENCH_SECONDS=5    measured window per run, after the warm-up
#   BENCH_WARMUP=2     seconds of forwarding before the window opens
#   BENCH_REPEAT=3     runs per (traffic, row); the table shows median and min-max
#   BENCH_TRAFFIC=...  comma list of traffic ids (udp64-1,udp64-16,udp64-1024,imix-1024,full-table)
#   BENCH_ROWS=...     comma list of row ids (testpmd-1,l3fwd-1,steer-rtc,steer-busy,steer-dist,
#                      steer-handoff,testpmd-2,l3fwd-2,steer-2q)
#   BENCH_GO=0         skip the control-plane `go test -bench` figures
#   BENCH_CHURN=0      skip the route API measurement (routes added and deleted
#                      through steer's HTTP API on 127.0.0.1 while it forwards)
#   BENCH_FLOOD=0      skip the slow-path floods (1 frame in 4 an ARP request or a
#                      TTL-1 packet: what they cost the forwarding lcore)
#   BENCH_FAIRNESS=0   skip the fairness phase (~2.5 minutes: steer's lcore and a
#                      CPU-bound process share CPU 1, per poll mode busy, adaptive,
#                      interrupt, at idle, low, medium and full load on two net_tap
#                      ports between two network namespaces; the issue's targets)
#   BENCH_MAX_OTHER_LOAD=0.3  CPUs other processes may use: before a run the bench
#                      waits for that (at most BENCH_WAIT_OTHERS=10 s), and a window
#                      in which they took more is measured again (BENCH_RETRIES=2 times)
#   BENCH_HUGE=0       do not touch hugepages: run everything with --no-huge
#   BENCH_STEER_BIN=A,B  A/B: every steer row once per steer binary, interleaved
#                      (rows steer-rtc@A, steer-rtc@B, ...); default build/steer
#
# Needs root (DPDK, apt-get, hugepages). Only one bench runs at a time (a lock),
# and it runs one DPDK process at a time. Ctrl-C stops the running program and
# removes every file the bench made outside build/bench.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "DPDK needs root: run as root (sudo make bench)"
for b in build/steer build/steer-bench; do
	[[ -x $b ]] || die "$b missing: run 'make build' first (make bench does)"
done

# One bench at a time: two would share the CPUs and each other's figures.
LOCK=/run/lock/steer-bench.lock
exec 9>"$LOCK"
flock -n 9 || die "another bench is running (it holds $LOCK); wait for it to finish"

TMP=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages ---------------------------------------------------------------
# scripts/deps.sh (run by `make build`) installs DPDK, its headers and the build
# tools; the bench adds testpmd and the examples' source, and what the fairness
# phase runs (ip and its namespaces, ping, taskset, sysctl).
PKGS=(dpdk-dev dpdk-doc libdpdk-dev pkg-config gcc make iproute2 iputils-ping util-linux procps)
missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null |
	awk '$2 == "ii" { print $1 }' || true)
for p in "${PKGS[@]}"; do
	grep -qxF -- "$p" <<<"$installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	out=$(apt-get update -qq 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "apt-get install ${missing[*]} failed"
	}
else
	log "packages present: ${PKGS[*]}"
fi
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not on PATH after installing dpdk-dev"

# --- 2. hugepages --------------------------------------------------------------
# Every program gets -m 512, on full-table -m 1024 (its FIB and the mbufs its
# frames hold): one program runs at a time, so the largest -m and some room.
PAGES=512
if [[ -z ${BENCH_TRAFFIC:-} || ,${BENCH_TRAFFIC}, == *,full-table,* ]]; then
	PAGES=768
fi
HUGE=1
if [[ ${BENCH_HUGE:-1} == 0 ]]; then
	HUGE=0
	HUGE_WHY="BENCH_HUGE=0"
elif ! out=$(bash scripts/hugepages.sh "$PAGES" 2>&1); then
	HUGE=0
	HUGE_WHY=$(grep -m1 'error' <<<"$out" || echo "scripts/hugepages.sh failed")
	printf '%s\n' "$out" >&2
fi
if ((HUGE == 0)); then
	cat >&2 <<EOF
bench: ###########################################################################
bench: ## NO HUGEPAGES ($HUGE_WHY)
bench: ## every program runs with --no-huge: expect about HALF the packet rates.
bench: ## Fix: run scripts/hugepages.sh as root on the host, then make bench again.
bench: ###########################################################################
EOF
else
	log "hugepages: $(awk '/HugePages_Free/ { print $2 }' /proc/meminfo) x 2 MiB free"
fi

# --- 3. l3fwd, built in a temporary folder ---------------------------------------
TMP=$(mktemp -d /tmp/steer-bench.XXXXXX)
L3FWD=$(bash scripts/bench/build-l3fwd.sh "$TMP") || die "building l3fwd failed"

# --- 4. run ----------------------------------------------------------------------
export BENCH_HUGE_OK=$HUGE BENCH_L3FWD=$L3FWD BENCH_ROOT=$ROOT
build/steer-bench
