package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/report"
)

func sampleReport(lanRx, lanBytes, wanTx, missed, errs, busy, idle, drops, slow, ring uint64) *report.Report {
	return &report.Report{
		Ports: []report.Port{
			{Name: "lan", RxPackets: lanRx, RxBytes: lanBytes, RxMissed: missed, RxErrors: errs},
			{Name: "wan", TxPackets: wanTx, TxBytes: wanTx * 100, TxErrors: errs},
		},
		Lcores: []report.Lcore{
			{Lcore: 1, Worker: -1, RxPackets: lanRx, TxPackets: wanTx, BusyCycles: busy, IdleCycles: idle,
				Dropped: map[string]uint64{"runt": drops, "tx_full": drops}, SlowPath: map[string]uint64{"arp": slow}},
			{Lcore: 2, Worker: 0, Poll: "adaptive", FromRings: ring, BusyCycles: busy, IdleCycles: 3 * idle, AsleepCycles: 2 * idle},
		},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestComputeRates(t *testing.T) {
	prev := sampleReport(1000, 64000, 900, 5, 1, 100, 300, 10, 2, 50)
	cur := sampleReport(3000, 192000, 2900, 9, 3, 400, 400, 20, 6, 250)
	rt := computeRates(prev, cur, 2*time.Second)
	if rt.Interval != 2*time.Second || len(rt.Ports) != 2 || len(rt.Lcores) != 2 || !rt.Workers {
		t.Fatalf("shape: %+v", rt)
	}
	lan, wan := rt.Ports[0], rt.Ports[1]
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"lan rx pps", lan.RxPPS, 1000},
		{"lan rx bit/s", lan.RxBPS, 8 * 64000},
		{"lan missed/s", lan.MissedPS, 2},
		{"lan errors/s", lan.ErrorsPS, 1},
		{"lan tx pps", lan.TxPPS, 0},
		{"wan tx pps", wan.TxPPS, 1000},
		{"wan tx bit/s", wan.TxBPS, 8 * 100 * 1000},
		{"wan errors/s", wan.ErrorsPS, 1},
		{"port total rx pps", rt.PortTotal.RxPPS, 1000},
		{"port total tx pps", rt.PortTotal.TxPPS, 1000},
		{"port total errors/s", rt.PortTotal.ErrorsPS, 2},
		{"lcore 1 rx pps", rt.Lcores[0].RxPPS, 1000},
		{"lcore 1 tx pps", rt.Lcores[0].TxPPS, 1000},
		{"lcore 1 drops/s (two reasons)", rt.Lcores[0].DropPS, 10},
		{"lcore 1 slow/s", rt.Lcores[0].SlowPS, 2},
		{"lcore 1 busy (300 busy of 400 cycles)", rt.Lcores[0].Busy, 0.75},
		{"lcore 1 cycles per packet (300 for 2000)", rt.Lcores[0].CPP, 0.15},
		{"lcore 2 ring pps", rt.Lcores[1].RingPS, 100},
		{"lcore 2 busy (300 busy of 600 + 200 asleep)", rt.Lcores[1].Busy, 300.0 / 800},
		{"lcore 2 asleep (200 of 800)", rt.Lcores[1].Asleep, 0.25},
		{"lcore 2 cycles per packet (300 for 200)", rt.Lcores[1].CPP, 1.5},
		{"lcore total busy (600 of 1200)", rt.LcoreTotal.Busy, 0.5},
		{"lcore total asleep (200 of 1200)", rt.LcoreTotal.Asleep, 200.0 / 1200},
		{"lcore total cycles per packet (600 for 2200)", rt.LcoreTotal.CPP, 600.0 / 2200},
		{"lcore total rx pps", rt.LcoreTotal.RxPPS, 1000},
		{"lcore total ring pps", rt.LcoreTotal.RingPS, 100},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestComputeRatesEdges(t *testing.T) {
	// No cycles in the interval: busy is unknown, not 0 or NaN-in-a-sum.
	same := sampleReport(10, 10, 10, 0, 0, 5, 5, 0, 0, 0)
	rt := computeRates(same, same, time.Second)
	if !math.IsNaN(rt.Lcores[0].Busy) || !math.IsNaN(rt.LcoreTotal.Busy) || rt.PortTotal.RxPPS != 0 {
		t.Errorf("idle interval: busy %v / %v, rx %v", rt.Lcores[0].Busy, rt.LcoreTotal.Busy, rt.PortTotal.RxPPS)
	}
	// Counters that went down (steer restarted between reads) count from 0.
	rt = computeRates(sampleReport(5000, 0, 0, 0, 0, 0, 0, 0, 0, 0), sampleReport(300, 0, 0, 0, 0, 0, 0, 0, 0, 0), time.Second)
	if rt.Ports[0].RxPPS != 300 || rt.Lcores[0].RxPPS != 300 {
		t.Errorf("after a restart: %v pps, want 300", rt.Ports[0].RxPPS)
	}
	// A port or lcore absent from the first read counts from zero.
	prev := sampleReport(100, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	prev.Ports, prev.Lcores = prev.Ports[:1], prev.Lcores[:1]
	cur := sampleReport(200, 0, 50, 0, 0, 0, 0, 0, 0, 7)
	rt = computeRates(prev, cur, time.Second)
	if rt.Ports[1].TxPPS != 50 || rt.Lcores[1].RingPS != 7 {
		t.Errorf("new port/lcore: wan tx %v, lcore 2 ring %v", rt.Ports[1].TxPPS, rt.Lcores[1].RingPS)
	}
	// Zero interval: no rates rather than infinities.
	rt = computeRates(prev, cur, 0)
	if rt.Ports[0].RxPPS != 0 {
		t.Errorf("zero interval: %v", rt.Ports[0].RxPPS)
	}
	// Without workers, no ring column.
	cur.Lcores = cur.Lcores[:1]
	if computeRates(prev, cur, time.Second).Workers {
		t.Error("Workers set without a worker lcore")
	}
}

func TestSI(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.4, "0"}, {0.6, "1"}, {7, "7"}, {950, "950"}, {999.4, "999"}, {999.6, "1.00k"},
		{1234, "1.23k"}, {12345, "12.3k"}, {123456, "123k"}, {1.5e6, "1.50M"}, {45.6e6, "45.6M"},
		{9.999e9, "10.0G"}, {3e12, "3.00T"}, {5e15, "5000T"}, {math.NaN(), "-"}, {math.Inf(1), "-"},
	} {
		if got := si(c.v); got != c.want {
			t.Errorf("si(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	if percent(0.375) != "37.5%" || percent(math.NaN()) != "-" {
		t.Errorf("percent: %q %q", percent(0.375), percent(math.NaN()))
	}
}

// statsServer serves /api/v1/stats with counters that grow by 1000 per read.
func statsServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/stats" {
			http.NotFound(w, r)
			return
		}
		n := uint64(reads.Add(1))
		json.NewEncoder(w).Encode(sampleReport(1000*n, 64000*n, 1000*n, 0, 0, 10*n, 10*n, 0, 0, 0)) //nolint:errcheck
	}))
	t.Cleanup(srv.Close)
	return srv, &reads
}

func TestWatchStats(t *testing.T) {
	srv, reads := statsServer(t)
	var out strings.Builder
	err := watchStats(context.Background(), &apiClient{base: srv.URL}, &out, 10*time.Millisecond, 3, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Load() != 4 {
		t.Errorf("%d reads for 3 tables, want 4", reads.Load())
	}
	s := out.String()
	if n := strings.Count(s, "steer stats  "+srv.URL); n != 3 {
		t.Errorf("%d tables, want 3:\n%s", n, s)
	}
	if strings.Contains(s, "\x1b[") {
		t.Error("escape codes written to a non-terminal")
	}
	if n := strings.Count(s, "\n\nsteer stats"); n != 2 {
		t.Errorf("tables not separated by a blank line (%d separators):\n%s", n, s)
	}
	for _, want := range []string{"PORT", "RX pps", "BUSY", "ASLEEP", "POLL", "adaptive", "lan", "wan", "total", "50.0%"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	var tty strings.Builder
	if err := watchStats(context.Background(), &apiClient{base: srv.URL}, &tty, 10*time.Millisecond, 2, true, false); err != nil {
		t.Fatal(err)
	}
	if strings.Count(tty.String(), "\x1b[H\x1b[2J") != 2 {
		t.Errorf("a terminal gets a cleared screen per table:\n%q", tty.String())
	}
	// Cancelled (Ctrl-C): ends without an error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := watchStats(ctx, &apiClient{base: srv.URL}, &out, time.Hour, 0, false, false); err != nil {
		t.Errorf("cancelled watch: %v", err)
	}
}

func TestWatchStatsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"router not running: stopping"}`)) //nolint:errcheck
	}))
	defer srv.Close()
	err := watchStats(context.Background(), &apiClient{base: srv.URL}, &strings.Builder{}, time.Millisecond, 1, false, false)
	if err == nil || err.Error() != "router not running: stopping" {
		t.Errorf("503: %v", err)
	}
	srv.Close()
	err = watchStats(context.Background(), &apiClient{base: srv.URL}, &strings.Builder{}, time.Millisecond, 1, false, false)
	if err == nil || !strings.Contains(err.Error(), "no steer answering at "+srv.URL) {
		t.Errorf("nothing listening: %v", err)
	}
}

func TestWatchStatsJSON(t *testing.T) {
	srv, _ := statsServer(t)
	var out strings.Builder
	if err := watchStats(context.Background(), &apiClient{base: srv.URL}, &out, 10*time.Millisecond, 2, false, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 tables, want one JSON object per line:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var tbl struct {
			Interval float64 `json:"interval_seconds"`
			Ports    []struct {
				Name string  `json:"name"`
				Rx   float64 `json:"rx_packets_per_second"`
			} `json:"ports"`
			Lcores []struct {
				Lcore *int     `json:"lcore"`
				Busy  *float64 `json:"busy_ratio"`
				Poll  string   `json:"poll"`
			} `json:"lcores"`
		}
		if err := json.Unmarshal([]byte(l), &tbl); err != nil {
			t.Fatalf("not JSON: %v: %s", err, l)
		}
		if tbl.Interval <= 0 || len(tbl.Ports) != 2 || tbl.Ports[0].Name != "lan" || tbl.Ports[0].Rx <= 0 {
			t.Errorf("ports: %s", l)
		}
		if len(tbl.Lcores) == 0 || tbl.Lcores[0].Lcore == nil || tbl.Lcores[0].Busy == nil || *tbl.Lcores[0].Busy != 0.5 || len(tbl.Lcores) < 2 || tbl.Lcores[1].Poll != "adaptive" {
			t.Errorf("lcores: %s", l)
		}
	}
}
