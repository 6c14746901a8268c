package router

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/rib"
)

// Capacity of the next-hop table (prefixes: fib.max_routes).
const maxNextHops = 1 << 12

// addresses are the router's addresses as the route table and the checks
// of pkg/inet see them.
func (r *Router) addresses() inet.Addresses {
	var as inet.Addresses
	for i, p := range r.ports {
		for j, a := range p.cfg.Prefixes {
			as = append(as, inet.Address{Prefix: a, Port: int(p.id), PortName: p.cfg.Name,
				Where: fmt.Sprintf("ports[%d].addresses[%d]", i, j)})
		}
	}
	return as
}

// buildRIB creates the fast path's FIB (rte_fib) and the route table over
// it, with the router's own entries and the config's static routes (routes
// and routes_file, one bulk); the static neighbours come with the slow
// path's neighbour table.
func (r *Router) buildRIB(socket int) error {
	fc := r.cfg.FIB
	var err error
	if r.table, err = fib.New("steer_fib", socket, fc.MaxRoutes, fc.Tbl8Groups, dataplane.NoRoute); err != nil {
		return fmt.Errorf("%w (fib.max_routes %d, fib.tbl8_groups %d: see dpdk-config/README.md for the memory they take)", err, fc.MaxRoutes, fc.Tbl8Groups)
	}
	if err := r.dp.SetFIB(r.table); err != nil {
		return err
	}
	if r.rib, err = rib.New(r.dp, r.addresses(), fc.MaxRoutes); err != nil {
		return r.fibFull(err)
	}
	routes := make([]rib.StaticRoute, 0, len(r.cfg.Routes)+len(r.cfg.FileRoutes))
	for _, rt := range r.cfg.Routes {
		routes = append(routes, rib.StaticRoute{Prefix: rt.Net, Via: rt.Gateway})
	}
	for _, rt := range r.cfg.FileRoutes {
		routes = append(routes, rib.StaticRoute{Prefix: rt.Net, Via: rt.Gateway})
	}
	if err := r.rib.AddStatic(routes...); err != nil {
		return r.fibFull(err)
	}
	return nil
}

// fibFull names the settings that size the FIB in a capacity error.
func (r *Router) fibFull(err error) error {
	if !errors.Is(err, rib.ErrFull) {
		return err
	}
	return fmt.Errorf("%w (FIB capacity: fib.max_routes %d, fib.tbl8_groups %d)", err, r.cfg.FIB.MaxRoutes, r.cfg.FIB.Tbl8Groups)
}

// Routes lists the static routes or, with all, every FIB entry.
func (r *Router) Routes(all bool) []rib.Route {
	var out []rib.Route
	r.whileRunning(func() error { out = r.rib.Routes(all); return nil }) //nolint:errcheck // nil when stopping
	return out
}

// Lookup is where the fast path sends dst now.
func (r *Router) Lookup(dst netip.Addr) (rib.Route, bool) {
	var rt rib.Route
	var ok bool
	r.whileRunning(func() error { rt, ok = r.rib.Lookup(dst); return nil }) //nolint:errcheck // not found when stopping
	return rt, ok
}

// AddRoute adds or replaces a static route while the lcores forward.
// Lookups never lock; prefixes that are the router's own are refused.
func (r *Router) AddRoute(prefix netip.Prefix, via netip.Addr) error {
	return r.AddRoutes(rib.StaticRoute{Prefix: prefix, Via: via})
}

// AddRoutes adds or replaces static routes, all or none; many go to the FIB
// in one bulk (see rib.Table.AddStatic).
func (r *Router) AddRoutes(routes ...rib.StaticRoute) error {
	return r.whileRunning(func() error { return r.fibFull(r.rib.AddStatic(routes...)) })
}

// DeleteRoute removes a static route while the lcores forward; the router's
// own entries are no static routes.
func (r *Router) DeleteRoute(prefix netip.Prefix) error {
	return r.whileRunning(func() error { return r.rib.DeleteStatic(prefix) })
}
