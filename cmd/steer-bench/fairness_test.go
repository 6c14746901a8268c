package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/test/testbed"
)

const cannedPing = `PING 10.92.2.2 (10.92.2.2) 56(84) bytes of data.
64 bytes from 10.92.2.2: icmp_seq=1 ttl=63 time=0.045 ms
64 bytes from 10.92.2.2: icmp_seq=2 ttl=63 time=2.31 ms
64 bytes from 10.92.2.2: icmp_seq=2 ttl=63 time=9.99 ms (DUP!)
64 bytes from 10.92.2.2: icmp_seq=4 ttl=63 time=0.100 ms
64 bytes from 10.92.2.2: icmp_seq=5 ttl=63 time=0.052 ms

--- 10.92.2.2 ping statistics ---
5 packets transmitted, 4 received, +1 duplicates, 20% packet loss, time 21ms
rtt min/avg/max/mdev = 0.045/0.627/2.310/0.972 ms
`

// Per-reply times in microseconds, the duplicate left out, the counts
// from the summary.
func TestParsePing(t *testing.T) {
	st, err := parsePing(cannedPing)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 5 || st.Recv != 4 || st.P50Us != 52 || st.P99Us != 2310 || st.MaxUs != 2310 {
		t.Errorf("%+v", st)
	}
	if _, err := parsePing("ping: connect: Network is unreachable\n"); err == nil {
		t.Error("no summary: no error")
	}
	if _, err := parsePing("3 packets transmitted, 0 received, 100% packet loss, time 2ms\n"); err == nil {
		t.Error("no reply: no error")
	}
}

func TestPercentile(t *testing.T) {
	v := make([]float64, 400)
	for i := range v {
		v[i] = float64(i + 1)
	}
	for _, c := range []struct{ p, want float64 }{{0.5, 200}, {0.99, 396}, {1, 400}, {0, 1}} {
		if got := percentile(v, c.p); got != c.want {
			t.Errorf("p%.2f of 1..400 = %v, want %v", c.p, got, c.want)
		}
	}
	if percentile([]float64{7}, 0.99) != 7 || percentile(nil, 0.5) != 0 {
		t.Error("one value or none")
	}
}

// spin writes progress the bench can read back, and its rate over a
// window the bench chose uses the points inside it.
func TestSpin(t *testing.T) {
	var buf bytes.Buffer
	rate := spin(60*time.Millisecond, 10*time.Millisecond, &buf)
	pts := parseSpin(buf.String())
	if rate <= 0 || len(pts) < 5 || pts[0].Iters != 0 {
		t.Fatalf("rate %v, %d points:\n%s", rate, len(pts), buf.String())
	}
	at := func(ms int) time.Time { return time.Unix(100, 0).Add(time.Duration(ms) * time.Millisecond) }
	canned := "progress " + itoa(at(0).UnixNano()) + " 0\nnoise\nprogress " + itoa(at(100).UnixNano()) + " 1000\n" +
		"progress " + itoa(at(200).UnixNano()) + " 3000\nprogress " + itoa(at(300).UnixNano()) + " 4000\n123 iterations/s\n"
	pts = parseSpin(canned)
	if len(pts) != 4 {
		t.Fatalf("points %v", pts)
	}
	if got := spinRate(pts, at(50), at(250)); math.Abs(got-20000) > 1e-6 {
		t.Errorf("rate over 100-200 ms = %v, want 20000/s", got)
	}
	if got := spinRate(pts, at(0), at(300)); math.Abs(got-4000/0.3) > 1e-6 {
		t.Errorf("rate over all = %v", got)
	}
	if got := spinRate(pts, at(120), at(180)); got != 0 {
		t.Errorf("no two points inside: %v, want 0", got)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func f64(v float64) *float64 { return &v }

// A measurement with every target's inputs; each case breaks one.
func cannedFairness() *fairness {
	cell := func(mode, load string, alone bool, fwd, vsPeak, share, cpu, p99 float64) fairCell {
		c := fairCell{Mode: mode, Poll: mode, Load: load, Alone: alone, FwdPPS: fwd, VsPeak: f64(vsPeak), LcoreCPU: cpu}
		if !alone {
			c.OtherShare = f64(share)
		}
		if load == "low" {
			c.Ping = &pingStats{Sent: 400, Recv: 400, P50Us: p99 / 2, P99Us: p99}
		}
		return c
	}
	f := &fairness{OK: true, SoloItersPerS: 8e8, WarmupS: 1, WindowS: 3,
		Peak:        &fairCell{Mode: "busy", Load: "full", Alone: true, FwdPPS: 700e3, OfferedPPS: 1.2e6, LcoreCPU: 1},
		RtcOverBusy: []busyRatio{{Traffic: "udp64-1024", Ratio: 0.99}}}
	for _, m := range pollModes {
		cpu := map[string]float64{"busy": 0.5, "adaptive": 0.01, "interrupt": 0.002}[m]
		share := map[string]float64{"busy": 0.5, "adaptive": 0.97, "interrupt": 0.99}[m]
		f.Cells = append(f.Cells,
			cell(m, "idle", false, 0, 0, share, cpu, 0),
			cell(m, "low", false, 7e3, 0.01, 0.8, 0.1, 100),
			cell(m, "medium", false, 210e3, 0.3, 0.6, 0.4, 0),
			cell(m, "full", false, 650e3, 0.93, 0.3, 0.7, 0),
			cell(m, "low", true, 7e3, 0.01, 0, 0.1, 40))
	}
	return f
}

func verdicts(ts []fairTarget) string {
	var v []string
	for _, t := range ts {
		v = append(v, t.Verdict)
	}
	return strings.Join(v, ",")
}

func TestFairTargets(t *testing.T) {
	all := "met,met,met,met,met"
	if got := verdicts(fairTargets(cannedFairness())); got != all {
		t.Fatalf("verdicts %s, want %s", got, all)
	}
	for _, c := range []struct {
		name   string
		change func(f *fairness)
		want   string
	}{
		{"adaptive idle at 2.5% of a CPU", func(f *fairness) { f.findCell("adaptive", "idle", false).LcoreCPU = 0.025 },
			"not met,met,met,met,met"},
		{"interrupt idle leaves the other 0.89", func(f *fairness) { f.findCell("interrupt", "idle", false).OtherShare = f64(0.89) },
			"met,not met,met,met,met"},
		{"busy at full load 0.5 of peak", func(f *fairness) { f.findCell("busy", "full", false).VsPeak = f64(0.5) },
			"met,met,not met,met,met"},
		{"the other starved at full load", func(f *fairness) { f.findCell("adaptive", "full", false).OtherShare = f64(0) },
			"met,met,not met,met,met"},
		{"rtc 0.96x busy", func(f *fairness) { f.RtcOverBusy = append(f.RtcOverBusy, busyRatio{Traffic: "imix-1024", Ratio: 0.96}) },
			"met,met,met,not met,met"},
		{"no steer-busy row", func(f *fairness) { f.RtcOverBusy = nil }, "met,met,met,n/a,met"},
		{"adaptive alone p99 51 us over busy's", func(f *fairness) { f.findCell("adaptive", "low", true).Ping.P99Us = 91 },
			"met,met,met,met,not met"},
		{"interrupt sharing p99 50 us over busy's", func(f *fairness) { f.findCell("interrupt", "low", false).Ping.P99Us = 150 },
			"met,met,met,met,met"},
		{"failed cells are not measurements", func(f *fairness) {
			for i := range f.Cells {
				f.Cells[i].Error = "boom"
			}
		}, "n/a,n/a,n/a,met,n/a"},
	} {
		f := cannedFairness()
		c.change(f)
		if got := verdicts(fairTargets(f)); got != c.want {
			t.Errorf("%s: %s, want %s\n%+v", c.name, got, c.want, fairTargets(f))
		}
	}
	ts := fairTargets(cannedFairness())
	if !strings.Contains(ts[0].Detail, "adaptive 1.0%, interrupt 0.2%") || !strings.Contains(ts[1].Detail, "busy 0.50") ||
		!strings.Contains(ts[4].Detail, "alone (busy p99 40 us): adaptive +0 us") {
		t.Errorf("details %+v", ts)
	}
}

func TestRtcOverBusy(t *testing.T) {
	st := func(mpps float64) *cellStats { return &cellStats{MppsMedian: mpps} }
	summary := []cell{
		{Traffic: "udp64-1024", base: "steer-rtc", cellStats: st(49)},
		{Traffic: "udp64-1024", base: "steer-busy", cellStats: st(50)},
		{Traffic: "imix-1024", base: "steer-rtc", cellStats: st(36)}, // no busy: no ratio
		{Traffic: "udp64-1", base: "steer-rtc", steerID: "A", cellStats: st(40)},
		{Traffic: "udp64-1", base: "steer-busy", steerID: "A", cellStats: st(40)},
		{Traffic: "udp64-1", base: "steer-busy", steerID: "B", cellStats: st(20)},
	}
	got := rtcOverBusy(summary)
	if len(got) != 2 || got[0].Traffic != "udp64-1024" || math.Abs(got[0].Ratio-0.98) > 1e-9 || got[1].SteerID != "A" || got[1].Ratio != 1 {
		t.Errorf("%+v", got)
	}
}

func TestFairLines(t *testing.T) {
	f := cannedFairness()
	f.Cells[1].CPUOthers = 0.5
	f.Cells[2] = fairCell{Mode: "busy", Load: "medium", Error: "the other process reported no progress over the window"}
	f.Cells[10].Poll = "adaptive" // an interrupt lcore that fell back
	f.Targets = fairTargets(f)
	f.SteerExit = map[string]int{"busy": 0, "adaptive": 1}
	f.ModeErrors = map[string]string{"interrupt": "no ping from A to B through steer"}
	var squeezed []string // columns one space apart
	for _, l := range fairLines(f, 0.3) {
		squeezed = append(squeezed, strings.Join(strings.Fields(l), " "))
	}
	text := strings.Join(squeezed, "\n")
	for _, want := range []string{
		"fairness (steer lcore 1 and a CPU-bound process share CPU 1",
		"peak: busy at full load with CPU 1 its own: 700.0k packets/s forwarded of 1.20M/s offered",
		"busy low ! 0 7.0k 0.01 0.80 10.0% 0% 50/100",
		"busy medium n/a: the other process reported no progress",
		"interrupt (ran adaptive) idle",
		"low, alone",
		"50/100",
		"! = other processes took more than 0.30 CPU",
		"! steer (adaptive) exited 1",
		"fairness, interrupt: n/a: no ping from A to B through steer",
		"steer-rtc (adaptive) / steer-busy at full load on its own CPU (main table medians): udp64-1024 0.990",
		"met idle, adaptive and interrupt at most 2% of a CPU",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if fairLines(nil, 0.3) != nil {
		t.Error("lines without a phase")
	}
	if got := fmtPPS(412) + " " + fmtPPS(4123) + " " + fmtPPS(1.234e6); got != "412 4.1k 1.23M" {
		t.Errorf("fmtPPS: %s", got)
	}
}

// The bed's config is one steer accepts: main lcore on CPU 0, lcore 1 on
// CPU 1 in the mode, net_tap ports, static neighbours for the hosts and
// the sink.
func TestFairBedConfig(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "STEER_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, mode := range pollModes {
		bed := &fairBed{b: testBench(), mode: mode, lanIf: "sbf1a", wanIf: "sbf1b"}
		path := filepath.Join(t.TempDir(), "steer.yaml")
		if err := (testbed.ConfigFile{Config: bed.steerConfig("127.0.0.1:1")}).Write(path); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path)
		if err != nil {
			y, _ := os.ReadFile(path)
			t.Fatalf("%s: %v\n%s", mode, err, y)
		}
		if c.EAL.Lcores != "0@0,1@1" || c.Lcores[0].PollMode != mode || len(c.Neighbors) != 3 ||
			!strings.HasPrefix(c.Ports[0].Device, "net_tap0,iface=sbf1a,mac=") || c.Metrics.Listen != "127.0.0.1:1" {
			t.Errorf("%s: %+v", mode, c)
		}
	}
	if frames, err := bedFrames(); err != nil || len(frames) != 16 || len(frames[0]) != 60 {
		t.Errorf("frames: %d, %v", len(frames), err)
	}
}
