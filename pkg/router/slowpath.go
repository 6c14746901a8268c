package router

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/ring"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/slowpath"
)

// ctlRingSize bounds the frames the control thread has queued for sending.
const ctlRingSize = config.CtlRingSize

// excBatch is how many exceptions one Take copies at most.
const excBatch = 256

// slowPath is the control thread (pkg/slowpath) and the rings it shares
// with the lcores: one exception ring per lcore, one control TX ring.
type slowPath struct {
	excRings []*ring.Ring
	ctlRing  *ring.Ring
	exc      *dataplane.Exceptions
	sp       *slowpath.SlowPath
	quit     chan struct{}
	done     chan struct{}
}

// setupSlowPath creates the rings and the control thread with its
// neighbour table, which gets the static neighbours. The thread starts
// with slowPath.start once the lcores run.
func (r *Router) setupSlowPath(socket int) error {
	s := &r.slow
	var ptrs []unsafe.Pointer
	for _, l := range r.dp.Lcores() {
		rg, err := ring.NewSPSC(fmt.Sprintf("steer_exc_l%d", l.ID), r.cfg.SlowPath.RingSize, eal.SocketOf(l.ID))
		if err != nil {
			return err
		}
		s.excRings = append(s.excRings, rg)
		ptrs = append(ptrs, rg.Ptr())
	}
	var err error
	if s.ctlRing, err = ring.NewSPSC("steer_ctl_tx", ctlRingSize, socket); err != nil {
		return err
	}
	if err := r.dp.SetControl(ptrs, s.ctlRing.Ptr()); err != nil {
		return err
	}
	// Frames are copied whole up to what one mbuf holds (no scatter).
	maxFrame := r.cfg.Mempool.DataRoom
	var ports []slowpath.Port
	for _, p := range r.ports {
		maxFrame = max(maxFrame, p.cfg.MTU+22) // Ethernet + two VLAN tags
		ports = append(ports, slowpath.Port{ID: int(p.id), Name: p.cfg.Name, MAC: p.mac, MTU: p.cfg.MTU, Prefixes: p.cfg.Prefixes})
	}
	s.exc = dataplane.NewExceptions(ptrs, excBatch, maxFrame)
	a := r.cfg.ARP
	pending := a.MaxPending
	if pending == 0 {
		pending = -1 // 0 in the config: queue nothing
	}
	s.sp = slowpath.New(slowpath.Config{
		Rate: r.cfg.SlowPath.Rate, ICMPRate: float64(r.cfg.ICMP.Rate), ICMPBurst: r.cfg.ICMP.Burst,
		Neigh: neigh.Config{ReachableTime: a.Reachable, StaleTime: a.Stale, RetransTime: a.Retrans,
			MaxRetries: a.MaxRetries, FailedHold: a.Hold, MaxPending: pending, MaxEntries: a.MaxEntries},
		Resolved: r.neighborUp, Unresolved: r.neighborDown,
	}, ports, slowEnv{r}, r.log.Named("slowpath"))
	for _, n := range r.cfg.Neighbors {
		p := r.portByName(n.Port)
		if err := s.sp.Neighbors().AddStatic(int(p.id), n.Addr, n.HW.HW()); err != nil {
			return fmt.Errorf("neighbors: %s on %s: %w", n.Addr, n.Port, err)
		}
	}
	r.log.Debug("slow path ready", zap.Int("exception_rings", len(s.excRings)), zap.Int("ring_size", r.cfg.SlowPath.RingSize),
		zap.Int("rate", r.cfg.SlowPath.Rate), zap.Int("control_lcore", r.dp.ControlLcore()))
	return nil
}

func (s *slowPath) start() {
	s.quit, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		s.sp.Run(s.quit)
	}()
}

// stop ends the control thread (before the lcores stop, so nothing is sent
// to a stopped port).
func (s *slowPath) stop() {
	if s.quit == nil {
		return
	}
	close(s.quit)
	<-s.done
	s.quit = nil
}

func (s *slowPath) stats() *slowpath.Stats {
	if s.sp == nil {
		return nil
	}
	st := s.sp.Stats()
	return &st
}

// free empties and frees the rings once the lcores have stopped:
// exceptions nobody took are freed, as are frames never sent. On the EAL
// main thread.
func (s *slowPath) free() error {
	var errs []error
	if s.exc != nil {
		for len(s.exc.Take(excBatch)) > 0 {
		}
		s.exc.Free()
		s.exc = nil
	}
	for _, rg := range s.excRings {
		if n := rg.Count(); n > 0 {
			errs = append(errs, fmt.Errorf("exception ring still holds %d mbufs", n))
			continue
		}
		rg.Free()
	}
	s.excRings = nil
	if s.ctlRing != nil {
		left := dataplane.NewExceptions([]unsafe.Pointer{s.ctlRing.Ptr()}, excBatch, 64)
		for len(left.Take(excBatch)) > 0 {
		}
		left.Free()
		s.ctlRing.Free()
		s.ctlRing = nil
	}
	return errors.Join(errs...)
}

// slowEnv is the data plane as the control thread sees it.
type slowEnv struct{ r *Router }

func (e slowEnv) Take(n int) []fwd.Exception { return e.r.slow.exc.Take(n) }

// controlSendWait bounds how long a resolved neighbour's queued packets
// may take to leave before the fast path learns it (the sending lcore
// takes them within microseconds, or wakes for them).
const controlSendWait = 10 * time.Millisecond

func (e slowEnv) Drain() { e.r.dp.WaitSent(controlSendWait) }

func (e slowEnv) Idle(d time.Duration, stop <-chan struct{}) {
	e.r.dp.WaitExceptions(d, stop, e.r.slow.exc.Pending)
}

func (e slowEnv) Send(port int, frame []byte) error {
	return e.r.dp.Send(e.r.pool.Ptr(), uint16(port), frame)
}

func (e slowEnv) Lookup(dst netip.Addr) (fwd.NextHop, bool) {
	rt, ok := e.r.rib.Lookup(dst)
	return rt.NextHop, ok
}

func (e slowEnv) LinkUp(port int) bool {
	for _, p := range e.r.ports {
		if int(p.id) == port {
			l, err := p.id.Link()
			return err == nil && l.Up
		}
	}
	return false
}
