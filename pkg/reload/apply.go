package reload

import (
	"errors"
	"net/netip"

	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/rib"
)

// Router is the run-time API a reload changes (pkg/router's Router).
// Deleting what is not there fails with rib.ErrNoRoute or
// neigh.ErrNoStatic in the error chain.
type Router interface {
	AddRoute(prefix netip.Prefix, via netip.Addr) error
	DeleteRoute(prefix netip.Prefix) error
	AddNeighbor(ip netip.Addr, mac inet.MAC, port string) error
	DeleteNeighbor(ip netip.Addr) error
}

// Failure is a change the router refused, and why.
type Failure struct {
	Change Change
	Err    error
}

// Result is what Apply did. State is what the router holds afterwards of
// the file's routes and neighbours: the target state when everything was
// applied; the starting state again after a failure rolled back; in
// between only if undoing a change failed too (RollbackFailed says which).
type Result struct {
	Applied        Plan      // changes in effect (after a failure: none, unless a rollback failed)
	Failed         *Failure  // the change that failed; nil when all applied
	RolledBack     Plan      // changes undone after the failure, in undo order
	RollbackFailed []Failure // undo steps that failed (those changes stay in effect)
	State          State
}

// OK reports whether the whole plan is in effect.
func (r Result) OK() bool { return r.Failed == nil }

// Apply makes the plan's changes in order, starting from state from (which
// it does not modify). If the router refuses one, Apply stops and undoes
// the ones already made, newest first, so the router ends where it
// started: a reload takes effect entirely or not at all (unless an undo
// fails too, which is reported and reflected in State).
//
// Deleting a route or neighbour that is already gone (removed through the
// API since) counts as done.
func Apply(r Router, from State, plan Plan) Result {
	res := Result{State: from.Clone()}
	done := Plan{}
	for _, c := range plan {
		if err := do(r, c); err != nil {
			res.Failed = &Failure{Change: c, Err: err}
			break
		}
		c.applyTo(res.State)
		done = append(done, c)
	}
	if res.Failed == nil {
		res.Applied = done
		return res
	}
	for i := len(done) - 1; i >= 0; i-- {
		inv := done[i].Inverse()
		if err := do(r, inv); err != nil {
			res.RollbackFailed = append(res.RollbackFailed, Failure{Change: done[i], Err: err})
			res.Applied = append(res.Applied, done[i])
			continue
		}
		inv.applyTo(res.State)
		res.RolledBack = append(res.RolledBack, done[i])
	}
	return res
}

func do(r Router, c Change) error {
	var err error
	switch c.Kind {
	case RouteAdded, RouteChanged:
		err = r.AddRoute(c.Prefix, c.NewVia)
	case RouteRemoved:
		if err = r.DeleteRoute(c.Prefix); errors.Is(err, rib.ErrNoRoute) {
			err = nil
		}
	case NeighborAdded, NeighborChanged:
		err = r.AddNeighbor(c.IP, c.New.MAC, c.New.Port)
	case NeighborRemoved:
		if err = r.DeleteNeighbor(c.IP); errors.Is(err, neigh.ErrNoStatic) {
			err = nil
		}
	}
	return err
}
