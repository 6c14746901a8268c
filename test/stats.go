package e2e

// The stats file (steer run --stats-file) as a user's tool reads it:
// decoded here by its JSON names, not with steer's own pkg/report types, so
// a change of the file's contract fails these tests.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"testing"
	"time"
)

// PortStats is one port of the stats file.
type PortStats struct {
	Name      string `json:"name"`
	PortID    int    `json:"port_id"`
	Driver    string `json:"driver"`
	MAC       string `json:"mac"`
	RxQueues  int    `json:"rx_queues"`
	TxQueues  int    `json:"tx_queues"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxMissed  uint64 `json:"rx_missed"`
	RxErrors  uint64 `json:"rx_errors"`
	TxErrors  uint64 `json:"tx_errors"`
	RxNoMbuf  uint64 `json:"rx_nombuf"`
}

// LcoreStats is one lcore of the stats file.
type LcoreStats struct {
	Lcore     int               `json:"lcore"`
	RxPackets uint64            `json:"rx_packets"`
	TxPackets uint64            `json:"tx_packets"`
	BusyPolls uint64            `json:"busy_polls"`
	IdlePolls uint64            `json:"idle_polls"`
	Dropped   map[string]uint64 `json:"dropped"`
	SlowPath  map[string]uint64 `json:"slowpath"`
	// Distributor counters: Worker is the software queue id (-1: not a
	// worker).
	Worker            int    `json:"worker"`
	HandedOff         uint64 `json:"handed_off"`
	Local             uint64 `json:"local"`
	FromRings         uint64 `json:"from_rings"`
	WorkerBursts      uint64 `json:"worker_bursts"`
	BackpressureSkips uint64 `json:"backpressure_skips"`
}

// RingStats is one (RX lcore, worker) ring of the stats file. What an RX
// lcore processes itself crosses no ring: its Local counts it.
type RingStats struct {
	FromLcore   int    `json:"from_lcore"`
	Worker      int    `json:"worker"`
	Enqueued    uint64 `json:"enqueued"`
	DroppedFull uint64 `json:"dropped_full"`
	Occupancy   int    `json:"occupancy"`
}

// Stats is the whole stats file.
type Stats struct {
	Ports  []PortStats  `json:"ports"`
	Lcores []LcoreStats `json:"lcores"`
	Rings  []RingStats  `json:"rings"`
	RETA   []int        `json:"reta"`
	Totals struct {
		RxPackets uint64            `json:"rx_packets"`
		TxPackets uint64            `json:"tx_packets"`
		Dropped   map[string]uint64 `json:"dropped"`
		SlowPath  map[string]uint64 `json:"slowpath"`
	} `json:"totals"`
	Mempool struct {
		Size            int `json:"size"`
		InUseAfterStop  int `json:"in_use_after_stop"`
		InUseAfterClose int `json:"in_use_after_close"`
	} `json:"mempool"`
	SlowPath    *SlowPathCounters `json:"slow_path"`
	Distributor *DistributorStats `json:"distributor"`
	Raw         string            `json:"-"`
}

// DistributorStats is the balancer's part of the stats file (see
// pkg/report.Distributor).
type DistributorStats struct {
	Balance   string            `json:"balance"`
	Pinned    bool              `json:"pinned"`
	Moves     map[string]uint64 `json:"moves"`
	Decisions []string          `json:"decisions"`
}

// SlowPathCounters are the control thread's counters the suite checks
// (the stats file has more; see pkg/slowpath.Stats).
type SlowPathCounters struct {
	Taken         uint64 `json:"taken"`
	Sent          uint64 `json:"sent"`
	SoftForwarded uint64 `json:"soft_forwarded"`
	Fragmented    uint64 `json:"fragmented"`
}

// Port returns the named port's stats (failing the test without it).
func (s *Stats) Port(t testing.TB, name string) PortStats {
	t.Helper()
	for _, p := range s.Ports {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("stats file has no port %q:\n%s", name, s.Raw)
	return PortStats{}
}

// MAC returns the named port's MAC as reported in the stats file.
func (s *Stats) MAC(t testing.TB, name string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s.Port(t, name).MAC)
	if err != nil {
		t.Fatalf("port %s: bad MAC in stats: %v", name, err)
	}
	return m
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// ReadStats parses a stats file and checks what every stats file must
// satisfy: every reason listed, totals equal to the sum of the lcores,
// rx == tx + dropped + slow path, port RX equal to lcore RX, and every mbuf
// back in the pool after close (no leak).
func (b *Bed) ReadStats(path string) *Stats {
	t := b.T
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("stats file: %v", err)
	}
	s := &Stats{Raw: string(raw)}
	if err := json.Unmarshal(raw, s); err != nil {
		t.Fatalf("stats file %s: %v\n%s", path, err, raw)
	}
	checkReasons := func(what string, m map[string]uint64, want []string) {
		t.Helper()
		for _, r := range want {
			if _, ok := m[r]; !ok {
				t.Errorf("stats: %s lacks reason %q (has %v)", what, r, keys(m))
			}
		}
	}
	checkReasons("totals.dropped", s.Totals.Dropped, DropReasons)
	checkReasons("totals.slowpath", s.Totals.SlowPath, SlowReasons)
	if len(s.Lcores) == 0 {
		t.Errorf("stats: no lcores:\n%s", raw)
	}
	var lrx, ltx uint64
	ldrop, lslow := map[string]uint64{}, map[string]uint64{}
	for _, l := range s.Lcores {
		checkReasons(fmt.Sprintf("lcore %d dropped", l.Lcore), l.Dropped, DropReasons)
		checkReasons(fmt.Sprintf("lcore %d slowpath", l.Lcore), l.SlowPath, SlowReasons)
		lrx += l.RxPackets
		ltx += l.TxPackets
		for k, v := range l.Dropped {
			ldrop[k] += v
		}
		for k, v := range l.SlowPath {
			lslow[k] += v
		}
	}
	if lrx != s.Totals.RxPackets || ltx != s.Totals.TxPackets {
		t.Errorf("stats: totals rx %d tx %d, lcores sum to rx %d tx %d", s.Totals.RxPackets, s.Totals.TxPackets, lrx, ltx)
	}
	for k, v := range s.Totals.Dropped {
		if ldrop[k] != v {
			t.Errorf("stats: totals.dropped[%s] = %d, lcores sum to %d", k, v, ldrop[k])
		}
	}
	for k, v := range s.Totals.SlowPath {
		if lslow[k] != v {
			t.Errorf("stats: totals.slowpath[%s] = %d, lcores sum to %d", k, v, lslow[k])
		}
	}
	if d, sl := sum(s.Totals.Dropped), sum(s.Totals.SlowPath); s.Totals.RxPackets != s.Totals.TxPackets+d+sl {
		t.Errorf("stats: invariant broken: rx %d != tx %d + dropped %d + slowpath %d", s.Totals.RxPackets, s.Totals.TxPackets, d, sl)
	}
	var prx uint64
	for _, p := range s.Ports {
		prx += p.RxPackets
	}
	if prx != s.Totals.RxPackets {
		t.Errorf("stats: ports received %d packets, lcores %d", prx, s.Totals.RxPackets)
	}
	if s.Mempool.Size <= 0 {
		t.Errorf("stats: mempool size %d", s.Mempool.Size)
	}
	if s.Mempool.InUseAfterClose != 0 {
		t.Errorf("stats: mbuf leak: %d mbufs in use after close (pool of %d, %d after stop)",
			s.Mempool.InUseAfterClose, s.Mempool.Size, s.Mempool.InUseAfterStop)
	}
	return s
}

func keys(m map[string]uint64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Forward runs `steer run` on config c until the inputs are exhausted
// (--exit-on-idle), requires exit 0 and returns the checked stats.
func (b *Bed) Forward(c Config) *Stats {
	b.T.Helper()
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")
	r := b.Run("run", "--config", cfg, "--exit-on-idle", idle.String(), "--stats-file", stats)
	if r.Code != 0 {
		b.T.Fatalf("want exit 0\n%s", r)
	}
	b.T.Logf("steer ran %v", r.Elapsed.Round(time.Millisecond))
	s := b.ReadStats(stats)
	if b.T.Failed() {
		b.T.Logf("%s\nstats: %s", r, s.Raw)
	}
	return s
}
