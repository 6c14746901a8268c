package router

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/ring"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/fwd"
)

// link is a distributor ring from an RX lcore to a worker.
type link struct {
	from, to int // lcore ids
	worker   int
	r        *ring.Ring
}

// wantsRxInterrupts: some lcore polls a queue of the port in interrupt mode.
func (r *Router) wantsRxInterrupts(port string) bool {
	for _, lc := range r.cfg.Lcores {
		if lc.PollMode == config.PollInterrupt && slices.ContainsFunc(lc.Rx, func(q config.RxQueue) bool { return q.Port == port }) {
			return true
		}
	}
	return false
}

// pollMode is how lc waits when idle: its configured mode, but adaptive
// for interrupt where a queue it polls cannot interrupt (net_pcap, for
// one), said once per lcore.
func (r *Router) pollMode(lc config.Lcore) fwd.PollMode {
	mode, err := fwd.ParsePollMode(lc.PollMode)
	if err != nil {
		mode = fwd.PollAdaptive // validation refuses it first
	}
	if mode != fwd.PollInterrupt {
		return mode
	}
	for _, q := range lc.Rx {
		p := r.portByName(q.Port)
		if !p.id.RxInterrupts(q.Queue) {
			r.log.Warn("lcores: poll interrupt: the device has no RX interrupts for this queue; the lcore sleeps adaptively instead",
				zap.Int("lcore", lc.Lcore), zap.String("port", q.Port), zap.Int("queue", q.Queue), zap.String("driver", p.info.Driver))
			return fwd.PollAdaptive
		}
	}
	return mode
}

// addLcores creates every lcore context and, where ports use the
// distributor, one SPSC ring per (RX lcore, worker) pair; an lcore that is
// RX and worker handles its own share inline (no ring).
func (r *Router) addLcores() error {
	dp := r.dp
	workers := map[int]int{} // lcore id -> software queue id
	for _, lc := range r.cfg.Lcores {
		if lc.Worker {
			workers[lc.Lcore] = len(workers)
		}
	}
	distributing := false
	for _, p := range r.ports {
		distributing = distributing || p.steer == "distributor"
	}
	if len(workers) > 0 && !distributing {
		// auto chose RSS for every port: the workers would idle.
		r.log.Warn("lcores: the workers idle: every port steers by RSS, so nothing feeds them; set a port's steering to distributor to use them",
			zap.Ints("lcores", slices.Sorted(maps.Keys(workers))))
		workers = map[int]int{}
	}
	if distributing {
		d := r.cfg.Distributor
		hash, err := fwd.ParseHashMode(d.Hash)
		if err != nil {
			return fmt.Errorf("distributor.hash: %w", err)
		}
		if err := dp.SetDistributor(len(workers), d.RetaSize, d.Burst, d.OnFull == "backpressure", d.Stall, hash); err != nil {
			return err
		}
	}
	var order []*dataplane.Lcore
	for _, lc := range r.cfg.Lcores {
		if len(lc.Rx) == 0 && len(workers) == 0 {
			continue // an idle worker (see above): not launched
		}
		var rx []dataplane.RxQueue
		for _, q := range lc.Rx {
			p := r.portByName(q.Port)
			rx = append(rx, dataplane.RxQueue{Port: uint16(p.id), Queue: uint16(q.Queue),
				Distribute: p.steer == "distributor", Prefetch: p.cfg.IsPCI(), HWChecksum: p.rxCksumOffload()})
		}
		w, ok := workers[lc.Lcore]
		if !ok {
			w = -1
		}
		l, err := dp.AddLcore(lc.Lcore, eal.SocketOf(lc.Lcore), rx, w)
		if err != nil {
			return err
		}
		if err := l.SetPoll(r.pollMode(lc), r.cfg.Poll.Sleep); err != nil {
			return err
		}
		order = append(order, l)
	}
	for _, from := range order {
		if !from.Distributes() {
			continue
		}
		for _, to := range order {
			if to.Worker < 0 || to == from { // its own worker id is local: no ring
				continue
			}
			rg, err := ring.NewSPSC(fmt.Sprintf("steer_l%d_w%d", from.ID, to.Worker), r.cfg.Distributor.RingSize, eal.SocketOf(to.ID))
			if err != nil {
				return err
			}
			r.links = append(r.links, &link{from: from.ID, to: to.ID, worker: to.Worker, r: rg})
			if err := dp.Link(from, to, rg.Ptr()); err != nil {
				return err
			}
		}
		if err := from.SetRETA(r.startRETA(from)); err != nil {
			return err
		}
	}
	return nil
}

// startRETA is an RX lcore's RETA at start: every bucket local when the
// balancer runs (it moves buckets out while the lcore cannot keep up),
// else round robin over the workers.
func (r *Router) startRETA(l *dataplane.Lcore) []int {
	reta := make([]int, r.dp.RETASize())
	for b := range reta {
		if r.cfg.Distributor.Balance.Mode == "auto" {
			reta[b] = fwd.RETALocal
		} else {
			reta[b] = b % r.dp.Workers()
		}
	}
	return reta
}

// freeLinks frees the distributor rings once the workers have drained
// them. On the EAL main thread.
func (r *Router) freeLinks() error {
	var errs []error
	for _, l := range r.links {
		if n := l.r.Count(); n > 0 {
			errs = append(errs, fmt.Errorf("ring lcore %d -> worker %d still holds %d mbufs after the workers drained", l.from, l.worker, n))
			continue
		}
		l.r.Free()
	}
	r.links = nil
	return errors.Join(errs...)
}

// lcoreRole names an lcore's job: rx+fwd (runs its queues to completion),
// rx (polls a queue of the distributor), worker (takes from rings), or
// rx+worker.
func lcoreRole(l *dataplane.Lcore) string {
	role := ""
	switch {
	case l.Distributes():
		role = "rx"
	case len(l.RxQueues()) > 0:
		role = "rx+fwd"
	}
	if l.Worker >= 0 {
		role = strings.TrimPrefix(role+"+worker", "+")
	}
	return role
}

// logLcoreMap logs who polls what and where packets leave, as a table.
func (r *Router) logLcoreMap() {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-14s %-10s %s\n", "lcore", "role", "poll", "polls (port/queue -> tx queue per egress port)")
	fmt.Fprintf(&b, "%-6d %-14s %-10s %s\n", r.cfg.EAL.MainLcore, "main", "-", "control plane (EAL main thread)")
	steer := map[string]string{}
	for _, p := range r.ports {
		steer[p.cfg.Name] = p.steer
	}
	txqs := func(recorded int) string {
		var tx []string
		for _, p := range r.ports {
			tx = append(tx, fmt.Sprintf("%s:%d", p.cfg.Name, recorded%p.cfg.TxQueues))
		}
		return strings.Join(tx, ",")
	}
	spread := "workers by flow hash"
	if r.cfg.Distributor.Balance.Mode == "auto" {
		spread = "itself, workers by flow hash when it cannot keep up"
	}
	for _, l := range r.dp.Lcores() {
		var qs []string
		for _, q := range r.cfg.Lcores {
			if q.Lcore != l.ID {
				continue
			}
			for _, rq := range q.Rx {
				if steer[rq.Port] == "distributor" {
					qs = append(qs, fmt.Sprintf("%s/%d -> %s", rq.Port, rq.Queue, spread))
				} else {
					qs = append(qs, fmt.Sprintf("%s/%d -> %s", rq.Port, rq.Queue, txqs(rq.Queue)))
				}
			}
		}
		if l.Worker >= 0 {
			qs = append(qs, fmt.Sprintf("worker %d -> %s", l.Worker, txqs(l.Worker)))
		}
		fmt.Fprintf(&b, "%-6d %-14s %-10s %s\n", l.ID, lcoreRole(l), l.PollMode(), strings.Join(qs, "; "))
	}
	r.log.Info("lcore map\n" + b.String())
}
