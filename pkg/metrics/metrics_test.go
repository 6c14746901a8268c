package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/steer-router/steer/pkg/router"
)

// fakeSource serves a fixed report; nil means "stopping".
type fakeSource struct {
	rep    *router.Report
	ok     bool
	reason string
	calls  int
}

func (f *fakeSource) Snapshot() *router.Report { f.calls++; return f.rep }
func (f *fakeSource) Health() (bool, string)   { return f.ok, f.reason }

var (
	drops = []string{"runt", "bad_checksum", "ring_full"}
	slows = []string{"arp", "no_route"}
)

func reasons(names []string, vals ...uint64) map[string]uint64 {
	m := map[string]uint64{}
	for i, n := range names {
		m[n] = 0
		if i < len(vals) {
			m[n] = vals[i]
		}
	}
	return m
}

// distributorReport is a distributor on lan: RX lcore 1, worker lcore 2 and
// RX+worker lcore 3 (its own share processed inline: the ring="false" link).
func distributorReport() *router.Report {
	return &router.Report{
		Ports: []router.PortReport{
			{Name: "lan", Driver: "net_pcap", MAC: "02:70:63:61:70:00", Steering: "distributor", LinkUp: true, LinkMbps: 10000,
				RxPackets: 1000, TxPackets: 10, RxBytes: 64000, TxBytes: 640, RxMissed: 7, RxErrors: 1, TxErrors: 2, RxNoMbuf: 3},
			{Name: "wan", Driver: "net_pcap", MAC: "02:70:63:61:70:01", Steering: "rtc", LinkUp: false},
		},
		Lcores: []router.LcoreReport{
			{Lcore: 1, Worker: -1, RxPackets: 1000, BusyPolls: 50, IdlePolls: 5000, HandedOff: 990, BackpressureSkips: 4,
				Dropped: reasons(drops, 0, 0, 0), SlowPath: reasons(slows)},
			{Lcore: 2, Worker: 0, TxPackets: 600, FromRings: 600, WorkerBursts: 30, BusyPolls: 30, IdlePolls: 9,
				Dropped: reasons(drops, 1, 2), SlowPath: reasons(slows, 3)},
			{Lcore: 3, Worker: 1, TxPackets: 380, FromRings: 390, Local: 10, WorkerBursts: 20,
				Dropped: reasons(drops), SlowPath: reasons(slows, 0, 4)},
		},
		Rings: []router.RingReport{
			{FromLcore: 1, Worker: 0, Ring: true, Enqueued: 600, DroppedFull: 5, Occupancy: 2},
			{FromLcore: 1, Worker: 1, Ring: true, Enqueued: 390},
			{FromLcore: 3, Worker: 1, Ring: false, Enqueued: 10},
		},
		RETA:    []int{0, 1, 0, 0},
		FIB:     router.FIBReport{Entries: 9, NextHops: 4, Routes: 1, Neighbors: 2},
		Mempool: router.MempoolReport{Size: 8191, InUse: 2100},
	}
}

func gather(t *testing.T, src Source) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(src, BuildInfo{Version: "v1.2.3", GoVersion: "go1.26", DPDK: "DPDK 22.11.4"}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of name{labels}; labels not given are not
// checked. It fails when no or several series match.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var found []float64
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if v, ok := have[labels[i]]; !ok || v != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			found = append(found, m.GetCounter().GetValue())
		case m.Gauge != nil:
			found = append(found, m.GetGauge().GetValue())
		default:
			t.Fatalf("%s: neither counter nor gauge", name)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series match, want 1", name, labels, len(found))
	}
	return found[0]
}

func TestCollectValues(t *testing.T) {
	src := &fakeSource{rep: distributorReport(), ok: true, reason: "forwarding"}
	mfs := gather(t, src)
	cases := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"steer_up", nil, 1},
		{"steer_scrape_success", nil, 1},
		{"steer_build_info", []string{"version", "v1.2.3", "goversion", "go1.26", "dpdk", "DPDK 22.11.4"}, 1},
		{"steer_port_rx_packets_total", []string{"port", "lan"}, 1000},
		{"steer_port_tx_packets_total", []string{"port", "lan"}, 10},
		{"steer_port_rx_bytes_total", []string{"port", "lan"}, 64000},
		{"steer_port_tx_bytes_total", []string{"port", "lan"}, 640},
		{"steer_port_rx_missed_total", []string{"port", "lan"}, 7},
		{"steer_port_rx_errors_total", []string{"port", "lan"}, 1},
		{"steer_port_tx_errors_total", []string{"port", "lan"}, 2},
		{"steer_port_rx_nombuf_total", []string{"port", "lan"}, 3},
		{"steer_port_link_up", []string{"port", "lan"}, 1},
		{"steer_port_link_up", []string{"port", "wan"}, 0},
		{"steer_port_link_speed_bps", []string{"port", "lan"}, 10e9},
		{"steer_port_info", []string{"port", "lan", "driver", "net_pcap", "mac", "02:70:63:61:70:00", "steering", "distributor"}, 1},
		{"steer_port_info", []string{"port", "wan", "steering", "rtc"}, 1},
		{"steer_lcore_rx_packets_total", []string{"lcore", "1"}, 1000},
		{"steer_lcore_tx_packets_total", []string{"lcore", "2"}, 600},
		{"steer_lcore_dropped_packets_total", []string{"lcore", "2", "reason", "runt"}, 1},
		{"steer_lcore_dropped_packets_total", []string{"lcore", "2", "reason", "bad_checksum"}, 2},
		{"steer_lcore_dropped_packets_total", []string{"lcore", "2", "reason", "ring_full"}, 0},
		{"steer_lcore_slowpath_packets_total", []string{"lcore", "2", "reason", "arp"}, 3},
		{"steer_lcore_slowpath_packets_total", []string{"lcore", "3", "reason", "no_route"}, 4},
		{"steer_lcore_polls_total", []string{"lcore", "1", "state", "busy"}, 50},
		{"steer_lcore_polls_total", []string{"lcore", "1", "state", "idle"}, 5000},
		{"steer_lcore_handed_off_packets_total", []string{"lcore", "1"}, 990},
		{"steer_lcore_local_packets_total", []string{"lcore", "3"}, 10},
		{"steer_lcore_ring_packets_total", []string{"lcore", "3"}, 390},
		{"steer_lcore_worker_bursts_total", []string{"lcore", "2"}, 30},
		{"steer_lcore_backpressure_skips_total", []string{"lcore", "1"}, 4},
		{"steer_lcore_info", []string{"lcore", "1", "worker", "", "role", "rx"}, 1},
		{"steer_lcore_info", []string{"lcore", "2", "worker", "0", "role", "worker"}, 1},
		{"steer_lcore_info", []string{"lcore", "3", "worker", "1", "role", "rx+worker"}, 1},
		{"steer_ring_enqueued_packets_total", []string{"from_lcore", "1", "worker", "0", "ring", "true"}, 600},
		{"steer_ring_enqueued_packets_total", []string{"from_lcore", "3", "worker", "1", "ring", "false"}, 10},
		{"steer_ring_dropped_full_packets_total", []string{"from_lcore", "1", "worker", "0"}, 5},
		{"steer_ring_occupancy", []string{"from_lcore", "1", "worker", "0"}, 2},
		{"steer_reta_buckets", []string{"worker", "0"}, 3},
		{"steer_reta_buckets", []string{"worker", "1"}, 1},
		{"steer_mempool_size_mbufs", nil, 8191},
		{"steer_mempool_in_use_mbufs", nil, 2100},
		{"steer_fib_entries", nil, 9},
		{"steer_fib_next_hops", nil, 4},
		{"steer_routes", nil, 1},
		{"steer_neighbors", nil, 2},
	}
	for _, tc := range cases {
		if got := value(t, mfs, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// Every reason of every lcore, zeros included.
	if n := len(mfs["steer_lcore_dropped_packets_total"].GetMetric()); n != 3*len(drops) {
		t.Errorf("steer_lcore_dropped_packets_total has %d series, want %d", n, 3*len(drops))
	}
	if n := len(mfs["steer_lcore_slowpath_packets_total"].GetMetric()); n != 3*len(slows) {
		t.Errorf("steer_lcore_slowpath_packets_total has %d series, want %d", n, 3*len(slows))
	}
	if d := value(t, mfs, "steer_scrape_duration_seconds"); d < 0 || d > 1 {
		t.Errorf("steer_scrape_duration_seconds = %v", d)
	}
	if src.calls != 1 {
		t.Errorf("one scrape took %d snapshots, want 1", src.calls)
	}
	for _, name := range []string{"steer_port_rx_packets_total", "steer_lcore_polls_total", "steer_ring_enqueued_packets_total"} {
		if got := mfs[name].GetType(); got != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v, want a counter", name, got)
		}
	}
	for _, name := range []string{"steer_up", "steer_ring_occupancy", "steer_reta_buckets", "steer_port_link_up"} {
		if got := mfs[name].GetType(); got != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, got)
		}
	}
}

// TestRunToCompletion: no distributor means no rings and no RETA series;
// a worker without RETA buckets still shows 0.
func TestRunToCompletion(t *testing.T) {
	rep := distributorReport()
	rep.Rings, rep.RETA = nil, nil
	rep.Lcores = rep.Lcores[:1]
	mfs := gather(t, &fakeSource{rep: rep, ok: true})
	for _, name := range []string{"steer_ring_enqueued_packets_total", "steer_ring_occupancy", "steer_reta_buckets"} {
		if _, ok := mfs[name]; ok {
			t.Errorf("%s present without a distributor", name)
		}
	}
	if v := value(t, mfs, "steer_lcore_info", "lcore", "1", "role", "rx+fwd"); v != 1 {
		t.Errorf("lcore_info = %v", v)
	}

	rep = distributorReport()
	rep.RETA = []int{0, 0, 0, 0}
	mfs = gather(t, &fakeSource{rep: rep, ok: true})
	if v := value(t, mfs, "steer_reta_buckets", "worker", "1"); v != 0 {
		t.Errorf("worker 1 without buckets: steer_reta_buckets = %v, want 0", v)
	}
}

// TestUnhealthy: a snapshot but Health false is steer_up 0 with every
// other metric still there.
func TestUnhealthy(t *testing.T) {
	mfs := gather(t, &fakeSource{rep: distributorReport(), ok: false, reason: "port wan is not started"})
	if v := value(t, mfs, "steer_up"); v != 0 {
		t.Errorf("steer_up = %v, want 0", v)
	}
	if v := value(t, mfs, "steer_scrape_success"); v != 1 {
		t.Errorf("steer_scrape_success = %v, want 1", v)
	}
	if _, ok := mfs["steer_port_rx_packets_total"]; !ok {
		t.Error("port counters missing")
	}
}

// TestStopping: no snapshot (the router is stopping) gives steer_up 0 and
// steer_scrape_success 0, nothing else.
func TestStopping(t *testing.T) {
	c := New(&fakeSource{rep: nil, ok: false}, BuildInfo{})
	want := `# HELP steer_scrape_success 1 when the router's counters could be read (0 while stopping).
# TYPE steer_scrape_success gauge
steer_scrape_success 0
# HELP steer_up 1 when the router forwards: lcores running and every port started.
# TYPE steer_up gauge
steer_up 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c); n != 2 {
		t.Errorf("%d metrics while stopping, want 2", n)
	}
}

// TestLint runs promtool's lint rules (testutil.CollectAndLint) over a
// full scrape.
func TestLint(t *testing.T) {
	c := New(&fakeSource{rep: distributorReport(), ok: true}, BuildInfo{Version: "dev", DPDK: "DPDK 22.11.4"})
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestDescribeCoversCollect: every metric sent comes from a described
// descriptor (the pedantic registry checks it during gather).
func TestDescribeCoversCollect(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c := New(&fakeSource{rep: distributorReport(), ok: true}, BuildInfo{})
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "steer_port_info"); n != 2 {
		t.Errorf("steer_port_info: %d series, want 2", n)
	}
}
