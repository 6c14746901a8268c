// Package report is what a running or stopped steer tells about itself, as
// one JSON-able value: per port (ethdev counters), per lcore (fast-path
// counters by reason), per distributor link, the FIB, the mempool and the
// slow path. The stats file (steer run --stats-file), /api/v1/stats, the
// Prometheus collector and `steer stats` all read this shape.
package report

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"text/tabwriter"

	"github.com/steer-router/steer/pkg/balance"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/slowpath"
)

// Report is what steer did: written as JSON by `steer run --stats-file` and
// printed as a summary on exit.
type Report struct {
	Ports  []Port  `json:"ports"`
	Lcores []Lcore `json:"lcores"`
	Rings  []Ring  `json:"rings,omitempty"`
	RETA   []int   `json:"reta,omitempty"` // the first RX lcore's, as applied (-1: local)
	// Distributor is the software distributor's state: per RX lcore its
	// RETA and load per bucket, and the balancer's view and decisions.
	Distributor *Distributor `json:"distributor,omitempty"`
	FIB         FIB          `json:"fib"`
	Totals      Totals       `json:"totals"`
	Mempool     Mempool      `json:"mempool"`
	// SlowPath is the control thread's ARP, ICMP and forwarding counters.
	SlowPath *slowpath.Stats `json:"slow_path,omitempty"`
}

// Port is one port's identity and ethdev counters.
type Port struct {
	Name           string `json:"name"`
	PortID         uint16 `json:"port_id"`
	Driver         string `json:"driver"`
	MAC            string `json:"mac"`
	RxQueues       int    `json:"rx_queues"`
	TxQueues       int    `json:"tx_queues"`
	Steering       string `json:"steering"`        // rss | distributor | rtc
	SteeringReason string `json:"steering_reason"` // why (auto), or "configured"
	LinkUp         bool   `json:"link_up"`
	LinkMbps       uint32 `json:"link_mbps"`
	RxPackets      uint64 `json:"rx_packets"`
	TxPackets      uint64 `json:"tx_packets"`
	RxBytes        uint64 `json:"rx_bytes"`
	TxBytes        uint64 `json:"tx_bytes"`
	RxMissed       uint64 `json:"rx_missed"`
	RxErrors       uint64 `json:"rx_errors"`
	TxErrors       uint64 `json:"tx_errors"`
	RxNoMbuf       uint64 `json:"rx_nombuf"`
}

// Lcore is one forwarding lcore's counters. RxPackets counts packets
// taken from NIC queues; a worker's share arrives as Local (inline) or
// FromRings.
type Lcore struct {
	Lcore             int               `json:"lcore"`
	Worker            int               `json:"worker"` // software queue id, -1: not a worker
	Role              string            `json:"role"`   // rx+fwd (run to completion), rx (distributor RX), worker, rx+worker
	Poll              string            `json:"poll"`   // how it waits when idle: busy, adaptive, interrupt
	RxPackets         uint64            `json:"rx_packets"`
	TxPackets         uint64            `json:"tx_packets"`
	BusyPolls         uint64            `json:"busy_polls"`
	IdlePolls         uint64            `json:"idle_polls"`
	HandedOff         uint64            `json:"handed_off"`
	Local             uint64            `json:"local"`
	FromRings         uint64            `json:"from_rings"`
	WorkerBursts      uint64            `json:"worker_bursts"`
	BackpressureSkips uint64            `json:"backpressure_skips"`
	SlowRingFull      uint64            `json:"slowpath_ring_full"` // slow-path packets freed: ring to the control thread full
	ControlTx         uint64            `json:"control_tx"`         // frames of the control thread sent by this lcore
	ControlTxFull     uint64            `json:"control_tx_full"`    // ... dropped: TX queue full
	Dropped           map[string]uint64 `json:"dropped"`
	SlowPath          map[string]uint64 `json:"slowpath"`

	// Cycles (TSC) of loops that found work, of loops that found none, and
	// (within busy) waiting for ring room; busy cycles per packet received
	// (NIC queues and rings). Stage cycles come from a sample of busy loops:
	// StageCycles[s] / SampledPackets is stage s's cost per packet.
	BusyCycles  uint64 `json:"busy_cycles"`
	IdleCycles  uint64 `json:"idle_cycles"`
	StallCycles uint64 `json:"stall_cycles"`
	// Waiting when idle (poll adaptive or interrupt): cycles asleep (not
	// in busy or idle), the sleeps, and the returns to work after one.
	AsleepCycles    uint64            `json:"asleep_cycles"`
	Sleeps          uint64            `json:"sleeps"`
	Wakeups         uint64            `json:"wakeups"`
	CyclesPerPacket float64           `json:"cycles_per_packet"`
	SampledLoops    uint64            `json:"sampled_loops"`
	SampledPackets  uint64            `json:"sampled_packets"`
	SampledLocal    uint64            `json:"sampled_local"`
	StageCycles     map[string]uint64 `json:"stage_cycles"`
	RxQueues        []RxQueue         `json:"rx_queues,omitempty"`
}

// RxQueue is one RX queue's backpressure: polls skipped waiting for ring
// room, and the cycles waited.
type RxQueue struct {
	Port        string `json:"port"`
	Queue       int    `json:"queue"`
	StallSkips  uint64 `json:"stall_skips"`
	StallCycles uint64 `json:"stall_cycles"`
}

// Ring is one (RX lcore, worker) ring of the distributor; what the RX
// lcore processes itself is its Lcore.Local.
type Ring struct {
	FromLcore   int    `json:"from_lcore"`
	Worker      int    `json:"worker"`
	Enqueued    uint64 `json:"enqueued"`
	DroppedFull uint64 `json:"dropped_full"`
	Occupancy   int    `json:"occupancy"`
}

// Totals sums the lcores. RxPackets == TxPackets + sum(Dropped) +
// sum(SlowPath) once the lcores have stopped.
type Totals struct {
	RxPackets uint64            `json:"rx_packets"`
	TxPackets uint64            `json:"tx_packets"`
	Dropped   map[string]uint64 `json:"dropped"`
	SlowPath  map[string]uint64 `json:"slowpath"`
}

// FIB sizes the forwarding table.
type FIB struct {
	Entries   int `json:"entries"` // FIB prefixes, local and broadcast /32s included
	NextHops  int `json:"next_hops"`
	Routes    int `json:"routes"`    // static routes
	Neighbors int `json:"neighbors"` // static neighbours
}

// Mempool tracks mbufs: after close every mbuf must be back.
type Mempool struct {
	Size            int `json:"size"`
	InUse           int `json:"in_use"` // live snapshots only
	InUseAfterStop  int `json:"in_use_after_stop"`
	InUseAfterClose int `json:"in_use_after_close"`
}

// FromCounters is an lcore's report from its C counters.
func FromCounters(id, worker int, c fwd.LcoreCounters) Lcore {
	l := Lcore{
		Lcore: id, Worker: worker, RxPackets: c.Rx, TxPackets: c.Tx, BusyPolls: c.BusyPolls, IdlePolls: c.IdlePolls,
		HandedOff: c.HandedOff, Local: c.Local, FromRings: c.FromRings, WorkerBursts: c.WorkerBursts,
		BackpressureSkips: c.BackpressureSkips,
		SlowRingFull:      c.ExceptionRingFull,
		ControlTx:         c.ControlTx,
		ControlTxFull:     c.ControlTxFull,
		Dropped:           make(map[string]uint64, fwd.NumDropReasons),
		SlowPath:          make(map[string]uint64, fwd.NumSlowReasons),
		BusyCycles:        c.BusyCycles, IdleCycles: c.IdleCycles, StallCycles: c.StallCycles,
		AsleepCycles: c.AsleepCycles, Sleeps: c.Sleeps, Wakeups: c.Wakeups,
		SampledLoops: c.SampledLoops, SampledPackets: c.SampledPackets, SampledLocal: c.SampledLocal,
		StageCycles: make(map[string]uint64, fwd.NumStages),
	}
	if n := c.Packets(); n > 0 {
		l.CyclesPerPacket = float64(c.BusyCycles) / float64(n)
	}
	for r, n := range c.StageCycles {
		l.StageCycles[fwd.Stage(r).String()] = n
	}
	for r, n := range c.Dropped {
		l.Dropped[fwd.DropReason(r).String()] = n
	}
	for r, n := range c.SlowPath {
		l.SlowPath[fwd.SlowReason(r).String()] = n
	}
	return l
}

// Sum adds the lcores up; every reason is present, zeros included.
func Sum(ls []Lcore) Totals {
	t := Totals{Dropped: map[string]uint64{}, SlowPath: map[string]uint64{}}
	for r := fwd.DropReason(0); r < fwd.NumDropReasons; r++ {
		t.Dropped[r.String()] = 0
	}
	for r := fwd.SlowReason(0); r < fwd.NumSlowReasons; r++ {
		t.SlowPath[r.String()] = 0
	}
	for _, l := range ls {
		t.RxPackets += l.RxPackets
		t.TxPackets += l.TxPackets
		for k, v := range l.Dropped {
			t.Dropped[k] += v
		}
		for k, v := range l.SlowPath {
			t.SlowPath[k] += v
		}
	}
	return t
}

// Unaccounted is RX minus everything the lcores say became of the packets:
// zero once the lcores have stopped and flushed.
func (t Totals) Unaccounted() int64 {
	n := int64(t.RxPackets) - int64(t.TxPackets)
	for _, v := range t.Dropped {
		n -= int64(v)
	}
	for _, v := range t.SlowPath {
		n -= int64(v)
	}
	return n
}

// Summary prints the report for a person.
func (r *Report) Summary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "port\tdriver\trx packets\ttx packets\trx missed\trx nombuf\t")
	for _, p := range r.Ports {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", p.Name, p.Driver, p.RxPackets, p.TxPackets, p.RxMissed, p.RxNoMbuf)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nlcores: %d packets in, %d forwarded", r.Totals.RxPackets, r.Totals.TxPackets)
	printReasons(w, "dropped", r.Totals.Dropped)
	printReasons(w, "to slow path", r.Totals.SlowPath)
	fmt.Fprintf(w, "\nmempool: %d mbufs, %d in use after stop, %d after close\n",
		r.Mempool.Size, r.Mempool.InUseAfterStop, r.Mempool.InUseAfterClose)
}

func printReasons(w io.Writer, what string, m map[string]uint64) {
	var keys []string
	var sum uint64
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
			sum += v
		}
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "\n%s: %d", what, sum)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s=%d", k, m[k])
	}
}

// Neighbor is one entry of the neighbour (ARP) table.
type Neighbor struct {
	IP    netip.Addr `json:"ip"`
	MAC   string     `json:"mac,omitempty"` // "" while incomplete or failed
	Port  string     `json:"port"`
	State string     `json:"state"` // static | incomplete | reachable | stale | probe | failed
	// Static entries come from the config or the API and always win over
	// what ARP learns.
	Static bool `json:"static"`
}

// Distributor is the software distributor's state.
type Distributor struct {
	Workers   int                `json:"workers"`
	Hash      string             `json:"hash"`    // auto | l3 | l4
	Balance   string             `json:"balance"` // auto | off
	Pinned    bool               `json:"pinned"`  // an operator set the RETA (PUT /api/v1/reta)
	Moves     map[string]uint64  `json:"moves"`   // balancer decisions by kind: out, back, revert
	Decisions []string           `json:"decisions,omitempty"`
	Estimates []balance.Estimate `json:"estimates,omitempty"`
	RxLcores  []RxLcore          `json:"rx_lcores"`
}

// RxLcore is one RX lcore's RETA (bucket -> worker, -1: itself) and the
// packets it has counted per bucket.
type RxLcore struct {
	Lcore   int      `json:"lcore"`
	Wanted  []int    `json:"wanted"`
	Applied []int    `json:"applied"`
	Buckets []uint64 `json:"bucket_packets"`
}
