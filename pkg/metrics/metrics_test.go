package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/slowpath"
)

// fakeSource serves a fixed report; nil means "stopping".
type fakeSource struct {
	rep    *report.Report
	ok     bool
	reason string
	calls  int
}

func (f *fakeSource) Snapshot() *report.Report { f.calls++; return f.rep }
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
// RX+worker lcore 3 (its own share processed inline: Local, no ring).
func distributorReport() *report.Report {
	return &report.Report{
		Ports: []report.Port{
			{Name: "lan", Driver: "net_pcap", MAC: "02:70:63:61:70:00", Steering: "distributor", LinkUp: true, LinkMbps: 10000,
				RxPackets: 1000, TxPackets: 10, RxBytes: 64000, TxBytes: 640, RxMissed: 7, RxErrors: 1, TxErrors: 2, RxNoMbuf: 3},
			{Name: "wan", Driver: "net_pcap", MAC: "02:70:63:61:70:01", Steering: "rtc", LinkUp: false},
		},
		Lcores: []report.Lcore{
			{Lcore: 1, Worker: -1, Role: "rx", RxPackets: 1000, BusyPolls: 50, IdlePolls: 5000, HandedOff: 990, BackpressureSkips: 4,
				SlowRingFull: 11, ControlTx: 12, ControlTxFull: 13,
				Dropped: reasons(drops, 0, 0, 0), SlowPath: reasons(slows)},
			{Lcore: 2, Worker: 0, Role: "worker", Poll: "adaptive", TxPackets: 600, FromRings: 600, WorkerBursts: 30, BusyPolls: 30, IdlePolls: 9,
				AsleepCycles: 7000, Sleeps: 70, Wakeups: 7,
				Dropped: reasons(drops, 1, 2), SlowPath: reasons(slows, 3)},
			{Lcore: 3, Worker: 1, Role: "rx+worker", TxPackets: 380, FromRings: 390, Local: 10, WorkerBursts: 20,
				Dropped: reasons(drops), SlowPath: reasons(slows, 0, 4)},
		},
		Rings: []report.Ring{
			{FromLcore: 1, Worker: 0, Enqueued: 600, DroppedFull: 5, Occupancy: 2},
			{FromLcore: 1, Worker: 1, Enqueued: 390},
		},
		RETA:     []int{0, 1, 0, 0},
		FIB:      report.FIB{Entries: 9, NextHops: 4, Routes: 1, Neighbors: 2},
		Mempool:  report.Mempool{Size: 8191, InUse: 2100},
		SlowPath: slowStats(),
	}
}

var (
	neighStates  = []string{"incomplete", "reachable", "stale", "probe", "failed", "static"}
	queueReasons = []string{"queue_full", "failed", "table_full"}
)

// slowStats is what the control thread reports, its pre-filled maps
// (ICMP error kinds, neighbour states, queue-drop reasons) the way
// slowpath.Stats fills them.
func slowStats() *slowpath.Stats {
	st := &slowpath.Stats{Taken: 100, Sent: 90, SendFailed: 1, SoftForwarded: 20, Fragmented: 3,
		Dropped: map[string]uint64{"malformed": 2, "neighbor_queue_full": 5}}
	st.ARP.RequestsReceived, st.ARP.RepliesReceived, st.ARP.OtherReceived = 30, 4, 6
	st.ARP.RepliesSent, st.ARP.RequestsSent, st.ARP.GratuitousSent = 29, 7, 2
	st.ARP.Resolved, st.ARP.Failed, st.ARP.Learnt, st.ARP.Invalid, st.ARP.TableFull = 4, 1, 40, 8, 9
	st.ARP.QueueDropped = reasons(queueReasons, 5)
	st.ARP.Neighbors = map[string]int{}
	for _, s := range neighStates {
		st.ARP.Neighbors[s] = 0
	}
	st.ARP.Neighbors["reachable"], st.ARP.Neighbors["static"] = 3, 2
	st.ICMP.Received, st.ICMP.EchoReplies, st.ICMP.RateLimited = 14, 15, 16
	st.ICMP.Errors = reasons(slowpath.ErrorKinds, 17)
	st.ICMP.Errors["fragmentation_needed"] = 18
	st.ICMP.Suppressed = map[string]uint64{"broadcast": 19, "icmp_error": 21}
	return st
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
		{"steer_lcore_info", []string{"lcore", "2", "worker", "0", "role", "worker", "poll", "adaptive"}, 1},
		{"steer_lcore_cycles_total", []string{"lcore", "2", "state", "asleep"}, 7000},
		{"steer_lcore_sleeps_total", []string{"lcore", "2"}, 70},
		{"steer_lcore_wakeups_total", []string{"lcore", "2"}, 7},
		{"steer_lcore_info", []string{"lcore", "3", "worker", "1", "role", "rx+worker"}, 1},
		{"steer_ring_enqueued_packets_total", []string{"from_lcore", "1", "worker", "0"}, 600},
		{"steer_ring_enqueued_packets_total", []string{"from_lcore", "1", "worker", "1"}, 390},
		{"steer_lcore_local_packets_total", []string{"lcore", "3"}, 10},
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
		{"steer_lcore_slowpath_ring_full_total", []string{"lcore", "1"}, 11},
		{"steer_lcore_control_tx_packets_total", []string{"lcore", "1"}, 12},
		{"steer_lcore_control_tx_dropped_total", []string{"lcore", "1"}, 13},
		{"steer_lcore_control_tx_dropped_total", []string{"lcore", "2"}, 0},
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

// slowFamilies are the metrics read from Report.SlowPath.
var slowFamilies = []string{
	"steer_slowpath_taken_total", "steer_slowpath_sent_total", "steer_slowpath_send_failed_total",
	"steer_slowpath_soft_forwarded_total", "steer_slowpath_fragmented_total", "steer_slowpath_dropped_total",
	"steer_arp_received_total", "steer_arp_sent_total", "steer_arp_resolved_total", "steer_arp_failed_total",
	"steer_arp_learnt_total", "steer_arp_invalid_total", "steer_arp_table_full_total", "steer_arp_queue_dropped_total",
	"steer_neighbor_entries",
	"steer_icmp_sent_total", "steer_icmp_rate_limited_total", "steer_icmp_suppressed_total", "steer_icmp_received_total",
}

// TestSlowPath: Report.SlowPath gives the control thread's ARP, ICMP and
// forwarding counters, every pre-filled label value listed.
func TestSlowPath(t *testing.T) {
	mfs := gather(t, &fakeSource{rep: distributorReport(), ok: true})
	cases := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"steer_slowpath_taken_total", nil, 100},
		{"steer_slowpath_sent_total", nil, 90},
		{"steer_slowpath_send_failed_total", nil, 1},
		{"steer_slowpath_soft_forwarded_total", nil, 20},
		{"steer_slowpath_fragmented_total", nil, 3},
		{"steer_slowpath_dropped_total", []string{"reason", "malformed"}, 2},
		{"steer_slowpath_dropped_total", []string{"reason", "neighbor_queue_full"}, 5},
		{"steer_arp_received_total", []string{"type", "request"}, 30},
		{"steer_arp_received_total", []string{"type", "reply"}, 4},
		{"steer_arp_received_total", []string{"type", "other"}, 6},
		{"steer_arp_sent_total", []string{"type", "reply"}, 29},
		{"steer_arp_sent_total", []string{"type", "request"}, 7},
		{"steer_arp_sent_total", []string{"type", "gratuitous"}, 2},
		{"steer_arp_resolved_total", nil, 4},
		{"steer_arp_failed_total", nil, 1},
		{"steer_arp_learnt_total", nil, 40},
		{"steer_arp_invalid_total", nil, 8},
		{"steer_arp_table_full_total", nil, 9},
		{"steer_arp_queue_dropped_total", []string{"reason", "queue_full"}, 5},
		{"steer_arp_queue_dropped_total", []string{"reason", "failed"}, 0},
		{"steer_arp_queue_dropped_total", []string{"reason", "table_full"}, 0},
		{"steer_neighbor_entries", []string{"state", "reachable"}, 3},
		{"steer_neighbor_entries", []string{"state", "static"}, 2},
		{"steer_neighbor_entries", []string{"state", "incomplete"}, 0},
		{"steer_icmp_sent_total", []string{"type", "echo_reply"}, 15},
		{"steer_icmp_sent_total", []string{"type", "time_exceeded"}, 17},
		{"steer_icmp_sent_total", []string{"type", "fragmentation_needed"}, 18},
		{"steer_icmp_sent_total", []string{"type", "port_unreachable"}, 0},
		{"steer_icmp_rate_limited_total", nil, 16},
		{"steer_icmp_received_total", nil, 14},
		{"steer_icmp_suppressed_total", []string{"reason", "broadcast"}, 19},
		{"steer_icmp_suppressed_total", []string{"reason", "icmp_error"}, 21},
		// unchanged by the slow path: the FIB's usable neighbours
		{"steer_neighbors", nil, 2},
	}
	for _, tc := range cases {
		if got := value(t, mfs, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	for name, want := range map[string]int{
		"steer_slowpath_dropped_total":  2,
		"steer_arp_received_total":      3,
		"steer_arp_sent_total":          3,
		"steer_arp_queue_dropped_total": len(queueReasons),
		"steer_neighbor_entries":        len(neighStates),
		"steer_icmp_sent_total":         1 + len(slowpath.ErrorKinds),
		"steer_icmp_suppressed_total":   2,
		// every lcore, zeros included
		"steer_lcore_slowpath_ring_full_total": 3,
		"steer_lcore_control_tx_packets_total": 3,
		"steer_lcore_control_tx_dropped_total": 3,
	} {
		if n := len(mfs[name].GetMetric()); n != want {
			t.Errorf("%s has %d series, want %d", name, n, want)
		}
	}
	for _, name := range slowFamilies {
		want := dto.MetricType_COUNTER
		if name == "steer_neighbor_entries" {
			want = dto.MetricType_GAUGE
		}
		if got := mfs[name].GetType(); got != want {
			t.Errorf("%s is a %v, want a %v", name, got, want)
		}
	}
}

// TestEveryFamilyDocumented: every family the collector describes is in
// docs/METRICS.md, so the doc and the code do not drift.
func TestEveryFamilyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 256)
	New(&fakeSource{}, BuildInfo{}).Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	n := 0
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		n++
		if !strings.Contains(string(doc), "`"+m[1]+"`") {
			t.Errorf("docs/METRICS.md does not list %s", m[1])
		}
	}
	if n < 40 {
		t.Errorf("the collector describes %d families, want 40 or more", n)
	}
}

// TestNoSlowPath: without Report.SlowPath (no control thread, or a report
// from before it) no slow-path family appears and nothing panics; the
// lcores' own slow-path counters remain.
func TestNoSlowPath(t *testing.T) {
	rep := distributorReport()
	rep.SlowPath = nil
	mfs := gather(t, &fakeSource{rep: rep, ok: true})
	for _, name := range slowFamilies {
		if _, ok := mfs[name]; ok {
			t.Errorf("%s present without a slow path", name)
		}
	}
	if v := value(t, mfs, "steer_lcore_slowpath_ring_full_total", "lcore", "1"); v != 11 {
		t.Errorf("steer_lcore_slowpath_ring_full_total = %v, want 11", v)
	}
	if v := value(t, mfs, "steer_neighbors"); v != 2 {
		t.Errorf("steer_neighbors = %v, want 2", v)
	}
	problems, err := testutil.CollectAndLint(New(&fakeSource{rep: rep, ok: true}, BuildInfo{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestSlowPathEmptyMaps: a Stats with nil maps (zero value) still scrapes.
func TestSlowPathEmptyMaps(t *testing.T) {
	rep := distributorReport()
	rep.SlowPath = &slowpath.Stats{}
	mfs := gather(t, &fakeSource{rep: rep, ok: true})
	if v := value(t, mfs, "steer_icmp_sent_total", "type", "echo_reply"); v != 0 {
		t.Errorf("echo_reply = %v", v)
	}
	if _, ok := mfs["steer_neighbor_entries"]; ok {
		t.Error("steer_neighbor_entries without states")
	}
}

// TestRunToCompletion: no distributor means no rings and no RETA series;
// a worker without RETA buckets still shows 0.
func TestRunToCompletion(t *testing.T) {
	rep := distributorReport()
	rep.Rings, rep.RETA = nil, nil
	rep.Lcores = rep.Lcores[:1]
	rep.Lcores[0].Role = "rx+fwd"
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
