package router

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/steer-router/steer/cgo/fastpath"
	"github.com/steer-router/steer/pkg/slowpath"
)

// Report is what steer did: written as JSON by `steer run --stats-file` and
// printed as a summary on exit.
type Report struct {
	Ports   []PortReport  `json:"ports"`
	Lcores  []LcoreReport `json:"lcores"`
	Rings   []RingReport  `json:"rings,omitempty"`
	RETA    []int         `json:"reta,omitempty"`
	FIB     FIBReport     `json:"fib"`
	Totals  Totals        `json:"totals"`
	Mempool MempoolReport `json:"mempool"`
	// SlowPath is the control thread's ARP, ICMP and forwarding counters.
	SlowPath *slowpath.Stats `json:"slow_path,omitempty"`
}

// PortReport is one port's identity and ethdev counters.
type PortReport struct {
	Name      string `json:"name"`
	PortID    uint16 `json:"port_id"`
	Driver    string `json:"driver"`
	MAC       string `json:"mac"`
	RxQueues  int    `json:"rx_queues"`
	TxQueues  int    `json:"tx_queues"`
	Steering  string `json:"steering"` // rss | distributor | rtc
	LinkUp    bool   `json:"link_up"`
	LinkMbps  uint32 `json:"link_mbps"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxMissed  uint64 `json:"rx_missed"`
	RxErrors  uint64 `json:"rx_errors"`
	TxErrors  uint64 `json:"tx_errors"`
	RxNoMbuf  uint64 `json:"rx_nombuf"`
}

// LcoreReport is one forwarding lcore's counters. RxPackets counts packets
// taken from NIC queues; a worker's share arrives as Local (inline) or
// FromRings.
type LcoreReport struct {
	Lcore             int               `json:"lcore"`
	Worker            int               `json:"worker"` // software queue id, -1: not a worker
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
}

// RingReport is one (RX lcore, worker) link of the distributor.
type RingReport struct {
	FromLcore   int    `json:"from_lcore"`
	Worker      int    `json:"worker"`
	Ring        bool   `json:"ring"` // false: the RX lcore's own share, processed inline
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

// FIBReport sizes the forwarding table.
type FIBReport struct {
	Entries   int `json:"entries"` // FIB prefixes, local and broadcast /32s included
	NextHops  int `json:"next_hops"`
	Routes    int `json:"routes"`    // static routes
	Neighbors int `json:"neighbors"` // static neighbours
}

// MempoolReport tracks mbufs: after close every mbuf must be back.
type MempoolReport struct {
	Size            int `json:"size"`
	InUse           int `json:"in_use"` // live snapshots only
	InUseAfterStop  int `json:"in_use_after_stop"`
	InUseAfterClose int `json:"in_use_after_close"`
}

func byReason(names []string, counts []uint64) map[string]uint64 {
	m := make(map[string]uint64, len(names))
	for i, n := range names {
		m[n] = counts[i]
	}
	return m
}

func lcoreReport(id, worker int, c fastpath.Counters) LcoreReport {
	return LcoreReport{
		Lcore: id, Worker: worker, RxPackets: c.Rx, TxPackets: c.Tx, BusyPolls: c.BusyPolls, IdlePolls: c.IdlePolls,
		HandedOff: c.HandedOff, Local: c.Local, FromRings: c.FromRings, WorkerBursts: c.WorkerBursts,
		BackpressureSkips: c.BackpressureSkips,
		SlowRingFull:      c.ExceptionRingFull,
		ControlTx:         c.ControlTx,
		ControlTxFull:     c.ControlTxFull,
		Dropped:           byReason(fastpath.DropReasons, c.Dropped),
		SlowPath:          byReason(fastpath.SlowReasons, c.SlowPath),
	}
}

func sumTotals(ls []LcoreReport) Totals {
	t := Totals{Dropped: byReason(fastpath.DropReasons, make([]uint64, len(fastpath.DropReasons))),
		SlowPath: byReason(fastpath.SlowReasons, make([]uint64, len(fastpath.SlowReasons)))}
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
