package e2e

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// parseSI reads a rate as `steer stats` prints it: 0, 950, 1.23k, 45.6M.
func parseSI(t *testing.T, s string) float64 {
	t.Helper()
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k':
			mult, s = 1e3, s[:n-1]
		case 'M':
			mult, s = 1e6, s[:n-1]
		case 'G':
			mult, s = 1e9, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a rate: %q", s)
	}
	return v * mult
}

// statsRow finds the row whose first column is name in one table of
// `steer stats` output and returns its columns.
func statsRow(t *testing.T, table, name string) []string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no row %q in\n%s", name, table)
	return nil
}

// TestStatsCLI runs `steer stats --count 2 --interval 200ms` against a
// steer forwarding an endless stream lan -> wan: two tables, each with the
// lan port receiving and wan sending at a plausible rate, the forwarding
// lcore busy some share of its polls, totals equal to the one port's
// rates, and nothing dropped.
func TestStatsCLI(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	in := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 16, PacketsPerFlow: 4, TTL: 64, Size: 100, Seed: 91})
	frameBits := float64(8 * len(in[0]))
	for _, f := range in {
		if len(f) != len(in[0]) {
			t.Fatal("frames of different sizes")
		}
	}
	tr := startTraffic(t, in, "", nil)
	r := tr.b.Run("stats", "--count", "2", "--interval", "200ms", "--api", tr.api.base)
	if r.Code != 0 {
		t.Fatalf("steer stats: exit %d\n%s", r.Code, r)
	}
	t.Logf("steer stats printed:\n%s", r.Stdout)
	tables := strings.Split(strings.TrimSpace(r.Stdout), "\n\nsteer stats ")
	if len(tables) != 2 || strings.Contains(r.Stdout, "\x1b[") {
		t.Fatalf("want 2 tables separated by a blank line, no escape codes (not a terminal):\n%s", r.Stdout)
	}
	for i, tab := range tables {
		if !strings.Contains(tab, tr.api.base) || !strings.Contains(tab, "rates over 0.2") {
			t.Errorf("table %d: header lacks the API address or the interval:\n%s", i, tab)
		}
		lan, wan := statsRow(t, tab, "lan"), statsRow(t, tab, "wan")
		if len(lan) != 7 || len(wan) != 7 {
			t.Fatalf("port rows want 7 columns: %q %q", lan, wan)
		}
		rx, tx := parseSI(t, lan[1]), parseSI(t, wan[2])
		// net_pcap replays a file in memory: well over 10k pps even on a
		// loaded 2-CPU box, and under 1G.
		if rx < 1e4 || rx > 1e9 || tx < 1e4 || tx > 1e9 {
			t.Errorf("table %d: lan RX %v pps, wan TX %v pps: implausible", i, rx, tx)
		}
		// Equal frames: bit/s is pps times the frame's bits (up to the
		// rounding to three digits).
		if bits := parseSI(t, lan[3]); math.Abs(bits/rx-frameBits) > frameBits*0.02 {
			t.Errorf("table %d: lan RX %v bit/s for %v pps: not %v bits per packet", i, bits, rx, frameBits)
		}
		if lan[5] != "0" || lan[6] != "0" || parseSI(t, lan[2]) > rx/100 {
			t.Errorf("table %d: lan row %q: missed, errors or TX where none should be", i, lan)
		}
		total := statsRow(t, tab, "total")
		if total[1] != lan[1] {
			t.Errorf("table %d: total RX %s, lan %s (the only receiving port)", i, total[1], lan[1])
		}
		lc := statsRow(t, tab, "1")
		if len(lc) != 9 { // LCORE POLL RX TX DROPS SLOW BUSY ASLEEP CYC/PKT (no RING column without workers)
			t.Fatalf("lcore row wants 9 columns: %q", lc)
		}
		// The default poll mode; it never sleeps: lan never runs dry.
		if lc[1] != "adaptive" || lc[7] != "0.0%" {
			t.Errorf("table %d: lcore 1 poll %q asleep %q, want adaptive and 0.0%%", i, lc[1], lc[7])
		}
		// BUSY is the share of cycles in loops that found work: lan never
		// runs dry, so every loop does (wan's empty poll is part of it).
		busy, err := strconv.ParseFloat(strings.TrimSuffix(lc[6], "%"), 64)
		if err != nil || !strings.HasSuffix(lc[6], "%") || busy < 90 {
			t.Errorf("table %d: lcore 1 busy %q, want over 90%% (a replay that never runs dry)", i, lc[6])
		}
		// Cycles per packet: tens to a few thousand on any CPU this runs on.
		if cpp, err := strconv.Atoi(lc[8]); err != nil || cpp < 10 || cpp > 20000 {
			t.Errorf("table %d: lcore 1 cycles per packet %q: implausible", i, lc[8])
		}
		if lrx := parseSI(t, lc[2]); lrx < 1e4 || lc[4] != "0" || lc[5] != "0" {
			t.Errorf("table %d: lcore 1 row %q: want RX and no drops or slow path", i, lc)
		}
	}
	if _, st := tr.stop(t); st.Totals.RxPackets == 0 {
		t.Error("no traffic")
	}
}

// TestNeighborsCLI: `steer neighbors list` shows the config's static
// neighbours; add, list, del and the errors of a running steer.
func TestNeighborsCLI(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	tr := startTraffic(t, gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 4, PacketsPerFlow: 4, TTL: 64, Seed: 92}), "n-t0ken", nil)
	cli := func(want int, args ...string) string {
		t.Helper()
		r := tr.b.Run(append(args, "--api", tr.api.base, "--token", "n-t0ken")...)
		if r.Code != want {
			t.Fatalf("steer %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, r)
		}
		return r.Output()
	}
	out := cli(0, "neighbors", "list")
	if !strings.HasPrefix(out, "IP ") || !strings.Contains(out, "MAC") || !strings.Contains(out, "STATE") {
		t.Errorf("neighbors list: no header:\n%s", out)
	}
	if r := tr.b.Run("neighbors", "add", "203.0.113.9", "02:00:00:00:00:09", "--port", "wan", "--api", tr.api.base, "--token", "n-t0ken"); r.Code != 0 {
		t.Fatalf("neighbors add: exit %d\n%s", r.Code, r)
	}
	out = cli(0, "neighbors", "list")
	for _, want := range [][]string{
		{"10.0.0.2", LanHostMAC.String(), "lan", "static", "yes"},
		{"203.0.113.2", WanPeerMAC.String(), "wan", "static", "yes"},
		{"203.0.113.9", "02:00:00:00:00:09", "wan", "static", "yes"},
	} {
		if row := statsRow(t, out, want[0]); strings.Join(row, " ") != strings.Join(want, " ") {
			t.Errorf("neighbors list row %q, want %q", row, want)
		}
	}
	cli(0, "neighbors", "del", "203.0.113.9")
	if out := cli(0, "neighbors", "list"); strings.Contains(out, "203.0.113.9") {
		t.Errorf("deleted neighbour still listed:\n%s", out)
	}
	if out := cli(1, "neighbors", "del", "203.0.113.9"); !strings.Contains(out, "no such static neighbour") {
		t.Errorf("deleting a missing neighbour: %s", out)
	}
	if out := cli(1, "neighbors", "add", "203.0.113.9", "02:00:00:00:00:09", "--port", "dmz"); !strings.Contains(out, "port:") {
		t.Errorf("an unknown port: %s", out)
	}
	if out := cli(1, "neighbors", "add", "203.0.113.9", "ff:ff:ff:ff:ff:ff", "--port", "wan"); !strings.Contains(out, "mac:") {
		t.Errorf("a broadcast MAC: %s", out)
	}
	r := tr.b.Run("neighbors", "add", "203.0.113.9", "02:00:00:00:00:09", "--port", "wan", "--api", tr.api.base, "--token", "wrong")
	if r.Code != 1 || !strings.Contains(r.Stderr, "refused the token: --token or $STEER_API_TOKEN") {
		t.Errorf("a wrong token: exit %d\n%s", r.Code, r)
	}
	tr.stop(t)
}

// TestControlCLIWithoutSteer: with no steer at --api, stats and neighbors
// exit 1 saying so.
func TestControlCLIWithoutSteer(t *testing.T) {
	b := NewBed(t)
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"stats", "--count", "1", "--interval", "10ms"},
		{"stats", "--watch"},
		{"neighbors", "list"},
		{"neighbors", "add", "203.0.113.9", "02:00:00:00:00:09", "--port", "wan"},
		{"neighbors", "del", "203.0.113.9"},
	} {
		r := b.Run(append(args, "--api", "http://"+addr)...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "no steer answering at http://"+addr) || !strings.Contains(r.Stderr, "is steer running") {
			t.Errorf("steer %s with nothing at %s: exit %d\n%s", strings.Join(args, " "), addr, r.Code, r)
		}
	}
}
