package rib

// Static routes: the config's, reloads' and the API's.

import (
	"fmt"
	"net/netip"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/inet"
)

// checkPrefix validates a static route's prefix: canonical IPv4, and not
// one of the router's own. Errors name the field.
func (t *Table) checkPrefix(p netip.Prefix) error {
	switch {
	case !p.IsValid() || !p.Addr().Is4():
		return field.Errorf("prefix", p.String(), "not an IPv4 prefix")
	case p != p.Masked():
		return field.Errorf("prefix", p.String(), "host bits set; did you mean %q?", p.Masked().String())
	}
	if why, dead := inet.Unroutable(p); dead {
		return field.Errorf("prefix", p.String(), "%s", why)
	}
	if why, claimed := t.addrs.Claimed(p); claimed {
		return field.Errorf("prefix", p.String(), "%s; steer routes it itself", why)
	}
	return nil
}

// checkVia validates a static route's gateway: another host on a connected
// subnet.
func (t *Table) checkVia(via netip.Addr) error {
	if !via.Is4() {
		return field.Errorf("via", via.String(), "not an IPv4 address")
	}
	if _, err := t.addrs.Neighbor(via, -1); err != nil {
		return field.Errorf("via", via.String(), "%v", err)
	}
	return nil
}

// AddStatic adds or replaces static routes: all of them or, if one is
// refused or the FIB is full, none. From bulkMin routes on they go to the
// FIB as one bulk. A prefix given twice keeps its last gateway.
func (t *Table) AddStatic(routes ...StaticRoute) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	viaOK := map[netip.Addr]bool{}
	for i, r := range routes {
		err := t.checkPrefix(r.Prefix)
		if err == nil && !viaOK[r.Via] {
			err = t.checkVia(r.Via)
		}
		if err != nil {
			if fe, ok := field.Of(err); ok && len(routes) > 1 {
				return fe.In(fmt.Sprintf("routes[%d]", i))
			}
			return err
		}
		viaOK[r.Via] = true
	}
	// What each prefix had before, to undo: restored newest first, so a
	// prefix given twice ends as it was before the first.
	type before struct {
		k   key
		had bool
		via ip4
	}
	old := make([]before, len(routes))
	keys := make([]key, len(routes))
	t.reserve(routes)
	for i, r := range routes {
		k := keyOf(r.Prefix)
		d := t.dests[k]
		old[i] = before{k: k, had: d.sources&(1<<Static) != 0, via: d.via}
		t.claimStatic(k, ip4Of(r.Via))
		keys[i] = k
	}
	if err := t.sync(keys, true); err != nil {
		for i := len(old) - 1; i >= 0; i-- {
			if b := old[i]; b.had {
				t.claimStatic(b.k, b.via)
			} else {
				t.unclaimStatic(b.k)
			}
		}
		t.restore(keys, err)
		return err
	}
	return nil
}

// reserve grows the maps a bulk of routes goes into once, instead of step
// by step as it fills them (a million routes: a third of the load time).
func (t *Table) reserve(routes []StaticRoute) {
	if len(routes) < bulkMin {
		return
	}
	t.dests = grown(t.dests, len(routes))
	perVia := map[ip4]int{}
	for _, r := range routes {
		perVia[ip4Of(r.Via)]++
	}
	for via, n := range perVia {
		m := t.vias[via]
		if m == nil {
			m = make(map[key]struct{}, n)
		}
		t.vias[via] = grown(m, n)
	}
}

// grown is m, or a copy of it with room for extra more keys when adding
// that many would make it grow several times.
func grown[K comparable, V any](m map[K]V, extra int) map[K]V {
	if extra <= len(m) {
		return m
	}
	out := make(map[K]V, len(m)+extra)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// claimStatic records a static route (replacing one for the same prefix).
func (t *Table) claimStatic(k key, via ip4) {
	d := t.dests[k]
	if d.sources&(1<<Static) != 0 {
		t.unlinkVia(d.via, k)
	} else {
		t.statics++
	}
	d.sources |= 1 << Static
	d.via = via
	t.dests[k] = d
	m := t.vias[via]
	if m == nil {
		m = map[key]struct{}{}
		t.vias[via] = m
	}
	m[k] = struct{}{}
}

func (t *Table) unclaimStatic(k key) {
	d := t.dests[k]
	if d.sources&(1<<Static) == 0 {
		return
	}
	t.unlinkVia(d.via, k)
	t.statics--
	d.sources &^= 1 << Static
	d.via = 0
	t.store(k, d)
}

func (t *Table) unlinkVia(via ip4, k key) {
	delete(t.vias[via], k)
	if len(t.vias[via]) == 0 {
		delete(t.vias, via)
	}
}

// DeleteStatic removes the static route for prefix p (ErrNoRoute when there
// is none). Own entries are no static routes, so they cannot be removed.
func (t *Table) DeleteStatic(p netip.Prefix) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !p.IsValid() || !p.Addr().Is4() {
		return field.Errorf("prefix", p.String(), "not an IPv4 prefix")
	}
	k := keyOf(p)
	d, ok := t.dests[k]
	if !ok || d.sources&(1<<Static) == 0 || p != p.Masked() {
		return field.Wrap("prefix", p.String(), ErrNoRoute)
	}
	via := d.via
	t.unclaimStatic(k)
	if err := t.sync([]key{k}, false); err != nil {
		t.claimStatic(k, via)
		t.restore([]key{k}, err)
		return err
	}
	return nil
}
