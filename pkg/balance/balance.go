// Package balance is the distributor's balancer: it decides, from what the
// lcores measure, which RETA buckets an RX lcore processes itself and which
// it hands to worker lcores. Pure Go, driven by the router every interval
// and tested with a simulated data plane.
//
// Local first. Handing a packet to another core costs cache-line transfers
// (the mbuf, its data, the pool's recycling) and a flow hash: on a fast
// pipeline more than the pipeline itself. So an RX lcore keeps its buckets
// while it keeps up, and they move to workers only while it cannot (its
// busy cycles at or above Config.Busy) and the move promises at least
// Config.MinGain more throughput; they come back when it can take them
// again. Like Open vSwitch's pmd-auto-lb: a load threshold, an estimated
// improvement that must clear a margin, and a hold time between moves; a
// move that did not deliver is undone and the lcore waits longer before
// the next try.
//
// The estimate. Per packet an RX lcore spends a cycles receiving it, p
// processing it when it keeps it, and, once it spreads at all, d hashing and
// handing over; a worker spends q on a packet handed to it (misses on the
// other core's cache lines included). Handing a fraction f of the packets
// over makes the RX lcore's cost per packet
//
//	T(f) = a + d + (1-f) p      (T(0) = a + p: no hash while all is local)
//
// and the worker's f q: throughput is best where the two meet,
// f* = (a + d + p) / (p + q), and the gain over f0 is T(f0) / T(f*) as long
// as the workers have room. a and p come from the sampled stage cycles (rx,
// process + tx), d from the handoff stage once the lcore spreads (before,
// Config.Handoff), q from the worker's busy cycles per packet (before,
// p + Config.Transfer).
//
// A move never reorders a flow: the data plane moves each bucket only once
// its old owner has sent all it was given of it.
package balance

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/steer-router/steer/pkg/fwd"
)

// Config tunes the balancer (config distributor.balance).
type Config struct {
	Busy    float64       // busy share from which an lcore counts as saturated
	MinGain float64       // least throughput gain a move must promise, and show
	Hold    time.Duration // least time between two moves of one RX lcore
	// Priors for costs not measured yet (cycles per packet): hashing and
	// handing over on the RX lcore, and what a packet costs a worker more
	// than the RX lcore's own processing.
	Handoff, Transfer float64
}

// Defaults for the priors, measured on the project's 2-vCPU KVM machines
// with net_pcap (docs/BENCH.md, the steer-handoff row): the flow hash and
// ring enqueue cost the RX lcore 30-40 cycles a packet; a worker spends
// 100-120 more on a packet than the RX lcore would (its mbuf and data
// lines come from the other core, and the freed mbufs go back). Erring
// high keeps the balancer from trials that cannot pay; what it measures
// replaces them.
const (
	DefaultHandoff  = 35
	DefaultTransfer = 120
)

// Lcore is one forwarding lcore as the data plane reports it, counters
// cumulative.
type Lcore struct {
	ID      int
	Worker  int // software queue id, -1: not a worker
	C       fwd.LcoreCounters
	RETA    []int    // RX lcores: the RETA applied now (fwd.RETALocal: itself)
	Buckets []uint64 // RX lcores: packets per bucket
}

// Move is a decision: RX lcore Lcore is to follow RETA.
type Move struct {
	Lcore   int
	RETA    []int
	Kind    string  // "out" (buckets to workers), "back" (to the RX lcore), "revert" (a move that did not pay)
	Buckets int     // how many buckets change owner
	Share   float64 // the RX lcore's traffic handed over after the move (0..1)
	Gain    float64 // predicted throughput ratio (out, back) or measured (revert)
	Why     string
}

func (m Move) String() string {
	return fmt.Sprintf("lcore %d: %s, %d buckets, %.0f%% handed to workers: %s", m.Lcore, m.Kind, m.Buckets, 100*m.Share, m.Why)
}

// Estimate is what the balancer knows of one RX lcore, for the operator.
type Estimate struct {
	Lcore   int     `json:"lcore"`
	Busy    float64 `json:"busy"`               // share of busy cycles
	Rate    float64 `json:"packets_per_second"` // received, less ring drops
	Share   float64 `json:"handed_share"`       // of its packets handed to workers
	Receive float64 `json:"rx_cycles"`          // a: per received packet
	Process float64 `json:"process_cycles"`     // p: per packet it processes
	Handoff float64 `json:"handoff_cycles"`     // d: per packet while spreading (measured or prior)
	Worker  float64 `json:"worker_cycles"`      // q: per handed packet on a worker (measured or prior)
	Target  float64 `json:"target_share"`       // f*
	Pinned  bool    `json:"pinned"`
}

// Balancer keeps the state between steps. Not safe for concurrent use.
type Balancer struct {
	cfg    Config
	prev   map[int]Lcore
	prevAt time.Time
	rx     map[int]*rxState
	pinned bool
	est    []Estimate
}

type rxState struct {
	lastMove time.Time
	backoff  time.Duration // extra hold after a move that did not pay
	trial    *trial
	d, q, p  float64 // measured handoff, worker and processing costs (0: not yet)
}

// trial is a move under observation: kept if the rate grows, else undone.
type trial struct {
	before   []int   // the RETA before
	rate     float64 // packets per second received before
	expected float64 // predicted gain
	out      bool    // it handed buckets out (back-moves are not trials)
}

// New returns a balancer; zero priors take the defaults.
func New(cfg Config) *Balancer {
	if cfg.Handoff == 0 {
		cfg.Handoff = DefaultHandoff
	}
	if cfg.Transfer == 0 {
		cfg.Transfer = DefaultTransfer
	}
	return &Balancer{cfg: cfg, rx: map[int]*rxState{}}
}

// Pin stops (or resumes) balancing: an operator set the RETA.
func (b *Balancer) Pin(on bool) {
	b.pinned = on
	for _, s := range b.rx {
		s.trial = nil
	}
}

// Estimates is what the last step knew.
func (b *Balancer) Estimates() []Estimate { return slices.Clone(b.est) }

// delta is one lcore's counters over the last interval.
type delta struct {
	l              Lcore
	busy, idle     float64 // idle includes asleep (poll adaptive, interrupt): time it could work
	polls          float64 // polls that got packets
	rx, ring       float64 // packets received from NIC queues, rings
	ringFull       float64 // dropped: a ring to a worker was full
	sampled, local float64
	stage          [fwd.NumStages]float64
	buckets        []float64
}

func diff(cur, prev Lcore) delta {
	c, p := cur.C, prev.C
	d := delta{l: cur,
		busy: float64(c.BusyCycles - p.BusyCycles), idle: float64(c.IdleCycles - p.IdleCycles + c.AsleepCycles - p.AsleepCycles),
		polls:    float64(c.BusyPolls - p.BusyPolls),
		ringFull: float64(c.Dropped[fwd.DropRingFull] - p.Dropped[fwd.DropRingFull]),
		rx:       float64(c.Rx - p.Rx), ring: float64(c.FromRings - p.FromRings),
		sampled: float64(c.SampledPackets - p.SampledPackets), local: float64(c.SampledLocal - p.SampledLocal)}
	for r := range d.stage {
		d.stage[r] = float64(c.StageCycles[r] - p.StageCycles[r])
	}
	if len(cur.Buckets) == len(prev.Buckets) {
		d.buckets = make([]float64, len(cur.Buckets))
		for i := range d.buckets {
			d.buckets[i] = float64(cur.Buckets[i] - prev.Buckets[i])
		}
	}
	return d
}

func (d delta) load() float64 {
	if d.busy+d.idle == 0 {
		return 0
	}
	return d.busy / (d.busy + d.idle)
}

// saturated: busy at least that share of the time, and the polls that got
// packets got half a burst or more on average. An lcore that keeps up polls
// often and gets little each time; one that falls behind gets full bursts.
func (d delta) saturated(busy float64) bool {
	return d.load() >= busy && d.polls > 0 && (d.rx+d.ring)/d.polls >= fwd.Burst/2
}

// Step takes the lcores' counters now and returns the moves to make.
func (b *Balancer) Step(now time.Time, ls []Lcore) []Move {
	prev, at := b.prev, b.prevAt
	b.prev, b.prevAt = map[int]Lcore{}, now
	for _, l := range ls {
		b.prev[l.ID] = l
	}
	if prev == nil || !now.After(at) {
		return nil
	}
	dt := now.Sub(at).Seconds()
	ds := map[int]delta{}
	workers := map[int]delta{} // by worker id
	for _, l := range ls {
		p, ok := prev[l.ID]
		if !ok {
			continue
		}
		d := diff(l, p)
		ds[l.ID] = d
		if l.Worker >= 0 {
			workers[l.Worker] = d
		}
	}
	b.est = b.est[:0]
	var moves []Move
	for _, l := range ls {
		d, ok := ds[l.ID]
		if !ok || l.RETA == nil {
			continue
		}
		if m, ok := b.rxStep(now, at, dt, d, workers); ok {
			moves = append(moves, m)
		}
	}
	return moves
}

// rxStep decides for one RX lcore.
// The interval measured is (at, now].
func (b *Balancer) rxStep(now, at time.Time, dt float64, d delta, workers map[int]delta) (Move, bool) {
	s := b.rx[d.l.ID]
	if s == nil {
		s = &rxState{}
		b.rx[d.l.ID] = s
	}
	load := bucketLoad(d)
	share := remoteShare(d.l.RETA, load)
	// What it got through: received, less what full rings dropped.
	rate := (d.rx - d.ringFull) / dt
	e := Estimate{Lcore: d.l.ID, Busy: d.load(), Rate: rate, Share: share, Pinned: b.pinned}
	// A cost measured over part of an interval is diluted by the rest:
	// the handoff cost counts only when the whole interval spread.
	steady := !s.lastMove.After(at)
	if d.sampled > 0 {
		e.Receive = d.stage[fwd.StageRx] / d.sampled
		if steady && share > 0 && d.stage[fwd.StageHandoff] > 0 {
			s.d = d.stage[fwd.StageHandoff] / d.sampled
		}
	}
	if d.local > 0 { // all handed over: the last measurement stands
		s.p = (d.stage[fwd.StageProcess] + d.stage[fwd.StageTx]) / d.local
	}
	e.Process = s.p
	if q := b.workerCost(d.l, workers); q > 0 {
		s.q = q
	}
	e.Handoff, e.Worker = s.d, s.q
	if e.Handoff == 0 {
		e.Handoff = b.cfg.Handoff
	}
	if e.Worker == 0 {
		e.Worker = e.Process + b.cfg.Transfer
	}
	defer func() { b.est = append(b.est, e) }()
	if b.pinned {
		return Move{}, false
	}
	if d.rx == 0 {
		// Idle: nothing to measure, and nothing to gain by spreading.
		// Every bucket comes home, so traffic that starts again meets the
		// cheap path; a trial cannot be judged without traffic.
		s.trial = nil
		if share == 0 || now.Sub(s.lastMove) < b.hold(s) {
			return Move{}, false
		}
		reta, moved := handBack(d.l.RETA, load, share)
		s.lastMove = now
		return Move{Lcore: d.l.ID, RETA: reta, Kind: "back", Buckets: moved, Share: 0, Gain: 1,
			Why: "idle: every bucket back to the RX lcore"}, moved > 0
	}
	if d.sampled == 0 || e.Process == 0 {
		return Move{}, false
	}
	e.Target = target(e)

	// Workers dropping at full rings got more than they can take: act now,
	// hold or not. A move under trial is undone; otherwise what they
	// dropped comes back, and a margin.
	if share > 0 && d.ringFull > 0.01*d.rx {
		why := fmt.Sprintf("workers dropped %.0f of %.0f packets at full rings", d.ringFull, d.rx)
		if t := s.trial; t != nil && t.out {
			s.trial = nil
			s.backoff = min(max(2*s.backoff, b.cfg.Hold), 32*b.cfg.Hold)
			s.lastMove = now
			return Move{Lcore: d.l.ID, RETA: t.before, Kind: "revert", Buckets: changed(d.l.RETA, t.before),
				Share: remoteShare(t.before, load), Gain: 1, Why: why + ": undone, next try in " + b.hold(s).String()}, true
		}
		over := math.Min(share, 1.5*d.ringFull/d.rx+0.02)
		if reta, moved := handBack(d.l.RETA, load, over); moved > 0 {
			s.lastMove = now
			return Move{Lcore: d.l.ID, RETA: reta, Kind: "back", Buckets: moved, Share: remoteShare(reta, load), Gain: 1,
				Why: fmt.Sprintf("%s: %.0f%% back", why, 100*over)}, true
		}
	}

	// A move under trial, judged on the first whole interval after it (the
	// one it happened in also had the lcores settling: RETA drains, cold
	// caches on the worker): keep it if the rate grew as it should have,
	// else undo it at once and wait longer before the next.
	if t := s.trial; t != nil && at.After(s.lastMove) {
		s.trial = nil
		got := e.Rate / t.rate
		if t.out && got < 1+b.cfg.MinGain/2 {
			s.backoff = min(max(2*s.backoff, b.cfg.Hold), 32*b.cfg.Hold)
			s.lastMove = now
			return Move{Lcore: d.l.ID, RETA: t.before, Kind: "revert", Buckets: changed(d.l.RETA, t.before),
				Share: remoteShare(t.before, load), Gain: got,
				Why: fmt.Sprintf("receive rate %.3gx after handing out (expected %.3gx): undone, next try in %v", got, t.expected, b.hold(s))}, true
		}
		if t.out {
			s.backoff = 0
		}
	}
	if now.Sub(s.lastMove) < b.hold(s) {
		return Move{}, false
	}
	busy := d.saturated(b.cfg.Busy)
	switch {
	case busy && e.Target > share+0.02:
		gain := cost(e, share) / cost(e, e.Target)
		if gain < 1+b.cfg.MinGain {
			return Move{}, false
		}
		reta, moved := handOut(d.l.RETA, load, e.Target-share, b.workerRoom(e, d, workers))
		if moved == 0 {
			return Move{}, false
		}
		m := Move{Lcore: d.l.ID, RETA: reta, Kind: "out", Buckets: moved, Share: remoteShare(reta, load), Gain: gain,
			Why: fmt.Sprintf("busy %.0f%%; per packet rx %.0f, process %.0f, handoff %.0f, worker %.0f cycles: %.2fx at %.0f%% handed over",
				100*e.Busy, e.Receive, e.Process, e.Handoff, e.Worker, gain, 100*e.Target)}
		s.trial = &trial{before: slices.Clone(d.l.RETA), rate: e.Rate, expected: gain, out: true}
		s.lastMove = now
		return m, true
	case share > 0 && (!busy && cost(e, 0)/cost(e, share)*e.Busy < b.cfg.Busy*0.9 || busy && e.Target < share-0.05):
		// It can take its buckets back: it has room for them (at the
		// cost they have here), or the estimate says fewer should go.
		want := 0.0
		if busy {
			want = e.Target
		}
		reta, moved := handBack(d.l.RETA, load, share-want)
		if moved == 0 {
			return Move{}, false
		}
		s.lastMove = now
		return Move{Lcore: d.l.ID, RETA: reta, Kind: "back", Buckets: moved, Share: remoteShare(reta, load),
			Gain: cost(e, share) / cost(e, want),
			Why:  fmt.Sprintf("busy %.0f%% with %.0f%% handed over: room to take %.0f%% back", 100*e.Busy, 100*share, 100*(share-want))}, true
	}
	return Move{}, false
}

func (b *Balancer) hold(s *rxState) time.Duration { return b.cfg.Hold + s.backoff }

// cost is the RX lcore's cycles per received packet when it hands over the
// fraction f: T(f) = a + d + (1-f) p, but a + p when it keeps everything
// (no hash then).
func cost(e Estimate, f float64) float64 {
	if f <= 0 {
		return e.Receive + e.Process
	}
	return e.Receive + e.Handoff + (1-f)*e.Process
}

// target is f*, where the RX lcore and its workers are equally the limit,
// or 0 when handing over cannot pay.
func target(e Estimate) float64 {
	f := (e.Receive + e.Handoff + e.Process) / (e.Process + e.Worker)
	f = math.Max(0, math.Min(1, f))
	if cost(e, f) >= cost(e, 0) {
		return 0
	}
	return f
}

// workerCost is q: cycles per packet on the workers this RX lcore feeds,
// from their busy cycles (0 when none got enough to tell).
func (b *Balancer) workerCost(l Lcore, workers map[int]delta) float64 {
	var cyc, pkts float64
	seen := map[int]bool{}
	for _, w := range l.RETA {
		// A worker that gets a packet or two per poll spends its cycles
		// on the loop, not the packets: its cost per packet says nothing.
		if d, ok := workers[w]; ok && !seen[w] && d.ring > 0 && d.ring >= d.polls*fwd.Burst/4 {
			seen[w] = true
			cyc, pkts = cyc+d.busy, pkts+d.ring
		}
	}
	if pkts == 0 {
		return 0
	}
	return cyc / pkts
}

// workerRoom is, per worker id, the share of this RX lcore's packets the
// worker can take on (at e.Worker cycles each) before it is saturated.
// The RX lcore, saturated, will receive faster once it hands over: its
// cost per packet falls from cost(share) to cost(target).
func (b *Balancer) workerRoom(e Estimate, d delta, workers map[int]delta) map[int]float64 {
	room := map[int]float64{}
	pkts := (d.rx - d.ringFull) * cost(e, e.Share) / cost(e, e.Target)
	if pkts == 0 {
		return room
	}
	for w, wd := range workers {
		free := b.cfg.Busy*(wd.busy+wd.idle) - wd.busy
		room[w] = math.Max(0, free) / (e.Worker * pkts)
	}
	return room
}

// bucketLoad is each bucket's packets over the interval, or 1 each when
// nothing was counted.
func bucketLoad(d delta) []float64 {
	load := slices.Clone(d.buckets)
	sum := 0.0
	for _, x := range load {
		sum += x
	}
	if sum == 0 {
		load = make([]float64, len(d.l.RETA))
		for i := range load {
			load[i] = 1
		}
	}
	return load
}

// remoteShare is the share of the load on buckets handed to workers.
func remoteShare(reta []int, load []float64) float64 {
	var out, all float64
	for b, w := range reta {
		if b >= len(load) {
			break
		}
		all += load[b]
		if w != fwd.RETALocal {
			out += load[b]
		}
	}
	if all == 0 {
		return 0
	}
	return out / all
}

func changed(a, b []int) int {
	n := 0
	for i := range a {
		if i < len(b) && a[i] != b[i] {
			n++
		}
	}
	return n
}

// handOut moves local buckets carrying about share of the load to the
// workers with room, the most room first; returns the new RETA and how many
// buckets moved.
func handOut(reta []int, load []float64, share float64, room map[int]float64) ([]int, int) {
	out := slices.Clone(reta)
	all, local := busiest(reta, load, func(w int) bool { return w == fwd.RETALocal })
	if all == 0 || share <= 0 {
		return out, 0
	}
	ws := make([]int, 0, len(room))
	for w := range room {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return room[ws[i]] > room[ws[j]] || room[ws[i]] == room[ws[j]] && ws[i] < ws[j] })
	moved, want := 0, share*all
	for _, w := range ws {
		left := math.Min(room[w], share) * all
		for len(local) > 0 && want > 0 && left > 0 {
			b := local[0]
			// skip a bucket that would overshoot by more than half of it
			if load[b] > 1.5*want && moved > 0 {
				local = local[1:]
				continue
			}
			out[b] = w
			want -= load[b]
			left -= load[b]
			local = local[1:]
			moved++
		}
	}
	return out, moved
}

// busiest is the total load, and the buckets whose owner pick accepts,
// the most loaded first.
func busiest(reta []int, load []float64, pick func(w int) bool) (float64, []int) {
	all := 0.0
	for _, x := range load {
		all += x
	}
	var bs []int
	for b, w := range reta {
		if pick(w) {
			bs = append(bs, b)
		}
	}
	sort.SliceStable(bs, func(i, j int) bool { return load[bs[i]] > load[bs[j]] })
	return all, bs
}

// handBack moves handed-over buckets carrying about share of the load back
// to the RX lcore, the busiest workers' first.
func handBack(reta []int, load []float64, share float64) ([]int, int) {
	out := slices.Clone(reta)
	all, remote := busiest(reta, load, func(w int) bool { return w != fwd.RETALocal })
	if all == 0 || share <= 0 {
		return out, 0
	}
	moved, want := 0, share*all
	for _, b := range remote {
		if want <= 0 {
			break
		}
		if load[b] > 1.5*want && moved > 0 {
			continue
		}
		out[b] = fwd.RETALocal
		want -= load[b]
		moved++
	}
	return out, moved
}
