package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/metrics"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/rib"
)

// fakeRouter is a distributor with reta buckets over workers workers (no
// RETA when reta is nil); stopped makes Snapshot return nil.
type fakeRouter struct {
	mu       sync.Mutex
	routes   map[netip.Prefix]netip.Addr
	neigh    map[netip.Addr]report.Neighbor
	nsets    int // AddNeighbor and DeleteNeighbor calls
	bulks    int // AddRoutes calls
	reta     []int
	workers  int
	healthy  bool
	reason   string
	stopped  bool
	setErr   error
	sets     int
	released int
}

func (f *fakeRouter) Snapshot() *report.Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil
	}
	rep := &report.Report{
		Ports: []report.Port{{Name: "lan", Driver: "net_pcap", MAC: "02:00:00:00:00:01", Steering: "distributor", RxPackets: 42}},
		Lcores: []report.Lcore{{Lcore: 1, Worker: -1, RxPackets: 42,
			Dropped: map[string]uint64{"runt": 0}, SlowPath: map[string]uint64{"arp": 0}}},
		RETA: append([]int(nil), f.reta...),
	}
	for w := 0; w < f.workers; w++ {
		rep.Lcores = append(rep.Lcores, report.Lcore{Lcore: 2 + w, Worker: w,
			Dropped: map[string]uint64{"runt": 0}, SlowPath: map[string]uint64{"arp": 0}})
	}
	rep.Totals.RxPackets = 42
	return rep
}

func (f *fakeRouter) Health() (bool, string) {
	if f.stopped {
		return false, "lcores are not running (starting or stopping)"
	}
	return f.healthy, f.reason
}

func (f *fakeRouter) RETA() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.reta...)
}

func (f *fakeRouter) ReleaseRETA() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released++
	return nil
}

func (f *fakeRouter) SetRETA(r []int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.setErr != nil {
		return f.setErr
	}
	f.reta = append([]int(nil), r...)
	return nil
}

func (f *fakeRouter) Routes(all bool) []rib.Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rib.Route
	for p, v := range f.routes {
		out = append(out, rib.Route{Prefix: p, Source: rib.Static, Via: v, NextHop: fwd.NextHop{Kind: fwd.Unresolved, Port: 1, Via: v}})
	}
	if all {
		out = append(out, rib.Route{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Source: rib.Connected, NextHop: fwd.NextHop{Kind: fwd.Unresolved, Port: 1}})
	}
	return out
}

// AddRoute mimics the router's rules that matter to the API: field errors.
func (f *fakeRouter) AddRoute(p netip.Prefix, via netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !netip.MustParsePrefix("203.0.113.0/24").Contains(via) {
		return field.Errorf("via", via.String(), "not on a connected subnet of any port")
	}
	if f.routes == nil {
		f.routes = map[netip.Prefix]netip.Addr{}
	}
	f.routes[p] = via
	return nil
}

// AddRoutes is AddRoute all or none, its errors naming routes[i] when it
// is given several (as the RIB's do); bulks counts its calls.
func (f *fakeRouter) AddRoutes(routes ...rib.StaticRoute) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bulks++
	for i, r := range routes {
		if !netip.MustParsePrefix("203.0.113.0/24").Contains(r.Via) {
			fe := field.Errorf("via", r.Via.String(), "not on a connected subnet of any port")
			if len(routes) > 1 {
				fe = fe.In(fmt.Sprintf("routes[%d]", i))
			}
			return fe
		}
	}
	if f.routes == nil {
		f.routes = map[netip.Prefix]netip.Addr{}
	}
	for _, r := range routes {
		f.routes[r.Prefix] = r.Via
	}
	return nil
}

func (f *fakeRouter) DeleteRoute(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.routes[p]; !ok {
		return field.Wrap("prefix", p.String(), rib.ErrNoRoute)
	}
	delete(f.routes, p)
	return nil
}

func (f *fakeRouter) Neighbors() []report.Neighbor {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []report.Neighbor
	for _, n := range f.neigh {
		out = append(out, n)
	}
	return out
}

// fakeSubnets are the fake router's ports and their connected subnets.
var fakeSubnets = map[string]netip.Prefix{
	"lan": netip.MustParsePrefix("10.0.0.0/24"),
	"wan": netip.MustParsePrefix("203.0.113.0/24"),
}

// AddNeighbor mimics the router's rules: the port must exist and the
// address be on its subnet; errors name the field.
func (f *fakeRouter) AddNeighbor(ip netip.Addr, mac inet.MAC, port string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nsets++
	if f.stopped {
		return errors.New("router is stopping")
	}
	sub, ok := fakeSubnets[port]
	if !ok {
		return field.Errorf("port", port, "no port named %q", port)
	}
	if !sub.Contains(ip) {
		return field.Errorf("ip", ip.String(), "not on port %s's subnet %s", port, sub)
	}
	if f.neigh == nil {
		f.neigh = map[netip.Addr]report.Neighbor{}
	}
	f.neigh[ip] = report.Neighbor{IP: ip, MAC: mac.String(), Port: port, State: "static", Static: true}
	return nil
}

func (f *fakeRouter) DeleteNeighbor(ip netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nsets++
	if _, ok := f.neigh[ip]; !ok {
		return field.Error{Field: "ip", Value: ip.String(), Msg: "no such static neighbour", Err: neigh.ErrNoStatic}
	}
	delete(f.neigh, ip)
	return nil
}

func distributor() *fakeRouter {
	return &fakeRouter{reta: []int{0, 1, 0, 1, 0, 1, 0, 1}, workers: 2, healthy: true, reason: "forwarding"}
}

type resp struct {
	code int
	hdr  http.Header
	body string
}

func do(t *testing.T, h http.Handler, method, path, body string, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Header(), rec.Body.String()}
}

func jsonErr(t *testing.T, r resp) apiError {
	t.Helper()
	if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %v: %s", err, r.body)
	}
	return e
}

func TestHealthz(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	r := do(t, h, "GET", "/healthz", "")
	if r.code != 200 || r.body != "ok: forwarding\n" {
		t.Errorf("healthy: %d %q", r.code, r.body)
	}
	f.healthy, f.reason = false, "port wan is not started"
	r = do(t, h, "GET", "/healthz", "")
	if r.code != 503 || !strings.Contains(r.body, "port wan is not started") {
		t.Errorf("unhealthy: %d %q", r.code, r.body)
	}
	if r := do(t, h, "HEAD", "/healthz", ""); r.code != 503 {
		t.Errorf("HEAD /healthz: %d", r.code)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	h := New(distributor(), Options{Build: metrics.BuildInfo{Version: "v9", DPDK: "DPDK 22.11.4"}})
	r := do(t, h, "GET", "/metrics", "")
	if r.code != 200 {
		t.Fatalf("GET /metrics: %d %s", r.code, r.body)
	}
	for _, want := range []string{
		`steer_port_rx_packets_total{port="lan"} 42`,
		`steer_up 1`,
		`steer_scrape_success 1`,
		`steer_reta_buckets{worker="0"} 4`,
		`steer_build_info{dpdk="DPDK 22.11.4",goversion="go`,
		`# TYPE go_goroutines gauge`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(r.body, "promhttp_") {
		t.Error("/metrics has promhttp's own metrics: the registry should hold only steer, Go and process collectors")
	}
}

func TestStats(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	r := do(t, h, "GET", "/api/v1/stats", "")
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Totals.RxPackets != 42 || len(rep.Ports) != 1 || rep.Ports[0].Name != "lan" || len(rep.RETA) != 8 {
		t.Errorf("stats: %+v", rep)
	}
	f.stopped, f.healthy, f.reason = true, false, "lcores are not running (starting or stopping)"
	r = do(t, h, "GET", "/api/v1/stats", "")
	if r.code != 503 || !strings.Contains(jsonErr(t, r).Error, "not running") {
		t.Errorf("stopping: %d %s", r.code, r.body)
	}
}

func TestGetRETA(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	r := do(t, h, "GET", "/api/v1/reta", "")
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var got retaBody
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Workers != 2 || fmt.Sprint(got.RETA) != "[0 1 0 1 0 1 0 1]" {
		t.Errorf("got %+v", got)
	}

	f.reta = nil
	r = do(t, h, "GET", "/api/v1/reta", "")
	if r.code != 404 || !strings.Contains(jsonErr(t, r).Error, "no distributor") {
		t.Errorf("without a distributor: %d %s", r.code, r.body)
	}
	f.stopped = true
	if r := do(t, h, "GET", "/api/v1/reta", ""); r.code != 503 {
		t.Errorf("stopping: %d %s", r.code, r.body)
	}
}

func TestPutRETA(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	r := do(t, h, "PUT", "/api/v1/reta", `{"reta":[1,1,1,1,0,0,0,0]}`)
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if fmt.Sprint(f.RETA()) != "[1 1 1 1 0 0 0 0]" {
		t.Errorf("router RETA %v", f.RETA())
	}
	r = do(t, h, "GET", "/api/v1/reta", "")
	if !strings.Contains(r.body, `"reta":[1,1,1,1,0,0,0,0]`) || !strings.Contains(r.body, `"workers":2`) {
		t.Errorf("GET after PUT: %s", r.body)
	}
	// -1: the RX lcore keeps the bucket.
	if r := do(t, h, "PUT", "/api/v1/reta", `{"reta":[-1,-1,1,1,0,0,0,0]}`); r.code != 200 || fmt.Sprint(f.RETA()) != "[-1 -1 1 1 0 0 0 0]" {
		t.Errorf("PUT with local buckets: %d %s, RETA %v", r.code, r.body, f.RETA())
	}
	// DELETE gives it back to the balancer.
	if r := do(t, h, "DELETE", "/api/v1/reta", ""); r.code != 204 || f.released != 1 {
		t.Errorf("DELETE: %d %s, released %d", r.code, r.body, f.released)
	}
}

func TestPutRETABadInput(t *testing.T) {
	big := `{"reta":[` + strings.Repeat("0,", MaxBody/2) + `0]}`
	cases := []struct {
		name, body string
		code       int
		field, msg string
	}{
		{"not JSON", `{"reta":[0,1`, 400, "", "invalid JSON"},
		{"garbage", `reta=0,1`, 400, "", "invalid JSON"},
		{"empty body", ``, 400, "", "empty body"},
		{"array body", `[0,1,0,1,0,1,0,1]`, 400, "", "expected a JSON object"},
		{"unknown field", `{"reta":[0,1,0,1,0,1,0,1],"workers":2}`, 400, "workers", `unknown field "workers"`},
		{"missing reta", `{}`, 400, "reta", "required"},
		{"null reta", `{"reta":null}`, 400, "reta", "required"},
		{"reta not a list", `{"reta":"0,1"}`, 400, "reta", "expected a list"},
		{"too short", `{"reta":[0,1,0,1]}`, 400, "reta", "4 entries, want 8"},
		{"too long", `{"reta":[0,1,0,1,0,1,0,1,0]}`, 400, "reta", "9 entries, want 8"},
		{"empty list", `{"reta":[]}`, 400, "reta", "0 entries, want 8"},
		{"worker out of range", `{"reta":[0,1,0,2,0,1,0,1]}`, 400, "reta[3]", "worker 2 out of range"},
		{"negative worker", `{"reta":[0,1,0,1,0,1,0,-2]}`, 400, "reta[7]", "out of range"},
		{"fraction", `{"reta":[0,1.5,0,1,0,1,0,1]}`, 400, "reta[1]", "not a worker number"},
		{"string entry", `{"reta":[0,1,"0",1,0,1,0,1]}`, 400, "reta[2]", "not a worker number"},
		{"null entry", `{"reta":[0,1,0,1,null,1,0,1]}`, 400, "reta[4]", "not a worker number"},
		{"trailing data", `{"reta":[0,1,0,1,0,1,0,1]} {}`, 400, "", "trailing data"},
		{"oversize body", big, 413, "", "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := distributor()
			r := do(t, New(f, Options{}), "PUT", "/api/v1/reta", tc.body)
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %s", r.code, tc.code, r.body)
			}
			e := jsonErr(t, r)
			if e.Field != tc.field || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("error %+v, want field %q and a message containing %q", e, tc.field, tc.msg)
			}
			if f.sets != 0 {
				t.Error("SetRETA called with bad input")
			}
		})
	}
}

func TestPutRETARouterErrors(t *testing.T) {
	f := distributor()
	f.setErr = errors.New("dataplane: RETA bucket 0 -> worker 9, have 2 workers")
	r := do(t, New(f, Options{}), "PUT", "/api/v1/reta", `{"reta":[0,1,0,1,0,1,0,1]}`)
	if r.code != 400 || jsonErr(t, r).Field != "reta" {
		t.Errorf("SetRETA error: %d %s", r.code, r.body)
	}
	f = distributor()
	f.reta = nil
	r = do(t, New(f, Options{}), "PUT", "/api/v1/reta", `{"reta":[0]}`)
	if r.code != 404 || f.sets != 0 {
		t.Errorf("no distributor: %d %s (sets %d)", r.code, r.body, f.sets)
	}
}

func TestToken(t *testing.T) {
	f := distributor()
	h := New(f, Options{Token: "s3cret"})
	body := `{"reta":[1,0,1,0,1,0,1,0]}`
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"no header", nil},
		{"wrong token", []string{"Authorization", "Bearer nope"}},
		{"token prefix", []string{"Authorization", "Bearer s3cre"}},
		{"token longer", []string{"Authorization", "Bearer s3cret2"}},
		{"basic scheme", []string{"Authorization", "Basic czNjcmV0"}},
		{"no scheme", []string{"Authorization", "s3cret"}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, "PUT", "/api/v1/reta", body, tc.hdr...)
			if r.code != 401 {
				t.Fatalf("code %d, want 401: %s", r.code, r.body)
			}
			if !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.hdr.Get("WWW-Authenticate"))
			}
			jsonErr(t, r)
			if f.sets != 0 {
				t.Error("SetRETA called without the token")
			}
		})
	}
	// Bad input without a token is still 401: nothing is parsed first.
	if r := do(t, h, "PUT", "/api/v1/reta", `{"x":1}`); r.code != 401 {
		t.Errorf("bad body without token: %d", r.code)
	}
	r := do(t, h, "PUT", "/api/v1/reta", body, "Authorization", "Bearer s3cret")
	if r.code != 200 || fmt.Sprint(f.RETA()) != "[1 0 1 0 1 0 1 0]" {
		t.Errorf("right token: %d %s", r.code, r.body)
	}
	if r := do(t, h, "PUT", "/api/v1/reta", body, "Authorization", "bearer s3cret"); r.code != 200 {
		t.Errorf("lower-case scheme: %d %s", r.code, r.body)
	}
	// Reads need no token.
	for _, p := range []string{"/metrics", "/healthz", "/api/v1/stats", "/api/v1/reta"} {
		if r := do(t, h, "GET", p, ""); r.code != 200 {
			t.Errorf("GET %s without token: %d", p, r.code)
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	h := New(distributor(), Options{})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/api/v1/reta", 405},
		{"POST", "/api/v1/reta/x", 404},
		{"PUT", "/api/v1/stats", 405},
		{"POST", "/metrics", 405},
		{"GET", "/api/v1/nope", 404},
		{"GET", "/", 404},
	} {
		r := do(t, h, tc.method, tc.path, "")
		if r.code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.code, tc.code)
		}
	}
	if r := do(t, h, "POST", "/api/v1/reta", ""); !strings.Contains(r.hdr.Get("Allow"), "PUT") {
		t.Errorf("405 Allow %q", r.hdr.Get("Allow"))
	}
}

// TestConcurrentScrapes: scrapes and changes from many goroutines (run
// with -race to check the handler shares nothing unsafely).
func TestConcurrentScrapes(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if r := do(t, h, "GET", "/metrics", ""); r.code != 200 {
					t.Errorf("scrape %d", r.code)
				}
				w := (i + j) % 2
				body := fmt.Sprintf(`{"reta":[%d,%d,%d,%d,%d,%d,%d,%d]}`, w, w, w, w, w, w, w, w)
				if r := do(t, h, "PUT", "/api/v1/reta", body); r.code != 200 {
					t.Errorf("put %d %s", r.code, r.body)
				}
			}
		}(i)
	}
	wg.Wait()
}

func TestRoutes(t *testing.T) {
	f := distributor()
	h := New(f, Options{Token: "s3cret"})
	auth := []string{"Authorization", "Bearer s3cret"}

	if r := do(t, h, "POST", "/api/v1/routes", `{"prefix":"198.51.100.0/24","via":"203.0.113.2"}`); r.code != http.StatusUnauthorized {
		t.Errorf("POST without token: %d, want 401", r.code)
	}
	if r := do(t, h, "POST", "/api/v1/routes", `{"prefix":"198.51.100.0/24","via":"203.0.113.2"}`, auth...); r.code != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	r := do(t, h, "GET", "/api/v1/routes", "")
	if r.code != http.StatusOK || !strings.Contains(r.body, `"prefix":"198.51.100.0/24"`) || !strings.Contains(r.body, `"via":"203.0.113.2"`) ||
		!strings.Contains(r.body, `"source":"static"`) || strings.Contains(r.body, `"connected"`) {
		t.Errorf("GET routes: %d %s", r.code, r.body)
	}
	if r := do(t, h, "GET", "/api/v1/routes?all=1", ""); !strings.Contains(r.body, `"source":"connected"`) {
		t.Errorf("GET routes?all=1: %d %s", r.code, r.body)
	}
	bad := []struct{ body, field string }{
		{`{"prefix":"198.51.100.0","via":"203.0.113.2"}`, "prefix"},
		{`{"prefix":"2001:db8::/32","via":"203.0.113.2"}`, "prefix"},
		{`{"prefix":"198.51.100.1/24","via":"203.0.113.2"}`, "prefix"}, // host bits
		{`{"prefix":"198.51.100.0/24","via":"nope"}`, "via"},
		{`{"prefix":"198.51.100.0/24","via":"192.0.2.1"}`, "via"}, // not on link
		{`{"prefix":"198.51.100.0/24","via":"203.0.113.2","metric":5}`, "metric"},
	}
	for _, b := range bad {
		r := do(t, h, "POST", "/api/v1/routes", b.body, auth...)
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, `"field":"`+b.field+`"`) {
			t.Errorf("POST %s: %d %s, want 400 naming %s", b.body, r.code, r.body, b.field)
		}
	}
	if r := do(t, h, "DELETE", "/api/v1/routes/198.51.100.0/24", ""); r.code != http.StatusUnauthorized {
		t.Errorf("DELETE without token: %d, want 401", r.code)
	}
	if r := do(t, h, "DELETE", "/api/v1/routes/198.51.100.0/24", "", auth...); r.code != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	if r := do(t, h, "DELETE", "/api/v1/routes/198.51.100.0/24", "", auth...); r.code != http.StatusNotFound {
		t.Errorf("DELETE again: %d %s, want 404", r.code, r.body)
	}
	if r := do(t, h, "DELETE", "/api/v1/routes/198.51.100.0/99", "", auth...); r.code != http.StatusBadRequest {
		t.Errorf("DELETE /99: %d %s, want 400", r.code, r.body)
	}
}

func TestNeighbors(t *testing.T) {
	f := distributor()
	h := New(f, Options{Token: "s3cret"})
	auth := []string{"Authorization", "Bearer s3cret"}

	r := do(t, h, "GET", "/api/v1/neighbors", "")
	if r.code != http.StatusOK || r.body != "{\"neighbors\":[]}\n" {
		t.Errorf("GET with no neighbours: %d %q, want an empty list", r.code, r.body)
	}
	body := `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07","port":"wan"}`
	if r := do(t, h, "POST", "/api/v1/neighbors", body); r.code != http.StatusUnauthorized || f.nsets != 0 {
		t.Errorf("POST without token: %d (router called %d times), want 401", r.code, f.nsets)
	}
	if r := do(t, h, "POST", "/api/v1/neighbors", body, "Authorization", "Bearer nope"); r.code != http.StatusUnauthorized || f.nsets != 0 {
		t.Errorf("POST with a wrong token: %d, want 401", r.code)
	}
	r = do(t, h, "POST", "/api/v1/neighbors", body, auth...)
	if r.code != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	var created report.Neighbor
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || created.IP.String() != "203.0.113.7" ||
		created.MAC != "02:00:00:00:00:07" || created.Port != "wan" || !created.Static || created.State != "static" {
		t.Errorf("POST answer %s (%v)", r.body, err)
	}
	// Replacing: same IP, new MAC (upper case and dashes parse too).
	if r := do(t, h, "POST", "/api/v1/neighbors", `{"ip":"203.0.113.7","mac":"02-00-00-00-00-AA","port":"wan"}`, auth...); r.code != http.StatusCreated {
		t.Errorf("POST replacing: %d %s", r.code, r.body)
	}
	r = do(t, h, "GET", "/api/v1/neighbors", "")
	var got neighborsBody
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.code != http.StatusOK {
		t.Fatalf("GET: %d %s (%v)", r.code, r.body, err)
	}
	if len(got.Neighbors) != 1 || got.Neighbors[0].MAC != "02:00:00:00:00:aa" || got.Neighbors[0].Port != "wan" {
		t.Errorf("GET after replace: %+v", got.Neighbors)
	}
	if !strings.Contains(r.body, `"ip":"203.0.113.7"`) || !strings.Contains(r.body, `"static":true`) {
		t.Errorf("GET JSON shape: %s", r.body)
	}

	if r := do(t, h, "DELETE", "/api/v1/neighbors/203.0.113.7", ""); r.code != http.StatusUnauthorized {
		t.Errorf("DELETE without token: %d, want 401", r.code)
	}
	if r := do(t, h, "DELETE", "/api/v1/neighbors/203.0.113.7", "", auth...); r.code != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	r = do(t, h, "DELETE", "/api/v1/neighbors/203.0.113.7", "", auth...)
	if e := jsonErr(t, r); r.code != http.StatusNotFound || e.Field != "ip" || !strings.Contains(e.Error, "no such static neighbour") {
		t.Errorf("DELETE again: %d %s, want 404 naming ip", r.code, r.body)
	}
	for _, bad := range []string{"nope", "2001:db8::1", "203.0.113.0%2F24"} {
		r := do(t, h, "DELETE", "/api/v1/neighbors/"+bad, "", auth...)
		if r.code != http.StatusBadRequest || jsonErr(t, r).Field != "ip" {
			t.Errorf("DELETE %s: %d %s, want 400 naming ip", bad, r.code, r.body)
		}
	}
	if r := do(t, h, "PUT", "/api/v1/neighbors", body, auth...); r.code != http.StatusMethodNotAllowed {
		t.Errorf("PUT /api/v1/neighbors: %d, want 405", r.code)
	}
}

func TestNeighborsBadInput(t *testing.T) {
	cases := []struct {
		name, body string
		code       int
		field, msg string
	}{
		{"not JSON", `{"ip":`, 400, "", "invalid JSON"},
		{"empty body", ``, 400, "", "empty body"},
		{"unknown field", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07","port":"wan","vlan":3}`, 400, "vlan", `unknown field "vlan"`},
		{"ip missing", `{"mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "not an IPv4 address"},
		{"ip garbage", `{"ip":"203.0.113","mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "not an IPv4 address"},
		{"ip v6", `{"ip":"2001:db8::7","mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "IPv4 only"},
		{"ip a prefix", `{"ip":"203.0.113.7/32","mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "without prefix length"},
		{"ip a number", `{"ip":7,"mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "wrong type"},
		{"mac missing", `{"ip":"203.0.113.7","port":"wan"}`, 400, "mac", "not an Ethernet MAC"},
		{"mac garbage", `{"ip":"203.0.113.7","mac":"02:00:00:00:07","port":"wan"}`, 400, "mac", "not an Ethernet MAC"},
		{"mac EUI-64", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:00:00:07","port":"wan"}`, 400, "mac", "not an Ethernet MAC"},
		{"mac broadcast", `{"ip":"203.0.113.7","mac":"ff:ff:ff:ff:ff:ff","port":"wan"}`, 400, "mac", "multicast or broadcast"},
		{"mac multicast", `{"ip":"203.0.113.7","mac":"01:00:5e:00:00:01","port":"wan"}`, 400, "mac", "multicast or broadcast"},
		{"mac zero", `{"ip":"203.0.113.7","mac":"00:00:00:00:00:00","port":"wan"}`, 400, "mac", "zero MAC"},
		{"port missing", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07"}`, 400, "port", "required"},
		{"unknown port", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07","port":"dmz"}`, 400, "port", `no port named "dmz"`},
		{"ip off the port's subnet", `{"ip":"10.0.0.7","mac":"02:00:00:00:00:07","port":"wan"}`, 400, "ip", "not on port wan"},
		{"trailing data", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07","port":"wan"} 1`, 400, "", "trailing data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := distributor()
			r := do(t, New(f, Options{}), "POST", "/api/v1/neighbors", tc.body)
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %s", r.code, tc.code, r.body)
			}
			e := jsonErr(t, r)
			if e.Field != tc.field || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("error %+v, want field %q and a message containing %q", e, tc.field, tc.msg)
			}
			if len(f.Neighbors()) != 0 {
				t.Error("a neighbour was added from bad input")
			}
		})
	}
}

func TestNeighborsStopping(t *testing.T) {
	f := distributor()
	f.stopped = true
	r := do(t, New(f, Options{}), "POST", "/api/v1/neighbors", `{"ip":"203.0.113.7","mac":"02:00:00:00:00:07","port":"wan"}`)
	if r.code != http.StatusServiceUnavailable || !strings.Contains(jsonErr(t, r).Error, "stopping") {
		t.Errorf("POST while stopping: %d %s, want 503", r.code, r.body)
	}
}

func TestExtraCollectors(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "steer_test_extra_total", Help: "x"})
	c.Add(3)
	r := do(t, New(distributor(), Options{Collectors: []prometheus.Collector{c}}), "GET", "/metrics", "")
	if !strings.Contains(r.body, "steer_test_extra_total 3") {
		t.Errorf("/metrics lacks the extra collector:\n%s", r.body)
	}
}
