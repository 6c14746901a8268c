package router

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/balance"
	"github.com/steer-router/steer/pkg/report"
)

// balancer runs pkg/balance every distributor.balance.interval: it reads
// the lcores' counters and RETAs (plain loads) and applies the moves it
// decides. Off (distributor.balance.mode: off), pinned (PUT /api/v1/reta)
// or without a distributor it leaves the RETAs alone.
type balancer struct {
	mu     sync.Mutex
	b      *balance.Balancer
	on     bool // the mode is auto and some lcore distributes
	pinned bool
	moves  map[string]uint64 // by kind
	last   []string          // the latest decisions, newest last
	quit   chan struct{}
	done   chan struct{}
}

const keptDecisions = 8

func (r *Router) startBalancer() {
	c := r.cfg.Distributor.Balance
	bl := &r.bal
	bl.moves = map[string]uint64{"out": 0, "back": 0, "revert": 0}
	bl.on = c.Mode == "auto" && len(r.rxLcores()) > 0
	if !bl.on {
		return
	}
	bl.b = balance.New(balance.Config{Busy: c.Busy, MinGain: c.MinGain, Hold: c.HoldFor})
	bl.quit, bl.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(bl.done)
		t := time.NewTicker(c.Every)
		defer t.Stop()
		for {
			select {
			case <-bl.quit:
				return
			case now := <-t.C:
				r.whileRunning(func() error { r.balanceStep(now); return nil }) //nolint:errcheck // stopping: nothing to do
			}
		}
	}()
}

func (r *Router) balanceStep(now time.Time) {
	var ls []balance.Lcore
	for _, l := range r.dp.Lcores() {
		bl := balance.Lcore{ID: l.ID, Worker: l.Worker, C: l.Counters()}
		if l.Distributes() {
			bl.RETA, bl.Buckets = l.AppliedRETA(), l.BucketPackets()
		}
		ls = append(ls, bl)
	}
	b := &r.bal
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pinned {
		return
	}
	for _, m := range b.b.Step(now, ls) {
		for _, l := range r.rxLcores() {
			if l.ID != m.Lcore {
				continue
			}
			if err := l.SetRETA(m.RETA); err != nil {
				r.log.Error("distributor: applying the balancer's RETA", zap.Int("lcore", m.Lcore), zap.Error(err))
				continue
			}
			b.moves[m.Kind]++
			b.last = append(b.last, now.UTC().Format(time.RFC3339)+" "+m.String())
			if len(b.last) > keptDecisions {
				b.last = b.last[1:]
			}
			r.log.Info("distributor: balancer moved buckets", zap.Int("lcore", m.Lcore), zap.String("move", m.Kind),
				zap.Int("buckets", m.Buckets), zap.Float64("handed_share", m.Share), zap.Float64("gain", m.Gain),
				zap.String("why", m.Why))
		}
	}
}

// pin stops (on) or resumes balancing: an operator set the RETA.
func (b *balancer) pin(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned = on
	if b.b != nil {
		b.b.Pin(on)
	}
}

func (b *balancer) stop() {
	if b.quit != nil {
		close(b.quit)
		<-b.done
		b.quit = nil
	}
}

// report is the balancer's part of the distributor report.
func (b *balancer) report(d *report.Distributor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d.Balance = "off"
	if b.on {
		d.Balance = "auto"
	}
	d.Pinned = b.pinned
	d.Moves = map[string]uint64{}
	for k, v := range b.moves {
		d.Moves[k] = v
	}
	d.Decisions = append([]string(nil), b.last...)
	if b.b != nil {
		d.Estimates = b.b.Estimates()
	}
}
