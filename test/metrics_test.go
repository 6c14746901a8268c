package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/steer-router/steer/pkg/trafgen"
)

// Every steer this package starts serves the HTTP API, on metrics.listen's
// default 127.0.0.1:9464 unless told otherwise. Two suites running at once
// on one host (or a steer already running there) would then make each
// other's steer fail to start, so unless the environment already chooses,
// this test process gives every steer one free loopback port of its own.
// The metrics tests pick their own port with t.Setenv (the environment
// overrides the file).
func init() {
	if _, set := os.LookupEnv("STEER_METRICS_LISTEN"); set {
		return
	}
	if addr, err := freeLoopback(); err == nil {
		os.Setenv("STEER_METRICS_LISTEN", addr)
	}
}

// freeLoopback returns a loopback host:port nothing listens on now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// apiClient talks to one steer's HTTP API.
type apiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

// withAPI points the bed's steer at a free loopback port (config file and
// environment) and returns a client for it and the metrics section of the
// config.
func withAPI(t *testing.T, token string) (*apiClient, string) {
	t.Helper()
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEER_METRICS_LISTEN", addr)
	t.Setenv("STEER_METRICS_TOKEN", "")
	t.Setenv("STEER_API_TOKEN", "")
	section := fmt.Sprintf("metrics: {listen: %q}\n", addr)
	if token != "" {
		section = fmt.Sprintf("metrics: {listen: %q, token: %q}\n", addr, token)
	}
	return &apiClient{t: t, base: "http://" + addr, c: &http.Client{Timeout: 5 * time.Second}}, section
}

// do sends one request; err is a transport error (steer not listening yet).
func (a *apiClient) do(method, path, body string, hdr ...string) (int, string, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

// must is do that fails the test on a transport error or another status.
func (a *apiClient) must(want int, method, path, body string, hdr ...string) string {
	a.t.Helper()
	code, b, _, err := a.do(method, path, body, hdr...)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, b)
	}
	return b
}

// waitReady polls /healthz until it answers 200 (steer up, ports started).
func (a *apiClient) waitReady(p *Proc) {
	a.t.Helper()
	Eventually(a.t, 30*time.Second, func() (bool, string) {
		if p.Exited() {
			a.t.Fatalf("steer exited before it was ready\n%s", p.Wait())
		}
		code, body, _, err := a.do("GET", "/healthz", "")
		if err != nil {
			return false, fmt.Sprintf("GET /healthz: %v", err)
		}
		if code != 200 || body != "ok: forwarding\n" {
			return false, fmt.Sprintf("GET /healthz: %d %q", code, body)
		}
		return true, ""
	})
}

// apiStats is the part of /api/v1/stats the tests read.
type apiStats struct {
	Ports []struct {
		Name      string `json:"name"`
		RxPackets uint64 `json:"rx_packets"`
		TxPackets uint64 `json:"tx_packets"`
	} `json:"ports"`
	Totals struct {
		RxPackets uint64            `json:"rx_packets"`
		TxPackets uint64            `json:"tx_packets"`
		Dropped   map[string]uint64 `json:"dropped"`
		SlowPath  map[string]uint64 `json:"slowpath"`
	} `json:"totals"`
	Mempool struct {
		Size  int `json:"size"`
		InUse int `json:"in_use"`
	} `json:"mempool"`
}

// waitForwarded polls /api/v1/stats until the lcores have received and
// forwarded n packets.
func (a *apiClient) waitForwarded(p *Proc, n uint64) {
	a.t.Helper()
	Eventually(a.t, 30*time.Second, func() (bool, string) {
		if p.Exited() {
			a.t.Fatalf("steer exited on its own\n%s", p.Wait())
		}
		code, body, _, err := a.do("GET", "/api/v1/stats", "")
		if err != nil || code != 200 {
			return false, fmt.Sprintf("GET /api/v1/stats: %d %v %s", code, err, body)
		}
		var s apiStats
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			a.t.Fatalf("/api/v1/stats: %v: %s", err, body)
		}
		if s.Totals.RxPackets != n || s.Totals.TxPackets != n {
			return false, fmt.Sprintf("lcores received %d and forwarded %d of %d packets", s.Totals.RxPackets, s.Totals.TxPackets, n)
		}
		return true, ""
	})
}

// scrape reads /metrics, lints it with promtool's rules and returns every
// sample as "name{labels}" -> value (labels as steer's text format writes
// them: sorted by name).
func (a *apiClient) scrape() map[string]float64 {
	a.t.Helper()
	body := a.must(200, "GET", "/metrics", "")
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		a.t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, p := range problems {
		a.t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			a.t.Fatalf("/metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

// sumOf adds the samples of metric name whose labels contain every match.
func sumOf(samples map[string]float64, name string, match ...string) (float64, int) {
	var sum float64
	n := 0
next:
	for k, v := range samples {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(k, m) {
				continue next
			}
		}
		sum += v
		n++
	}
	return sum, n
}

// TestMetricsAPI runs steer with the HTTP API on a loopback port: /healthz
// turns 200 once it forwards, /api/v1/stats shows the packets arrive,
// /metrics (promtool-clean) counts what was sent and forwarded, /api/v1/reta
// is 404 without a distributor, and SIGTERM still stops cleanly.
func TestMetricsAPI(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 40, PacketsPerFlow: 30, TTL: 64, Mix: "imix", Seed: 70})
	wanIn := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
		Flows: 20, PacketsPerFlow: 25, FirstFlow: 1000, TTL: 64, Size: 64, Seed: 71})
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)
	api, section := withAPI(t, "")
	c := Standard()
	c.Extra = section
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")

	p := b.Start("run", "--config", cfg, "--stats-file", stats)
	api.waitReady(p)
	total := uint64(len(lanIn) + len(wanIn))
	api.waitForwarded(p, total)

	m := api.scrape()
	for _, tc := range []struct {
		sample string
		want   float64
	}{
		{`steer_up`, 1},
		{`steer_scrape_success`, 1},
		{`steer_port_rx_packets_total{port="lan"}`, float64(len(lanIn))},
		{`steer_port_rx_packets_total{port="wan"}`, float64(len(wanIn))},
		// + the gratuitous ARP each port sends at start
		{`steer_port_tx_packets_total{port="wan"}`, float64(len(lanIn) + 1)},
		{`steer_port_tx_packets_total{port="lan"}`, float64(len(wanIn) + 1)},
		{`steer_port_rx_missed_total{port="lan"}`, 0},
		{`steer_lcore_rx_packets_total{lcore="1"}`, float64(total)},
		{`steer_lcore_tx_packets_total{lcore="1"}`, float64(total)},
		{`steer_lcore_info{lcore="1",poll="adaptive",role="rx+fwd",worker=""}`, 1},
		{`steer_fib_next_hops`, m[`steer_fib_next_hops`]}, // present
		{`steer_routes`, 1},
		{`steer_neighbors`, 2},
	} {
		got, ok := m[tc.sample]
		if !ok {
			t.Errorf("/metrics lacks %s", tc.sample)
		} else if got != tc.want {
			t.Errorf("%s = %v, want %v", tc.sample, got, tc.want)
		}
	}
	if v, n := sumOf(m, "steer_port_info", `port="lan"`, `driver="net_pcap"`, `steering="rtc"`, `mac="`+lanMAC.String()+`"`); v != 1 || n != 1 {
		t.Errorf("steer_port_info for lan: %v over %d series", v, n)
	}
	if v, n := sumOf(m, "steer_lcore_dropped_packets_total"); v != 0 || n != len(DropReasons)+1 { // + ring_full
		t.Errorf("drops: %v over %d series, want 0 over %d (every reason)", v, n, len(DropReasons)+1)
	}
	if v, n := sumOf(m, "steer_lcore_slowpath_packets_total"); v != 0 || n != len(SlowReasons) {
		t.Errorf("slow path: %v over %d series, want 0 over %d", v, n, len(SlowReasons))
	}
	if _, n := sumOf(m, "steer_build_info", `dpdk="DPDK 22.11`); n != 1 {
		t.Errorf("steer_build_info with the DPDK version: %d series", n)
	}
	if _, n := sumOf(m, "go_goroutines"); n != 1 {
		t.Error("/metrics lacks the Go collector")
	}
	if v, n := sumOf(m, "steer_mempool_in_use_mbufs"); n != 1 || v < 0 || v > m["steer_mempool_size_mbufs"] || m["steer_mempool_size_mbufs"] <= 0 {
		t.Errorf("mempool: %v in use of %v", v, m["steer_mempool_size_mbufs"])
	}

	// No distributor: no RETA to read or replace.
	for _, method := range []string{"GET", "PUT"} {
		body := ""
		if method == "PUT" {
			body = `{"reta":[0]}`
		}
		out := api.must(404, method, "/api/v1/reta", body)
		if !strings.Contains(out, `"error":"no distributor`) {
			t.Errorf("%s /api/v1/reta: %s", method, out)
		}
	}

	p.Signal(syscall.SIGTERM)
	r := p.Wait()
	if r.Code != 0 {
		t.Fatalf("after SIGTERM: want exit 0\n%s", r)
	}
	if !strings.Contains(r.Stderr, "HTTP API listening") || !strings.Contains(r.Stderr, strings.TrimPrefix(api.base, "http://")) {
		t.Errorf("steer did not log the API address\n%s", r)
	}
	s := b.ReadStats(stats)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
	if _, _, _, err := api.do("GET", "/healthz", ""); err == nil {
		t.Error("the API still answers after steer exited")
	}
	if t.Failed() {
		t.Logf("%s", r)
	}
}

// TestMetricsRETA runs the distributor (1 RX lcore + 2 workers,
// backpressure) with an API token: reads need none, GET /api/v1/reta shows
// the round-robin table, a PUT without the token is 401, bad input is 400
// naming the field, a PUT with the token replaces the table (GET and
// steer_reta_buckets show it, the stats file keeps it), and everything sent
// is forwarded.
func TestMetricsRETA(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 64, PacketsPerFlow: 20, TTL: 64, Size: 128, Seed: 72})
	wanIn := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
		Flows: 16, PacketsPerFlow: 20, FirstFlow: 1000, TTL: 64, Size: 64, Seed: 73})
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)
	const token = "e2e-t0ken"
	api, section := withAPI(t, token)
	c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{RetaSize: 16, OnFull: "backpressure"})
	c.Extra = section
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")

	p := b.Start("run", "--config", cfg, "--stats-file", stats)
	api.waitReady(p)
	api.waitForwarded(p, uint64(len(lanIn)+len(wanIn)))

	var got struct {
		RETA    []int `json:"reta"`
		Workers int   `json:"workers"`
	}
	if err := json.Unmarshal([]byte(api.must(200, "GET", "/api/v1/reta", "")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Workers != 2 || fmt.Sprint(got.RETA) != "[0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1]" {
		t.Errorf("initial RETA: %+v, want round robin over 2 workers", got)
	}
	m := api.scrape()
	if m[`steer_reta_buckets{worker="0"}`] != 8 || m[`steer_reta_buckets{worker="1"}`] != 8 {
		t.Errorf("steer_reta_buckets: %v / %v, want 8 / 8", m[`steer_reta_buckets{worker="0"}`], m[`steer_reta_buckets{worker="1"}`])
	}
	if m[`steer_lcore_info{lcore="1",poll="adaptive",role="rx",worker=""}`] != 1 || m[`steer_lcore_info{lcore="3",poll="adaptive",role="worker",worker="1"}`] != 1 {
		t.Error("steer_lcore_info roles missing")
	}
	if v, n := sumOf(m, "steer_ring_enqueued_packets_total", `from_lcore="1"`); v != float64(len(lanIn)+len(wanIn)) || n != 2 {
		t.Errorf("steer_ring_enqueued_packets_total: %v over %d rings, want %d over 2", v, n, len(lanIn)+len(wanIn))
	}
	if v, _ := sumOf(m, "steer_lcore_tx_packets_total"); v != float64(len(lanIn)+len(wanIn)) {
		t.Errorf("lcores forwarded %v, want %d", v, len(lanIn)+len(wanIn))
	}

	next := `{"reta":[1,1,1,1,1,1,1,1,1,1,1,1,0,0,0,0]}`
	code, body, hdr, err := api.do("PUT", "/api/v1/reta", next)
	if err != nil || code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("PUT without token: %d %v %s", code, err, body)
	}
	if code, body, _, _ := api.do("PUT", "/api/v1/reta", next, "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("PUT with a wrong token: %d %s", code, body)
	}
	auth := []string{"Authorization", "Bearer " + token}
	for _, bad := range []struct{ body, field string }{
		{`{"reta":[1,1]}`, "reta"},
		{`{"reta":[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,2]}`, "reta[15]"},
		{`{"reta":[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1],"x":1}`, "x"},
	} {
		out := api.must(400, "PUT", "/api/v1/reta", bad.body, auth...)
		var e struct{ Error, Field string }
		if json.Unmarshal([]byte(out), &e) != nil || e.Field != bad.field {
			t.Errorf("PUT %s: %s, want field %q", bad.body, out, bad.field)
		}
	}
	api.must(200, "PUT", "/api/v1/reta", next, auth...)
	want := "[1 1 1 1 1 1 1 1 1 1 1 1 0 0 0 0]"
	if err := json.Unmarshal([]byte(api.must(200, "GET", "/api/v1/reta", "")), &got); err != nil || fmt.Sprint(got.RETA) != want {
		t.Errorf("GET after PUT: %v (%v), want %s", got.RETA, err, want)
	}
	m = api.scrape()
	if m[`steer_reta_buckets{worker="0"}`] != 4 || m[`steer_reta_buckets{worker="1"}`] != 12 {
		t.Errorf("steer_reta_buckets after PUT: %v / %v, want 4 / 12", m[`steer_reta_buckets{worker="0"}`], m[`steer_reta_buckets{worker="1"}`])
	}

	p.Signal(syscall.SIGTERM)
	r := p.Wait()
	if r.Code != 0 {
		t.Fatalf("after SIGTERM: want exit 0\n%s", r)
	}
	s := b.ReadStats(stats)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
	if fmt.Sprint(s.RETA) != want {
		t.Errorf("stats file RETA %v, want %s", s.RETA, want)
	}
	// checkDistStats expects the round-robin table of an untouched run;
	// everything else it checks (links, workers, counters) still holds.
	untouched := *s
	untouched.RETA = []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	checkDistStats(t, &untouched, c)
	if strings.Contains(r.Output(), token) {
		t.Error("steer logged the API token")
	}
	if t.Failed() {
		t.Logf("%s\nstats: %s", r, s.Raw)
	}
}

// TestMetricsListenBusy: an address steer cannot listen on is a start-up
// error (exit 1, naming metrics.listen), after which the router is down
// again: no stats file, no DPDK runtime files left behind.
func TestMetricsListenBusy(t *testing.T) {
	b := NewBed(t)
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("STEER_METRICS_LISTEN", ln.Addr().String())
	cfg := b.WriteConfig(Standard())
	stats := b.Path("stats.json")
	r := b.Run("run", "--config", cfg, "--stats-file", stats)
	if r.Code != 1 {
		t.Fatalf("want exit 1 with %s taken\n%s", ln.Addr(), r)
	}
	if !strings.Contains(r.Stderr, "metrics.listen") || !strings.Contains(r.Stderr, "address already in use") {
		t.Errorf("the error should name metrics.listen and the cause\n%s", r)
	}
	if _, err := os.Stat(stats); err == nil {
		t.Error("stats file written after a failed start")
	}
}
