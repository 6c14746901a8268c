// Command steer-bench is the benchmark `make bench` runs (after
// scripts/bench/bench.sh has installed the baselines, reserved hugepages and
// built l3fwd; docs/BENCH.md explains it all).
//
// It generates traffic pcaps, then runs every row (dpdk-testpmd io, DPDK
// l3fwd LPM, steer run to completion, steer distributor, and the
// two-queue variants) on the same net_pcap source and sink, one DPDK
// process at a time, interleaved and repeated. Each run is timed from
// outside through the DPDK telemetry socket: start-up (exec -> first packet
// at the sink), a warm-up, then a fixed window over which the sink port's
// opackets/obytes give Mpps and Gbit/s. Then the route API under traffic,
// the slow-path floods, the fairness phase (steer's lcore sharing its CPU
// with a CPU-bound process, per poll mode, on net_tap: fairness.go) and
// the control-plane `go test -bench` figures. It prints one table and
// writes build/bench/results.json.
//
// `steer-bench spin --seconds N` (not for people) is the fairness phase's
// CPU-bound process.
//
// Environment: BENCH_SECONDS, BENCH_WARMUP, BENCH_REPEAT, BENCH_TRAFFIC,
// BENCH_ROWS, BENCH_GO, BENCH_CHURN, BENCH_FLOOD, BENCH_FAIRNESS, BENCH_WAIT_OTHERS,
// BENCH_MAX_OTHER_LOAD, BENCH_RETRIES, BENCH_STEER_BIN (see bench.sh);
// BENCH_HUGE_OK, BENCH_L3FWD and BENCH_ROOT come from bench.sh.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/steer-router/steer/test/testbed"
)

// bench is one run of the benchmark.
type bench struct {
	s     *settings
	ctx   context.Context // cancelled at SIGINT or SIGTERM
	hz    float64         // USER_HZ: /proc's CPU time unit
	empty string          // the sink's empty pcap
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "spin" { // the fairness phase's other process
		os.Exit(spinMain(os.Args[2:]))
	}
	s := readSettings()
	if os.Geteuid() != 0 {
		fail("DPDK needs root")
	}
	checkSelection("BENCH_TRAFFIC", s.Traffic, trafficIDs())
	checkSelection("BENCH_ROWS", s.Rows, rowIDs())
	if len(s.Traffic) == 0 {
		s.Traffic = trafficIDs()
	}
	rows := selectRows(s.Rows, s.Steers)
	if slices.ContainsFunc(rows, func(r row) bool { return r.Prog == "l3fwd" }) {
		if st, err := os.Stat(s.L3fwd); s.L3fwd == "" || err != nil || st.Mode()&0o111 == 0 {
			fail("BENCH_L3FWD must name the l3fwd binary (run through scripts/bench/bench.sh)")
		}
	}
	if err := takeLock(); err != nil {
		fail("%v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var interrupted atomic.Pointer[string]
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		msg := fmt.Sprintf("signal %d", sig.(syscall.Signal))
		interrupted.Store(&msg)
		cancel()
	}()
	b := &bench{s: s, ctx: ctx, hz: clockTicks()}

	// Nothing from a previous run may reach these figures.
	os.RemoveAll(s.Out)
	if err := os.MkdirAll(filepath.Join(s.Out, "runs"), 0o755); err != nil {
		fail("%v", err)
	}
	rep := &report{started: time.Now(), rows: rows}
	rep.machine = b.machineInfo()
	b.checkOtherDPDK()

	err := b.runAll(rep)
	if errors.Is(err, errInterrupted) {
		logf("interrupted (%s): stopped the running program, cleaning up", *interrupted.Load())
	} else if err != nil {
		b.removeLeftovers()
		fail("%v", err)
	}
	b.removeLeftovers()
	b.removeGoTestLeftovers()

	rep.wall = time.Since(rep.started)
	rep.summary = summarise(rep.samples, rep.traffic, rows, rep.machine.CPUMHz)
	if rep.fair != nil {
		rep.fair.RtcOverBusy = rtcOverBusy(rep.summary)
		rep.fair.Targets = fairTargets(rep.fair)
	}
	text := b.table(rep)
	why := ""
	if p := interrupted.Load(); p != nil && err != nil {
		why = *p
	}
	if err := b.writeResults(rep, text, why); err != nil {
		fail("writing results: %v", err)
	}
	fmt.Println(text)
	rel := func(p string) string {
		if r, err := filepath.Rel(s.Root, p); err == nil {
			return r
		}
		return p
	}
	fmt.Printf("\nresults: %s (per run: %s/runs/)\n", rel(filepath.Join(s.Out, "results.json")), rel(s.Out))
	if why != "" {
		os.Exit(130)
	}
}

// runAll measures everything selected, filling in rep as it goes: what was
// measured before an interruption is kept.
func (b *bench) runAll(rep *report) error {
	var err error
	var empty string
	rep.traffic, empty, err = makeTraffic(b.s.Out, b.s.Traffic)
	if err != nil {
		return err
	}
	b.empty = empty
	if err := b.rounds(rep); err != nil {
		return err
	}
	var rtc []row
	for _, r := range rep.rows {
		if r.base == "steer-rtc" {
			rtc = append(rtc, r)
		}
	}
	// The 1024-flow traffic when it was selected: every flow its own hash.
	t := rep.traffic[0]
	for _, x := range rep.traffic {
		if x.ID == "udp64-1024" {
			t = x
		}
	}
	if b.s.Churn {
		for _, r := range rtc {
			logf("route API under traffic: %s on %s, adding and deleting routes for %.0f s", r.ID, t.ID, b.s.Seconds)
			c, err := b.routeChurn(r, t)
			if err != nil {
				return err
			}
			rep.churn = append(rep.churn, c)
			if c.OK {
				logf("route churn: %d adds, %d deletes; %.2f Mpps during, %.2f before", c.AddMs.N, c.DeleteMs.N, *c.MppsDuring, *c.MppsBefore)
			} else {
				logf("route churn: n/a: %s", *c.Error)
			}
		}
	}
	if b.s.Flood && len(rtc) > 0 {
		logf("slow-path floods: steer-rtc on %s with 1 frame in %d an exception", t.ID, floodEvery)
		if rep.flood, err = b.slowpathFlood(rtc, t); err != nil {
			return err
		}
	}
	if b.s.Fairness {
		logf("fairness: steer's lcore and a CPU-bound process on CPU %d, per poll mode and load (about 2 minutes)", fairCPU)
		if err := b.fairnessPhase(rep); err != nil {
			return err
		}
	}
	if b.s.Go {
		var what []string
		for _, g := range goBenchmarks {
			what = append(what, g.args[slices.Index(g.args, "-bench")+1]+" "+g.pkg)
		}
		logf("control plane: go test -bench %s (about a minute)", strings.Join(what, ", "))
		info, res, notes, err := b.goBench()
		rep.goInfo, rep.goRes, rep.goNotes = &info, res, notes
		if err != nil {
			return err
		}
	}
	return nil
}

// rounds runs the table: for each traffic, the rows in order, BENCH_REPEAT
// times, the order reversed every other round, so that a drift of the
// machine spreads over all rows. A window in which other processes took
// more than BENCH_MAX_OTHER_LOAD CPU is measured again (at most
// BENCH_RETRIES times); the discarded ones are kept.
func (b *bench) rounds(rep *report) error {
	rows := rep.rows
	n := len(rep.traffic) * len(rows) * b.s.Repeat
	per := b.s.Warmup + b.s.Seconds + 2
	logf("%d runs of ~%.0f s each (%d traffic x %d rows x %d), about %.1f min",
		n, per, len(rep.traffic), len(rows), b.s.Repeat, float64(n)*per/60)
	k := 0
	for _, t := range rep.traffic {
		for rnd := range b.s.Repeat {
			order := slices.Clone(rows)
			if rnd%2 == 1 {
				slices.Reverse(order)
			}
			for _, r := range order {
				k++
				var s sample
				for attempt := 0; ; attempt++ {
					var err error
					if s, err = b.measure(r, t, rnd); err != nil {
						return err
					}
					s.Attempt = attempt + 1
					if !s.OK || s.CPUOthers <= b.s.MaxOtherLoad || attempt == b.s.Retries {
						break
					}
					rep.discarded = append(rep.discarded, s)
					logf("[%d/%d] %-10s %-10s %6.2f Mpps discarded: other processes took %.2f CPU; again in 5 s",
						k, n, t.ID, r.ID, s.Mpps, s.CPUOthers)
					if err := b.sleep(5 * time.Second); err != nil {
						return err
					}
				}
				rep.samples = append(rep.samples, s)
				if s.OK {
					logf("[%d/%d] %-10s %-10s %6.2f Mpps  start-up %.2f s  other load %.2f CPU",
						k, n, t.ID, r.ID, s.Mpps, *s.StartupS, s.CPUOthers)
				} else {
					logf("[%d/%d] %-10s %-10s n/a: %s", k, n, t.ID, r.ID, *s.Error)
				}
			}
		}
	}
	return nil
}

func trafficIDs() []string {
	var ids []string
	for _, t := range trafficTable {
		ids = append(ids, t.ID)
	}
	return ids
}

func checkSelection(name string, sel, known []string) {
	for _, x := range sel {
		if !slices.Contains(known, x) {
			fail("%s: unknown %q (known: %s)", name, x, strings.Join(known, ","))
		}
	}
}

// checkOtherDPDK refuses to start while a program with the bench's file
// prefix runs, and warns about other DPDK programs.
func (b *bench) checkOtherDPDK() {
	var ours, others []string
	for _, p := range testbed.DPDKProcesses() {
		if p.Prefix == prefix {
			ours = append(ours, p.String())
		}
		others = append(others, p.String())
	}
	if len(ours) > 0 {
		fail("a DPDK process with the bench's file prefix %s is still running: %s. A bench killed with SIGKILL? "+
			"Stop it (kill PID) and run again.", prefix, strings.Join(ours, ", "))
	}
	if len(others) > 0 {
		logf("WARNING: other DPDK processes are running: %s. Their pollers take the CPUs the rows poll on; "+
			"each run waits up to %.0f s for them to end, then measures anyway (and says so).", strings.Join(others, ", "), b.s.WaitOthers)
	}
}

// takeLock: one bench at a time (flock on lockPath). bench.sh takes the
// lock before it installs packages and builds l3fwd, and this process
// inherits it (the same open file, which flock grants again); run on its
// own, the bench takes it itself.
func takeLock() error {
	want, err := filepath.EvalSymlinks(filepath.Dir(lockPath))
	if err != nil {
		want = filepath.Dir(lockPath)
	}
	want = filepath.Join(want, filepath.Base(lockPath))
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if t, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && (t == want || t == lockPath) {
			var n int
			if _, err := fmt.Sscan(fd.Name(), &n); err == nil && syscall.Flock(n, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				return nil
			}
		}
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("another bench is running (it holds %s); wait for it to finish", lockPath)
	}
	lockFile = f // held until exit
	return nil
}

var lockFile *os.File
