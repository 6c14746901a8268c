#!/usr/bin/env bash
# Build DPDK's l3fwd sample from Debian's dpdk-doc examples in DIR (a
# temporary folder: nothing of it goes into the repository), with the bench's
# patch, and print the binary's path.
#
#   scripts/bench/build-l3fwd.sh DIR
#
# The patch (docs/BENCH.md): l3fwd asks for RTE_ETH_RX_OFFLOAD_CHECKSUM on
# every port and queue, and the pcap PMD offers no offload at all, so
# rte_eth_dev_configure fails with "requested Rx offloads 0xe doesn't match Rx
# offloads capabilities 0x0". Two lines mask the requested offloads by
# dev_info.rx_offload_capa, as l3fwd already does for its RSS hash functions;
# on a NIC with checksum offload nothing changes. A third line raises the
# IPv4 FIB's max_routes (--lookup=fib) from 2^16 to 2^19 for the full-table
# traffic's 500,000 routes; the LPM rows do not use it.
set -euo pipefail

dir=${1:?usage: build-l3fwd.sh DIR}
src=""
for d in /usr/share/dpdk/examples /usr/share/doc/dpdk/examples /usr/share/doc/dpdk-doc/examples; do
	if [[ -f $d/l3fwd/main.c && -d $d/common ]]; then
		src=$d
		break
	fi
done
[[ -n $src ]] || { echo "build-l3fwd: l3fwd source not found (is dpdk-doc installed?)" >&2; exit 1; }

rm -rf "$dir/l3fwd" "$dir/common"
cp -r "$src/l3fwd" "$src/common" "$dir/" # l3fwd includes ../common
cd "$dir/l3fwd"
sed -i \
	-e 's/^\([[:space:]]*\)local_port_conf\.rx_adv_conf\.rss_conf\.rss_hf &=$/\1local_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa; \/* steer bench *\/\n&/' \
	-e 's/rxq_conf\.offloads = port_conf\.rxmode\.offloads;/rxq_conf.offloads = port_conf.rxmode.offloads \& dev_info.rx_offload_capa; \/* steer bench *\//' \
	main.c
n=$(grep -c 'steer bench' main.c || true)
if ((n != 2)); then
	echo "build-l3fwd: the patch applied to $n of 2 places in $src/l3fwd/main.c (a DPDK other than 22.11?)" >&2
	exit 1
fi
# full-table: l3fwd's rte_fib holds 2^16 IPv4 routes; the table has 500,000.
# 2^19 holds them (its 2^15 tbl8 groups hold the table's ~17,500 /24s with
# longer prefixes; cmd/steer-bench checks both when it makes the table).
sed -i -e 's/^\([[:space:]]*config_ipv4\.max_routes = \)(1 << 16);$/\1(1 << 19); \/* steer bench: full-table *\//' l3fwd_fib.c
if ! grep -q '^[[:space:]]*config_ipv4\.max_routes = (1 << 19); /\* steer bench' l3fwd_fib.c ||
	! grep -q '^[[:space:]]*config_ipv4\.dir24_8\.num_tbl8 = (1 << 15);$' l3fwd_fib.c; then
	echo "build-l3fwd: the max_routes patch did not apply to $src/l3fwd/l3fwd_fib.c, or num_tbl8 is not 1 << 15 (a DPDK other than 22.11?)" >&2
	exit 1
fi
if ! make -j"$(nproc)" >build.log 2>&1; then
	tail -n 30 build.log >&2
	echo "build-l3fwd: make failed (log above; pkg-config libdpdk: $(pkg-config --modversion libdpdk 2>&1))" >&2
	exit 1
fi
echo "$dir/l3fwd/build/l3fwd"
