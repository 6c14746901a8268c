package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lcoreIdle is one lcore's waiting as /api/v1/stats reports it.
type lcoreIdle struct {
	Lcore        int    `json:"lcore"`
	Poll         string `json:"poll"`
	BusyCycles   uint64 `json:"busy_cycles"`
	IdleCycles   uint64 `json:"idle_cycles"`
	AsleepCycles uint64 `json:"asleep_cycles"`
	Sleeps       uint64 `json:"sleeps"`
	Wakeups      uint64 `json:"wakeups"`
}

func (tn *tapNet) lcore1() lcoreIdle {
	tn.t.Helper()
	var s struct {
		Lcores []lcoreIdle `json:"lcores"`
	}
	if err := json.Unmarshal([]byte(tn.api.must(200, "GET", "/api/v1/stats", "")), &s); err != nil || len(s.Lcores) != 1 {
		tn.t.Fatalf("/api/v1/stats lcores %+v: %v", s.Lcores, err)
	}
	return s.Lcores[0]
}

// lcoreThreadTicks is the CPU time (clock ticks) steer's lcore 1 thread
// has used, from /proc.
func (tn *tapNet) lcoreThreadTicks() int {
	tn.t.Helper()
	pid := tn.p.p.Pid()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		tn.t.Fatal(err)
	}
	for _, task := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s/", pid, task.Name())
		if comm, _ := os.ReadFile(dir + "comm"); strings.TrimSpace(string(comm)) != "rte-worker-1" {
			continue
		}
		stat, err := os.ReadFile(dir + "stat")
		if err != nil {
			tn.t.Fatal(err)
		}
		// utime and stime are fields 14 and 15, after the ")" of comm.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		u, _ := strconv.Atoi(f[11])
		s, _ := strconv.Atoi(f[12])
		return u + s
	}
	tn.t.Fatal("no rte-worker-1 thread in steer")
	return 0
}

// TestTapPollModes: steer between two kernel hosts with its lcore in each
// sleeping mode. Idle, the lcore spends nearly all its time asleep and
// little CPU; pings across wake it and are all answered; a route added and
// deleted while it sleeps takes effect at once (it is RCU-offline); the
// stats say which mode runs.
func TestTapPollModes(t *testing.T) {
	for _, mode := range []string{"adaptive", "interrupt"} {
		t.Run(mode, func(t *testing.T) {
			tn := startTapNet(t, true, "poll: {mode: "+mode+"}\n")
			wantPings(t, tn.A, tapHostB, 3, 3)
			if got := tn.lcore1().Poll; got != mode {
				t.Fatalf("lcore 1 polls %q, want %s (net_tap has RX interrupts)", got, mode)
			}

			// Idle for a second: asleep nearly all of it.
			a, ticks0, t0 := tn.lcore1(), tn.lcoreThreadTicks(), time.Now()
			for time.Since(t0) < 2*time.Second {
				time.Sleep(50 * time.Millisecond)
			}
			b, ticks := tn.lcore1(), tn.lcoreThreadTicks()-ticks0
			all := float64(b.BusyCycles+b.IdleCycles+b.AsleepCycles) - float64(a.BusyCycles+a.IdleCycles+a.AsleepCycles)
			asleep := float64(b.AsleepCycles-a.AsleepCycles) / all
			cpu := float64(ticks) / 100 / time.Since(t0).Seconds()
			t.Logf("%s, idle 2 s: asleep %.1f%% of its cycles, %d sleeps; its thread used %.1f%% of a CPU",
				mode, 100*asleep, b.Sleeps-a.Sleeps, 100*cpu)
			if asleep < 0.9 || b.Sleeps == a.Sleeps {
				t.Errorf("idle lcore asleep %.1f%% of the time (%d sleeps), want 90%% or more", 100*asleep, b.Sleeps-a.Sleeps)
			}
			if cpu > 0.05 {
				t.Errorf("idle lcore thread used %.1f%% of a CPU, want under 5%%", 100*cpu)
			}

			// Pings wake it.
			wantPings(t, tn.A, tapHostB, 10, 10)
			if c := tn.lcore1(); c.Wakeups <= b.Wakeups {
				t.Errorf("wake-ups %d -> %d after 10 pings", b.Wakeups, c.Wakeups)
			}

			// Routes change at once while it sleeps.
			for _, m := range []struct{ method, path, body string }{
				{"POST", "/api/v1/routes", `{"prefix":"198.51.100.0/24","via":"` + tapHostB + `"}`},
				{"DELETE", "/api/v1/routes/198.51.100.0/24", ""},
			} {
				start := time.Now()
				code, body, _, err := tn.api.do(m.method, m.path, m.body)
				if err != nil || code/100 != 2 {
					t.Fatalf("%s %s: %d %v %s", m.method, m.path, code, err, body)
				}
				if took := time.Since(start); took > 500*time.Millisecond {
					t.Errorf("%s %s took %v with the lcore asleep", m.method, m.path, took)
				}
			}
			s, _ := tn.Stop()
			if s.Mempool.InUseAfterStop > s.Mempool.Size {
				t.Errorf("mempool: %d in use of %d", s.Mempool.InUseAfterStop, s.Mempool.Size)
			}
		})
	}
}
