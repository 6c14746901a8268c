package router

import (
	"errors"
	"slices"
	"time"

	"github.com/steer-router/steer/cgo/dataplane"
)

// rxLcores are the lcores that poll distributor queues, in map order.
func (r *Router) rxLcores() []*dataplane.Lcore {
	var out []*dataplane.Lcore
	for _, l := range r.dp.Lcores() {
		if l.Distributes() {
			out = append(out, l)
		}
	}
	return out
}

// RETA is the distributor's indirection table as the first RX lcore
// applies it (bucket -> worker, fwd.RETALocal: the RX lcore itself); nil
// without a distributor or once stopping.
func (r *Router) RETA() []int {
	var out []int
	r.whileRunning(func() error { out = r.reta(); return nil }) //nolint:errcheck // nil when stopping
	return out
}

func (r *Router) reta() []int {
	if ls := r.rxLcores(); len(ls) > 0 {
		return ls[0].AppliedRETA()
	}
	return nil
}

// retaApplyWait bounds how long SetRETA waits for the lcores to follow.
const retaApplyWait = time.Second

// SetRETA sets every RX lcore's RETA (bucket -> worker, or fwd.RETALocal)
// while forwarding, and pins it: the balancer leaves the distributor alone
// until ReleaseRETA. A moved bucket follows only once its old owner has
// sent what it holds of it, so flows keep order; SetRETA returns once
// every RX lcore follows the new table (microseconds: the old owners
// publish at every TX flush), or after retaApplyWait with moves still
// pending, which complete as the old owners drain (RETA shows the table
// in force).
func (r *Router) SetRETA(reta []int) error {
	if err := r.setRETA(reta); err != nil {
		return err
	}
	for deadline := time.Now().Add(retaApplyWait); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		following := true
		r.whileRunning(func() error { //nolint:errcheck // stopping: nothing left to wait for
			for _, l := range r.rxLcores() {
				following = following && slices.Equal(l.AppliedRETA(), l.WantedRETA())
			}
			return nil
		})
		if following {
			return nil
		}
	}
	return nil
}

func (r *Router) setRETA(reta []int) error {
	return r.whileRunning(func() error {
		ls := r.rxLcores()
		if len(ls) == 0 {
			return errors.New("no distributor: no port uses steering distributor")
		}
		for _, l := range ls {
			if err := l.SetRETA(reta); err != nil {
				return err
			}
		}
		r.bal.pin(true)
		return nil
	})
}

// ReleaseRETA gives the RETA back to the balancer (after SetRETA).
func (r *Router) ReleaseRETA() error {
	return r.whileRunning(func() error {
		if len(r.rxLcores()) == 0 {
			return errors.New("no distributor: no port uses steering distributor")
		}
		r.bal.pin(false)
		return nil
	})
}
