package router

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/ring"
	"github.com/steer-router/steer/cgo/fastpath"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/slowpath"
)

// Neighbor is one entry of the neighbour (ARP) table as the API shows it.
type Neighbor struct {
	IP    netip.Addr `json:"ip"`
	MAC   string     `json:"mac,omitempty"` // "" while incomplete or failed
	Port  string     `json:"port"`
	State string     `json:"state"` // static | incomplete | reachable | stale | probe | failed
	// Static entries come from the config or the API and always win over
	// what ARP learns.
	Static bool `json:"static"`
}

// ErrNoNeighbor is returned when deleting a static neighbour that does not exist.
var ErrNoNeighbor = errors.New("no such static neighbour")

// Neighbors lists the neighbour table (static and learnt), sorted by IP;
// nil once stopping.
func (r *Router) Neighbors() []Neighbor {
	var out []Neighbor
	r.whileRunning(func() error { //nolint:errcheck // nil when stopping
		for _, e := range r.sp.Neighbors().List() {
			n := Neighbor{IP: e.IP, Port: r.portName(e.Port), State: e.State.String(), Static: e.Static}
			if e.MAC != nil && e.State.Usable() {
				n.MAC = e.MAC.String()
			}
			out = append(out, n)
		}
		return nil
	})
	if out == nil {
		out = []Neighbor{}
	}
	return out
}

// AddNeighbor adds or replaces a static neighbour on the named port: it
// wins over what ARP learns, is never aged, and its traffic is forwarded
// in the fast path at once.
func (r *Router) AddNeighbor(ip netip.Addr, mac net.HardwareAddr, port string) error {
	if !ip.Is4() {
		return fmt.Errorf("ip: %s is not an IPv4 address", ip)
	}
	if len(mac) != 6 || mac[0]&1 != 0 || string(mac) == "\x00\x00\x00\x00\x00\x00" {
		return fmt.Errorf("mac: %s is not a unicast Ethernet address", mac)
	}
	return r.whileRunning(func() error {
		p := r.portByName(port)
		if p == nil {
			return fmt.Errorf("port: no port named %q", port)
		}
		if err := r.sp.Neighbors().AddStatic(int(p.id), ip, mac); err != nil {
			return fmt.Errorf("ip: %s is not a neighbour address on port %s (outside its subnets, or the router's own, network or broadcast address): %v", ip, port, err)
		}
		return nil
	})
}

// DeleteNeighbor removes a static neighbour; ErrNoNeighbor if there is none.
// Its traffic goes back to ARP resolution.
func (r *Router) DeleteNeighbor(ip netip.Addr) error {
	return r.whileRunning(func() error {
		if err := r.sp.Neighbors().DeleteStatic(ip); err != nil {
			if errors.Is(err, neigh.ErrNoStatic) {
				return fmt.Errorf("ip: %s: %w", ip, ErrNoNeighbor)
			}
			return err
		}
		return nil
	})
}

func (r *Router) portName(id int) string {
	for _, p := range r.ports {
		if int(p.id) == id {
			return p.cfg.Name
		}
	}
	return fmt.Sprint(id)
}

func (r *Router) portByName(name string) *port {
	for _, p := range r.ports {
		if p.cfg.Name == name {
			return p
		}
	}
	return nil
}

// ctlRingSize bounds the frames the control thread has queued for sending.
const ctlRingSize = 1024

// excBatch is how many exceptions one Take copies at most.
const excBatch = 256

// setupSlowPath creates the exception rings (one per lcore) and the
// control TX ring, and the control thread with its neighbour table, which
// gets the static neighbours. The thread starts with startSlowPath.
func (r *Router) setupSlowPath(dp *fastpath.Dataplane, socket int) error {
	var ptrs []unsafe.Pointer
	for _, l := range dp.Lcores() {
		rg, err := ring.NewSPSC(fmt.Sprintf("steer_exc_l%d", l.ID), r.cfg.SlowPath.RingSize, eal.SocketOf(l.ID))
		if err != nil {
			return err
		}
		r.excRings = append(r.excRings, rg)
		ptrs = append(ptrs, rg.Ptr())
	}
	var err error
	if r.ctlRing, err = ring.NewSPSC("steer_ctl_tx", ctlRingSize, socket); err != nil {
		return err
	}
	if err := dp.SetControl(ptrs, r.ctlRing.Ptr()); err != nil {
		return err
	}
	// Frames are copied whole up to what one mbuf holds (no scatter).
	maxFrame := r.cfg.Mempool.DataRoom
	var ports []slowpath.Port
	for _, p := range r.ports {
		maxFrame = max(maxFrame, p.cfg.MTU+22) // Ethernet + two VLAN tags
		ports = append(ports, slowpath.Port{ID: int(p.id), Name: p.cfg.Name, MAC: p.mac, MTU: p.cfg.MTU, Prefixes: p.cfg.Prefixes})
	}
	r.exc = fastpath.NewExceptions(ptrs, excBatch, maxFrame)
	a := r.cfg.ARP
	pending := a.MaxPending
	if pending == 0 {
		pending = -1 // 0 in the config: queue nothing
	}
	r.sp = slowpath.New(slowpath.Config{
		Rate: r.cfg.SlowPath.Rate, ICMPRate: float64(r.cfg.ICMP.Rate), ICMPBurst: r.cfg.ICMP.Burst,
		Neigh: neigh.Config{ReachableTime: a.Reachable, StaleTime: a.Stale, RetransTime: a.Retrans,
			MaxRetries: a.MaxRetries, FailedHold: a.Hold, MaxPending: pending, MaxEntries: a.MaxEntries},
		Resolved: r.neighborUp, Unresolved: r.neighborDown,
	}, ports, slowEnv{r}, r.log.Named("slowpath"))
	for _, n := range r.cfg.Neighbors {
		p := r.portByName(n.Port)
		if err := r.sp.Neighbors().AddStatic(int(p.id), n.Addr, net.HardwareAddr(n.HW[:])); err != nil {
			return fmt.Errorf("neighbors: %s on %s: %w", n.Addr, n.Port, err)
		}
	}
	r.log.Debug("slow path ready", zap.Int("exception_rings", len(r.excRings)), zap.Int("ring_size", r.cfg.SlowPath.RingSize),
		zap.Int("rate", r.cfg.SlowPath.Rate), zap.Int("control_lcore", dp.ControlLcore()))
	return nil
}

func (r *Router) startSlowPath() {
	r.spStop, r.spDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.spDone)
		r.sp.Run(r.spStop)
	}()
}

// stopSlowPath ends the control thread (before the lcores stop, so
// nothing is sent to a stopped port).
func (r *Router) stopSlowPath() {
	if r.spStop == nil {
		return
	}
	close(r.spStop)
	<-r.spDone
	r.spStop = nil
}

// freeSlowPath empties and frees the rings once the lcores have stopped:
// exceptions nobody took are freed, as are frames never sent.
func (r *Router) freeSlowPath() error {
	var errs []error
	if r.exc != nil {
		for len(r.exc.Take(excBatch)) > 0 {
		}
		r.exc.Free()
	}
	for _, rg := range r.excRings {
		if n := rg.Count(); n > 0 {
			errs = append(errs, fmt.Errorf("exception ring still holds %d mbufs", n))
			continue
		}
		rg.Free()
	}
	if r.ctlRing != nil {
		left := fastpath.NewExceptions([]unsafe.Pointer{r.ctlRing.Ptr()}, excBatch, 64)
		for len(left.Take(excBatch)) > 0 {
		}
		left.Free()
		r.ctlRing.Free()
	}
	return errors.Join(errs...)
}
