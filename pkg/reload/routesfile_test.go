package reload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/steer-router/steer/pkg/config"
)

// routesFileYAML is baseYAML with a routes_file next to it.
var routesFileYAML = strings.Replace(baseYAML, "neighbors:", "routes_file: table.txt\nfib: {max_routes: 600000, tbl8_groups: 4096}\nneighbors:", 1)

// table is n /24s from 100.0.0.0/24 on, via gw.
func table(n int, gw string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d.%d.%d.0/24 via %s\n", 100+i>>16, (i>>8)&0xff, i&0xff, gw)
	}
	return b.String()
}

func fileReloader(t testing.TB, routes string) (*Reloader, *fakeRouter, string, *observer.ObservedLogs) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "steer.yaml")
	if err := os.WriteFile(path, []byte(routesFileYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "table.txt"), []byte(routes), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	rl := New(path, cfg, zap.New(core))
	return rl, newFake(FromConfig(cfg)), filepath.Join(dir, "table.txt"), logs
}

// routes_file is read again at every reload, and what changed in it is
// applied live, the new and re-routed routes in one step; the file's
// routes and routes[] make one state.
func TestReloadRoutesFile(t *testing.T) {
	rl, f, file, logs := fileReloader(t, "192.0.2.0/24 via 203.0.113.2\n100.64.0.0/24 via 203.0.113.2\n")
	if got := routesOf(f); got != "100.64.0.0/24>203.0.113.2 192.0.2.0/24>203.0.113.2 198.51.100.0/24>203.0.113.2" {
		t.Fatalf("start: %s", got)
	}
	write(t, file, "# moved\n192.0.2.0/24 via 203.0.113.3\n100.65.0.0/24 via 203.0.113.2\n100.66.0.0/24 via 203.0.113.2\n")
	if o := rl.Reload(f).Outcome; o != Applied {
		t.Fatalf("%s: %v", o, messages(logs, zapcore.ErrorLevel))
	}
	if got := routesOf(f); got != "100.65.0.0/24>203.0.113.2 100.66.0.0/24>203.0.113.2 192.0.2.0/24>203.0.113.3 198.51.100.0/24>203.0.113.2" {
		t.Errorf("after the reload: %s", got)
	}
	if fmt.Sprint(f.batches) != "[3]" {
		t.Errorf("AddRoutes batches %v, want one of 3", f.batches)
	}
	m := messages(logs, zapcore.InfoLevel)
	for _, want := range []string{"reload: route 100.64.0.0/24 via 203.0.113.2 removed", "reload: route 192.0.2.0/24 now via 203.0.113.3 (was via 203.0.113.2)"} {
		if !contains(m, want) {
			t.Errorf("log lacks %q: %q", want, m)
		}
	}
	// An invalid file refuses the reload, naming file and line.
	write(t, file, "192.0.2.0/24 via 203.0.113.3\n100.65.0.0/24 via 10.9.9.9\n")
	f.calls = nil
	if o := rl.Reload(f).Outcome; o != Refused || len(f.calls) != 0 {
		t.Errorf("invalid file: %s, calls %v", o, f.calls)
	}
	if errs := messages(logs, zapcore.ErrorLevel); len(errs) != 1 || !strings.Contains(errs[0], "routes_file: table.txt:2: via: not on a connected subnet") {
		t.Errorf("errors %q", errs)
	}
}

// The path of routes_file is no restart field: another file, or none,
// applies live like any change of routes.
func TestReloadRoutesFilePath(t *testing.T) {
	rl, f, file, _ := fileReloader(t, "100.64.0.0/24 via 203.0.113.2\n")
	dir := filepath.Dir(file)
	write(t, filepath.Join(dir, "other.txt"), "100.99.0.0/24 via 203.0.113.2\n")
	write(t, rl.path, strings.Replace(routesFileYAML, "table.txt", "other.txt", 1))
	if o := rl.Reload(f).Outcome; o != Applied || routesOf(f) != "100.99.0.0/24>203.0.113.2 198.51.100.0/24>203.0.113.2" {
		t.Errorf("other file: %s, routes %s", o, routesOf(f))
	}
	write(t, rl.path, strings.Replace(routesFileYAML, "routes_file: table.txt\n", "", 1))
	if o := rl.Reload(f).Outcome; o != Applied || routesOf(f) != "198.51.100.0/24>203.0.113.2" {
		t.Errorf("no file: %s, routes %s", o, routesOf(f))
	}
	if got := RestartFields(parse(t, baseYAML), parse(t, strings.Replace(baseYAML, "neighbors:", "routes_file: /dev/null\nneighbors:", 1))); got != nil {
		t.Errorf("RestartFields of a routes_file change: %q", got)
	}
}

// A whole table replaced: one AddRoutes call, and the log lists the first
// changes and counts the rest instead of a line per route.
func TestReloadLargeFile(t *testing.T) {
	const n = 5000
	rl, f, file, logs := fileReloader(t, table(n, "203.0.113.2"))
	write(t, file, table(n, "203.0.113.3"))
	if o := rl.Reload(f).Outcome; o != Applied {
		t.Fatalf("%s", o)
	}
	if fmt.Sprint(f.batches) != fmt.Sprint([]int{n}) || len(f.routes) != n+1 {
		t.Errorf("batches %v, %d routes", f.batches, len(f.routes))
	}
	all := logs.All()
	m := messages(logs, zapcore.InfoLevel)
	if len(m) != 2+maxLogged+1 || m[len(m)-2] != fmt.Sprintf("reload: and %d more change(s), not logged one by one", n-maxLogged) {
		t.Errorf("%d lines logged, ending %q", len(m), m[max(0, len(m)-3):])
	}
	if all[len(all)-1].ContextMap()["routes_changed"] != int64(n) {
		t.Errorf("summary %v", all[len(all)-1].ContextMap())
	}
}

// What a reload of a full table costs when nothing changed: read and
// validate the file, the state, the diff (docs/BENCH.md).
func BenchmarkReloadUnchanged500k(b *testing.B) {
	rl, f, _, _ := fileReloader(b, table(500_000, "203.0.113.2"))
	rl.log = zap.NewNop()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if o := rl.Reload(f).Outcome; o != Applied || len(f.calls) != 0 {
			b.Fatalf("%s, %d calls", o, len(f.calls))
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/reload")
	}
}
