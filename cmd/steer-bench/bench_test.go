package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steer-router/steer/pkg/config"
)

func testBench(steers ...steerBin) *bench {
	if len(steers) == 0 {
		steers = []steerBin{{Path: "/x/steer", Version: "steer test"}}
	}
	return &bench{s: &settings{Root: "/r", Out: "/r/build/bench", L3fwd: "/t/l3fwd", Seconds: 5, Warmup: 2, Repeat: 3,
		MaxOtherLoad: 0.3, Retries: 2, Huge: true, Steers: steers}}
}

// Every steer row's config is one steer accepts, with the row's topology.
func TestSteerConfigs(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "STEER_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	b := testBench()
	lan, wan := devices("/tmp/t.pcap", "/tmp/e.pcap")
	for _, r := range selectRows(nil, b.s.Steers) {
		if r.Prog != "steer" {
			continue
		}
		path := filepath.Join(t.TempDir(), "steer.yaml")
		if err := b.writeSteerConfig(path, r, traffic{ID: "udp64-1024"}, lan, wan, "127.0.0.1:1234"); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path)
		if err != nil {
			y, _ := os.ReadFile(path)
			t.Fatalf("%s: %v\n%s", r.ID, err, y)
		}
		workers, queues := 0, c.Ports[0].RxQueues
		for _, l := range c.Lcores {
			if l.Worker {
				workers++
			}
		}
		want := map[string][2]int{"steer-rtc": {0, 1}, "steer-busy": {0, 1}, "steer-dist": {1, 1}, "steer-handoff": {1, 1}, "steer-2q": {0, 2}}[r.ID]
		if workers != want[0] || queues != want[1] || c.EAL.FilePrefix != prefix || c.Metrics.Listen != "127.0.0.1:1234" ||
			(r.ID == "steer-handoff") != (c.Distributor.OnFull == "backpressure" && c.Distributor.Balance.Mode == "off") ||
			(r.ID == "steer-dist") != (c.Distributor.Balance.Mode == "auto" && c.Ports[0].Steering == "distributor") || c.Routes[0].Prefix != dstNet ||
			(r.ID == "steer-busy") != (c.Poll.Mode == config.PollBusy) {
			t.Errorf("%s: %d workers, %d queues, config %+v", r.ID, workers, queues, c)
		}
	}
}

// A/B: each steer row once per binary, suffixed, the others once.
func TestSelectRowsAB(t *testing.T) {
	rows := selectRows([]string{"l3fwd-1", "steer-rtc", "steer-2q"}, []steerBin{{ID: "A", Path: "/a"}, {ID: "B", Path: "/b"}})
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if got := strings.Join(ids, " "); got != "l3fwd-1 steer-rtc@A steer-rtc@B steer-2q@A steer-2q@B" {
		t.Errorf("rows %s", got)
	}
	if rows[2].steer.Path != "/b" || rows[2].base != "steer-rtc" || rows[2].Label != "steer rtc @B" {
		t.Errorf("row %+v", rows[2])
	}
}

func TestArgv(t *testing.T) {
	b := testBench()
	lan, wan := devices("T", "E")
	if lan != "net_pcap0,rx_pcap=T,rx_pcap=T,rx_pcap=T,infinite_rx=1" || wan != "net_pcap1,rx_pcap=E,rx_pcap=E,rx_pcap=E" {
		t.Errorf("devices %s %s", lan, wan)
	}
	rows := selectRows(nil, b.s.Steers)
	udp := traffic{ID: "udp64-1024", Packets: 1024}
	got := strings.Join(b.argv(rows[0], udp, lan, wan), " ")
	if want := "dpdk-testpmd -l 0-1 --file-prefix steer-bench --huge-unlink -m 512 --no-pci --vdev " + lan + " --vdev " + wan +
		" -- -i --auto-start --forward-mode=io --nb-cores=1 --rxq=1 --txq=1 --rxd=1024 --txd=1024 --no-flush-rx"; got != want {
		t.Errorf("testpmd-1:\n got %s\nwant %s", got, want)
	}
	b.s.Huge = false
	got = strings.Join(b.argv(rows[slices.IndexFunc(rows, func(r row) bool { return r.ID == "l3fwd-2" })], udp, lan, wan), " ")
	if want := "/t/l3fwd -l 0-1 --file-prefix steer-bench --no-huge -m 512 --no-pci --vdev " + lan + " --vdev " + wan +
		" -- -p 0x3 -P --lookup=lpm --parse-ptype --config=(0,0,0),(1,0,0),(0,1,1),(1,1,1)"; got != want {
		t.Errorf("l3fwd-2:\n got %s\nwant %s", got, want)
	}
}

func TestSummaryAndTable(t *testing.T) {
	b := testBench()
	rows := selectRows([]string{"testpmd-1", "l3fwd-1", "steer-rtc", "steer-dist"}, b.s.Steers)
	tr := []traffic{{ID: "udp64-16"}}
	drop := 0.0
	ok := func(row string, mpps, others float64) sample {
		up := 0.25
		return sample{Traffic: "udp64-16", Row: row, OK: true, StartupS: &up, LoadavgBefore: []string{"1", "2", "3"},
			LoadavgAfter: []string{"4", "5", "6"}, window: &window{Mpps: mpps, Gbps: mpps / 2, DropPct: &drop, CPUOthers: others}}
	}
	msg := "exited with 1 before forwarding: no hugepages"
	samples := []sample{ok("testpmd-1", 60, 0), ok("l3fwd-1", 50, 0), ok("steer-rtc", 45, 0.5), ok("steer-rtc", 47, 0), ok("steer-rtc", 46, 0),
		{Traffic: "udp64-16", Row: "steer-dist", Error: &msg, LoadavgAfter: []string{"4", "5", "6"}}}
	mhz := 2600.0
	sum := summarise(samples, tr, rows, &mhz)
	rtc := sum[2]
	if rtc.MppsMedian != 46 || rtc.MppsMin != 45 || *rtc.VsL3fwd != 46.0/50 || *rtc.VsTestpmd != 46.0/60 || *rtc.CyclesPerPacket != 2600.0/46 {
		t.Errorf("steer-rtc %+v %+v", rtc, *rtc.cellStats)
	}
	if sum[3].cellStats != nil || sum[3].Error != msg {
		t.Errorf("steer-dist %+v", sum[3])
	}
	text := b.table(&report{machine: machine{CPUModel: "cpu", Nproc: 2, CPUMHz: &mhz, Kernel: "k", Hugepages: true},
		traffic: tr, rows: rows, summary: sum, samples: samples})
	for _, want := range []string{
		"udp64-16  testpmd io                            1  60.00  (60.00-60.00)",
		"          steer rtc                             1  46.00  (45.00-47.00) !   23.00       57    0.0       0.77     0.92",
		"          steer distributor 1 RX + 1 worker     2    n/a  [1]",
		"[1] udp64-16 / steer-dist: n/a: exited with 1 before forwarding: no hugepages",
		"! = other processes took more than 0.30 CPU",
		"start-up, exec -> first packet at the sink (median over all traffic): testpmd-1 0.25 s, l3fwd-1 0.25 s, steer-rtc 0.25 s",
		"load average before the first run 1 2 3, after the last 4 5 6",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

func TestGoBenchLines(t *testing.T) {
	out := "BenchmarkLoad1M/routes=1000000-2         \t       1\t 389552631 ns/op\t   2567073 routes/s\t         0.3539 s/free\n" +
		"    load1m_test.go:164: 1M routes (random /16-/28, 66% /24) through Router.AddRoutes into a forwarding router: load 892.3ms (1.12 M routes/s), replace all 1.7s\n"
	m := benchLine.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || m[0][1] != "Load1M" || m[0][2] != "1000000" || m[0][3] != "389552631" || m[0][4] != "2567073" {
		t.Errorf("bench line: %q", m)
	}
	if a := addRoutesLine.FindStringSubmatch(out); a == nil || a[1] != "892.3" || a[2] != "ms" || a[3] != "1.12" {
		t.Errorf("AddRoutes line: %q", a)
	}
}

func TestErrorLine(t *testing.T) {
	dir := t.TempDir()
	r := &dpdkRun{dir: dir}
	for _, tc := range []struct{ log, want string }{
		{"", "(no output)"},
		{"EAL: probing\nall good\n", "all good"},
		{"EAL: Cannot allocate memory\nbye\n", "EAL: Cannot allocate memory"},
		{`{"level":"info","msg":"up"}` + "\n" + `{"level":"error","msg":"start","error":"no hugepages"}` + "\n" + "exit\n", "start: no hugepages"},
	} {
		os.WriteFile(filepath.Join(dir, "output.log"), []byte(tc.log), 0o644)
		if got := r.errorLine(); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.log, got, tc.want)
		}
	}
}

// A small full-table: route files every program reads, each frame to its
// own prefix of the table, nothing in the bench's own addresses.
func TestTableTraffic(t *testing.T) {
	dir := t.TempDir()
	spec := trafficSpec{ID: "full-table", Flows: 500, Packets: 1, Size: 64, Table: 5000}
	frames, tb, err := tableTraffic(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 500 || tb.Routes != 5000 || tb.FramePrefixes != 500 || tb.FrameTbl24Lines < 490 {
		t.Fatalf("%d frames, table %+v", len(frames), tb)
	}
	routes, ps := config.ParseRoutes("full-table.routes", mustRead(t, tb.SteerFile))
	if ps != nil || len(routes) != 5000 {
		t.Fatalf("steer's routes file: %d routes, problems %v", len(routes), ps)
	}
	l3 := strings.Split(strings.TrimSpace(string(mustRead(t, tb.L3fwdFile))), "\n")
	if len(l3) != 5001 || l3[1] != "R"+routes[0].Net.String()+" 1" || !strings.HasPrefix(string(mustRead(t, tb.L3fwdFile6)), "#") {
		t.Errorf("l3fwd's rule files: %d lines, first %q", len(l3), l3[1])
	}
	long := 0
	for i, r := range routes {
		if r.Gateway.String() != tableGW || (i > 0 && r.Net.Addr().Less(routes[i-1].Net.Addr())) {
			t.Fatalf("route %d: %v (not via %s, or not sorted)", i, r, tableGW)
		}
		for _, x := range tableExcluded {
			if r.Net.Overlaps(x) {
				t.Errorf("route %v overlaps the bench's %v", r.Net, x)
			}
		}
		if r.Net.Bits() > 24 {
			long++
		}
	}
	if long == 0 || tb.Tbl8Groups == 0 || tb.Tbl8Groups > long || tb.ByLength[24] < 3000 {
		t.Errorf("lengths %v, %d longer than /24 in %d tbl8 groups", tb.ByLength, long, tb.Tbl8Groups)
	}
	// Every frame goes to an address of its own prefix of the table.
	used := map[netip.Prefix]bool{}
	for i, f := range frames {
		if len(f) != 60 {
			t.Fatalf("frame %d is %d bytes", i, len(f))
		}
		dst := netip.AddrFrom4([4]byte(f[30:34]))
		var match netip.Prefix
		for _, r := range routes {
			if r.Net.Contains(dst) && r.Net.Bits() > match.Bits() {
				match = r.Net
			}
		}
		if !match.IsValid() || used[match] {
			t.Fatalf("frame %d to %s: prefix %v (used before: %v)", i, dst, match, used[match])
		}
		used[match] = true
	}
	// The same seed makes the same files.
	dir2 := t.TempDir()
	if _, tb2, err := tableTraffic(dir2, spec); err != nil || string(mustRead(t, tb2.SteerFile)) != string(mustRead(t, tb.SteerFile)) {
		t.Errorf("a second table differs (%v)", err)
	}
}

// On full-table steer reads the routes file with a FIB that holds it, and
// l3fwd the rule files with its FIB lookup; the pools hold the frames.
func TestTableConfigs(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "STEER_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	frames, tb, err := tableTraffic(dir, trafficSpec{ID: "full-table", Flows: 2000, Packets: 1, Size: 64, Table: 20000})
	if err != nil {
		t.Fatal(err)
	}
	tr := traffic{ID: "full-table", File: "/tmp/t.pcap", Packets: len(frames), Table: tb}
	b := testBench()
	lan, wan := devices(tr.File, "/tmp/e.pcap")
	for _, r := range selectRows(nil, b.s.Steers) {
		switch r.Prog {
		case "steer":
			path := filepath.Join(t.TempDir(), "steer.yaml")
			if err := b.writeSteerConfig(path, r, tr, lan, wan, ""); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatalf("%s: %v", r.ID, err)
			}
			if len(c.FileRoutes) != 20000 || c.RoutesFile != tb.SteerFile || c.EAL.MemoryMB != tableMemoryMB ||
				c.FIB.MaxRoutes != tableMaxRoutes || c.Mempool.Mbufs < r.queues()*2000+16384 {
				t.Errorf("%s: %d file routes, config %+v", r.ID, len(c.FileRoutes), c)
			}
		case "l3fwd":
			got := strings.Join(b.argv(r, tr, lan, wan), " ")
			for _, want := range []string{"-m 1024", "--lookup=fib --rule_ipv4=" + tb.L3fwdFile + " --rule_ipv6=" + tb.L3fwdFile6 + " --rx-queue-size 2000 --parse-ptype"} {
				if !strings.Contains(got, want) {
					t.Errorf("%s lacks %q: %s", r.ID, want, got)
				}
			}
		case "testpmd":
			b.s.Huge = false
			if got := strings.Join(b.argv(r, tr, lan, wan), " "); !strings.Contains(got, fmt.Sprintf("--total-num-mbufs=%d", poolFor(tr, r.queues()))) {
				t.Errorf("%s: %s", r.ID, got)
			}
			b.s.Huge = true
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// full-table's footer: what the frames touch, start-up with the table,
// and whether every packet went to the sink by route.
func TestTableLines(t *testing.T) {
	b := testBench()
	rows := selectRows([]string{"l3fwd-1", "steer-rtc"}, b.s.Steers)
	tb := &routeTable{Routes: 500000, Tbl8Groups: 17441, FramePrefixes: 32768, FrameTbl24Lines: 32218, FrameTbl8Groups: 1117}
	tr := []traffic{{ID: "udp64-1024"}, {ID: "full-table", Table: tb}}
	up, slow, drop := 1.5, 0.4, 0.0
	s := func(tid, row string, up *float64, st *steerCounters) sample {
		return sample{Traffic: tid, Row: row, OK: true, StartupS: up, window: &window{Mpps: 30, DropPct: &drop}, Steer: st}
	}
	samples := []sample{
		s("udp64-1024", "steer-rtc", &slow, nil), s("udp64-1024", "l3fwd-1", &slow, nil),
		s("full-table", "l3fwd-1", &slow, nil),
		s("full-table", "steer-rtc", &up, &steerCounters{Slowpath: map[string]uint64{"no_route": 3}, Lcores: []lcoreCounters{{RxPackets: 1000}}}),
	}
	mhz := 2600.0
	rep := &report{machine: machine{CPUModel: "cpu", Nproc: 2, CPUMHz: &mhz, Kernel: "k", Hugepages: true}, traffic: tr, rows: rows,
		summary: summarise(samples, tr, rows, &mhz), samples: samples}
	text := b.table(rep)
	for _, want := range []string{
		"memory: 2 MiB hugepages, -m 512 per program (full-table: -m 1024)",
		"full-table  l3fwd FIB, rule file",
		"udp64-1024  l3fwd LPM",
		"start-up, exec -> first packet at the sink (median over all traffic but full-table): l3fwd-1 0.40 s, steer-rtc 0.40 s",
		"lookups read 32218 tbl24 lines (2.0 MiB) and 1117 tbl8 groups",
		"start-up with the table (exec -> first packet at the sink, median): l3fwd-1 0.40 s, steer-rtc 1.50 s",
		"by route to the sink: l3fwd-1 drop% 0.0; steer-rtc no_route 3 of 1000 received",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

// TestSteerLcores: per-lcore medians over the runs, the table's column and
// the stage lines.
func TestSteerLcores(t *testing.T) {
	run := func(rxCpp, wCpp float64) sample {
		return sample{OK: true, Steer: &steerCounters{Lcores: []lcoreCounters{
			{Lcore: 2, Role: "worker", BusyCycles: 50, IdleCycles: 50, CyclesPerPacket: wCpp},
			{Lcore: 1, Role: "rx", BusyCycles: 100, CyclesPerPacket: rxCpp, SampledPackets: 10,
				StageCycles: map[string]uint64{"rx": 300, "handoff": 250, "process": 0, "tx": 0}},
		}}}
	}
	ls := steerLcores([]sample{run(70, 140), run(80, 150), run(72, 100)})
	if len(ls) != 2 || ls[0].Lcore != 1 || ls[0].CyclesPerPacket != 72 || ls[1].CyclesPerPacket != 140 || ls[1].Busy != 0.5 {
		t.Fatalf("lcores %+v", ls)
	}
	if got := lcoreColumn(ls); got != "rx 72, worker 140" {
		t.Errorf("column %q", got)
	}
	if lcoreColumn(nil) != "-" {
		t.Error("a row without steer lcores should show -")
	}
	lines := stageLines([]cell{{Traffic: "udp64-1", Row: "steer-dist", cellStats: &cellStats{Lcores: ls}}})
	if len(lines) != 3 || !strings.Contains(lines[2], "lcore 1 rx (busy 100%): rx 30 handoff 25;") {
		t.Errorf("stage lines %q", lines)
	}
}
