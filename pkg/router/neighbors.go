package router

import (
	"errors"
	"net/netip"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/report"
)

// Neighbors lists the neighbour table (static and learnt), sorted by IP;
// nil once stopping.
func (r *Router) Neighbors() []report.Neighbor {
	var out []report.Neighbor
	r.whileRunning(func() error { //nolint:errcheck // nil when stopping
		for _, e := range r.slow.sp.Neighbors().List() {
			n := report.Neighbor{IP: e.IP, Port: r.portName(e.Port), State: e.State.String(), Static: e.Static}
			if e.MAC != nil && e.State.Usable() {
				n.MAC = e.MAC.String()
			}
			out = append(out, n)
		}
		return nil
	})
	return out
}

// AddNeighbor adds or replaces a static neighbour on the named port: it
// wins over what ARP learns, is never aged, and its traffic is forwarded
// in the fast path at once.
func (r *Router) AddNeighbor(ip netip.Addr, mac inet.MAC, port string) error {
	if err := mac.CheckUnicast(); err != nil {
		return field.Errorf("mac", mac.String(), "%v", err)
	}
	return r.whileRunning(func() error {
		p := r.portByName(port)
		if p == nil {
			return field.Errorf("port", port, "no port named %q", port)
		}
		if _, err := r.rib.Addresses().Neighbor(ip, int(p.id)); err != nil {
			return field.Errorf("ip", ip.String(), "%v", err)
		}
		if err := r.slow.sp.Neighbors().AddStatic(int(p.id), ip, mac.HW()); err != nil {
			if errors.Is(err, neigh.ErrOwnMAC) {
				return field.Wrap("mac", mac.String(), neigh.ErrOwnMAC)
			}
			return field.Errorf("ip", ip.String(), "%v", err)
		}
		return nil
	})
}

// DeleteNeighbor removes a static neighbour (a field error wrapping
// neigh.ErrNoStatic when there is none); its traffic goes back to ARP.
func (r *Router) DeleteNeighbor(ip netip.Addr) error {
	return r.whileRunning(func() error {
		err := r.slow.sp.Neighbors().DeleteStatic(ip)
		if errors.Is(err, neigh.ErrNoStatic) {
			return field.Error{Field: "ip", Value: ip.String(), Msg: "no such static neighbour", Err: neigh.ErrNoStatic}
		}
		return err
	})
}

// neighborUp and neighborDown are the neighbour table's word to the route
// table: a neighbour became usable (or changed MAC), or stopped being so.
// They run with the neighbour table's lock held.
func (r *Router) neighborUp(e neigh.Entry) {
	if err := r.rib.NeighborUp(e.IP, uint16(e.Port), inet.MAC(e.MAC)); err != nil {
		r.log.Error("installing a neighbour", zap.Stringer("ip", e.IP), zap.Error(r.fibFull(err)))
	}
}

func (r *Router) neighborDown(e neigh.Entry) {
	if err := r.rib.NeighborDown(e.IP); err != nil {
		r.log.Error("removing a neighbour", zap.Stringer("ip", e.IP), zap.Error(err))
	}
}
