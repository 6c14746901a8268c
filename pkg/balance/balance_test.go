package balance

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/fwd"
)

// sim is a data plane with one RX lcore (id 1) and one worker (lcore 2,
// worker 0), both with hz cycles a second, whose true costs per packet are
// a, p, d (RX lcore) and q (worker). It turns a RETA into the counters the
// lcores would report over an interval, on traffic offered at rate (0:
// endless) spread over the buckets by weight.
type sim struct {
	hz, a, p, d, q float64
	rate           float64 // 0: endless
	idle           bool    // no traffic at all
	workerSleeps   bool    // the worker's spare time is asleep, not idle (poll adaptive)
	weight         []float64
	reta           []int
	now            time.Time
	rx, wk         fwd.LcoreCounters
	buckets        []uint64
	handled        float64 // packets per second processed in the last interval
}

const nBuckets = 64

func newSim(a, p, d, q float64) *sim {
	s := &sim{hz: 2.6e9, a: a, p: p, d: d, q: q, now: time.Unix(1e9, 0),
		weight: make([]float64, nBuckets), reta: make([]int, nBuckets), buckets: make([]uint64, nBuckets)}
	for b := range s.weight {
		s.weight[b] = 1
		s.reta[b] = fwd.RETALocal
	}
	return s
}

// step runs the data plane for dt and returns the lcores as the balancer
// sees them.
func (s *sim) step(dt time.Duration) []Lcore {
	sec := dt.Seconds()
	f := remoteShare(s.reta, s.weight)
	costL := s.a + (1-f)*s.p
	if f > 0 {
		costL += s.d
	}
	rx := s.hz / costL // what the RX lcore can receive
	saturated := true
	if s.rate > 0 && s.rate < rx {
		rx, saturated = s.rate, false
	}
	if s.idle {
		rx, saturated = 0, false
	}
	toWorker := rx * f
	done := math.Min(toWorker, s.hz/s.q)
	dropped := toWorker - done
	n := rx * sec
	s.rx.Rx += uint64(n)
	busy := rx * costL * sec
	s.rx.BusyCycles += uint64(busy)
	s.rx.IdleCycles += uint64(s.hz*sec - busy)
	burst := 32.0
	if !saturated {
		burst = 4
	}
	s.rx.BusyPolls += uint64(n / burst)
	s.rx.Dropped[fwd.DropRingFull] += uint64(dropped * sec)
	sampled := n / 64
	s.rx.SampledPackets += uint64(sampled)
	s.rx.SampledLocal += uint64(sampled * (1 - f))
	s.rx.StageCycles[fwd.StageRx] += uint64(sampled * s.a)
	if f > 0 {
		s.rx.StageCycles[fwd.StageHandoff] += uint64(sampled * s.d)
	}
	s.rx.StageCycles[fwd.StageProcess] += uint64(sampled * (1 - f) * s.p * 0.8)
	s.rx.StageCycles[fwd.StageTx] += uint64(sampled * (1 - f) * s.p * 0.2)
	sum := 0.0
	for _, w := range s.weight {
		sum += w
	}
	for b := range s.buckets {
		s.buckets[b] += uint64(n * s.weight[b] / sum)
	}
	wb := done * s.q * sec
	s.wk.FromRings += uint64(done * sec)
	s.wk.BusyCycles += uint64(wb)
	if s.workerSleeps {
		s.wk.AsleepCycles += uint64(s.hz*sec - wb)
	} else {
		s.wk.IdleCycles += uint64(s.hz*sec - wb)
	}
	s.handled = rx - dropped
	s.now = s.now.Add(dt)
	return []Lcore{
		{ID: 1, Worker: -1, C: s.rx, RETA: slices.Clone(s.reta), Buckets: slices.Clone(s.buckets)},
		{ID: 2, Worker: 0, C: s.wk},
	}
}

// run steps the balancer steps times, applying its moves, and returns them.
func (s *sim) run(t *testing.T, b *Balancer, steps int) []Move {
	t.Helper()
	var all []Move
	for i := 0; i < steps; i++ {
		for _, m := range b.Step(s.now, s.step(500*time.Millisecond)) {
			if m.Lcore != 1 || len(m.RETA) != nBuckets {
				t.Fatalf("move %+v", m)
			}
			t.Logf("step %d: %s (predicted %.2fx)", i, m, m.Gain)
			s.reta = m.RETA
			all = append(all, m)
		}
	}
	return all
}

func testConfig() Config { return Config{Busy: 0.9, MinGain: 0.05, Hold: 2 * time.Second} }

// A cheap pipeline (steer's own on 64-byte packets): handing over costs
// more than it saves, so everything stays local, with no trial.
func TestCheapPipelineStaysLocal(t *testing.T) {
	s := newSim(35, 18, 25, 80)
	b := New(testConfig())
	if moves := s.run(t, b, 40); len(moves) != 0 {
		t.Fatalf("%d moves on a cheap pipeline: %v", len(moves), moves)
	}
	e := b.Estimates()
	if len(e) != 1 || e[0].Target != 0 || math.Abs(e[0].Process-18) > 1 || math.Abs(e[0].Receive-35) > 1 {
		t.Errorf("estimates %+v", e)
	}
}

// An expensive pipeline (a full table that misses the cache): the balancer
// hands over about f* and keeps it; throughput grows by what the model
// says, and it does not flap.
func TestExpensivePipelineHandsOver(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	b := New(testConfig())
	s.run(t, b, 1)
	before := s.handled
	moves := s.run(t, b, 40)
	if len(moves) == 0 || moves[0].Kind != "out" {
		t.Fatalf("moves %v, want a hand-out first", moves)
	}
	if len(moves) > 3 {
		t.Errorf("%d moves: it should settle", len(moves))
	}
	f := remoteShare(s.reta, s.weight)
	want := (35.0 + 25 + 100) / (100 + 160)
	if math.Abs(f-want) > 0.08 {
		t.Errorf("handed over %.2f of the traffic, want about %.2f", f, want)
	}
	if gain := s.handled / before; gain < 1.3 {
		t.Errorf("throughput %.2fx, want >= 1.3x", gain)
	}
}

// A worker that sleeps while it has nothing to do (poll adaptive) has all
// that time to give: the first hand-out goes to the target at once.
func TestSleepingWorkerHasRoom(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	s.workerSleeps = true
	moves := s.run(t, New(testConfig()), 2)
	if len(moves) != 1 || moves[0].Kind != "out" || moves[0].Share < 0.4 {
		t.Fatalf("moves %v, want one hand-out of about half the traffic", moves)
	}
}

// The prior for the worker's cost is far too low: the first hand-out
// overloads the worker. Measuring the worker, the balancer takes buckets
// back to where the two are even, never below the all-local throughput.
func TestWrongPriorCorrects(t *testing.T) {
	s := newSim(35, 100, 25, 400)
	b := New(testConfig())
	s.run(t, b, 1)
	before := s.handled
	moves := s.run(t, b, 60)
	if len(moves) < 2 {
		t.Fatalf("moves %v: the first hand-out should be corrected", moves)
	}
	if s.handled < before*0.98 {
		t.Errorf("throughput %.2fx of all-local after correcting", s.handled/before)
	}
}

// A move that does not deliver is undone, and the next try waits longer.
func TestUselessMoveReverted(t *testing.T) {
	// The true handoff cost is much higher than the prior: the move
	// promises a gain, the rate falls.
	s := newSim(35, 150, 150, 200)
	b := New(testConfig())
	s.run(t, b, 1)
	before := s.handled
	moves := s.run(t, b, 12)
	if len(moves) < 2 || moves[0].Kind != "out" || moves[1].Kind != "revert" {
		t.Fatalf("moves %v, want out then revert", moves)
	}
	if slices.ContainsFunc(s.reta, func(w int) bool { return w != fwd.RETALocal }) {
		t.Errorf("RETA %v after the revert, want all local", s.reta)
	}
	if math.Abs(s.handled/before-1) > 0.01 {
		t.Errorf("throughput %.3fx after the revert", s.handled/before)
	}
	// The learnt handoff cost keeps it from trying again.
	if more := s.run(t, b, 40); len(more) != 0 {
		t.Errorf("moves after learning the cost: %v", more)
	}
}

// The worker is much slower than the prior says: the first hand-out
// overloads it and its ring drops; the balancer undoes it at the next
// step, without waiting out the hold, and settles where the worker keeps
// up.
func TestWorkerDropsBringBucketsBack(t *testing.T) {
	s := newSim(35, 100, 25, 400)
	b := New(testConfig())
	moves := s.run(t, b, 40)
	if len(moves) < 2 || moves[0].Kind != "out" || moves[1].Kind != "revert" || !strings.Contains(moves[1].Why, "full rings") {
		t.Fatalf("moves %v, want a hand-out undone for the worker's drops", moves)
	}
	drops := s.rx.Dropped[fwd.DropRingFull]
	s.run(t, b, 4)
	if d := s.rx.Dropped[fwd.DropRingFull] - drops; float64(d) > 0.05*s.handled*2 {
		t.Errorf("still %d dropped over 2 s at %.3g pps handled", d, s.handled)
	}
}

// When the load falls, buckets come back to the RX lcore.
func TestBackWhenLoadFalls(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	b := New(testConfig())
	s.run(t, b, 20)
	if remoteShare(s.reta, s.weight) == 0 {
		t.Fatal("nothing handed over under overload")
	}
	s.rate = 5e6 // the RX lcore alone handles 19M
	moves := s.run(t, b, 20)
	if len(moves) == 0 || moves[len(moves)-1].Kind != "back" {
		t.Fatalf("moves %v, want buckets back", moves)
	}
	if f := remoteShare(s.reta, s.weight); f != 0 {
		t.Errorf("%.2f still handed over at 5 Mpps", f)
	}
}

// Traffic stops: every bucket comes home (and a trial in progress is not
// judged on a rate of zero); when it starts again, the balancer hands out
// anew.
func TestIdleBringsBucketsHome(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	b := New(testConfig())
	s.run(t, b, 20)
	if remoteShare(s.reta, s.weight) == 0 {
		t.Fatal("nothing handed over under overload")
	}
	s.idle = true
	moves := s.run(t, b, 8)
	if len(moves) != 1 || moves[0].Kind != "back" || remoteShare(s.reta, s.weight) != 0 {
		t.Fatalf("idle: moves %v, share %.2f; want one move, every bucket back", moves, remoteShare(s.reta, s.weight))
	}
	s.idle = false
	if moves := s.run(t, b, 20); len(moves) == 0 || moves[0].Kind != "out" {
		t.Fatalf("traffic again: moves %v, want a hand-out", moves)
	}
}

// Pinned by an operator: no move.
func TestPinned(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	b := New(testConfig())
	b.Pin(true)
	if moves := s.run(t, b, 20); len(moves) != 0 {
		t.Fatalf("moves while pinned: %v", moves)
	}
	b.Pin(false)
	if moves := s.run(t, b, 20); len(moves) == 0 {
		t.Fatal("no move once released")
	}
}

// Buckets carry different loads: the hand-out picks them by load, to the
// share it wants, not by count.
func TestSkewedBuckets(t *testing.T) {
	s := newSim(35, 100, 25, 160)
	for b := range s.weight {
		s.weight[b] = 1
		if b < 4 {
			s.weight[b] = 20 // 4 buckets carry over half the traffic
		}
	}
	b := New(testConfig())
	s.run(t, b, 20)
	f := remoteShare(s.reta, s.weight)
	want := (35.0 + 25 + 100) / (100 + 160)
	if math.Abs(f-want) > 0.12 {
		t.Errorf("handed over %.2f of the traffic, want about %.2f", f, want)
	}
}
