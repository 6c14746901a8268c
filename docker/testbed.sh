#!/usr/bin/env bash
# steer-testbed: the pcap test bed of the container image (installed as
# /usr/local/bin/steer-testbed). The same traffic as scripts/demo.sh, on the
# paths of dpdk-config/docker.yaml.
#
#   steer-testbed gen     write the input pcaps into $STEER_DATA and exit
#                         (compose runs this before the long-running steer service)
#   steer-testbed demo    gen, then run steer until 1 s without traffic, print its
#                         summary, and check that packets were forwarded both ways
#
# Environment: STEER_DATA (/var/lib/steer), STEER_CONFIG (/etc/steer/docker.yaml),
# STEER_BIN (steer), TRAFGEN_BIN (steer-trafgen); STEER_* config overrides
# (STEER_LOG_LEVEL=debug, ...) pass through to steer.
set -euo pipefail

DATA=${STEER_DATA:-/var/lib/steer}
CONFIG=${STEER_CONFIG:-/etc/steer/docker.yaml}
STEER=${STEER_BIN:-steer}
TRAFGEN=${TRAFGEN_BIN:-steer-trafgen}

# The pcap PMD's MAC is 02:70:63:61:70:0N for port N: lan is port 0, wan 1.
LAN_MAC=02:70:63:61:70:00
WAN_MAC=02:70:63:61:70:01
HOST_MAC=02:00:00:00:00:02     # 10.0.0.2, a host on the lan (static neighbour)
UPSTREAM_MAC=02:00:00:00:00:03 # 203.0.113.2, the next hop on the wan (static neighbour)

say() { printf 'steer-testbed: %s\n' "$*"; }
die() {
	printf 'steer-testbed: error: %s\n' "$*" >&2
	exit 1
}

gen() {
	mkdir -p "$DATA" || die "cannot create $DATA (mount a writable volume there)"
	rm -f "$DATA"/lan-out.pcap "$DATA"/wan-out.pcap "$DATA"/stats.json
	# lan -> wan: 16 UDP flows of 64-byte packets to 198.51.100.1-16, via 203.0.113.2.
	"$TRAFGEN" -q --out "$DATA/lan-in.pcap" --src-mac $HOST_MAC --dst-mac $LAN_MAC \
		--src 10.0.0.2 --dst 198.51.100.0/24 --flows 16 --packets 2000 --size 64 --proto udp
	# wan -> lan: return traffic, TCP, IMIX sizes, flow ids 1000-1015.
	"$TRAFGEN" -q --out "$DATA/wan-in.pcap" --src-mac $UPSTREAM_MAC --dst-mac $WAN_MAC \
		--src 198.51.100.0/24 --dst 10.0.0.2 --flows 16 --packets 500 --mix imix --proto tcp --first-flow 1000
	# ... and a few the router must not forward.
	"$TRAFGEN" -q --out "$DATA/wan-in.pcap" --append --src-mac $UPSTREAM_MAC --dst-mac $WAN_MAC \
		--src 198.51.100.5 --dst 10.0.0.2 --packets 5 --malform bad_checksum
	"$TRAFGEN" -q --out "$DATA/wan-in.pcap" --append --src-mac $UPSTREAM_MAC --dst-mac $WAN_MAC \
		--src 198.51.100.5 --dst 10.0.0.2 --packets 4 --ttl 1
	say "wrote $DATA/lan-in.pcap and $DATA/wan-in.pcap"
}

# pcap_packets FILE: packets in a pcap file (24-byte file header, 16-byte
# record headers with the captured length at offset 8).
pcap_packets() {
	python3 - "$1" <<'EOF' 2>/dev/null || echo 0
import struct, sys
d = open(sys.argv[1], "rb").read()
end = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
i, n = 24, 0
while i + 16 <= len(d):
    i += 16 + struct.unpack(end + "I", d[i + 8:i + 12])[0]
    n += 1
print(n)
EOF
}

demo() {
	gen
	say "running $STEER run --config $CONFIG (stops after 1 s without traffic)"
	"$STEER" run --config "$CONFIG" --exit-on-idle 1s --stats-file "$DATA/stats.json" ||
		die "steer exited with status $?"
	local fwd_wan fwd_lan
	fwd_wan=$(pcap_packets "$DATA/wan-out.pcap")
	fwd_lan=$(pcap_packets "$DATA/lan-out.pcap")
	say "forwarded lan->wan: $fwd_wan packets ($DATA/wan-out.pcap), wan->lan: $fwd_lan ($DATA/lan-out.pcap)"
	say "counters: $DATA/stats.json"
	((fwd_wan > 0 && fwd_lan > 0)) || die "nothing forwarded in at least one direction"
	say "ok"
}

case ${1:-demo} in
gen) gen ;;
demo) demo ;;
-h | --help) sed -n '6,10s/^# \{0,1\}//p' "$0" ;;
*)
	sed -n '6,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
