package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/inet"
)

type kv struct {
	path string
	val  any
}

func s(path string, val any) kv { return kv{path, val} }

// del marks a key for deletion in a ruleCase.
var del any = nil

// rxList is the rx entries for queues from..to-1 of port.
func rxList(port string, from, to int) []any {
	var l []any
	for q := from; q < to; q++ {
		l = append(l, map[string]any{"port": port, "queue": q})
	}
	return l
}

type ruleCase struct {
	name  string
	sets  []kv
	field string // the path the problem must name
	msg   string // a substring of its message
	value string // the value it must show ("" = not checked)
	n     int    // exact number of problems; 0 means 1, -1 means any
}

// TestRules breaks the valid base config one way at a time and checks the
// problem names the exact field, the bad value and nothing else.
func TestRules(t *testing.T) {
	many := func(n int) []any {
		var ps []any
		for i := 0; i < n; i++ {
			ps = append(ps, map[string]any{
				"name": fmt.Sprintf("p%d", i), "device": fmt.Sprintf("net_null%d", i),
				"addresses": []any{fmt.Sprintf("10.%d.0.1/24", 100+i)},
			})
		}
		return ps
	}
	cases := []ruleCase{
		// eal.lcores
		{name: "lcores missing", sets: []kv{s("eal.lcores", del)}, field: "eal.lcores", msg: "required"},
		{name: "lcores empty", sets: []kv{s("eal.lcores", "")}, field: "eal.lcores", msg: "required"},
		{name: "lcores garbage", sets: []kv{s("eal.lcores", "0-3-5")}, field: "eal.lcores", msg: "not a valid lcore number", value: "0-3-5"},
		{name: "lcores reversed range", sets: []kv{s("eal.lcores", "3-0")}, field: "eal.lcores", msg: "reversed", value: "3-0"},
		{name: "lcores out of range", sets: []kv{s("eal.lcores", "0-128")}, field: "eal.lcores", msg: "out of range 0..127", value: "0-128"},
		{name: "lcores empty element", sets: []kv{s("eal.lcores", "0,,3")}, field: "eal.lcores", msg: "empty lcore number"},
		{name: "lcores spaces", sets: []kv{s("eal.lcores", "0, 1")}, field: "eal.lcores", msg: "not a valid lcore number"},
		{name: "lcores map lcore twice", sets: []kv{s("eal.lcores", "0@0,1@1,2@1,3@0,1@2")}, field: "eal.lcores", msg: "lcore 1 is mapped twice"},
		{name: "lcores map unbalanced", sets: []kv{s("eal.lcores", "(0-3@0")}, field: "eal.lcores", msg: "unbalanced"},
		{name: "lcores map bad cpu", sets: []kv{s("eal.lcores", "0-3@x")}, field: "eal.lcores", msg: "not a valid cpu number"},
		{name: "lcores map cpu out of range", sets: []kv{s("eal.lcores", "0-3@1024")}, field: "eal.lcores", msg: "cpu 1024 is out of range"},
		{name: "lcores map nested", sets: []kv{s("eal.lcores", "((0-3))@0")}, field: "eal.lcores", msg: "nested"},
		{name: "lcores map two at", sets: []kv{s("eal.lcores", "0-3@1@2")}, field: "eal.lcores", msg: "bad cpu set"},
		// eal.main_lcore
		{name: "main lcore not in lcores", sets: []kv{s("eal.main_lcore", 5)}, field: "eal.main_lcore", msg: `not in eal.lcores "0-3"`, value: "5"},
		{name: "main lcore negative", sets: []kv{s("eal.main_lcore", -1)}, field: "eal.main_lcore", msg: "out of range", value: "-1"},
		// eal.memory_mb
		{name: "memory zero", sets: []kv{s("eal.memory_mb", 0)}, field: "eal.memory_mb", msg: "1..65536", value: "0"},
		{name: "memory too big", sets: []kv{s("eal.memory_mb", 65537)}, field: "eal.memory_mb", msg: "1..65536", value: "65537"},
		{name: "memory too small without hugepages", sets: []kv{s("eal.memory_mb", 63)}, field: "eal.memory_mb", msg: "at least 64", value: "63"},
		// eal.file_prefix
		{name: "file prefix empty", sets: []kv{s("eal.file_prefix", "")}, field: "eal.file_prefix", msg: "required"},
		{name: "file prefix slash", sets: []kv{s("eal.file_prefix", "a/b")}, field: "eal.file_prefix", msg: "only letters", value: "a/b"},
		{name: "file prefix too long", sets: []kv{s("eal.file_prefix", strings.Repeat("x", 33))}, field: "eal.file_prefix", msg: "32"},
		// eal.args
		{name: "arg empty", sets: []kv{s("eal.args", []any{"--log-level=8", ""})}, field: "eal.args[1]", msg: "empty"},
		{name: "arg -l", sets: []kv{s("eal.args", []any{"-l", "0-1"})}, field: "eal.args[0]", msg: "set by steer from eal.lcores", value: "-l"},
		{name: "arg -l glued", sets: []kv{s("eal.args", []any{"-l0-1"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg --lcores", sets: []kv{s("eal.args", []any{"--lcores=0@0"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg --main-lcore", sets: []kv{s("eal.args", []any{"--no-telemetry", "--main-lcore"})}, field: "eal.args[1]", msg: "set by steer"},
		{name: "arg --file-prefix", sets: []kv{s("eal.args", []any{"--file-prefix=x"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg --no-huge", sets: []kv{s("eal.args", []any{"--no-huge"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg -m glued", sets: []kv{s("eal.args", []any{"-m512"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg --vdev", sets: []kv{s("eal.args", []any{"--vdev=net_null0"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg -a", sets: []kv{s("eal.args", []any{"-a", "0000:04:00.0"})}, field: "eal.args[0]", msg: "set by steer"},
		{name: "arg --allow", sets: []kv{s("eal.args", []any{"--allow", "0000:04:00.0"})}, field: "eal.args[0]", msg: "set by steer"},

		// ports
		{name: "no ports", sets: []kv{s("ports", []any{}), s("lcores", []any{map[string]any{"lcore": 1, "worker": true}}), s("routes", del), s("neighbors", del)}, field: "ports", msg: "at least one port"},
		{name: "too many ports", sets: []kv{s("ports", many(33)), s("lcores", []any{map[string]any{"lcore": 1, "worker": true}}), s("routes", del), s("neighbors", del)}, field: "ports", msg: "at most 32", value: "33", n: -1},
		{name: "port name missing", sets: []kv{s("ports[1].name", del)}, field: "ports[1].name", msg: "required", n: -1},
		{name: "port name upper case", sets: []kv{s("ports[1].name", "Wan")}, field: "ports[1].name", msg: "must match", value: "Wan", n: -1},
		{name: "port name too long", sets: []kv{s("ports[1].name", "w2345678901234567")}, field: "ports[1].name", msg: "must match", n: -1},
		{name: "port name starts with digit", sets: []kv{s("ports[1].name", "0wan")}, field: "ports[1].name", msg: "must match", n: -1},
		{name: "port name duplicate", sets: []kv{s("ports[1].name", "lan")}, field: "ports[1].name", msg: "duplicate port name, already used by ports[0]", value: "lan", n: -1},
		{name: "device missing", sets: []kv{s("ports[1].device", del)}, field: "ports[1].device", msg: "required"},
		{name: "device neither pci nor vdev", sets: []kv{s("ports[1].device", "eth0")}, field: "ports[1].device", msg: "neither a PCI address", value: "eth0"},
		{name: "device bad pci function", sets: []kv{s("ports[0].device", "0000:03:00.8")}, field: "ports[0].device", msg: "neither a PCI address"},
		{name: "vdev without instance", sets: []kv{s("ports[1].device", "net_pcap,rx_pcap=in.pcap")}, field: "ports[1].device", msg: "net_<driver><instance>"},
		{name: "vdev bad devarg", sets: []kv{s("ports[1].device", "net_pcap0,,rx_pcap=in.pcap")}, field: "ports[1].device", msg: "bad vdev argument"},
		{name: "pci device twice (domain optional)", sets: []kv{s("ports[1].device", "03:00.0")}, field: "ports[1].device", msg: "already used by ports[0]"},
		{name: "vdev twice with other args", sets: []kv{s("ports[0].device", "net_pcap0,iface=x")}, field: "ports[1].device", msg: "net_pcap0 is already used by ports[0]"},
		{name: "rx queues too many", sets: []kv{s("ports[1].rx_queues", 65)}, field: "ports[1].rx_queues", msg: "1..64", value: "65"},
		{name: "rx queues negative", sets: []kv{s("ports[1].rx_queues", -1)}, field: "ports[1].rx_queues", msg: "1..64", value: "-1"},
		{name: "tx queues too many", sets: []kv{s("ports[0].tx_queues", 100)}, field: "ports[0].tx_queues", msg: "1..64", value: "100"},
		{name: "rx desc not power of two", sets: []kv{s("ports[0].rx_desc", 1000)}, field: "ports[0].rx_desc", msg: "power of two 64..4096", value: "1000"},
		{name: "rx desc too big", sets: []kv{s("ports[0].rx_desc", 8192)}, field: "ports[0].rx_desc", msg: "power of two"},
		{name: "tx desc too small", sets: []kv{s("ports[0].tx_desc", 32)}, field: "ports[0].tx_desc", msg: "power of two", value: "32"},
		{name: "mtu too small", sets: []kv{s("ports[0].mtu", 67)}, field: "ports[0].mtu", msg: "68..9000", value: "67"},
		{name: "mtu too big", sets: []kv{s("ports[0].mtu", 9001)}, field: "ports[0].mtu", msg: "68..9000"},
		{name: "steering unknown", sets: []kv{s("ports[0].steering", "rps")}, field: "ports[0].steering", msg: "auto, rss, distributor", value: "rps"},
		{name: "no addresses", sets: []kv{s("ports[1].addresses", []any{}), s("routes[1]", map[string]any{"prefix": "0.0.0.0/0", "via": "10.0.0.3"}), s("neighbors", del)}, field: "ports[1].addresses", msg: "at least one"},
		{name: "address without length", sets: []kv{s("ports[0].addresses[1]", "10.0.1.1")}, field: "ports[0].addresses[1]", msg: "missing prefix length", value: "10.0.1.1"},
		{name: "address not an address", sets: []kv{s("ports[0].addresses[1]", "lan")}, field: "ports[0].addresses[1]", msg: "not an IPv4 prefix"},
		{name: "address length 33", sets: []kv{s("ports[0].addresses[1]", "10.0.1.1/33")}, field: "ports[0].addresses[1]", msg: "bad prefix length"},
		{name: "address length 7", sets: []kv{s("ports[0].addresses[1]", "11.0.0.1/7")}, field: "ports[0].addresses[1]", msg: "too short", value: "11.0.0.1/7"},
		{name: "address IPv6", sets: []kv{s("ports[0].addresses[1]", "2001:db8::1/64")}, field: "ports[0].addresses[1]", msg: "IPv4 only"},
		{name: "address IPv6 without length", sets: []kv{s("ports[0].addresses[1]", "2001:db8::1")}, field: "ports[0].addresses[1]", msg: "IPv4 only"},
		{name: "address network", sets: []kv{s("ports[0].addresses[1]", "10.0.1.0/24")}, field: "ports[0].addresses[1]", msg: "network address of 10.0.1.0/24"},
		{name: "address broadcast", sets: []kv{s("ports[0].addresses[1]", "10.0.1.255/24")}, field: "ports[0].addresses[1]", msg: "broadcast address of 10.0.1.0/24"},
		{name: "address loopback", sets: []kv{s("ports[0].addresses[1]", "127.0.0.1/8")}, field: "ports[0].addresses[1]", msg: "not a unicast host address"},
		{name: "address repeated", sets: []kv{s("ports[0].addresses[1]", "10.0.0.1/25")}, field: "ports[0].addresses[1]", msg: "already assigned at ports[0].addresses[0]"},
		{name: "subnets of two ports overlap", sets: []kv{s("ports[1].addresses", []any{"192.0.2.1/30", "10.0.0.200/16"})}, field: "ports[1].addresses[1]", msg: "subnet 10.0.0.0/16 overlaps 10.0.0.0/24 of port lan (ports[0].addresses[0])"},

		// lcore map
		{name: "poll mode unknown", sets: []kv{s("poll.mode", "lazy")}, field: "poll.mode", msg: "busy, adaptive, interrupt", value: "lazy"},
		{name: "lcore poll mode unknown", sets: []kv{s("lcores[1].poll", "napi")}, field: "lcores[1].poll", msg: "busy, adaptive, interrupt", value: "napi"},
		{name: "max sleep too long", sets: []kv{s("poll.max_sleep", "1s")}, field: "poll.max_sleep", msg: "1µs..100ms"},
		{name: "max sleep garbage", sets: []kv{s("poll.max_sleep", "soon")}, field: "poll.max_sleep", msg: "must be a duration"},
		{name: "lcore map empty", sets: []kv{s("lcores", []any{})}, field: "lcores", msg: "at least one entry", n: -1},
		{name: "lcore not in eal", sets: []kv{s("lcores[2].lcore", 7)}, field: "lcores[2].lcore", msg: `lcore 7 is not in eal.lcores "0-3"`, value: "7"},
		{name: "lcore is main lcore", sets: []kv{s("lcores[2].lcore", 0)}, field: "lcores[2].lcore", msg: "main_lcore, which runs the control plane"},
		{name: "lcore out of range", sets: []kv{s("lcores[2].lcore", 200)}, field: "lcores[2].lcore", msg: "out of range"},
		{name: "lcore twice", sets: []kv{s("lcores[2].lcore", 1)}, field: "lcores[2].lcore", msg: "lcore 1 already has an entry at lcores[0]"},
		{name: "lcore does nothing", sets: []kv{s("lcores[2].worker", false)}, field: "lcores[2]", msg: "lcore 3 has no rx queues and is not a worker", value: "3"},
		{name: "workers but every port rss", sets: []kv{s("ports[1].steering", "rss")}, field: "lcores[1].worker", msg: "every port uses rss steering, so nothing feeds lcore 2 as a worker", value: "true", n: 2},
		{name: "distributor without workers", sets: []kv{s("ports[1].steering", "distributor"), s("lcores", []any{
			map[string]any{"lcore": 1, "rx": []any{map[string]any{"port": "lan", "queue": 0}, map[string]any{"port": "wan", "queue": 0}}},
			map[string]any{"lcore": 2, "rx": []any{map[string]any{"port": "lan", "queue": 1}}},
		})}, field: "ports[1].steering", msg: "no lcore is a worker", value: "distributor"},
		{name: "lcore polls too many queues", sets: []kv{s("ports[0].rx_queues", 34), s("lcores[1].rx", rxList("lan", 1, 34))}, field: "lcores[1].rx", msg: "at most 32 rx queues", value: "33"},
		{name: "rx port unknown", sets: []kv{s("lcores[0].rx[1].port", "dmz")}, field: "lcores[0].rx[1].port", msg: `no port named "dmz"`, value: "dmz", n: 2},
		{name: "rx port missing", sets: []kv{s("lcores[0].rx[1].port", del)}, field: "lcores[0].rx[1].port", msg: "required", n: 2},
		{name: "rx queue beyond rx_queues", sets: []kv{s("lcores[1].rx[0].queue", 2)}, field: "lcores[1].rx[0].queue", msg: "port lan has rx queues 0..1", value: "2", n: 2},
		{name: "rx queue negative", sets: []kv{s("lcores[1].rx[0].queue", -1)}, field: "lcores[1].rx[0].queue", msg: "rx queues 0..1", n: 2},
		{name: "rx queue polled twice", sets: []kv{s("lcores[1].rx[0].queue", 0)}, field: "lcores[1].rx[0]", msg: "queue 0 of port lan is already polled at lcores[0].rx[0] (lcore 1)", value: "lan/0", n: 2},
		{name: "rx queue polled by nobody", sets: []kv{s("lcores[1].rx", del)}, field: "ports[0].rx_queues", msg: "queue 1 of port lan is polled by no lcore", value: "2"},
		{name: "rx queue polled by nobody (more queues)", sets: []kv{s("ports[1].rx_queues", 2)}, field: "ports[1].rx_queues", msg: "queue 1 of port wan is polled by no lcore"},

		// mempool
		{name: "mbufs too few", sets: []kv{s("mempool.mbufs", 100)}, field: "mempool.mbufs", msg: "0 (sized from queues and lcores) or 1023..16777215", value: "100"},
		{name: "mbufs too many", sets: []kv{s("mempool.mbufs", 16777216)}, field: "mempool.mbufs", msg: "1023..16777215"},
		{name: "cache too big", sets: []kv{s("mempool.cache", 513)}, field: "mempool.cache", msg: "0..512", value: "513"},
		{name: "cache negative", sets: []kv{s("mempool.cache", -1)}, field: "mempool.cache", msg: "0..512", value: "-1"},
		{name: "data room too small", sets: []kv{s("mempool.data_room", 1000)}, field: "mempool.data_room", msg: "1024..65535", value: "1000"},
		{name: "data room too big", sets: []kv{s("mempool.data_room", 65536)}, field: "mempool.data_room", msg: "1024..65535"},

		// distributor
		{name: "ring size not power of two", sets: []kv{s("distributor.ring_size", 1000)}, field: "distributor.ring_size", msg: "power of two 64..65536", value: "1000"},
		{name: "ring size too small", sets: []kv{s("distributor.ring_size", 32)}, field: "distributor.ring_size", msg: "power of two 64..65536"},
		{name: "ring size too big", sets: []kv{s("distributor.ring_size", 131072)}, field: "distributor.ring_size", msg: "64..65536"},
		{name: "reta size zero", sets: []kv{s("distributor.reta_size", 0)}, field: "distributor.reta_size", msg: "power of two 1..4096", value: "0"},
		{name: "reta size not power of two", sets: []kv{s("distributor.reta_size", 100)}, field: "distributor.reta_size", msg: "power of two 1..4096"},
		{name: "reta size too big", sets: []kv{s("distributor.reta_size", 8192)}, field: "distributor.reta_size", msg: "1..4096"},
		{name: "burst zero", sets: []kv{s("distributor.burst", 0)}, field: "distributor.burst", msg: "1..32", value: "0"},
		{name: "burst too big", sets: []kv{s("distributor.burst", 33)}, field: "distributor.burst", msg: "1..32"},
		{name: "hash unknown", sets: []kv{s("distributor.hash", "l7")}, field: "distributor.hash", msg: "auto, l3, l4", value: "l7"},
		{name: "balance mode unknown", sets: []kv{s("distributor.balance.mode", "fast")}, field: "distributor.balance.mode", msg: "auto, off"},
		{name: "balance busy too low", sets: []kv{s("distributor.balance.busy", 0.2)}, field: "distributor.balance.busy", msg: "0.5..1", value: "0.2"},
		{name: "balance interval garbage", sets: []kv{s("distributor.balance.interval", "often")}, field: "distributor.balance.interval", msg: "must be a duration"},
		{name: "max stall too long", sets: []kv{s("distributor.max_stall", "2s")}, field: "distributor.max_stall", msg: "0s..1s"},
		{name: "on_full unknown", sets: []kv{s("distributor.on_full", "block")}, field: "distributor.on_full", msg: "drop, backpressure", value: "block"},

		// slow path, ARP, ICMP
		{name: "slow ring not power of two", sets: []kv{s("slow_path.ring_size", 1000)}, field: "slow_path.ring_size", msg: "power of two 64..65536", value: "1000"},
		{name: "slow rate too low", sets: []kv{s("slow_path.rate", 10)}, field: "slow_path.rate", msg: "100..10000000", value: "10"},
		{name: "fib max routes too low", sets: []kv{s("fib.max_routes", 10)}, field: "fib.max_routes", msg: "64..16777216", value: "10"},
		{name: "memory too small for the pool", sets: []kv{s("mempool.mbufs", 131071)}, field: "eal.memory_mb", msg: "mempool.mbufs 131071", value: "256"},
		{name: "memory too small for the FIB", sets: []kv{s("fib.tbl8_groups", 1<<18)}, field: "eal.memory_mb", msg: "FIB 324 MB"},
		{name: "fib tbl8 groups too many", sets: []kv{s("fib.tbl8_groups", 1<<21)}, field: "fib.tbl8_groups", msg: "16..1048576", value: "2097152"},
		{name: "arp duration garbage", sets: []kv{s("arp.reachable_time", "soon")}, field: "arp.reachable_time", msg: "must be a duration", value: "soon"},
		{name: "arp retrans too short", sets: []kv{s("arp.retrans_time", "1ms")}, field: "arp.retrans_time", msg: "10ms..1m0s"},
		{name: "arp retries zero", sets: []kv{s("arp.max_retries", 0)}, field: "arp.max_retries", msg: "1..20", value: "0"},
		{name: "arp table too small", sets: []kv{s("arp.max_entries", 1)}, field: "arp.max_entries", msg: "16..1048576"},
		{name: "icmp rate negative", sets: []kv{s("icmp.rate", -1)}, field: "icmp.rate", msg: "0..1000000", value: "-1"},
		{name: "icmp burst zero", sets: []kv{s("icmp.burst", 0)}, field: "icmp.burst", msg: "1..1000000"},

		// routes
		{name: "route prefix missing", sets: []kv{s("routes[0].prefix", del)}, field: "routes[0].prefix", msg: "required"},
		{name: "route prefix garbage", sets: []kv{s("routes[0].prefix", "banana")}, field: "routes[0].prefix", msg: "not an IPv4 prefix", value: "banana"},
		{name: "route prefix IPv6", sets: []kv{s("routes[0].prefix", "2001:db8::/32")}, field: "routes[0].prefix", msg: "IPv4 only"},
		{name: "route prefix host bits", sets: []kv{s("routes[0].prefix", "10.1.0.1/16")}, field: "routes[0].prefix", msg: `host bits set; did you mean "10.1.0.0/16"?`, value: "10.1.0.1/16"},
		{name: "route prefix duplicate", sets: []kv{s("routes[1].prefix", "10.1.0.0/16")}, field: "routes[1].prefix", msg: "already has a route at routes[0]"},
		{name: "route equals connected subnet", sets: []kv{s("routes[0].prefix", "10.0.1.0/24")}, field: "routes[0].prefix", msg: "connected subnet of port lan (ports[0].addresses[1])"},
		{name: "route for own address", sets: []kv{s("routes[0].prefix", "10.0.1.1/32")}, field: "routes[0].prefix", msg: "router's own address (ports[0].addresses[1]); steer routes it itself"},
		{name: "route for subnet broadcast", sets: []kv{s("routes[0].prefix", "10.0.0.255/32")}, field: "routes[0].prefix", msg: "network or broadcast address of 10.0.0.0/24"},
		{name: "route via missing", sets: []kv{s("routes[0].via", del)}, field: "routes[0].via", msg: "required"},
		{name: "route via off-link", sets: []kv{s("routes[0].via", "10.9.0.2")}, field: "routes[0].via", msg: "not on a connected subnet of any port", value: "10.9.0.2"},
		{name: "route via own address", sets: []kv{s("routes[0].via", "10.0.1.1")}, field: "routes[0].via", msg: "router's own address (ports[0].addresses[1])"},
		{name: "route via broadcast", sets: []kv{s("routes[0].via", "10.0.0.255")}, field: "routes[0].via", msg: "network or broadcast address of 10.0.0.0/24"},
		{name: "route via with length", sets: []kv{s("routes[0].via", "10.0.0.2/24")}, field: "routes[0].via", msg: "without prefix length"},
		{name: "route via IPv6", sets: []kv{s("routes[0].via", "fe80::1")}, field: "routes[0].via", msg: "IPv4 only"},

		// neighbors
		{name: "neighbour ip garbage", sets: []kv{s("neighbors[0].ip", "x")}, field: "neighbors[0].ip", msg: "not an IPv4 address", value: "x"},
		{name: "neighbour ip missing", sets: []kv{s("neighbors[0].ip", del)}, field: "neighbors[0].ip", msg: "required"},
		{name: "neighbour ip IPv6", sets: []kv{s("neighbors[0].ip", "::1")}, field: "neighbors[0].ip", msg: "IPv4 only"},
		{name: "neighbour ip own address", sets: []kv{s("neighbors[0].ip", "10.0.0.1")}, field: "neighbors[0].ip", msg: "router's own address"},
		{name: "neighbour ip on another port", sets: []kv{s("neighbors[1].ip", "10.0.0.3")}, field: "neighbors[1].ip", msg: "not on a connected subnet of port wan (192.0.2.0/30)", value: "10.0.0.3"},
		{name: "neighbour ip duplicate", sets: []kv{s("neighbors[1]", map[string]any{"ip": "10.0.0.2", "mac": "02:00:00:00:00:09", "port": "lan"})}, field: "neighbors[1].ip", msg: "already at neighbors[0]"},
		{name: "neighbour mac multicast", sets: []kv{s("neighbors[0].mac", "01:00:5e:00:00:01")}, field: "neighbors[0].mac", msg: "multicast or broadcast", value: "01:00:5e:00:00:01"},
		{name: "neighbour mac broadcast", sets: []kv{s("neighbors[0].mac", "ff:ff:ff:ff:ff:ff")}, field: "neighbors[0].mac", msg: "multicast or broadcast"},
		{name: "neighbour mac zero", sets: []kv{s("neighbors[0].mac", "00:00:00:00:00:00")}, field: "neighbors[0].mac", msg: "zero MAC"},
		{name: "neighbour mac garbage", sets: []kv{s("neighbors[0].mac", "02:00:00:00:00")}, field: "neighbors[0].mac", msg: "not an Ethernet MAC"},
		{name: "neighbour mac EUI-64", sets: []kv{s("neighbors[0].mac", "02:00:00:00:00:00:00:01")}, field: "neighbors[0].mac", msg: "not an Ethernet MAC"},
		{name: "neighbour mac missing", sets: []kv{s("neighbors[0].mac", del)}, field: "neighbors[0].mac", msg: "required"},
		{name: "neighbour port unknown", sets: []kv{s("neighbors[0].port", "dmz")}, field: "neighbors[0].port", msg: `no port named "dmz"`, value: "dmz"},
		{name: "neighbour port missing", sets: []kv{s("neighbors[0].port", del)}, field: "neighbors[0].port", msg: "required"},

		// metrics, log
		{name: "listen without port", sets: []kv{s("metrics.listen", "127.0.0.1")}, field: "metrics.listen", msg: "not host:port", value: "127.0.0.1"},
		{name: "listen port zero", sets: []kv{s("metrics.listen", "127.0.0.1:0")}, field: "metrics.listen", msg: "1..65535"},
		{name: "listen port too big", sets: []kv{s("metrics.listen", "[::1]:65536")}, field: "metrics.listen", msg: "1..65535"},
		{name: "listen port by name", sets: []kv{s("metrics.listen", "localhost:http")}, field: "metrics.listen", msg: "1..65535"},
		{name: "log level unknown", sets: []kv{s("log.level", "trace")}, field: "log.level", msg: "debug, info, warn, error", value: "trace"},
		{name: "log format unknown", sets: []kv{s("log.format", "xml")}, field: "log.format", msg: "auto, console, json", value: "xml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := base()
			for _, e := range tc.sets {
				set(t, tree, e.path, e.val)
			}
			ps := problemsOf(t, yamlOf(t, tree))
			t.Logf("problems:\n%s", dump(ps))
			p, ok := find(ps, tc.field, tc.msg)
			if !ok {
				t.Fatalf("want a problem at %s containing %q, got:\n%s", tc.field, tc.msg, dump(ps))
			}
			if tc.value != "" && p.Value != tc.value {
				t.Errorf("problem value = %q, want %q", p.Value, tc.value)
			}
			if !strings.Contains(ps.Error(), tc.field+": ") {
				t.Errorf("Error() does not name %s:\n%s", tc.field, ps.Error())
			}
			want := tc.n
			if want == 0 {
				want = 1
			}
			if want > 0 && len(ps) != want {
				t.Errorf("got %d problems, want %d:\n%s", len(ps), want, dump(ps))
			}
		})
	}
}

// TestValidVariants are configs that must pass, each close to a rule's edge.
func TestValidVariants(t *testing.T) {
	cases := []struct {
		name string
		sets []kv
	}{
		{"base", nil},
		{"lcores list", []kv{s("eal.lcores", "0,1,2,3")}},
		{"lcores mixed", []kv{s("eal.lcores", "0-1,2,3")}},
		{"lcores map", []kv{s("eal.lcores", "0@0,1@1,2@1,3@0")}},
		{"lcores map groups", []kv{s("eal.lcores", "(0-1)@0,(2,3)@(0,1)")}},
		{"lcores map plain element", []kv{s("eal.lcores", "0,1-3@1")}},
		{"main lcore elsewhere", []kv{s("eal.lcores", "1-4"), s("eal.main_lcore", 4)}},
		{"memory small with hugepages", []kv{s("eal.huge", true), s("eal.memory_mb", 32)}},
		{"memory max", []kv{s("eal.memory_mb", 65536)}},
		{"file prefix 32", []kv{s("eal.file_prefix", strings.Repeat("a", 32))}},
		{"arg -n allowed", []kv{s("eal.args", []any{"-n", "4", "--log-level=lib.eal:debug", "--iova-mode", "va", "-r2", "--force-max=512"})}},
		{"pci without domain", []kv{s("ports[0].device", "03:00.0")}},
		{"pci upper case", []kv{s("ports[0].device", "0000:AF:1F.7")}},
		{"vdev tap", []kv{s("ports[1].device", "net_tap0,iface=st0")}},
		{"vdev bare", []kv{s("ports[1].device", "net_null0")}},
		{"vdev af_packet", []kv{s("ports[1].device", "net_af_packet1,iface=eth1")}},
		{"port name 16", []kv{s("ports[0].name", "l234567890_-5678"), s("lcores[0].rx[0].port", "l234567890_-5678"), s("lcores[1].rx[0].port", "l234567890_-5678"), s("neighbors[0].port", "l234567890_-5678")}},
		{"queue and desc limits", []kv{s("ports[0].tx_queues", 64), s("ports[0].rx_desc", 64), s("ports[0].tx_desc", 4096), s("ports[0].mtu", 68)}},
		{"address /31 and /32", []kv{s("ports[0].addresses", []any{"10.0.0.1/24", "10.0.1.0/31", "10.0.2.7/32"})}},
		{"address /8", []kv{s("ports[0].addresses", []any{"10.0.0.1/8"}), s("routes[0].prefix", "172.16.0.0/12")}},
		{"same-port secondary in one subnet", []kv{s("ports[0].addresses", []any{"10.0.0.1/24", "10.0.0.9/24"})}},
		{"mempool limits", []kv{s("eal.huge", true), s("mempool.mbufs", 16777215), s("mempool.cache", 512), s("mempool.data_room", 65535)}},
		{"mempool computed, no cache", []kv{s("mempool.mbufs", 0), s("mempool.cache", 0), s("mempool.data_room", 1024)}},
		{"distributor limits", []kv{s("distributor.ring_size", 65536), s("distributor.reta_size", 1), s("distributor.burst", 32), s("distributor.on_full", "drop")}},
		{"distributor limits low", []kv{s("distributor.ring_size", 64), s("distributor.reta_size", 4096), s("distributor.burst", 1)}},
		{"no routes or neighbours", []kv{s("routes", del), s("neighbors", del)}},
		{"route inside connected", []kv{s("routes[0].prefix", "10.0.0.128/25")}},
		{"host route", []kv{s("routes[0].prefix", "10.1.2.3/32")}},
		{"metrics disabled", []kv{s("metrics.listen", "")}},
		{"metrics all interfaces with a token", []kv{s("metrics.listen", ":9464"), s("metrics.token", "s3cret")}},
		{"metrics IPv6 loopback", []kv{s("metrics.listen", "[::1]:65535")}},
		{"steering distributor, worker only lcores", []kv{s("ports[1].steering", "distributor")}},
		{"lcore polls 32 queues", []kv{s("ports[0].rx_queues", 33), s("lcores[1].rx", rxList("lan", 1, 33))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := base()
			for _, e := range tc.sets {
				set(t, tree, e.path, e.val)
			}
			mustParse(t, yamlOf(t, tree))
		})
	}
}

// TestDerived checks the fields Validate fills on the valid base config.
func TestDerived(t *testing.T) {
	cfg := mustParse(t, yamlOf(t, base()))
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("EAL.LcoreIDs", cfg.EAL.LcoreIDs, []int{0, 1, 2, 3})
	check("Ports[0].Prefixes", cfg.Ports[0].Prefixes, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("10.0.1.1/24")})
	check("Ports[1].Prefixes", cfg.Ports[1].Prefixes, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/30")})
	check("Routes[0].Net", cfg.Routes[0].Net, netip.MustParsePrefix("10.1.0.0/16"))
	check("Routes[0].Gateway", cfg.Routes[0].Gateway, netip.MustParseAddr("10.0.0.2"))
	check("Routes[1].Net", cfg.Routes[1].Net, netip.MustParsePrefix("0.0.0.0/0"))
	check("Routes[1].Gateway", cfg.Routes[1].Gateway, netip.MustParseAddr("192.0.2.2"))
	check("Neighbors[0].Addr", cfg.Neighbors[0].Addr, netip.MustParseAddr("10.0.0.2"))
	check("Neighbors[0].HW", cfg.Neighbors[0].HW, inet.MAC{2, 0, 0, 0, 0, 2})
	check("Neighbors[1].HW", cfg.Neighbors[1].HW, inet.MAC{2, 0, 0, 0, 0, 3})

	// The values typed in the file arrive unchanged.
	check("EAL.Huge", cfg.EAL.Huge, false)
	check("EAL.MemoryMB", cfg.EAL.MemoryMB, 256)
	check("EAL.FilePrefix", cfg.EAL.FilePrefix, "steer-test")
	check("EAL.Args", cfg.EAL.Args, []string{"--log-level=8", "--no-telemetry"})
	check("Ports[0]", []any{cfg.Ports[0].Name, cfg.Ports[0].Device, cfg.Ports[0].RxQueues, cfg.Ports[0].TxQueues, cfg.Ports[0].RxDesc, cfg.Ports[0].TxDesc, cfg.Ports[0].MTU, cfg.Ports[0].Steering},
		[]any{"lan", "0000:03:00.0", 2, 2, 512, 2048, 9000, "rss"})
	check("Ports[1].DeviceName", cfg.Ports[1].DeviceName(), "net_pcap0")
	check("Ports[0].IsPCI", cfg.Ports[0].IsPCI(), true)
	check("Ports[1].IsPCI", cfg.Ports[1].IsPCI(), false)
	check("Lcores", cfg.Lcores, []Lcore{
		{Lcore: 1, Rx: []RxQueue{{"lan", 0}, {"wan", 0}}, PollMode: "adaptive"},
		{Lcore: 2, Rx: []RxQueue{{"lan", 1}}, Worker: true, PollMode: "adaptive"},
		{Lcore: 3, Worker: true, PollMode: "adaptive"},
	})
	check("Mempool", cfg.Mempool, Mempool{Mbufs: 8191, Cache: 128, DataRoom: 2176})
	check("Distributor", cfg.Distributor, Distributor{RingSize: 2048, RetaSize: 256, Burst: 16, OnFull: "backpressure",
		MaxStall: "100us", Stall: 100 * time.Microsecond, Hash: "auto",
		Balance: Balance{Mode: "auto", Interval: "500ms", Busy: 0.9, MinGain: 0.05, Hold: "2s", Every: 500 * time.Millisecond, HoldFor: 2 * time.Second}})
	check("Metrics", cfg.Metrics, Metrics{Listen: "127.0.0.1:9464"})
	check("Log", cfg.Log, Log{Level: "warn", Format: "json"})

	// Validate again: derived fields are rebuilt, not appended to.
	if ps := cfg.Validate(); ps != nil {
		t.Fatalf("second Validate: %v", ps)
	}
	check("Ports[0].Prefixes after second Validate", len(cfg.Ports[0].Prefixes), 2)
	check("EAL.LcoreIDs after second Validate", cfg.EAL.LcoreIDs, []int{0, 1, 2, 3})
}

func TestDerivedLcoreIDs(t *testing.T) {
	for _, tc := range []struct {
		lcores string
		want   []int
	}{
		{"0-3", []int{0, 1, 2, 3}},
		{"3,1,0,2,2", []int{0, 1, 2, 3}},
		{"1-2,5", []int{1, 2, 5}},
		{"0,127", []int{0, 127}},
		{"0@0,1@1,2@1,3@0", []int{0, 1, 2, 3}},
		{"(4-5)@1,0", []int{0, 4, 5}},
		{"0,1@(5-7),(3-4)@(0,2),9-10", []int{0, 1, 3, 4, 9, 10}},
	} {
		t.Run(tc.lcores, func(t *testing.T) {
			tree := base()
			set(t, tree, "eal.lcores", tc.lcores)
			set(t, tree, "eal.main_lcore", tc.want[0])
			set(t, tree, "lcores", []any{map[string]any{"lcore": tc.want[len(tc.want)-1], "worker": true}})
			set(t, tree, "ports", []any{map[string]any{"name": "lan", "device": "net_null0", "addresses": []any{"10.0.0.1/24"}}})
			set(t, tree, "lcores[0].rx", []any{map[string]any{"port": "lan", "queue": 0}})
			set(t, tree, "routes", del)
			set(t, tree, "neighbors", del)
			cfg := mustParse(t, yamlOf(t, tree))
			if !reflect.DeepEqual(cfg.EAL.LcoreIDs, tc.want) {
				t.Errorf("LcoreIDs = %v, want %v", cfg.EAL.LcoreIDs, tc.want)
			}
		})
	}
}

// TestDerivedOnlyWhenValid: a field that fails its rule leaves its derived
// field zero, so no caller can mistake a bad value for a good one.
func TestDerivedOnlyWhenValid(t *testing.T) {
	tree := base()
	set(t, tree, "routes[0].via", "10.9.0.2")
	set(t, tree, "routes[1].prefix", "10.1.0.1/16")
	set(t, tree, "neighbors[0].mac", "ff:ff:ff:ff:ff:ff")
	set(t, tree, "ports[0].addresses[1]", "10.0.1.0/24")
	cfg := &Config{}
	// Decode without validating, then validate by hand.
	settings := mustSettings(t, yamlOf(t, tree))
	defaultListKeys(settings)
	if ps := decode(settings, cfg); ps != nil {
		t.Fatal(ps)
	}
	ps := cfg.Validate()
	if len(ps) != 4 {
		t.Fatalf("want 4 problems, got:\n%s", dump(ps))
	}
	if cfg.Routes[0].Gateway.IsValid() || !cfg.Routes[0].Net.IsValid() {
		t.Errorf("routes[0]: Gateway %v should be zero, Net %v set", cfg.Routes[0].Gateway, cfg.Routes[0].Net)
	}
	if cfg.Routes[1].Net.IsValid() || !cfg.Routes[1].Gateway.IsValid() {
		t.Errorf("routes[1]: Net %v should be zero, Gateway %v set", cfg.Routes[1].Net, cfg.Routes[1].Gateway)
	}
	if cfg.Neighbors[0].HW != (inet.MAC{}) || !cfg.Neighbors[0].Addr.IsValid() {
		t.Errorf("neighbors[0]: HW %v should be zero, Addr %v set", cfg.Neighbors[0].HW, cfg.Neighbors[0].Addr)
	}
	if len(cfg.Ports[0].Prefixes) != 1 {
		t.Errorf("ports[0].Prefixes = %v, want only the valid address", cfg.Ports[0].Prefixes)
	}
}

func TestPortIndex(t *testing.T) {
	cfg := mustParse(t, yamlOf(t, base()))
	if i, ok := cfg.Port("wan"); !ok || i != 1 {
		t.Errorf("Port(wan) = %d, %v; want 1, true", i, ok)
	}
	if i, ok := cfg.Port("lan"); !ok || i != 0 {
		t.Errorf("Port(lan) = %d, %v; want 0, true", i, ok)
	}
	if i, ok := cfg.Port("dmz"); ok || i != -1 {
		t.Errorf("Port(dmz) = %d, %v; want -1, false", i, ok)
	}
}

func TestParseLcores(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  string
	}{
		{"0", []int{0}, ""},
		{"0-0", []int{0}, ""},
		{"127", []int{127}, ""},
		{"2,0-1", []int{0, 1, 2}, ""},
		{"1@0", []int{1}, ""},
		{"(0,2)@(0-1)", []int{0, 2}, ""},
		{"", nil, "empty"},
		{"128", nil, "out of range"},
		{"-1", nil, "empty lcore number"},
		{"1-", nil, "empty lcore number"},
		{"a", nil, "not a valid lcore number"},
		{"0x1", nil, "not a valid lcore number"},
		{"1@", nil, "empty cpu number"},
		{"@1", nil, "empty lcore number"},
		{"(1", nil, "unbalanced"},
		{"1)", nil, "unbalanced"},
		{"0,(1-2)@0,2", nil, "lcore 2 is mapped twice"},
		{"1(2)@0", nil, "bad lcore set"},
		{"99999999999999999999", nil, "out of range"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseLcores(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseLcores(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseLcores(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
