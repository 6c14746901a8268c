// Package config loads, defaults and validates steer's configuration.
//
// The YAML shape is the user contract of docs/DESIGN.md; field names here are
// the YAML keys (mapstructure tags) so that every validation problem can name
// the exact path the operator typed, e.g. "ports[1].rx_queues".
package config

import (
	"net/netip"
	"os"
	"time"

	"github.com/steer-router/steer/pkg/inet"
)

// Config is the whole configuration of one steer process.
type Config struct {
	EAL         EAL         `mapstructure:"eal"`
	Ports       []Port      `mapstructure:"ports"`
	Lcores      []Lcore     `mapstructure:"lcores"`
	Poll        Poll        `mapstructure:"poll"`
	Mempool     Mempool     `mapstructure:"mempool"`
	Distributor Distributor `mapstructure:"distributor"`
	Routes      []Route     `mapstructure:"routes"`
	RoutesFile  string      `mapstructure:"routes_file"` // one "PREFIX via GW" per line (routesfile.go)
	Neighbors   []Neighbor  `mapstructure:"neighbors"`
	SlowPath    SlowPath    `mapstructure:"slow_path"`
	FIB         FIB         `mapstructure:"fib"`
	ARP         ARP         `mapstructure:"arp"`
	ICMP        ICMP        `mapstructure:"icmp"`
	Metrics     Metrics     `mapstructure:"metrics"`
	Log         Log         `mapstructure:"log"`

	// FileRoutes is derived by validation: the routes of RoutesFile (nil
	// when it has problems). Not in JSON: a full table is large.
	FileRoutes []FileRoute `mapstructure:"-" json:"-"`
}

// EAL holds the DPDK environment settings turned into rte_eal_init arguments.
type EAL struct {
	Lcores     string   `mapstructure:"lcores"`      // "0-3", "0,2" or --lcores syntax "0@0,1@1,2@1"
	MainLcore  int      `mapstructure:"main_lcore"`  // runs the control thread, never polls
	Huge       bool     `mapstructure:"huge"`        // false adds --no-huge
	MemoryMB   int      `mapstructure:"memory_mb"`   // -m
	FilePrefix string   `mapstructure:"file_prefix"` // --file-prefix, unique per process
	Args       []string `mapstructure:"args"`        // passed through verbatim

	// LcoreIDs is derived from Lcores by validation: the EAL lcore ids, sorted.
	LcoreIDs []int `mapstructure:"-"`
}

// Port is one DPDK ethdev: a PCI device or a virtual device spec.
type Port struct {
	Name      string   `mapstructure:"name"`
	Device    string   `mapstructure:"device"` // "0000:03:00.0" or "net_pcap0,rx_pcap=in.pcap"
	RxQueues  int      `mapstructure:"rx_queues"`
	TxQueues  int      `mapstructure:"tx_queues"`
	RxDesc    int      `mapstructure:"rx_desc"`
	TxDesc    int      `mapstructure:"tx_desc"`
	MTU       int      `mapstructure:"mtu"`
	Steering  string   `mapstructure:"steering"` // auto | rss | distributor
	Addresses []string `mapstructure:"addresses"`

	// Prefixes is derived from Addresses by validation (address with its prefix length).
	Prefixes []netip.Prefix `mapstructure:"-"`
}

// IsPCI reports whether Device is a PCI address rather than a vdev spec.
func (p Port) IsPCI() bool { return pciAddr.MatchString(p.Device) }

// DeviceName is the ethdev name DPDK gives the device: the PCI address, or
// the vdev driver instance name before the first comma ("net_pcap0").
func (p Port) DeviceName() string {
	for i := 0; i < len(p.Device); i++ {
		if p.Device[i] == ',' {
			return p.Device[:i]
		}
	}
	return p.Device
}

// Lcore is one entry of the lcore map.
type Lcore struct {
	Lcore  int       `mapstructure:"lcore"`
	Rx     []RxQueue `mapstructure:"rx"`
	Worker bool      `mapstructure:"worker"`
	Poll   string    `mapstructure:"poll"` // busy | adaptive | interrupt; "": poll.mode

	// PollMode is derived by validation: Poll, or poll.mode when unset.
	PollMode string `mapstructure:"-"`
}

// Poll is how the lcores of the lcore map wait for packets (see
// dpdk-config/README.md): busy polls without pause, for dedicated and
// isolated cores; adaptive sleeps in growing steps up to MaxSleep after a
// run of empty polls; interrupt blocks on the NIC's RX interrupts.
type Poll struct {
	Mode     string `mapstructure:"mode"`      // the default of lcores[].poll
	MaxSleep string `mapstructure:"max_sleep"` // adaptive: the longest sleep ("2ms")

	Sleep time.Duration `mapstructure:"-"` // derived from MaxSleep
}

// Poll modes.
const (
	PollBusy      = "busy"
	PollAdaptive  = "adaptive"
	PollInterrupt = "interrupt"
)

// RxQueue names one (port, rx queue) pair an lcore polls.
type RxQueue struct {
	Port  string `mapstructure:"port"`
	Queue int    `mapstructure:"queue"`
}

// Mempool sizes the packet buffer pool (one per NUMA socket in use).
type Mempool struct {
	Mbufs    int `mapstructure:"mbufs"`     // 0 = computed from queues and lcores
	Cache    int `mapstructure:"cache"`     // per-lcore cache
	DataRoom int `mapstructure:"data_room"` // bytes of packet data per mbuf incl. headroom
}

// Distributor tunes the software steering stage.
type Distributor struct {
	RingSize int     `mapstructure:"ring_size"`
	RetaSize int     `mapstructure:"reta_size"`
	Burst    int     `mapstructure:"burst"`
	OnFull   string  `mapstructure:"on_full"`   // drop | backpressure
	MaxStall string  `mapstructure:"max_stall"` // backpressure: longest wait for ring room ("100us")
	Hash     string  `mapstructure:"hash"`      // auto | l3 | l4: what makes packets one flow
	Balance  Balance `mapstructure:"balance"`

	Stall time.Duration `mapstructure:"-"` // derived from MaxStall
}

// Balance tunes the distributor's balancer: local first, buckets moved to
// workers while an RX lcore cannot keep up, and back when it can.
type Balance struct {
	Mode     string  `mapstructure:"mode"`     // auto | off
	Interval string  `mapstructure:"interval"` // how often it measures ("500ms")
	Busy     float64 `mapstructure:"busy"`     // share of cycles from which an lcore counts as saturated
	MinGain  float64 `mapstructure:"min_gain"` // a move must promise this much more throughput
	Hold     string  `mapstructure:"hold"`     // least time between two moves of one RX lcore ("2s")

	Every, HoldFor time.Duration `mapstructure:"-"` // derived
}

// SlowPath sizes the exception path from the lcores to the control thread.
type SlowPath struct {
	RingSize int `mapstructure:"ring_size"` // per-lcore exception ring
	Rate     int `mapstructure:"rate"`      // packets per second the control thread takes
}

// FIB sizes the fast path's rte_fib (DIR24_8): prefixes it holds (routes,
// addresses, neighbours' /32s) and tbl8 groups (one per /24 that holds
// prefixes longer than /24). See dpdk-config/README.md for the memory.
type FIB struct {
	MaxRoutes  int `mapstructure:"max_routes"`
	Tbl8Groups int `mapstructure:"tbl8_groups"`
}

// ARP tunes neighbour resolution (RFC 826) and the neighbour table.
// Durations are Go duration strings ("30s"); validation derives the values.
type ARP struct {
	ReachableTime string `mapstructure:"reachable_time"` // confirmed -> stale after this
	StaleTime     string `mapstructure:"stale_time"`     // stale -> probed after this
	RetransTime   string `mapstructure:"retrans_time"`   // first retry; doubles per retry
	FailedHold    string `mapstructure:"failed_hold"`    // failed entries suppress requests this long
	MaxRetries    int    `mapstructure:"max_retries"`    // requests per resolution attempt
	MaxPending    int    `mapstructure:"max_pending"`    // packets queued per unresolved neighbour
	MaxEntries    int    `mapstructure:"max_entries"`    // neighbour table bound

	Reachable, Stale, Retrans, Hold time.Duration `mapstructure:"-"` // derived
}

// ICMP rate-limits the error messages the router sends (token bucket).
type ICMP struct {
	Rate  int `mapstructure:"rate"`  // errors per second; 0 sends none
	Burst int `mapstructure:"burst"` // bucket depth
}

// Route is a static route; Via must be on a connected subnet.
type Route struct {
	Prefix string `mapstructure:"prefix"`
	Via    string `mapstructure:"via"`

	Net     netip.Prefix `mapstructure:"-"` // derived
	Gateway netip.Addr   `mapstructure:"-"` // derived
}

// Neighbor is a static ARP entry.
type Neighbor struct {
	IP   string `mapstructure:"ip"`
	MAC  string `mapstructure:"mac"`
	Port string `mapstructure:"port"`

	Addr netip.Addr `mapstructure:"-"` // derived
	HW   inet.MAC   `mapstructure:"-"` // derived
}

// Metrics configures the HTTP endpoint (/metrics, /healthz, /api/v1/...).
type Metrics struct {
	Listen string `mapstructure:"listen"`
	// Token is the bearer token the API's changes (PUT) require; "" falls
	// back to the STEER_API_TOKEN environment variable (see APIToken).
	// Required when Listen is not on loopback.
	Token string `mapstructure:"token"`
}

// APITokenEnv is read for the API token when metrics.token is empty.
const APITokenEnv = "STEER_API_TOKEN"

// APIToken is the bearer token changes through the API need: metrics.token
// (or STEER_METRICS_TOKEN), else $STEER_API_TOKEN; "" means none.
func (m Metrics) APIToken() string {
	if m.Token != "" {
		return m.Token
	}
	return os.Getenv(APITokenEnv)
}

// Log configures zap.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // auto | console | json
}
