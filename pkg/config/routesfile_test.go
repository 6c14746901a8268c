package config

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

func TestParseRoutes(t *testing.T) {
	text := "# a table\n" +
		"198.51.100.0/24 via 203.0.113.2\n" +
		"\n" +
		"   \t\n" +
		"\t10.0.0.0/8\tvia  192.0.2.1   # trailing comment\r\n" +
		"0.0.0.0/0 via 192.0.2.9\r\n" +
		"203.0.113.128/25 via 192.0.2.1" // no newline at the end
	routes, ps := ParseRoutes("bgp.txt", []byte(text))
	if ps != nil {
		t.Fatalf("problems:\n%s", dump(ps))
	}
	want := []FileRoute{
		{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("203.0.113.2"), 2},
		{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParseAddr("192.0.2.1"), 5},
		{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("192.0.2.9"), 6},
		{netip.MustParsePrefix("203.0.113.128/25"), netip.MustParseAddr("192.0.2.1"), 7},
	}
	if fmt.Sprint(routes) != fmt.Sprint(want) {
		t.Errorf("routes:\n got %v\nwant %v", routes, want)
	}
	if routes, ps := ParseRoutes("empty.txt", []byte("# nothing\n\n")); len(routes) != 0 || ps != nil {
		t.Errorf("a file of comments: %v, %v", routes, ps)
	}
}

func TestParseRoutesProblems(t *testing.T) {
	for _, c := range []struct {
		line, want, value string
	}{
		{"198.51.100.0/24 203.0.113.2", `bgp.txt:2: expected "PREFIX via GATEWAY"`, "198.51.100.0/24 203.0.113.2"},
		{"198.51.100.0/24 via", `bgp.txt:2: expected "PREFIX via GATEWAY"`, "198.51.100.0/24 via"},
		{"198.51.100.0/24 via 203.0.113.2 metric 5", `bgp.txt:2: expected "PREFIX via GATEWAY"`, ""},
		{"198.51.100.0/24 VIA 203.0.113.2", `bgp.txt:2: expected "PREFIX via GATEWAY"`, ""},
		{"198.51.100.1/24 via 203.0.113.2", `bgp.txt:2: prefix: host bits set; did you mean "198.51.100.0/24"?`, "198.51.100.1/24"},
		{"198.51.100.0 via 203.0.113.2", `bgp.txt:2: prefix: missing prefix length`, "198.51.100.0"},
		{"2001:db8::/32 via 203.0.113.2", `bgp.txt:2: prefix: IPv4 only`, "2001:db8::/32"},
		{"198.51.100.0/33 via 203.0.113.2", `bgp.txt:2: prefix: bad prefix length "33"`, "198.51.100.0/33"},
		{"198.51.100.0/24 via 203.0.113.2/24", `bgp.txt:2: via: an address without prefix length`, "203.0.113.2/24"},
		{"198.51.100.0/24 via gw1", `bgp.txt:2: via: not an IPv4 address`, "gw1"},
		{"10.0.0.0/8 via 203.0.113.9", `bgp.txt:2: prefix: duplicate route: 10.0.0.0/8 already has a route at line 1`, "10.0.0.0/8"},
	} {
		_, ps := ParseRoutes("bgp.txt", []byte("10.0.0.0/8 via 203.0.113.2\n"+c.line+"\n"))
		if len(ps) != 1 || !strings.HasPrefix(ps[0].Msg, c.want) || (c.value != "" && ps[0].Value != c.value) || ps[0].Field != "" {
			t.Errorf("%q:\n%s want one problem %q (value %q)", c.line, dump(ps), c.want, c.value)
		}
	}
}

// Every problem is on its line; a file in the wrong format gives
// maxFileProblems of them and a count of the rest.
func TestParseRoutesManyProblems(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "R10.%d.0.0/16 1\n", i) // l3fwd's format
	}
	routes, ps := ParseRoutes("l3fwd.cfg", []byte(b.String()))
	if routes != nil || len(ps) != maxFileProblems+1 {
		t.Fatalf("%d routes, %d problems:\n%s", len(routes), len(ps), dump(ps))
	}
	for i, p := range ps[:maxFileProblems] {
		if !strings.HasPrefix(p.Msg, fmt.Sprintf("l3fwd.cfg:%d: ", i+1)) {
			t.Errorf("problem %d: %v", i, p)
		}
	}
	if last := ps[maxFileProblems].Msg; last != "l3fwd.cfg: 80 more problem(s) not listed" {
		t.Errorf("last: %q", last)
	}
	// Duplicates are listed in line order, each naming the first line.
	_, ps = ParseRoutes("t", []byte("1.0.0.0/8 via 2.2.2.2\n3.0.0.0/8 via 2.2.2.2\n3.0.0.0/8 via 2.2.2.3\n1.0.0.0/8 via 2.2.2.2\n"))
	if len(ps) != 2 || !strings.HasPrefix(ps[0].Msg, "t:3: prefix: duplicate route: 3.0.0.0/8 already has a route at line 2") ||
		!strings.HasPrefix(ps[1].Msg, "t:4: prefix: duplicate route: 1.0.0.0/8 already has a route at line 1") {
		t.Errorf("duplicates:\n%s", dump(ps))
	}
}

// writeConfig writes the base config with routes_file set to name (and
// the fields in sets) as dir/steer.yaml, and the routes file's text, and
// returns the config's path.
func writeConfig(t *testing.T, dir, name, routes string, sets ...kv) string {
	t.Helper()
	tree := base()
	set(t, tree, "routes_file", name)
	for _, x := range sets {
		set(t, tree, x.path, x.val)
	}
	if routes != "" {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(routes), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "steer.yaml")
	if err := os.WriteFile(path, yamlOf(t, tree), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A relative routes_file is read from the config file's directory, whatever
// the working directory; its routes are the config's FileRoutes.
func TestLoadRoutesFile(t *testing.T) {
	noEnv(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, "bgp.txt", "# via lan and wan\n198.51.100.0/24 via 10.0.0.2\n203.0.113.0/24 via 192.0.2.2\n")
	t.Chdir(t.TempDir())
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []FileRoute{
		{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("10.0.0.2"), 2},
		{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("192.0.2.2"), 3},
	}
	if fmt.Sprint(cfg.FileRoutes) != fmt.Sprint(want) || cfg.RoutesFile != "bgp.txt" {
		t.Errorf("routes_file %q, FileRoutes %v, want %v", cfg.RoutesFile, cfg.FileRoutes, want)
	}
	if len(cfg.Routes) != 2 {
		t.Errorf("routes[] changed: %v", cfg.Routes)
	}
	// Parse has no file: a relative path is from the working directory.
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := problemsOf(t, y)
	if p, ok := find(ps, "routes_file", "no such file"); !ok || len(ps) != 1 || p.Value != "bgp.txt" {
		t.Errorf("Parse with a relative routes_file elsewhere:\n%s", dump(ps))
	}
	t.Chdir(dir)
	if cfg := mustParse(t, y); len(cfg.FileRoutes) != 2 {
		t.Errorf("Parse in the config's directory: %v", cfg.FileRoutes)
	}
	// The environment names another file like any other key.
	other := filepath.Join(t.TempDir(), "other.txt")
	if err := os.WriteFile(other, []byte("100.64.0.0/10 via 10.0.1.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEER_ROUTES_FILE", other)
	if cfg, err := Load(path); err != nil || len(cfg.FileRoutes) != 1 || cfg.FileRoutes[0].Gateway.String() != "10.0.1.9" {
		t.Errorf("STEER_ROUTES_FILE: %v, %v", cfg, err)
	}
}

// A file's routes get the checks of routes[] entries; every problem names
// the file and line, and a prefix in both names both places.
func TestRoutesFileRules(t *testing.T) {
	noEnv(t)
	for _, c := range []struct {
		line, msg, value string
	}{
		{"198.51.100.0/24 via 10.9.9.9", "bgp.txt:2: via: not on a connected subnet of any port", "10.9.9.9"},
		{"198.51.100.0/24 via 10.0.0.1", "bgp.txt:2: via: 10.0.0.1 is the router's own address (ports[0].addresses[0])", "10.0.0.1"},
		{"198.51.100.0/24 via 10.0.0.255", "bgp.txt:2: via: 10.0.0.255 is the network or broadcast address of 10.0.0.0/24", "10.0.0.255"},
		{"10.0.1.0/24 via 192.0.2.2", "bgp.txt:2: prefix: 10.0.1.0/24 is the connected subnet of port lan (ports[0].addresses[1]); steer routes it itself", "10.0.1.0/24"},
		{"192.0.2.1/32 via 10.0.0.2", "bgp.txt:2: prefix: 192.0.2.1 is the router's own address", "192.0.2.1/32"},
		{"10.1.0.0/16 via 192.0.2.2", "bgp.txt:2: prefix: 10.1.0.0/16 already has a route at routes[0]; a prefix has one static route", "10.1.0.0/16"},
		{"10.1.0.0 via 192.0.2.2", "bgp.txt:2: prefix: missing prefix length", "10.1.0.0"},
	} {
		dir := t.TempDir()
		_, err := Load(writeConfig(t, dir, "bgp.txt", "198.18.0.0/15 via 10.0.0.2\n"+c.line+"\n"))
		ps, _ := err.(Problems)
		p, ok := find(ps, "routes_file", c.msg)
		if !ok || len(ps) != 1 || p.Value != c.value {
			t.Errorf("%q:\n%s want routes_file: %s (value %q)", c.line, dump(ps), c.msg, c.value)
		}
	}
	// The first problems of a file are listed, the rest counted; with the
	// other sections' problems.
	var b strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "100.%d.0.0/16 via 10.9.9.9\n", i)
	}
	_, err := Load(writeConfig(t, t.TempDir(), "bad.txt", b.String(), s("log.level", "loud")))
	ps, _ := err.(Problems)
	if len(ps) != maxFileProblems+2 || ps[maxFileProblems].Msg != "bad.txt: 30 more problem(s) not listed" {
		t.Errorf("50 bad lines:\n%s", dump(ps))
	}
	if _, ok := find(ps, "log.level", "must be one of"); !ok {
		t.Errorf("the other problems are missing:\n%s", dump(ps))
	}
	// A file that cannot be read says why.
	_, err = Load(writeConfig(t, t.TempDir(), "missing.txt", ""))
	ps, _ = err.(Problems)
	if p, ok := find(ps, "routes_file", "no such file or directory"); !ok || len(ps) != 1 || p.Value != "missing.txt" {
		t.Errorf("missing file:\n%s", dump(ps))
	}
}

// fib.max_routes and fib.tbl8_groups must hold what the FIB starts with,
// the file's routes and the router's own entries included.
func TestFIBCapacity(t *testing.T) {
	noEnv(t)
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "100.64.%d.0/24 via 10.0.0.2\n", i)
	}
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "100.65.%d.128/25 via 10.0.0.2\n", i)
	}
	// base: routes 2, neighbours 2, own: lan 2 x (/32, subnet, network,
	// broadcast), wan /30 the same: 12. /24s with longer prefixes: 10.0.0,
	// 10.0.1, 192.0.2 and the file's 20.
	_, err := Load(writeConfig(t, t.TempDir(), "t.txt", b.String(), s("fib.max_routes", 135), s("fib.tbl8_groups", 22)))
	ps, _ := err.(Problems)
	if _, ok := find(ps, "fib.max_routes", "too small for the 136 entries the FIB starts with: 2 in routes, 120 in routes_file, 2 static neighbours, 12 for the ports' addresses"); !ok {
		t.Errorf("max_routes:\n%s", dump(ps))
	}
	if _, ok := find(ps, "fib.tbl8_groups", "too small for the 23 groups"); !ok || len(ps) != 2 {
		t.Errorf("tbl8_groups:\n%s", dump(ps))
	}
	if _, err := Load(writeConfig(t, t.TempDir(), "t.txt", b.String(), s("fib.max_routes", 136), s("fib.tbl8_groups", 23))); err != nil {
		t.Errorf("exactly enough: %v", err)
	}
}

// fullTable writes n routes of trafgen's random table (none in the base
// config's subnets or routes) through the base config's two gateways.
func fullTable(t testing.TB, path string, n int) {
	t.Helper()
	lan, wan := netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")
	var b strings.Builder
	b.Grow(n * 34)
	i := 0
	for _, p := range trafgen.RandomTable(n+n/100, 7) {
		if p.Overlaps(lan) || p.Overlaps(wan) {
			continue
		}
		gw := "10.0.0.2"
		if i%2 == 1 {
			gw = "192.0.2.2"
		}
		fmt.Fprintf(&b, "%s via %s\n", p, gw)
		if i++; i == n {
			break
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A million routes load and validate in well under a second or two: steer
// validate and every start and reload read the whole file.
func BenchmarkRoutesFile1M(b *testing.B) {
	dir := b.TempDir()
	fullTable(b, filepath.Join(dir, "full.txt"), 1_000_000)
	tree := base()
	tree["routes_file"] = "full.txt"
	tree["fib"] = map[string]any{"max_routes": 1100000, "tbl8_groups": 65536}
	path := filepath.Join(dir, "steer.yaml")
	y, err := json.Marshal(tree) // JSON is YAML
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, y, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		cfg, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.FileRoutes) != 1_000_000 {
			b.Fatalf("%d routes", len(cfg.FileRoutes))
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/load")
	}
}
