package rib

// Writing the FIB: next hops with reference counts, and sync, which makes
// the FIB's entries agree with the table's claims (one change per prefix,
// or one bulk for loads), undone when the FIB refuses.

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/steer-router/steer/pkg/fwd"
)

// ref finds or writes h in the FIB's next-hop table and takes a reference.
func (t *Table) ref(h fwd.NextHop) (uint32, error) {
	idx, ok := t.hops[h]
	if !ok {
		var err error
		if idx, err = t.fib.AddNextHop(h); err != nil {
			return 0, err
		}
		t.hops[h] = idx
		t.hopOf[idx] = h
	}
	t.refs[idx]++
	return idx, nil
}

// unref drops a reference; the last one gives the index back to the FIB.
func (t *Table) unref(idx uint32) {
	if t.refs[idx]--; t.refs[idx] > 0 {
		return
	}
	delete(t.refs, idx)
	delete(t.hops, t.hopOf[idx])
	delete(t.hopOf, idx)
	t.fib.ReleaseNextHop(idx)
}

// write is one prefix's FIB change in a sync.
type write struct {
	k   key
	d   dest   // as it was when the change was planned
	idx uint32 // with a reference taken
	del bool
}

// sync makes the FIB agree with the claims of keys (repeats are harmless).
// With bulk, bulkMin or more new entries go as one FIB change (for loads:
// within one change no grace period separates the adds). On an error the
// keys not yet written keep their old entries and the RIB knows what the
// FIB holds, except after a failed bulk (errBulk), whose keys the caller
// repairs.
func (t *Table) sync(keys []key, bulk bool) error {
	ws := make([]write, 0, len(keys))
	added := 0
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	// Routes through one gateway share its next hop: found once per sync.
	viaIdx := map[ip4]uint32{}
	for _, k := range keys {
		d := t.dests[k]
		var idx uint32
		if s, _ := best(d.sources); d.sources != 0 && s == Static {
			var ok bool
			if idx, ok = viaIdx[d.via]; ok {
				t.refs[idx]++
			}
			if !ok {
				var err error
				if idx, err = t.ref(t.gatewayHop(d.via)); err != nil {
					t.dropRefs(ws)
					return err
				}
				viaIdx[d.via] = idx
			}
		} else {
			h, _, ok := t.nextHop(k, d)
			if !ok {
				if d.installed {
					ws = append(ws, write{k: k, d: d, del: true})
				}
				continue
			}
			var err error
			if idx, err = t.ref(h); err != nil {
				t.dropRefs(ws)
				return err
			}
		}
		if d.installed && d.nh == idx {
			t.unref(idx)
			continue
		}
		if !d.installed {
			added++
		}
		ws = append(ws, write{k: k, d: d, idx: idx})
	}
	if t.entries+added > t.maxEntries {
		t.dropRefs(ws)
		return fmt.Errorf("%w: %d entries, fib.max_routes is %d", ErrFull, t.entries+added, t.maxEntries)
	}
	sets := 0
	for _, w := range ws {
		if !w.del {
			sets++
		}
	}
	if bulk && sets >= bulkMin {
		return t.writeBulk(ws, sets)
	}
	for i, w := range ws {
		if err := t.write(w); err != nil {
			t.dropRefs(ws[i:])
			return err
		}
	}
	return nil
}

// dropRefs gives back the references taken for writes not made.
func (t *Table) dropRefs(ws []write) {
	for _, w := range ws {
		if !w.del {
			t.unref(w.idx)
		}
	}
}

// write makes one change and records it.
func (t *Table) write(w write) error {
	d := w.d
	p := w.k.prefix()
	if w.del {
		if err := t.fib.Delete(p); err != nil {
			return err
		}
		t.uninstalled(w.k, &d)
	} else {
		if err := t.fib.Set(p, w.idx); err != nil {
			return fmt.Errorf("%w: %v", ErrFull, err)
		}
		t.installed(w.k, &d, w.idx)
	}
	t.store(w.k, d)
	return nil
}

// writeBulk makes the deletes one by one and the sets (n of them) as one
// bulk.
func (t *Table) writeBulk(ws []write, n int) error {
	ps := make([]netip.Prefix, 0, n)
	idx := make([]uint32, 0, n)
	sets := make([]write, 0, n)
	for i, w := range ws {
		if w.del {
			if err := t.write(w); err != nil {
				t.dropRefs(ws[i:])
				return err
			}
			continue
		}
		ps = append(ps, w.k.prefix())
		idx = append(idx, w.idx)
		sets = append(sets, w)
	}
	if err := t.fib.SetBulk(ps, idx); err != nil {
		// Some entries may point at the new next hops: their references
		// go only once the caller has repaired the entries (restore).
		return bulkError{fmt.Errorf("%w: %v", ErrFull, err), sets}
	}
	for _, w := range sets {
		t.installed(w.k, &w.d, w.idx)
		t.dests[w.k] = w.d
	}
	return nil
}

func (t *Table) installed(k key, d *dest, idx uint32) {
	if d.installed {
		t.unref(d.nh)
	} else {
		t.entries++
		t.lens[k&0xff]++
	}
	d.installed, d.nh = true, idx
}

func (t *Table) uninstalled(k key, d *dest) {
	t.unref(d.nh)
	t.entries--
	t.lens[k&0xff]--
	d.installed, d.nh = false, 0
}

// store keeps d, or forgets a prefix nobody claims and the FIB does not have.
func (t *Table) store(k key, d dest) {
	if d.sources == 0 && !d.installed {
		delete(t.dests, k)
		return
	}
	t.dests[k] = d
}

// bulkError: a bulk failed part way, its keys' FIB entries are unknown.
type bulkError struct {
	error
	sets []write // their references are still held
}

func (e bulkError) Unwrap() error { return e.error }

// restore brings the FIB back to the RIB's (undone) claims of keys after
// sync failed with err. Best effort: it is undoing a failure.
func (t *Table) restore(keys []key, err error) {
	var be bulkError
	if errors.As(err, &be) {
		t.repair(keys)
		t.dropRefs(be.sets)
		return
	}
	t.sync(keys, false) //nolint:errcheck // back to entries the FIB held a moment ago
}

// repair rewrites the FIB entries of keys as the RIB has them, after a
// failed bulk left them unknown.
func (t *Table) repair(keys []key) {
	for _, k := range keys {
		d := t.dests[k]
		if d.installed {
			t.fib.Set(k.prefix(), d.nh) //nolint:errcheck // it held this entry before
		} else {
			t.fib.Delete(k.prefix()) //nolint:errcheck // -ENOENT: the bulk never added it
		}
	}
}
