// Package router runs one steer data plane from a validated config, in an
// EAL the process has started (InitEAL, eal.go): it sets up the ports and
// the mbuf pool, builds the route table and the C data plane, launches the
// forwarding lcores and the control thread, serves run-time changes, and on
// Stop tears it all down in the order DPDK needs and reports what happened.
// A process may run routers one after another (tests do).
//
// One concern per file: router.go (start, stop, the run-time guard),
// eal.go (the process's EAL), ports.go, pool.go, lcores.go, routes.go (the
// RIB over the data plane's FIB), neighbors.go, slowpath.go (the control
// thread), distributor.go (the RETA), snapshot.go (counters and reports).
package router

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/rib"
)

// Router is a running data plane.
type Router struct {
	cfg   *config.Config
	log   *zap.Logger
	ports []*port
	pool  *mempool.Pool
	table *fib.FIB // the fast path's rte_fib, written through dp by the RIB
	dp    *dataplane.Dataplane
	rib   *rib.Table
	links []*link // distributor rings
	slow  slowPath
	bal   balancer

	stopOnce sync.Once
	running  atomic.Bool  // lcores launched and not stopped
	live     sync.RWMutex // snapshots and changes read C state; teardown frees it
	report   *report.Report
	stopErr  error
}

// ErrStopping is returned by run-time changes once shutdown has begun.
var ErrStopping = errors.New("router is stopping")

// Start brings a data plane up in the running EAL. On error everything it
// set up is torn down again.
func Start(cfg *config.Config, log *zap.Logger) (*Router, error) {
	if !eal.Initialised() {
		return nil, errors.New("router: EAL is not initialised (InitEAL)")
	}
	r := &Router{cfg: cfg, log: log}
	var err error
	eal.Do(func() { err = r.setup() })
	if err == nil {
		err = r.dp.Launch()
	}
	if err != nil {
		r.teardown()
		return nil, err
	}
	r.running.Store(true)
	r.slow.start()
	r.startBalancer()
	r.logLcoreMap()
	st := r.rib.Stats()
	log.Info("forwarding", zap.Int("lcores", len(cfg.Lcores)), zap.Int("ports", len(r.ports)),
		zap.Int("fib_entries", st.Entries), zap.Int("next_hops", st.NextHops))
	return r, nil
}

// setup builds everything the lcores need, in order, on the EAL main
// thread.
func (r *Router) setup() error {
	if err := r.checkLcores(); err != nil {
		return err
	}
	for i := range r.cfg.Ports {
		p, err := r.probe(i)
		if p != nil {
			r.ports = append(r.ports, p)
		}
		if err != nil {
			return err
		}
	}
	if err := r.createPool(); err != nil {
		return err
	}
	for _, p := range r.ports {
		if err := r.startPort(p); err != nil {
			return err
		}
	}
	var err error
	socket := r.ports[0].info.Socket
	if r.dp, err = dataplane.New(maxNextHops, socket); err != nil {
		return err
	}
	for _, p := range r.ports {
		if err := r.dp.SetPort(uint16(p.id), p.mac, p.cfg.TxQueues, p.cfg.MTU); err != nil {
			return err
		}
		// RFC 1812 5.3.7: no transit packet comes from the router's own
		// addresses or its subnets' directed broadcasts.
		for _, a := range p.cfg.Prefixes {
			if err := r.dp.AddMartianSource(a.Addr(), fwd.DropOwnSource); err != nil {
				return err
			}
			if inet.HasBroadcast(a) {
				if err := r.dp.AddMartianSource(inet.Last(a), fwd.DropBroadcastSource); err != nil {
					return err
				}
			}
		}
	}
	if err := r.buildRIB(socket); err != nil {
		return err
	}
	if err := r.addLcores(); err != nil {
		return err
	}
	if err := r.setupSlowPath(socket); err != nil {
		return err
	}
	if shared := r.dp.ShareTxQueues(); shared > 0 {
		r.log.Warn("TX queues shared by several lcores are locked per burst; give ports at least as many tx_queues as the rx queues sending to them to avoid it",
			zap.Int("shared_tx_queues", shared))
	}
	return nil
}

// whileRunning runs f under the read side of the teardown guard, so the C
// state f touches cannot be freed under it; once shutdown has begun it
// returns ErrStopping without running f.
func (r *Router) whileRunning(f func() error) error {
	r.live.RLock()
	defer r.live.RUnlock()
	if !r.running.Load() {
		return ErrStopping
	}
	return f()
}

// Health says whether the router forwards: lcores running and every port
// started. The reason names what is wrong.
func (r *Router) Health() (bool, string) {
	if !r.running.Load() {
		return false, "lcores are not running (starting or stopping)"
	}
	for _, p := range r.ports {
		if !p.started {
			return false, fmt.Sprintf("port %s is not started", p.cfg.Name)
		}
	}
	return true, "forwarding"
}

// Stop stops the lcores (they flush their TX buffers), stops and closes the
// ports, frees everything and returns the final report. Safe to call twice.
func (r *Router) Stop() (*report.Report, error) {
	r.stopOnce.Do(func() {
		r.report, r.stopErr = r.teardown()
	})
	return r.report, r.stopErr
}

// teardown undoes whatever setup did, in DPDK's order: control thread,
// lcores (they flush), final counters, slow-path rings, ports (the pcap PMD
// finishes its files on close), leak check, pool, rings, data plane, FIB.
func (r *Router) teardown() (*report.Report, error) {
	r.running.Store(false)
	r.bal.stop()  // before the lock: its step holds the read side
	r.live.Lock() // wait for snapshots and changes in progress; none start after this
	defer r.live.Unlock()
	var errs []error
	r.slow.stop()
	rep := &report.Report{}
	if r.dp != nil {
		errs = append(errs, r.dp.Stop())
		r.lcoreReports(rep)
	}
	if r.rib != nil {
		rep.FIB = r.fibReport()
	}
	rep.SlowPath = r.slow.stats()
	eal.Do(func() {
		errs = append(errs, r.slow.free())
		if r.pool != nil {
			rep.Mempool.Size = r.pool.Size()
			rep.Mempool.InUseAfterStop = r.pool.InUse()
		}
		for _, p := range r.ports {
			rep.Ports = append(rep.Ports, r.portReport(p))
			errs = append(errs, r.closePort(p))
		}
		if r.pool != nil {
			rep.Mempool.InUseAfterClose = r.pool.InUse()
			if rep.Mempool.InUseAfterClose == 0 {
				r.pool.Free()
			} else {
				errs = append(errs, fmt.Errorf("mbuf leak: %d mbufs still in use after every port closed", rep.Mempool.InUseAfterClose))
			}
		}
		errs = append(errs, r.freeLinks())
		if r.dp != nil {
			r.dp.Free()
		}
		if r.table != nil {
			r.table.Free()
		}
	})
	if u := rep.Totals.Unaccounted(); u != 0 {
		errs = append(errs, fmt.Errorf("counters do not balance: %d packets received but neither forwarded, dropped nor handed to the slow path", u))
	}
	return rep, errors.Join(errs...)
}
