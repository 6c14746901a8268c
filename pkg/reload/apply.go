package reload

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/rib"
)

// Router is the run-time API a reload changes (pkg/router's Router).
// AddRoutes adds or replaces routes all or none, and its errors name
// "routes[i]" when it is given several; deleting what is not there fails
// with rib.ErrNoRoute or neigh.ErrNoStatic in the error chain.
type Router interface {
	AddRoutes(routes ...rib.StaticRoute) error
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
// it does not modify). Consecutive route additions and gateway changes go
// to the router as one AddRoutes call, all or none (a full table: one FIB
// bulk); everything else one change at a time. If the router refuses a
// step, Apply stops and undoes the steps already made, newest first, so the
// router ends where it started: a reload takes effect entirely or not at
// all (unless an undo fails too, which is reported and reflected in State).
//
// Deleting a route or neighbour that is already gone (removed through the
// API since) counts as done.
func Apply(r Router, from State, plan Plan) Result {
	res := Result{State: from.Clone()}
	done := Plan{}
	for i := 0; i < len(plan); {
		step := plan[i : i+stepLen(plan[i:])]
		if f := do(r, step); f != nil {
			res.Failed = f
			break
		}
		for _, c := range step {
			c.applyTo(res.State)
		}
		done = append(done, step...)
		i += len(step)
	}
	if res.Failed == nil {
		res.Applied = done
		return res
	}
	undo := make(Plan, len(done))
	for i, c := range done {
		undo[len(done)-1-i] = c.Inverse()
	}
	for i := 0; i < len(undo); {
		step := undo[i : i+stepLen(undo[i:])]
		f := do(r, step)
		for j, c := range step {
			orig := done[len(done)-1-i-j]
			if f != nil {
				res.RollbackFailed = append(res.RollbackFailed, Failure{Change: orig, Err: f.Err})
				res.Applied = append(res.Applied, orig)
				continue
			}
			c.applyTo(res.State)
			res.RolledBack = append(res.RolledBack, orig)
		}
		i += len(step)
	}
	return res
}

// stepLen is how many changes at the start of p go to the router as one
// step: a run of route additions and gateway changes, else one.
func stepLen(p Plan) int {
	n := 0
	for n < len(p) && (p[n].Kind == RouteAdded || p[n].Kind == RouteChanged) {
		n++
	}
	return max(n, 1)
}

// do makes one step: several routes in one call, or one change.
func do(r Router, step Plan) *Failure {
	c := step[0]
	var err error
	switch c.Kind {
	case RouteAdded, RouteChanged:
		routes := make([]rib.StaticRoute, len(step))
		for i, c := range step {
			routes[i] = rib.StaticRoute{Prefix: c.Prefix, Via: c.NewVia}
		}
		if err = r.AddRoutes(routes...); err != nil {
			return routeFailure(step, err)
		}
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
	if err != nil {
		return &Failure{Change: c, Err: err}
	}
	return nil
}

// routeFailure names the change of a step the router refused: its error's
// "routes[i]" is the step's i-th change, and the error names the change's
// own field ("via") instead.
func routeFailure(step Plan, err error) *Failure {
	fe, ok := field.Of(err)
	if !ok || len(step) == 1 {
		return &Failure{Change: step[0], Err: err}
	}
	rest, ok := strings.CutPrefix(fe.Field, "routes[")
	idx, rest, ok2 := strings.Cut(rest, "]")
	i, aerr := strconv.Atoi(idx)
	if !ok || !ok2 || aerr != nil || i < 0 || i >= len(step) {
		return &Failure{Change: step[0], Err: err}
	}
	fe.Field = strings.TrimPrefix(rest, ".")
	return &Failure{Change: step[i], Err: fe}
}
