package reload

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/rib"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
	macA = [6]byte{2, 0, 0, 0, 0, 0xa}
	macB = [6]byte{2, 0, 0, 0, 0, 0xb}
)

func state(routes map[string]string, neigh map[string]Neighbor) State {
	s := State{Routes: map[netip.Prefix]netip.Addr{}, Neighbors: map[netip.Addr]Neighbor{}}
	for p, v := range routes {
		s.Routes[pfx(p)] = addr(v)
	}
	for ip, n := range neigh {
		s.Neighbors[addr(ip)] = n
	}
	return s
}

func strs(p Plan) []string {
	out := make([]string, len(p))
	for i, c := range p {
		out[i] = c.String()
	}
	return out
}

func TestDiff(t *testing.T) {
	from := state(map[string]string{
		"198.51.100.0/24": "203.0.113.2", // unchanged
		"192.0.2.0/24":    "203.0.113.2", // gateway changes
		"100.64.0.0/16":   "203.0.113.3", // removed
		"100.64.1.0/24":   "203.0.113.3", // removed (sorted after /16)
	}, map[string]Neighbor{
		"203.0.113.2": {macA, "wan"}, // unchanged
		"203.0.113.3": {macA, "wan"}, // removed
		"10.0.0.2":    {macA, "lan"}, // MAC changes
		"10.0.0.3":    {macA, "lan"}, // port changes (as if lan2 shared the subnet)
	})
	to := state(map[string]string{
		"198.51.100.0/24": "203.0.113.2",
		"192.0.2.0/24":    "203.0.113.4",
		"100.65.0.0/24":   "203.0.113.4", // added
		"100.64.0.0/24":   "203.0.113.4", // added: a /24 inside the removed /16 is another prefix
	}, map[string]Neighbor{
		"203.0.113.2": {macA, "wan"},
		"203.0.113.4": {macB, "wan"}, // added
		"10.0.0.2":    {macB, "lan"},
		"10.0.0.3":    {macA, "lan2"},
	})
	got := strs(Diff(from, to))
	want := []string{
		"neighbour 203.0.113.4 at 02:00:00:00:00:0b on wan added",
		"neighbour 10.0.0.2 now at 02:00:00:00:00:0b on lan (was 02:00:00:00:00:0a on lan)",
		"neighbour 10.0.0.3 now at 02:00:00:00:00:0a on lan2 (was 02:00:00:00:00:0a on lan)",
		"route 100.64.0.0/16 via 203.0.113.3 removed",
		"route 100.64.1.0/24 via 203.0.113.3 removed",
		"route 100.64.0.0/24 via 203.0.113.4 added",
		"route 100.65.0.0/24 via 203.0.113.4 added",
		"route 192.0.2.0/24 now via 203.0.113.4 (was via 203.0.113.2)",
		"neighbour 203.0.113.3 at 02:00:00:00:00:0a on wan removed",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	c := Diff(from, to).Counts()
	if c[RouteAdded] != 2 || c[RouteRemoved] != 2 || c[RouteChanged] != 1 || c[NeighborAdded] != 1 || c[NeighborRemoved] != 1 || c[NeighborChanged] != 2 {
		t.Errorf("Counts %v", c)
	}
	if p := Diff(from, from.Clone()); len(p) != 0 {
		t.Errorf("Diff of equal states: %v", strs(p))
	}
	if p := Diff(State{}, State{}); len(p) != 0 {
		t.Errorf("Diff of empty states: %v", strs(p))
	}
	// Diff and Apply never modify their inputs.
	before := fmt.Sprint(from)
	Apply(&fakeRouter{}, from, Diff(from, to))
	if fmt.Sprint(from) != before {
		t.Error("Apply modified the starting state")
	}
}

// A change then its inverse leaves the state it applies to as it was.
func TestInverse(t *testing.T) {
	from := state(map[string]string{"192.0.2.0/24": "203.0.113.2", "100.64.0.0/24": "203.0.113.2"},
		map[string]Neighbor{"203.0.113.2": {macA, "wan"}, "203.0.113.3": {macA, "wan"}})
	to := state(map[string]string{"192.0.2.0/24": "203.0.113.3", "100.65.0.0/24": "203.0.113.2"},
		map[string]Neighbor{"203.0.113.2": {macB, "wan"}, "203.0.113.4": {macA, "wan"}})
	plan := Diff(from, to)
	if len(plan) != 6 {
		t.Fatalf("want one change of each kind: %q", strs(plan))
	}
	for _, c := range plan {
		if inv := c.Inverse().Inverse(); inv != c {
			t.Errorf("%s: inverse of inverse is %s", c, inv)
		}
		s := from.Clone()
		c.applyTo(s)
		if reflect.DeepEqual(s, from) {
			t.Errorf("%s changed nothing", c)
		}
		c.Inverse().applyTo(s)
		if !reflect.DeepEqual(s, from) {
			t.Errorf("%s then its inverse %s leaves %v", c, c.Inverse(), s)
		}
	}
}

// fakeRouter records calls; fail names calls (as "add 192.0.2.0/24",
// "del ...", "addn 203.0.113.2", "deln ...") that return an error. An
// AddRoutes call records "add P" per route and the number of routes in
// batches; it is all or nothing, its errors naming routes[i] as the RIB's
// do.
type fakeRouter struct {
	calls   []string
	batches []int
	fail    map[string]bool
	routes  map[netip.Prefix]netip.Addr
	neigh   map[netip.Addr]Neighbor
}

func newFake(s State) *fakeRouter {
	c := s.Clone()
	return &fakeRouter{routes: c.Routes, neigh: c.Neighbors, fail: map[string]bool{}}
}

func (f *fakeRouter) call(s string) error {
	f.calls = append(f.calls, s)
	if f.fail[s] {
		return fmt.Errorf("prefix: refused %s", s)
	}
	return nil
}

func (f *fakeRouter) AddRoutes(routes ...rib.StaticRoute) error {
	f.batches = append(f.batches, len(routes))
	var failed error
	for i, r := range routes {
		if err := f.call("add " + r.Prefix.String()); err != nil && failed == nil {
			failed = field.Errorf("prefix", r.Prefix.String(), "refused add %s", r.Prefix)
			if len(routes) > 1 {
				failed = field.Errorf(fmt.Sprintf("routes[%d].prefix", i), r.Prefix.String(), "refused add %s", r.Prefix)
			}
		}
	}
	if failed != nil {
		return failed
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
	if err := f.call("del " + p.String()); err != nil {
		return err
	}
	if _, ok := f.routes[p]; !ok {
		return fmt.Errorf("prefix: %s: %w", p, rib.ErrNoRoute)
	}
	delete(f.routes, p)
	return nil
}

func (f *fakeRouter) AddNeighbor(ip netip.Addr, mac inet.MAC, port string) error {
	if err := f.call("addn " + ip.String()); err != nil {
		return err
	}
	if f.neigh == nil {
		f.neigh = map[netip.Addr]Neighbor{}
	}
	f.neigh[ip] = Neighbor{mac, port}
	return nil
}

func (f *fakeRouter) DeleteNeighbor(ip netip.Addr) error {
	if err := f.call("deln " + ip.String()); err != nil {
		return err
	}
	if _, ok := f.neigh[ip]; !ok {
		return fmt.Errorf("ip: %s: %w", ip, neigh.ErrNoStatic)
	}
	delete(f.neigh, ip)
	return nil
}

func (f *fakeRouter) state() State { return State{Routes: f.routes, Neighbors: f.neigh}.Clone() }

var (
	fromState = state(map[string]string{"198.51.100.0/24": "203.0.113.2", "192.0.2.0/24": "203.0.113.2", "100.64.0.0/24": "203.0.113.2"},
		map[string]Neighbor{"203.0.113.2": {macA, "wan"}, "203.0.113.9": {macA, "wan"}})
	toState = state(map[string]string{"198.51.100.0/24": "203.0.113.2", "192.0.2.0/24": "203.0.113.3", "100.65.0.0/24": "203.0.113.3", "100.66.0.0/24": "203.0.113.3"},
		map[string]Neighbor{"203.0.113.2": {macB, "wan"}, "203.0.113.3": {macA, "wan"}})
)

func TestApply(t *testing.T) {
	f := newFake(fromState)
	res := Apply(f, fromState, Diff(fromState, toState))
	if !res.OK() || len(res.RolledBack) != 0 || len(res.Applied) != 7 {
		t.Fatalf("Apply: ok %v, applied %v, rolled back %v", res.OK(), strs(res.Applied), strs(res.RolledBack))
	}
	want := []string{"addn 203.0.113.3", "addn 203.0.113.2", "del 100.64.0.0/24", "add 100.65.0.0/24", "add 100.66.0.0/24", "add 192.0.2.0/24", "deln 203.0.113.9"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls %v\nwant  %v", f.calls, want)
	}
	// Two additions and a gateway change: one call.
	if !reflect.DeepEqual(f.batches, []int{3}) {
		t.Errorf("AddRoutes batches %v, want [3]", f.batches)
	}
	if !reflect.DeepEqual(res.State, toState) || !reflect.DeepEqual(f.state(), toState) {
		t.Errorf("after Apply: result state %v, router %v, want %v", res.State, f.state(), toState)
	}
}

// Deleting what the API already deleted is no failure.
func TestApplyAlreadyGone(t *testing.T) {
	f := newFake(fromState)
	delete(f.routes, pfx("100.64.0.0/24"))
	delete(f.neigh, addr("203.0.113.9"))
	res := Apply(f, fromState, Diff(fromState, toState))
	if !res.OK() || !reflect.DeepEqual(f.state(), toState) || !reflect.DeepEqual(res.State, toState) {
		t.Errorf("ok %v (%v); router %v", res.OK(), res.Failed, f.state())
	}
}

// The plan: addn .3, addn .2, del 100.64, then one step (add 100.65,
// add 100.66, 192.0.2 now via .3), then deln .9. A failed step undoes the
// steps before it; the route step is all or nothing, and the failure names
// the route the router refused.
func TestApplyRollsBack(t *testing.T) {
	for _, tc := range []struct {
		failing, change string
		before          int // changes made before the failed step
	}{
		{"addn 203.0.113.3", "neighbour 203.0.113.3 at 02:00:00:00:00:0a on wan added", 0},
		{"del 100.64.0.0/24", "route 100.64.0.0/24 via 203.0.113.2 removed", 2},
		{"add 100.66.0.0/24", "route 100.66.0.0/24 via 203.0.113.3 added", 3},
		{"add 192.0.2.0/24", "route 192.0.2.0/24 now via 203.0.113.3 (was via 203.0.113.2)", 3},
		{"deln 203.0.113.9", "neighbour 203.0.113.9 at 02:00:00:00:00:0a on wan removed", 6},
	} {
		failing := tc.failing
		t.Run(failing, func(t *testing.T) {
			f := newFake(fromState)
			f.fail[failing] = true
			plan := Diff(fromState, toState)
			res := Apply(f, fromState, plan)
			if res.OK() || res.Failed == nil || !strings.Contains(res.Failed.Err.Error(), "refused "+failing) || res.Failed.Change.String() != tc.change {
				t.Fatalf("want a failure of %s, got %+v", failing, res.Failed)
			}
			if fe, ok := field.Of(res.Failed.Err); ok && strings.HasPrefix(fe.Field, "routes[") {
				t.Errorf("the failure names the step's index: %v", fe)
			}
			// Everything before the failed step was undone, newest first.
			before := plan[:tc.before]
			if len(res.RolledBack) != len(before) || len(res.Applied) != 0 || len(res.RollbackFailed) != 0 {
				t.Errorf("rolled back %v, applied %v, want the %d changes before the failure undone", strs(res.RolledBack), strs(res.Applied), len(before))
			}
			for i, c := range res.RolledBack {
				if c != before[len(before)-1-i] {
					t.Errorf("undo %d is %s, want %s", i, c, before[len(before)-1-i])
				}
			}
			if !reflect.DeepEqual(f.state(), fromState) || !reflect.DeepEqual(res.State, fromState) {
				t.Errorf("after the rollback: router %v, result %v, want %v", f.state(), res.State, fromState)
			}
		})
	}
}

// An undo that fails too stays in effect, and State says so.
func TestApplyRollbackFails(t *testing.T) {
	f := newFake(fromState)
	f.fail["deln 203.0.113.9"] = true // the last change
	f.fail["del 100.66.0.0/24"] = true
	res := Apply(f, fromState, Diff(fromState, toState))
	if res.OK() || len(res.RollbackFailed) != 1 || res.RollbackFailed[0].Change.Prefix != pfx("100.66.0.0/24") {
		t.Fatalf("rollback failures %+v", res.RollbackFailed)
	}
	if len(res.Applied) != 1 || res.Applied[0].Prefix != pfx("100.66.0.0/24") {
		t.Errorf("applied %v, want the route whose undo failed", strs(res.Applied))
	}
	want := fromState.Clone()
	want.Routes[pfx("100.66.0.0/24")] = addr("203.0.113.3")
	if !reflect.DeepEqual(f.state(), want) || !reflect.DeepEqual(res.State, want) {
		t.Errorf("router %v, result %v, want %v", f.state(), res.State, want)
	}
}

const baseYAML = `eal: {lcores: "0-1", main_lcore: 0, huge: false, memory_mb: 256, file_prefix: steer-reload-test}
ports:
  - {name: lan, device: "net_pcap0,rx_pcap=/tmp/in.pcap", addresses: ["10.0.0.1/24"]}
  - {name: wan, device: "net_pcap1,rx_pcap=/tmp/empty.pcap", addresses: ["203.0.113.1/24"]}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}, {port: wan, queue: 0}]}
routes:
  - {prefix: "198.51.100.0/24", via: "203.0.113.2"}
neighbors:
  - {ip: "203.0.113.2", mac: "02:00:00:00:00:03", port: wan}
metrics: {listen: "127.0.0.1:9464", token: "s3cret-token"}
`

func parse(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return c
}

func TestRestartFields(t *testing.T) {
	base := parse(t, baseYAML)
	for _, tc := range []struct {
		name string
		edit [][2]string // replacements in baseYAML
		want []string
	}{
		{"routes and neighbours only", nil, nil},
		{"port device", [][2]string{{`rx_pcap=/tmp/empty.pcap"`, `rx_pcap=/tmp/other.pcap"`}}, []string{"ports[1].device changed"}},
		{"port added", [][2]string{{"lcores:\n", "  - {name: dmz, device: net_null0, addresses: [\"192.168.9.1/24\"]}\nlcores:\n"},
			{"{port: wan, queue: 0}]", "{port: wan, queue: 0}, {port: dmz, queue: 0}]"}}, []string{"ports[2] added", "lcores[0].rx[2] added"}},
		{"address added", [][2]string{{`["10.0.0.1/24"]`, `["10.0.0.1/24", "10.0.1.1/24"]`}}, []string{"ports[0].addresses[1] added"}},
		{"eal args", [][2]string{{"huge: false", "huge: false, args: [\"--log-level=8\"]"}}, []string{"eal.args[0] added"}},
		{"lcore map", [][2]string{{`lcores: "0-1"`, `lcores: "0-2"`}, {"{port: wan, queue: 0}]}", "{port: wan, queue: 0}]}\n  - {lcore: 2, worker: true}"}},
			[]string{"eal.lcores changed", "lcores[1] added"}},
		{"metrics listen", [][2]string{{`listen: "127.0.0.1:9464"`, `listen: "127.0.0.1:9465"`}}, []string{"metrics.listen changed"}},
		{"token", [][2]string{{"s3cret-token", "other-token"}}, []string{"metrics.token changed"}},
		{"three sections", [][2]string{{"memory_mb: 256", "memory_mb: 512"}, {"metrics:", "log: {level: debug}\nmempool: {mbufs: 8191}\nmetrics:"}},
			[]string{"eal.memory_mb changed", "mempool.mbufs changed", "log.level changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := baseYAML
			for _, e := range tc.edit {
				if !strings.Contains(y, e[0]) {
					t.Fatalf("baseYAML lacks %q", e[0])
				}
				y = strings.Replace(y, e[0], e[1], 1)
			}
			// Route and neighbour changes never count.
			y = strings.Replace(y, `via: "203.0.113.2"}`, `via: "203.0.113.3"}`, 1)
			y = strings.Replace(y, `mac: "02:00:00:00:00:03"`, `mac: "02:00:00:00:00:04"`, 1)
			got := RestartFields(base, parse(t, y))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RestartFields = %q, want %q", got, tc.want)
			}
			if back := RestartFields(parse(t, y), base); len(back) != len(tc.want) {
				t.Errorf("the other way round: %q", back)
			}
		})
	}
	for _, f := range RestartFields(base, parse(t, strings.Replace(baseYAML, "s3cret-token", "other", 1))) {
		if strings.Contains(f, "s3cret") || strings.Contains(f, "other") {
			t.Errorf("a token value in %q", f)
		}
	}
}

func TestClone(t *testing.T) {
	c := parse(t, baseYAML)
	cp := clone(c)
	if !reflect.DeepEqual(c, cp) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, cp)
	}
	cp.Ports[0].Addresses[0] = "10.9.9.9/24"
	cp.Routes[0].Gateway = addr("203.0.113.9")
	if c.Ports[0].Addresses[0] != "10.0.0.1/24" || c.Routes[0].Gateway != addr("203.0.113.2") {
		t.Error("the clone shares memory with the original")
	}
}

// testReloader has a config file in a temp dir, a fake router holding the
// file's state and an observed log.
func testReloader(t *testing.T) (*Reloader, *fakeRouter, string, *observer.ObservedLogs) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steer.yaml")
	if err := os.WriteFile(path, []byte(baseYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := parse(t, baseYAML)
	core, logs := observer.New(zapcore.InfoLevel)
	rl := New(path, cfg, zap.New(core))
	return rl, newFake(FromConfig(cfg)), path, logs
}

func write(t *testing.T, path, y string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
}

func messages(logs *observer.ObservedLogs, lvl zapcore.Level) []string {
	var out []string
	for _, e := range logs.TakeAll() {
		if e.Level == lvl {
			out = append(out, e.Message)
		}
	}
	return out
}

func routesOf(f *fakeRouter) string {
	var out []string
	for p, v := range f.routes {
		out = append(out, p.String()+">"+v.String())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestReloaderApplies(t *testing.T) {
	rl, f, path, logs := testReloader(t)
	if o := rl.Reload(f).Outcome; o != Applied || len(f.calls) != 0 {
		t.Errorf("unchanged file: %s, calls %v", o, f.calls)
	}
	if m := messages(logs, zapcore.InfoLevel); len(m) != 2 || !strings.Contains(m[1], "no route or neighbour changed") {
		t.Errorf("unchanged file logged %q", m)
	}
	y := strings.Replace(baseYAML, `routes:
  - {prefix: "198.51.100.0/24", via: "203.0.113.2"}`, `routes:
  - {prefix: "198.51.100.0/24", via: "203.0.113.4"}
  - {prefix: "192.0.2.0/24", via: "203.0.113.2"}`, 1)
	write(t, path, y)
	rep := rl.Reload(f)
	if rep.Outcome != Applied {
		t.Fatalf("route change: %s\n%v", rep.Outcome, logs.All())
	}
	if want := "reload applied: routes 1 added, 0 removed, 1 changed; neighbours 0 added, 0 removed, 0 changed"; rep.Message != want {
		t.Errorf("message %q, want %q", rep.Message, want)
	}
	if got := routesOf(f); got != "192.0.2.0/24>203.0.113.2 198.51.100.0/24>203.0.113.4" {
		t.Errorf("router routes %s", got)
	}
	all := logs.All()
	m := messages(logs, zapcore.InfoLevel)
	for _, want := range []string{"reload: route 192.0.2.0/24 via 203.0.113.2 added", "reload: route 198.51.100.0/24 now via 203.0.113.4 (was via 203.0.113.2)", "reload applied"} {
		if !contains(m, want) {
			t.Errorf("log lacks %q: %q", want, m)
		}
	}
	summary := all[len(all)-1].ContextMap()
	if summary["routes_added"] != int64(1) || summary["routes_changed"] != int64(1) || summary["routes_removed"] != int64(0) {
		t.Errorf("summary fields %v", summary)
	}
	// Back to the original: the diff is against what was applied.
	write(t, path, baseYAML)
	if o := rl.Reload(f).Outcome; o != Applied || routesOf(f) != "198.51.100.0/24>203.0.113.2" {
		t.Errorf("back: %s, routes %s", o, routesOf(f))
	}
	if v := testutil.ToFloat64(rl.reloads.WithLabelValues("applied")); v != 3 {
		t.Errorf("steer_config_reloads_total{result=applied} = %v, want 3", v)
	}
	if v := testutil.ToFloat64(rl.lastOK); v != 1 {
		t.Errorf("last reload success %v", v)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestReloaderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"needs a restart", strings.Replace(strings.Replace(baseYAML, "/tmp/empty.pcap", "/tmp/other.pcap", 1), `lcores: "0-1"`, `lcores: "0-2"`, 1),
			"reload refused: eal.lcores changed, ports[1].device changed; needs a restart"},
		{"invalid", strings.Replace(baseYAML, "198.51.100.0/24", "198.51.100.0/99", 1), "reload refused: "},
		{"not YAML", "ports: [", "reload refused: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rl, f, path, logs := testReloader(t)
			// Routes change too: a refused reload applies none of it.
			write(t, path, strings.Replace(tc.yaml, `neighbors:`, "  - {prefix: \"192.0.2.0/24\", via: \"203.0.113.2\"}\nneighbors:", 1))
			rep := rl.Reload(f)
			if rep.Outcome != Refused {
				t.Fatalf("%s, want refused", rep.Outcome)
			}
			if len(f.calls) != 0 {
				t.Errorf("a refused reload changed the router: %v", f.calls)
			}
			errs := messages(logs, zapcore.ErrorLevel)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want) {
				t.Errorf("errors logged %q, want one starting %q", errs, tc.want)
			} else if rep.Message != errs[0] {
				t.Errorf("the caller is told %q, the log says %q", rep.Message, errs[0])
			}
			if tc.name == "invalid" && !strings.Contains(errs[0], "routes[0].prefix") {
				t.Errorf("the problem's field is not named: %q", errs[0])
			}
			if v := testutil.ToFloat64(rl.lastOK); v != 0 {
				t.Errorf("last reload success %v after a refusal", v)
			}
			if v := testutil.ToFloat64(rl.reloads.WithLabelValues("refused")); v != 1 {
				t.Errorf("refused count %v", v)
			}
			// The original file again: nothing to do, success again.
			write(t, path, baseYAML)
			if o := rl.Reload(f).Outcome; o != Applied || len(f.calls) != 0 || testutil.ToFloat64(rl.lastOK) != 1 {
				t.Errorf("after fixing the file: %s, calls %v", o, f.calls)
			}
		})
	}
}

func TestReloaderFails(t *testing.T) {
	rl, f, path, logs := testReloader(t)
	f.fail["add 192.0.2.0/24"] = true
	write(t, path, strings.Replace(baseYAML, `neighbors:`, "  - {prefix: \"100.64.0.0/24\", via: \"203.0.113.2\"}\n  - {prefix: \"192.0.2.0/24\", via: \"203.0.113.2\"}\nneighbors:", 1))
	if o := rl.Reload(f).Outcome; o != Failed {
		t.Fatalf("%s, want failed", o)
	}
	if got := routesOf(f); got != "198.51.100.0/24>203.0.113.2" {
		t.Errorf("after the rollback the router has %s", got)
	}
	errs := messages(logs, zapcore.ErrorLevel)
	// The two routes were one step, which the router refused as a whole.
	if len(errs) != 1 || !strings.Contains(errs[0], "reload failed: route 192.0.2.0/24 via 203.0.113.2 added: prefix: refused") ||
		!strings.Contains(errs[0], "undid the 0 change(s)") {
		t.Errorf("errors %q", errs)
	}
	if testutil.ToFloat64(rl.reloads.WithLabelValues("failed")) != 1 || testutil.ToFloat64(rl.lastOK) != 0 {
		t.Error("metrics do not show the failure")
	}
	// Once the router accepts it, the same file applies in full.
	delete(f.fail, "add 192.0.2.0/24")
	if o := rl.Reload(f).Outcome; o != Applied || routesOf(f) != "100.64.0.0/24>203.0.113.2 192.0.2.0/24>203.0.113.2 198.51.100.0/24>203.0.113.2" {
		t.Errorf("retry: %s, routes %s", o, routesOf(f))
	}
}
