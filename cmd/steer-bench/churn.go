package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/steer-router/steer/test/testbed"
)

// churn is the route API measurement (results.json
// control_plane.route_churn).
type churn struct {
	Traffic          string   `json:"traffic"`
	Row              string   `json:"row"`
	SteerID          string   `json:"steer_id,omitempty"` // A/B
	OK               bool     `json:"ok"`
	Error            *string  `json:"error"`
	OtherDPDKAtStart []string `json:"other_dpdk_at_start"`
	CPUOthersBefore  float64  `json:"cpu_others_before"`
	MppsBefore       *float64 `json:"mpps_before,omitempty"` // the window before the churn
	MppsDuring       *float64 `json:"mpps_during,omitempty"`
	WindowS          *float64 `json:"window_s,omitempty"` // of the churn
	// CPUOthers is what processes other than steer and the bench (the
	// client) took during the churn window.
	CPUOthers *float64 `json:"cpu_others,omitempty"`
	AddMs     *latency `json:"add_ms,omitempty"`
	DeleteMs  *latency `json:"delete_ms,omitempty"`
	ExitCode  *int     `json:"exit_code"`
}

// latency summarises request times in milliseconds.
type latency struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// routeChurn runs steer-rtc on traffic t while one keep-alive client adds
// and deletes static routes through steer's HTTP API on 127.0.0.1 as fast
// as it can: request latencies, and the forwarding rate in that window
// against the window before it.
func (b *bench) routeChurn(r row, t traffic) (*churn, error) {
	res := &churn{Traffic: t.ID, Row: r.ID, SteerID: r.SteerID}
	others, load, err := b.waitForQuiet()
	if err != nil {
		return nil, err
	}
	res.OtherDPDKAtStart, res.CPUOthersBefore = others, load
	addr, err := testbed.FreeLoopback()
	if err != nil {
		return nil, err
	}
	run := b.newRun(r, filepath.Join(b.s.Out, "runs", "route-churn."+t.ID+r.suffix()))
	run.apiListen = addr
	err = b.churnWindows(run, t, testbed.NewAPI(addr, apiToken), res)
	res.ExitCode = run.stop()
	if errors.Is(err, errInterrupted) {
		return nil, err
	}
	if err != nil {
		msg := err.Error()
		res.OK, res.Error = false, &msg
	}
	if res.OK && res.ExitCode != nil && *res.ExitCode != 0 {
		msg := fmt.Sprintf("steer exited %d after the churn: %s", *res.ExitCode, run.errorLine())
		res.OK, res.Error = false, &msg
	}
	return res, nil
}

// suffix is "@A" for a row of binary A in an A/B run, else "".
func (r row) suffix() string {
	if r.SteerID == "" {
		return ""
	}
	return "@" + r.SteerID
}

func (b *bench) churnWindows(run *dpdkRun, t traffic, api *testbed.API, res *churn) error {
	if err := run.start(t); err != nil {
		return err
	}
	tel, _, err := b.firstPacket(run, 10*time.Millisecond)
	if err != nil {
		return err
	}
	defer tel.Close()
	if err := b.sleep(seconds(b.s.Warmup)); err != nil {
		return err
	}
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
	before := float64(z.sink.OPackets-a.sink.OPackets) / z.at.Sub(a.at).Seconds() / 1e6
	res.MppsBefore = &before

	// The client runs on CPU 0 with steer's main lcore, off the polling
	// CPU 1: what the window shows is steer's own cost of the changes (its
	// API is Go, unpinned). One P, like one thread: the client, its
	// connection's reader and writer switch on it instead of waking
	// threads that spin for work on the CPU steer's control plane needs.
	restore, err := pinProcess(0)
	if err != nil {
		return err
	}
	defer restore()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer api.CloseIdle()
	var addMs, delMs []float64
	pid, me := run.proc.Pid(), os.Getpid()
	busy0, _ := cpuTicks()
	ours0 := procTicks(pid) + procTicks(me)
	c, err := windowPoint(tel)
	if err != nil {
		return err
	}
	end := time.Now().Add(seconds(b.s.Seconds))
	n := 0
	for time.Now().Before(end) {
		if b.ctx.Err() != nil {
			return errInterrupted
		}
		// 100 adds then their 100 deletes; 100.64.0.0/10 is nobody's subnet here.
		batch := make([]string, 0, 100)
		for range 100 {
			prefix := fmt.Sprintf("100.%d.%d.0/24", 64+(n/256)%64, n%256)
			n++
			t0 := time.Now()
			err := api.AddRoute(prefix, "192.0.2.2")
			addMs = append(addMs, ms(time.Since(t0)))
			if err != nil {
				return fmt.Errorf("add %s: %w", prefix, err)
			}
			batch = append(batch, prefix)
		}
		for _, prefix := range batch {
			t0 := time.Now()
			err := api.DeleteRoute(prefix)
			delMs = append(delMs, ms(time.Since(t0)))
			if err != nil {
				return fmt.Errorf("delete %s: %w", prefix, err)
			}
		}
	}
	d, err := windowPoint(tel)
	if err != nil {
		return err
	}
	busy1, _ := cpuTicks()
	ours1 := procTicks(pid) + procTicks(me)
	dt := d.at.Sub(c.at).Seconds()
	others := max(0, (float64(busy1-busy0)-float64(ours1-ours0))/b.hz/dt)
	res.CPUOthers = &others
	during := float64(d.sink.OPackets-c.sink.OPackets) / dt / 1e6
	res.MppsDuring, res.WindowS = &during, &dt
	res.AddMs, res.DeleteMs = summarize(addMs), summarize(delMs)
	res.OK = true
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarize(v []float64) *latency {
	if len(v) == 0 {
		return &latency{}
	}
	sort.Float64s(v)
	return &latency{N: len(v), Median: median(v), P99: v[min(len(v)-1, int(float64(len(v))*0.99))], Max: v[len(v)-1]}
}

// pinProcess confines every thread of the bench to one CPU (new threads
// inherit it) and returns what undoes it.
func pinProcess(cpu int) (func(), error) {
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return nil, err
	}
	one.Set(cpu)
	if err := setAffinity(&one); err != nil {
		setAffinity(&all)
		return nil, err
	}
	return func() { setAffinity(&all) }, nil
}

func setAffinity(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	var first error
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && first == nil && !errors.Is(err, unix.ESRCH) {
			first = err
		}
	}
	return first
}
