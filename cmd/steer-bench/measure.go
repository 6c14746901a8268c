package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/steer-router/steer/test/testbed"
)

// sample is one measured run (results.json "samples" and "discarded").
type sample struct {
	Traffic          string   `json:"traffic"`
	Row              string   `json:"row"`
	Rep              int      `json:"rep"`
	OK               bool     `json:"ok"`
	Error            *string  `json:"error"`
	LoadavgBefore    []string `json:"loadavg_before"`
	OtherDPDKAtStart []string `json:"other_dpdk_at_start"`
	CPUOthersBefore  float64  `json:"cpu_others_before"`
	StartupS         *float64 `json:"startup_s,omitempty"` // exec -> first packet at the sink
	*window
	ExitCode     *int           `json:"exit_code"`
	Steer        *steerCounters `json:"steer,omitempty"`
	LoadavgAfter []string       `json:"loadavg_after"`
	Attempt      int            `json:"attempt,omitempty"`
}

// window is what a measured window gives; absent when the run failed
// before it.
type window struct {
	WindowS     float64  `json:"window_s"`
	SinkPackets uint64   `json:"sink_packets"`
	Mpps        float64  `json:"mpps"`     // sink opackets / window
	Gbps        float64  `json:"gbps"`     // sink obytes x 8 / window
	RxMpps      float64  `json:"rx_mpps"`  // source ipackets / window
	DropPct     *float64 `json:"drop_pct"` // 1 - sink opackets / source ipackets
	SinkOerrors int64    `json:"sink_oerrors"`
	CPUOurs     float64  `json:"cpu_ours"`   // CPUs the program used
	CPUOthers   float64  `json:"cpu_others"` // CPUs everything else used
	CPUSteal    float64  `json:"cpu_steal"`
}

func (s *sample) fail(err error) {
	msg := err.Error()
	s.OK, s.Error = false, &msg
}

// steerCounters are the figures of steer's --stats-file kept in
// results.json.
type steerCounters struct {
	Lcores           []lcoreCounters   `json:"lcores"`
	Dropped          map[string]uint64 `json:"dropped"`  // reasons with a count
	Slowpath         map[string]uint64 `json:"slowpath"` // reasons with a count
	Mempool          json.RawMessage   `json:"mempool"`
	SlowpathRingFull uint64            `json:"slowpath_ring_full"`
	SlowTaken        *uint64           `json:"slow_taken"` // packets the control thread took
}

type lcoreCounters struct {
	Lcore     int    `json:"lcore"`
	Worker    int    `json:"worker"`
	Role      string `json:"role"` // rx+fwd, rx, worker, rx+worker
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
	BusyPolls uint64 `json:"busy_polls"`
	IdlePolls uint64 `json:"idle_polls"`
	// Where the lcore's cycles went over the whole run (warm-up included):
	// busy cycles per packet it received (NIC queues and rings), and per
	// stage in a sample of its busy loops.
	BusyCycles      uint64            `json:"busy_cycles"`
	IdleCycles      uint64            `json:"idle_cycles"`
	CyclesPerPacket float64           `json:"cycles_per_packet"`
	SampledPackets  uint64            `json:"sampled_packets"`
	StageCycles     map[string]uint64 `json:"stage_cycles"`
}

// errInterrupted: a signal stopped the bench; the run in progress is
// stopped and not kept.
var errInterrupted = errors.New("interrupted")

// sleep waits d, or returns errInterrupted at a signal.
func (b *bench) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.ctx.Done():
		return errInterrupted
	case <-t.C:
		return nil
	}
}

// waitForQuiet waits (at most BENCH_WAIT_OTHERS s) until no other DPDK
// process runs and other processes use at most BENCH_MAX_OTHER_LOAD CPU:
// they share the CPUs. It returns what was still running when the wait
// ended and their load. The processes of exclude (a steer the caller
// runs) count as neither.
func (b *bench) waitForQuiet(exclude ...int) ([]string, float64, error) {
	deadline := time.Now().Add(seconds(b.s.WaitOthers))
	ours := append([]int{os.Getpid()}, exclude...)
	ticks := func() uint64 {
		var n uint64
		for _, pid := range ours {
			n += procTicks(pid)
		}
		return n
	}
	for {
		others := []string{}
		for _, p := range testbed.DPDKProcesses(exclude...) {
			others = append(others, p.String())
		}
		busy0, _ := cpuTicks()
		me0 := ticks()
		if err := b.sleep(500 * time.Millisecond); err != nil {
			return nil, 0, err
		}
		busy1, _ := cpuTicks()
		load := max(0, (float64(busy1-busy0)-float64(ticks()-me0))/b.hz/0.5)
		if len(others) == 0 && load <= b.s.MaxOtherLoad || time.Now().After(deadline) {
			return others, load, nil
		}
	}
}

// point is both ports' counters read at one moment (the middle of the two
// exchanges).
type point struct {
	src, sink *testbed.EthdevStats
	at        time.Time
}

func readPoint(tel *testbed.Telemetry) (point, error) {
	t0 := time.Now()
	sink, err := tel.EthdevStats(1)
	if err != nil {
		return point{}, err
	}
	src, err := tel.EthdevStats(0)
	if err != nil {
		return point{}, err
	}
	t1 := time.Now()
	return point{src: src, sink: sink, at: t0.Add(t1.Sub(t0) / 2)}, nil
}

// windowPoint is readPoint where both ports must be set up.
func windowPoint(tel *testbed.Telemetry) (point, error) {
	p, err := readPoint(tel)
	if err == nil && (p.src == nil || p.sink == nil) {
		err = errors.New("telemetry: a port's stats are null during the window")
	}
	return p, err
}

// firstPacket connects to the program's telemetry socket and polls the
// sink until it has sent a packet: the start-up time, from exec. poll is
// how often it reads.
func (b *bench) firstPacket(r *dpdkRun, poll time.Duration) (*testbed.Telemetry, time.Duration, error) {
	deadline := r.proc.Started.Add(startLimit)
	var tel *testbed.Telemetry
	for {
		var err error
		if tel, err = testbed.DialTelemetry(prefix, 5*time.Second); err == nil {
			break
		}
		if !r.alive() {
			return nil, 0, fmt.Errorf("exited with %d before its telemetry socket: %s", r.exitCode(), r.errorLine())
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("no telemetry socket %.0f s after exec", startLimit.Seconds())
		}
		if err := b.sleep(5 * time.Millisecond); err != nil {
			return nil, 0, err
		}
	}
	for {
		p, err := readPoint(tel)
		if err != nil {
			tel.Close()
			return nil, 0, err
		}
		if p.sink != nil && p.sink.OPackets > 0 { // null until the port is set up
			return tel, p.at.Sub(r.proc.Started), nil
		}
		if !r.alive() {
			tel.Close()
			return nil, 0, fmt.Errorf("exited with %d before forwarding: %s", r.exitCode(), r.errorLine())
		}
		if time.Now().After(deadline) {
			tel.Close()
			return nil, 0, fmt.Errorf("nothing forwarded %.0f s after exec: %s", startLimit.Seconds(), r.errorLine())
		}
		if err := b.sleep(poll); err != nil {
			tel.Close()
			return nil, 0, err
		}
	}
}

// measure runs row r on a traffic once: wait for a quiet machine, start,
// time the first packet, warm up, measure the window, stop. A failed run
// is a sample with its error; only an interruption is an error.
func (b *bench) measure(r row, t traffic, rep int) (sample, error) {
	s := sample{Traffic: t.ID, Row: r.ID, Rep: rep, LoadavgBefore: loadavg()}
	others, load, err := b.waitForQuiet()
	if err != nil {
		return s, err
	}
	s.OtherDPDKAtStart, s.CPUOthersBefore = others, load
	run := b.newRun(r, filepath.Join(b.s.Out, "runs", fmt.Sprintf("%s.%s.%d", t.ID, r.ID, rep)))
	err = b.window(run, t, &s)
	s.ExitCode = run.stop()
	if errors.Is(err, errInterrupted) {
		return s, err
	}
	if err != nil {
		s.fail(err)
	}
	if r.Prog == "steer" {
		s.Steer = readSteerStats(run.statsFile)
		if s.OK && s.ExitCode != nil && *s.ExitCode != 0 {
			s.fail(fmt.Errorf("steer exited %d after the window: %s", *s.ExitCode, run.errorLine()))
		}
	}
	s.LoadavgAfter = loadavg()
	return s, nil
}

// window starts the run and fills in s up to the end of its window.
func (b *bench) window(run *dpdkRun, t traffic, s *sample) error {
	if err := run.start(t); err != nil {
		return err
	}
	tel, startup, err := b.firstPacket(run, 2*time.Millisecond)
	if err != nil {
		return err
	}
	defer tel.Close()
	st := startup.Seconds()
	s.StartupS = &st
	if err := b.sleep(seconds(b.s.Warmup)); err != nil {
		return err
	}
	pid := run.proc.Pid()
	busy0, steal0 := cpuTicks()
	ours0 := procTicks(pid)
	a, err := windowPoint(tel)
	if err != nil {
		return err
	}
	if err := b.sleep(seconds(b.s.Seconds)); err != nil {
		return err
	}
	z, err := windowPoint(tel)
	if err != nil {
		return err
	}
	busy1, steal1 := cpuTicks()
	ours1 := procTicks(pid)
	if !run.alive() {
		return fmt.Errorf("exited during the window: %s", run.errorLine())
	}
	dt := z.at.Sub(a.at).Seconds()
	opk := z.sink.OPackets - a.sink.OPackets
	ipk := z.src.IPackets - a.src.IPackets
	ours := float64(ours1 - ours0)
	w := &window{
		WindowS:     dt,
		SinkPackets: opk,
		Mpps:        float64(opk) / dt / 1e6,
		Gbps:        float64(z.sink.OBytes-a.sink.OBytes) * 8 / dt / 1e9,
		RxMpps:      float64(ipk) / dt / 1e6,
		SinkOerrors: int64(z.sink.OErrors) - int64(a.sink.OErrors),
		CPUOurs:     ours / b.hz / dt,
		CPUOthers:   max(0, (float64(busy1-busy0)-ours)/b.hz/dt),
		CPUSteal:    float64(steal1-steal0) / b.hz / dt,
	}
	if ipk > 0 {
		d := max(0, 100*(1-float64(opk)/float64(ipk)))
		w.DropPct = &d
	}
	s.window, s.OK = w, true
	return nil
}

// readSteerStats takes the counters results.json keeps from steer's
// --stats-file (nil without one).
func readSteerStats(path string) *steerCounters {
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) == 0 {
		return nil
	}
	var f struct {
		Lcores []struct {
			lcoreCounters
			SlowRingFull uint64 `json:"slowpath_ring_full"`
		} `json:"lcores"`
		Totals struct {
			Dropped  map[string]uint64 `json:"dropped"`
			Slowpath map[string]uint64 `json:"slowpath"`
		} `json:"totals"`
		Mempool  json.RawMessage `json:"mempool"`
		SlowPath *struct {
			Taken *uint64 `json:"taken"`
		} `json:"slow_path"`
	}
	if json.Unmarshal(raw, &f) != nil {
		return nil
	}
	c := &steerCounters{Lcores: []lcoreCounters{}, Dropped: nonZero(f.Totals.Dropped), Slowpath: nonZero(f.Totals.Slowpath),
		Mempool: f.Mempool}
	if c.Mempool == nil {
		c.Mempool = json.RawMessage("null")
	}
	for _, l := range f.Lcores {
		c.Lcores = append(c.Lcores, l.lcoreCounters)
		c.SlowpathRingFull += l.SlowRingFull
	}
	if f.SlowPath != nil {
		c.SlowTaken = f.SlowPath.Taken
	}
	return c
}

func nonZero(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
