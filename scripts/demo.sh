#!/usr/bin/env bash
# steer demo: generate traffic into pcap files, route it through steer on two
# net_pcap ports (dpdk-config/demo.yaml), and summarise what happened.
# Run from the repository root after `make build` (or via `make demo`).
set -euo pipefail

STEER=${STEER_BIN:-build/steer}
TRAFGEN=${TRAFGEN_BIN:-build/steer-trafgen}
CONFIG=dpdk-config/demo.yaml
OUT=build/demo
STATS=$OUT/stats.json

for b in "$STEER" "$TRAFGEN"; do
	[[ -x $b ]] || { echo "demo: $b not found: run 'make build' from the repository root" >&2; exit 1; }
done
[[ -f $CONFIG ]] || { echo "demo: $CONFIG not found: run from the repository root" >&2; exit 1; }

# The pcap PMD's MAC is 02:70:63:61:70:0N for port N: lan is port 0, wan 1.
LAN_MAC=02:70:63:61:70:00
WAN_MAC=02:70:63:61:70:01
HOST_MAC=02:00:00:00:00:02     # 10.0.0.2, a host on the lan
UPSTREAM_MAC=02:00:00:00:00:03 # 203.0.113.2, the next hop on the wan

rm -rf "$OUT"
mkdir -p "$OUT"

# Two demos on one host (two users, two checkouts) must not share EAL's
# file prefix or the API's port: this run gets its own of each, unless the
# caller chose them.
export STEER_EAL_FILE_PREFIX=${STEER_EAL_FILE_PREFIX:-steer-demo-$$}
if [[ -z ${STEER_METRICS_LISTEN:-} ]]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export STEER_METRICS_LISTEN=127.0.0.1:$port
fi

echo "== generating traffic"
# lan -> wan: 16 flows x 5000 minimum-size UDP packets from 10.0.0.2 to
# 198.51.100.1-16, routed via 203.0.113.2.
"$TRAFGEN" --out $OUT/lan-in.pcap --src-mac $HOST_MAC --dst-mac $LAN_MAC \
	--src 10.0.0.2 --dst 198.51.100.0/24 --flows 16 --packets 5000 --size 64 --proto udp
# wan -> lan: return traffic to 10.0.0.2, TCP, IMIX sizes, flows 1000-1015.
"$TRAFGEN" --out $OUT/wan-in.pcap --src-mac $UPSTREAM_MAC --dst-mac $WAN_MAC \
	--src 198.51.100.0/24 --dst 10.0.0.2 --flows 16 --packets 2000 --mix imix --proto tcp --first-flow 1000
# ... plus a few packets the router must not forward, one class at a time.
extra() { "$TRAFGEN" --out $OUT/wan-in.pcap --src-mac $UPSTREAM_MAC --dst-mac $WAN_MAC --append -q "$@"; }
extra --src 198.51.100.5 --dst 10.0.0.2 --packets 5 --malform bad_checksum  # dropped: bad_checksum
extra --src 127.0.0.1 --dst 10.0.0.2 --packets 2                            # dropped: martian_source
extra --src 198.51.100.5 --dst 10.0.0.2 --packets 4 --ttl 1                 # slow path: ttl_exceeded
extra --src 198.51.100.5 --dst 192.0.2.1 --packets 3                        # slow path: no_route
extra --src 198.51.100.5 --dst 10.0.0.99 --packets 3                        # slow path: unresolved (no neighbour)
extra --src 198.51.100.5 --dst 203.0.113.1 --packets 2 --proto icmp        # slow path: local (ping the router)
extra --src 203.0.113.2 --dst 203.0.113.1 --malform arp                     # slow path: arp

echo "== running steer (stops after 1 s without traffic; file prefix $STEER_EAL_FILE_PREFIX, API on $STEER_METRICS_LISTEN)"
start=$(date +%s%N)
if ! "$STEER" run --config $CONFIG --exit-on-idle 1s --stats-file $STATS >$OUT/steer.log 2>&1; then
	echo "demo: steer failed; its output:" >&2
	cat $OUT/steer.log >&2
	exit 1
fi
ms=$((($(date +%s%N) - start) / 1000000))
echo "steer ran for ${ms} ms (log: $OUT/steer.log)"

echo "== summary ($STATS)"
if command -v jq >/dev/null 2>&1; then
	jq -r '
		"packets in (all lcores): \(.totals.rx_packets)",
		"forwarded:               \(.totals.tx_packets)",
		(.ports[] | "  port \(.name) (\(.mac)): received \(.rx_packets), transmitted \(.tx_packets)"),
		"dropped:   \([.totals.dropped[]] | add)",
		(.totals.dropped | to_entries[] | select(.value > 0) | "  \(.key): \(.value)"),
		"slow path: \([.totals.slowpath[]] | add)",
		(.totals.slowpath | to_entries[] | select(.value > 0) | "  \(.key): \(.value)"),
		"control thread answered: \(.slow_path.arp.replies_sent) ARP replies, \(.slow_path.icmp.echo_replies) echo replies, \([.slow_path.icmp.errors[]] | add) ICMP errors (\(.slow_path.icmp.errors | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", "))); sent \(.slow_path.arp.requests_sent) ARP requests, \(.slow_path.arp.gratuitous_sent) gratuitous ARPs",
		"mbufs in use after close: \(.mempool.in_use_after_close) of \(.mempool.size)"
	' $STATS
else
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
t = s["totals"]
print("packets in (all lcores): %d" % t["rx_packets"])
print("forwarded:               %d" % t["tx_packets"])
for p in s["ports"]:
    print("  port %s (%s): received %d, transmitted %d" % (p["name"], p["mac"], p["rx_packets"], p["tx_packets"]))
for title, key in (("dropped:  ", "dropped"), ("slow path:", "slowpath")):
    print("%s %d" % (title, sum(t[key].values())))
    for k, v in sorted(t[key].items()):
        if v:
            print("  %s: %d" % (k, v))
sp = s["slow_path"]
errs = sp["icmp"]["errors"]
print("control thread answered: %d ARP replies, %d echo replies, %d ICMP errors (%s); sent %d ARP requests, %d gratuitous ARPs" % (
    sp["arp"]["replies_sent"], sp["icmp"]["echo_replies"], sum(errs.values()),
    ", ".join("%s %d" % (k, v) for k, v in sorted(errs.items()) if v), sp["arp"]["requests_sent"], sp["arp"]["gratuitous_sent"]))
m = s["mempool"]
print("mbufs in use after close: %d of %d" % (m["in_use_after_close"], m["size"]))
' $STATS
fi
echo "output: $OUT/lan-out.pcap, $OUT/wan-out.pcap (e.g. tcpdump -nr $OUT/wan-out.pcap | head)"
