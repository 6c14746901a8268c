package main

// The fairness phase (docs/BENCH.md, Fairness): steer's one forwarding
// lcore and a CPU-bound process share CPU 1, per poll mode, at idle, low,
// medium and full offered load. steer runs on two net_tap ports whose
// kernel sides are hosts in two network namespaces, A and B; a paced
// packet-socket writer in A (the bench itself) and ping run on CPU 0 with
// steer's main lcore. What it gives: steer's forwarded rate, the other
// process's speed against its speed alone, ping's latency through steer
// at low load and the lcore thread's CPU.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/steer-router/steer/pkg/config"
)

// The phase's placement and timing.
const (
	fairCPU    = 1 // steer's forwarding lcore and the other process
	genCPU     = 0 // steer's main lcore, the generator, ping, the bench
	fairWarmup = time.Second
	fairWindow = 3 * time.Second // ping's 300 x 10 ms span it
	fairSolo   = 3 * time.Second // the other process alone
	// Low and medium offered load, as shares of the peak.
	lowShare    = 0.01
	mediumShare = 0.30
	// ping at low load: 300 echo requests 10 ms apart (iputils' ping
	// spins between requests less than 10 ms apart: at 5 ms it took a
	// whole CPU 0).
	pingCount = 300
	// No cell is measured again once the phase has run this long: on a
	// busy machine it would otherwise take three times as long.
	fairRetryBudget = 4 * time.Minute
	pingInterval    = "0.01"
)

// pollModes in the order they run: busy first, its peak sets the loads.
var pollModes = []string{config.PollBusy, config.PollAdaptive, config.PollInterrupt}

// fairness is results.json "fairness".
type fairness struct {
	OK    bool    `json:"ok"`
	Error *string `json:"error"`
	Steer string  `json:"steer"`  // the binary (the first of BENCH_STEER_BIN)
	WallS float64 `json:"wall_s"` // the whole phase
	// WarmupS and WindowS of every cell.
	WarmupS float64 `json:"warmup_s"`
	WindowS float64 `json:"window_s"`
	// The other process alone on CPU 1, before the cells and after them.
	SoloItersPerS      float64  `json:"solo_iterations_per_s"`
	SoloAfterItersPerS *float64 `json:"solo_after_iterations_per_s"`
	// Peak is busy at full offered load with CPU 1 its own.
	Peak  *fairCell  `json:"peak"`
	Cells []fairCell `json:"cells"`
	// SteerExit is steer's exit status per mode (0: its own checks passed).
	SteerExit map[string]int `json:"steer_exit"`
	// ModeErrors say why a mode after busy has no cells (its steer did not
	// start, no ping went through).
	ModeErrors map[string]string `json:"mode_errors"`
	// Discarded are cells measured again because other processes took
	// more than BENCH_MAX_OTHER_LOAD CPU in their window.
	Discarded []fairCell `json:"discarded"`
	// RtcOverBusy is steer-rtc's median over steer-busy's in the main
	// table, per traffic (and binary in A/B).
	RtcOverBusy []busyRatio  `json:"rtc_over_busy"`
	Targets     []fairTarget `json:"targets"`
	started     time.Time
}

// fairCell is one (mode, load) measured over a window.
type fairCell struct {
	Mode  string `json:"mode"`
	Poll  string `json:"poll"` // what steer's stats say the lcore does (interrupt falls back without RX interrupts)
	Load  string `json:"load"` // idle | low | medium | full
	Alone bool   `json:"alone"`
	// TargetPPS is the generator's pace: 0 idle, -1 as fast as it writes.
	TargetPPS  float64  `json:"target_pps"`
	OfferedPPS float64  `json:"offered_pps"` // frames written into A's interface
	FwdPPS     float64  `json:"fwd_pps"`     // lcore 1's tx over the window
	VsPeak     *float64 `json:"vs_peak"`
	// The other process: iterations per second and that over its speed alone.
	OtherItersPerS *float64 `json:"other_iterations_per_s"`
	OtherShare     *float64 `json:"other_share"`
	// LcoreCPU is the CPU the lcore thread used (its schedstat), in CPUs.
	LcoreCPU float64 `json:"lcore_cpu"`
	// AsleepShare is the share of the lcore's own cycles it slept.
	AsleepShare float64    `json:"asleep_share"`
	Sleeps      uint64     `json:"sleeps"`
	Wakeups     uint64     `json:"wakeups"`
	Ping        *pingStats `json:"ping,omitempty"`
	// CPUOthers is user + system time of processes other than steer, the
	// bench, the other process and ping, in CPUs (softirq left out: the
	// taps' kernel work is the cell's own).
	CPUOthers float64 `json:"cpu_others"`
	// Steal is the share of CPU 1 the host gave to something else: the
	// lcore's and the other process's time shrink by as much.
	Steal   float64 `json:"steal"`
	WindowS float64 `json:"window_s"`
	Attempt int     `json:"attempt"`
	Error   string  `json:"error,omitempty"`
}

// fairLoad is what a cell offers.
type fairLoad struct {
	Name  string
	PPS   float64 // 0 idle, -1 full
	Alone bool
	Ping  bool
}

// fairLoads are a mode's cells once the peak is known.
func fairLoads(peak float64) []fairLoad {
	return []fairLoad{
		{Name: "idle"},
		{Name: "low", PPS: lowShare * peak, Ping: true},
		{Name: "medium", PPS: mediumShare * peak},
		{Name: "full", PPS: -1},
		{Name: "low", PPS: lowShare * peak, Ping: true, Alone: true},
	}
}

// fairnessPhase runs the phase, filling in rep.fair as it goes (what was
// measured before an interruption is kept). Only an interruption is an
// error: anything else is the phase's n/a.
func (b *bench) fairnessPhase(rep *report) error {
	f := &fairness{Steer: b.s.Steers[0].Path, WarmupS: fairWarmup.Seconds(), WindowS: fairWindow.Seconds(),
		Cells: []fairCell{}, SteerExit: map[string]int{}, ModeErrors: map[string]string{}, Discarded: []fairCell{}}
	rep.fair = f
	f.started = time.Now()
	err := b.fairnessCells(f)
	f.WallS = time.Since(f.started).Seconds()
	if errors.Is(err, errInterrupted) {
		return err
	}
	if err != nil {
		msg := err.Error()
		f.Error = &msg
		logf("fairness: n/a: %s", msg)
		return nil
	}
	f.OK = true
	return nil
}

func (b *bench) fairnessCells(f *fairness) error {
	if err := needTools("ip", "ping", "taskset"); err != nil {
		return err
	}
	if onlineCPUs() < 2 {
		return errors.New("needs two CPUs (steer's lcore and the other process on CPU 1, the generator on CPU 0)")
	}
	removeStaleNetns()
	// The bench (the generator, the API client) and everything it starts
	// stay on CPU 0; the other process asks for CPU 1 itself (taskset).
	restore, err := pinProcess(genCPU)
	if err != nil {
		return fmt.Errorf("pinning the bench to CPU %d: %w", genCPU, err)
	}
	defer restore()
	dir := filepath.Join(b.s.Out, "runs", "fairness")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if f.SoloItersPerS, err = b.soloSpeed(filepath.Join(dir, "solo-before.log")); err != nil {
		return err
	}
	logf("fairness: the other process alone on CPU %d: %.1f M iterations/s", fairCPU, f.SoloItersPerS/1e6)
	for _, mode := range pollModes {
		err := b.fairMode(f, mode, dir)
		if errors.Is(err, errInterrupted) || err != nil && mode == config.PollBusy {
			return err // no peak without busy
		}
		if err != nil {
			f.ModeErrors[mode] = err.Error()
			logf("fairness: %s: n/a: %v", mode, err)
		}
	}
	if after, err := b.soloSpeed(filepath.Join(dir, "solo-after.log")); err == nil {
		f.SoloAfterItersPerS = &after
	} else if errors.Is(err, errInterrupted) {
		return err
	}
	return nil
}

// fairMode starts steer in one poll mode and measures its cells (busy
// first measures the peak, alone).
func (b *bench) fairMode(f *fairness, mode, dir string) error {
	if _, _, err := b.waitForQuiet(); err != nil {
		return err
	}
	bed, err := b.startFairBed(mode, filepath.Join(dir, mode))
	if bed != nil {
		defer func() {
			if code := bed.close(); code != nil {
				f.SteerExit[mode] = *code
			}
		}()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", mode, err)
	}
	if mode == config.PollBusy {
		c, err := b.quietCell(bed, f, fairLoad{Name: "full", PPS: -1, Alone: true}, dir)
		if err != nil {
			return err
		}
		f.Peak = &c
	}
	if f.Peak == nil || f.Peak.FwdPPS <= 0 {
		return errors.New("no peak: busy forwarded nothing at full load")
	}
	for _, l := range fairLoads(f.Peak.FwdPPS) {
		c, err := b.quietCell(bed, f, l, dir)
		if err != nil {
			return err
		}
		f.Cells = append(f.Cells, c)
	}
	return nil
}

// quietCell measures a cell, and again (at most BENCH_RETRIES times, and
// not past fairRetryBudget) while other processes took more than
// BENCH_MAX_OTHER_LOAD CPU in its window, each time after waiting for a
// quiet machine; the discarded ones are kept.
func (b *bench) quietCell(bed *fairBed, f *fairness, l fairLoad, dir string) (fairCell, error) {
	for attempt := 1; ; attempt++ {
		if _, _, err := b.waitForQuiet(bed.run.proc.Pid()); err != nil {
			return fairCell{}, err
		}
		c, err := b.fairCell(bed, f, l, dir)
		c.Attempt = attempt
		if err != nil || c.Error != "" || c.CPUOthers <= b.s.MaxOtherLoad || attempt > b.s.Retries ||
			time.Since(f.started) > fairRetryBudget {
			return c, err
		}
		f.Discarded = append(f.Discarded, c)
		logf("fairness: %-9s %-10s discarded: other processes took %.2f CPU; again", c.Mode, cellName(c), c.CPUOthers)
	}
}

// fairCell measures one cell: the generator at the load's pace and the
// other process from the start, a warm-up, then the window (with ping at
// low load). A failed cell carries its error; only an interruption is an
// error.
func (b *bench) fairCell(bed *fairBed, f *fairness, l fairLoad, dir string) (fairCell, error) {
	c := fairCell{Mode: bed.mode, Load: l.Name, Alone: l.Alone, TargetPPS: l.PPS}
	err := b.fairWindow(bed, f, l, &c, filepath.Join(dir, bed.mode+"."+cellName(c)+".spin.log"))
	if errors.Is(err, errInterrupted) {
		return c, err
	}
	if err != nil {
		c.Error = err.Error()
		logf("fairness: %-9s %-10s n/a: %s", c.Mode, cellName(c), c.Error)
		return c, nil
	}
	logf("fairness: %-9s %-10s offered %8.0f/s  fwd %8.0f/s  other %s  lcore CPU %5.1f%%%s",
		c.Mode, cellName(c), c.OfferedPPS, c.FwdPPS, fmtOpt(c.OtherShare, "%.2f"), 100*c.LcoreCPU, pingNote(c.Ping))
	return c, nil
}

// cellName is the load, with ", alone" when CPU 1 was steer's own.
func cellName(c fairCell) string {
	if c.Alone {
		return c.Load + ", alone"
	}
	return c.Load
}

func pingNote(p *pingStats) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("  ping p50 %.0f us p99 %.0f us (%d/%d)", p.P50Us, p.P99Us, p.Recv, p.Sent)
}

func (b *bench) fairWindow(bed *fairBed, f *fairness, l fairLoad, c *fairCell, spinLog string) error {
	var gen *generator
	if l.PPS != 0 {
		gen = startGenerator(bed.fd, bed.frames, l.PPS)
		defer gen.halt()
	}
	var other *spinner
	if !l.Alone {
		var err error
		if other, err = startSpinner(spinLog, fairWarmup+fairWindow+2*time.Second); err != nil {
			return err
		}
		defer other.stop()
	}
	if err := b.sleep(fairWarmup); err != nil {
		return err
	}
	a, err := bed.snapshot(gen, other)
	if err != nil {
		return err
	}
	var pinged chan pingResult
	if l.Ping {
		pinged = make(chan pingResult, 1)
		go func() { pinged <- b.pingThrough(bed) }()
	}
	if err := b.sleep(fairWindow); err != nil {
		return err
	}
	z, err := bed.snapshot(gen, other)
	if err != nil {
		return err
	}
	pingCPU := 0.0
	if pinged != nil {
		p := <-pinged
		if p.err != nil {
			return p.err
		}
		c.Ping, pingCPU = p.stats, p.cpu
	}
	if gen != nil {
		if err := gen.halt(); err != nil {
			return fmt.Errorf("generator: %w", err)
		}
	}
	b.fillCell(c, a, z, f, pingCPU)
	if other != nil {
		out, err := other.wait()
		if err != nil {
			return fmt.Errorf("the other process: %w", err)
		}
		rate := spinRate(parseSpin(out), a.at, z.at)
		if rate <= 0 {
			return errors.New("the other process reported no progress over the window")
		}
		share := rate / f.SoloItersPerS
		c.OtherItersPerS, c.OtherShare = &rate, &share
	}
	return nil
}

// fillCell computes a cell's figures from the snapshots at the window's
// two ends and the seconds ping ran in the window.
func (b *bench) fillCell(c *fairCell, a, z fairSnap, f *fairness, pingCPU float64) {
	dt := z.at.Sub(a.at).Seconds()
	c.WindowS = dt
	c.Poll = z.lcore.Poll
	c.OfferedPPS = float64(z.sent-a.sent) / dt
	c.FwdPPS = float64(z.lcore.TxPackets-a.lcore.TxPackets) / dt
	if f.Peak != nil && f.Peak.FwdPPS > 0 {
		v := c.FwdPPS / f.Peak.FwdPPS
		c.VsPeak = &v
	}
	c.LcoreCPU = (z.threadCPU - a.threadCPU) / dt
	all := float64(z.lcore.cycles() - a.lcore.cycles())
	if all > 0 {
		c.AsleepShare = float64(z.lcore.AsleepCycles-a.lcore.AsleepCycles) / all
	}
	c.Sleeps, c.Wakeups = z.lcore.Sleeps-a.lcore.Sleeps, z.lcore.Wakeups-a.lcore.Wakeups
	c.Steal = float64(z.steal-a.steal) / b.hz / dt
	c.CPUOthers = max(0, float64(z.userSys-a.userSys)/b.hz-float64(z.ours-a.ours)/b.hz-pingCPU) / dt
}

// soloSpeed is the other process's speed alone on CPU 1, measured again
// (at most BENCH_RETRIES times) while other processes took more than
// BENCH_MAX_OTHER_LOAD CPU.
func (b *bench) soloSpeed(logPath string) (float64, error) {
	for attempt := 1; ; attempt++ {
		rate, others, err := b.soloOnce(logPath)
		if err != nil || others <= b.s.MaxOtherLoad || attempt > b.s.Retries {
			return rate, err
		}
		logf("fairness: the other process alone: %.1f M iterations/s discarded: other processes took %.2f CPU; again", rate/1e6, others)
	}
}

// soloOnce runs the other process alone once: its speed, and the CPU
// other processes took meanwhile.
func (b *bench) soloOnce(logPath string) (float64, float64, error) {
	if _, _, err := b.waitForQuiet(); err != nil {
		return 0, 0, err
	}
	sp, err := startSpinner(logPath, fairSolo)
	if err != nil {
		return 0, 0, err
	}
	defer sp.stop()
	t0, sys0, ours0 := time.Now(), userSysTicks(), procTicks(os.Getpid())
	select {
	case <-b.ctx.Done():
		return 0, 0, errInterrupted
	case <-sp.proc.Done():
	}
	// An exited child's times are gone from /proc: count it as the whole
	// run's length on its CPU.
	dt := time.Since(t0).Seconds()
	others := max(0, float64(userSysTicks()-sys0)-float64(procTicks(os.Getpid())-ours0)-dt*b.hz) / b.hz / dt
	out, err := sp.wait()
	if err != nil {
		return 0, 0, fmt.Errorf("the other process alone: %w", err)
	}
	pts := parseSpin(out)
	if len(pts) < 2 {
		return 0, 0, fmt.Errorf("the other process alone printed no progress:\n%s", out)
	}
	rate := spinRate(pts, pts[0].At, pts[len(pts)-1].At)
	if rate <= 0 || math.IsInf(rate, 0) {
		return 0, 0, fmt.Errorf("the other process alone: no speed from its output:\n%s", out)
	}
	return rate, others, nil
}

// needTools names the first command that is not installed.
func needTools(tools ...string) error {
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is not installed (scripts/bench/bench.sh installs it)", t)
		}
	}
	return nil
}
