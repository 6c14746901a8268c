package dataplane

/*
#include <stdlib.h>
#include "dataplane.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
)

// The Dataplane is the FIB the route table (pkg/rib) writes: next hops
// (AddNextHop, ReleaseNextHop) and prefixes pointing at them (Set,
// SetBulk, Delete). Lookups in the lcores never lock; this file keeps them
// safe with two rules:
//
//   - a next-hop entry is written (and fenced) before any FIB entry points
//     at it, and rewritten only after an RCU grace period once none does;
//   - every FIB change waits for the grace period of the change before it
//     (fibChange).

// NoRoute is the FIB value of "no prefix matches": the table's default.
// A FIB holds next-hop index + 1, and 0 is never a next hop (struct
// steer_fib).
const NoRoute = C.STEER_FIB_NO_ROUTE

// nextHops tracks the C next-hop table: the next never-used index and the
// released ones waiting out their grace period (RCU QSBR tokens), oldest
// first.
type nextHops struct {
	count int
	free  []freedHop
}

type freedHop struct {
	idx   uint32
	token uint64
}

// SetFIB installs the FIB: an rte_fib whose default is NoRoute. Before
// Launch; entries come through Set, SetBulk and Delete.
func (d *Dataplane) SetFIB(t *fib.FIB) error {
	if d.launched {
		return errors.New("dataplane: SetFIB after Launch")
	}
	if t.Default() != NoRoute {
		return fmt.Errorf("dataplane: FIB default %d, want %d (NoRoute)", t.Default(), uint64(NoRoute))
	}
	d.fib = t
	d.dp.fib.fib = (*C.struct_rte_fib)(t.Ptr())
	return nil
}

// fibChange runs one change of the FIB (any number of rte_fib adds and
// deletes) inside the grace-period scheme that keeps lock-free readers
// safe, and is the only way the FIB is written:
//
// rte_fib (DPDK 22.11) frees a tbl8 group the moment a change makes it
// uniform (after writing the tbl24 entry, it zeroes the group) and a later
// change may allocate it again. A lookup that read the old tbl24 entry may
// still be about to read the group: zeroes are harmless (value 0 is never a
// next hop, the fast path sends the packet to the slow path to look again),
// but a reused group would give it some other prefix's next hop. So every
// change takes a QSBR token when it is done (rte_rcu_qsbr_start) and the
// next change first waits until every lcore has reported a quiescent state
// after it (rte_rcu_qsbr_check, blocking). Lcores report once per loop, so
// the wait is microseconds while they run; before Launch and after Stop no
// reader is online and it returns at once.
//
// Within one change nothing waits: a bulk that recycles a group with one
// prefix and allocates it again for a later one can, while lcores run, give
// a lookup racing both the later prefix's next hop (a packet misrouted, no
// memory unsafety). Bulks are for loads, where that is acceptable.
func (d *Dataplane) fibChange(change func() error) error {
	if d.fib == nil {
		return errors.New("dataplane: no FIB (SetFIB)")
	}
	if d.fibPending {
		C.rte_rcu_qsbr_check(d.dp.qsv, C.uint64_t(d.fibToken), true)
	}
	err := change() // even a failed change may have written part of it
	d.fibToken = uint64(C.rte_rcu_qsbr_start(d.dp.qsv))
	d.fibPending = true
	return err
}

func fibValue(p netip.Prefix, idx uint32) (uint64, error) {
	if idx >= C.STEER_MAX_NEXTHOPS {
		return 0, fmt.Errorf("dataplane: %s -> next hop %d: out of range", p, idx)
	}
	return uint64(idx) + 1, nil
}

// Set points prefix p at next-hop index idx, adding or replacing it.
func (d *Dataplane) Set(p netip.Prefix, idx uint32) error {
	v, err := fibValue(p, idx)
	if err != nil {
		return err
	}
	return d.fibChange(func() error { return d.fib.Add(p, v) })
}

// SetBulk points ps[i] at idx[i] in one change (one grace period), for
// whole tables. It stops at the first failure; the prefixes set before it
// stay.
func (d *Dataplane) SetBulk(ps []netip.Prefix, idx []uint32) error {
	if len(ps) != len(idx) {
		return fmt.Errorf("dataplane: %d prefixes, %d next hops", len(ps), len(idx))
	}
	vals := make([]uint64, len(idx))
	for i, x := range idx {
		v, err := fibValue(ps[i], x)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return d.fibChange(func() error { return d.fib.AddBulk(ps, vals) })
}

// Delete removes prefix p from the FIB.
func (d *Dataplane) Delete(p netip.Prefix) error {
	return d.fibChange(func() error { return d.fib.Delete(p) })
}

// AddNextHop writes h at a free index of the next-hop table and returns the
// index, ready for FIB entries to point at. A Forward hop leaves from its
// port's MAC (SetPort).
func (d *Dataplane) AddNextHop(h fwd.NextHop) (uint32, error) {
	var dst, src *C.uint8_t
	switch {
	case h.Kind == fwd.Unresolved && h.Via.IsValid():
		// The gateway rides in the entry for anyone reading the table;
		// the fast path only needs the kind and port.
		via := h.Via.As4()
		cd := C.CBytes(via[:])
		defer C.free(cd)
		dst = (*C.uint8_t)(cd)
	case h.Kind == fwd.Forward:
		srcMAC, ok := d.portMAC[h.Port]
		if !ok {
			return 0, fmt.Errorf("dataplane: next hop on port %d, which is not set up", h.Port)
		}
		cd, cs := C.CBytes(h.MAC[:]), C.CBytes(srcMAC)
		defer C.free(cd)
		defer C.free(cs)
		dst, src = (*C.uint8_t)(cd), (*C.uint8_t)(cs)
	}
	idx, err := d.freeHop()
	if err != nil {
		return 0, err
	}
	C.steer_nh_set(d.dp, C.uint32_t(idx), C.uint8_t(h.Kind), C.uint16_t(h.Port), dst, src)
	return idx, nil
}

// freeHop is the oldest released index whose grace period is over, or the
// next unused one, or (when the table is full but entries are on their way
// back) the oldest released index once its grace period is over: lcores
// report every loop, so that wait is microseconds.
func (d *Dataplane) freeHop() (uint32, error) {
	n := &d.nh
	if len(n.free) > 0 {
		wait := n.count >= int(d.dp.fib.nh_cap)
		if C.rte_rcu_qsbr_check(d.dp.qsv, C.uint64_t(n.free[0].token), C.bool(wait)) == 1 {
			idx := n.free[0].idx
			n.free = n.free[1:]
			return idx, nil
		}
	}
	if n.count >= int(d.dp.fib.nh_cap) {
		return 0, fmt.Errorf("dataplane: next-hop table full (%d entries)", d.dp.fib.nh_cap)
	}
	n.count++
	return uint32(n.count - 1), nil
}

// ReleaseNextHop says no FIB entry points at idx any more. The index is
// rewritten only after every lcore has reported a quiescent state, so a
// lookup that read idx before the FIB change still sees the old entry.
func (d *Dataplane) ReleaseNextHop(idx uint32) {
	token := C.rte_rcu_qsbr_start(d.dp.qsv)
	d.nh.free = append(d.nh.free, freedHop{idx: idx, token: uint64(token)})
}

// Lookup is what the fast path's FIB gives dst now, read back from the C
// tables: the next hop (MACs and kind as the lcores see them). For
// troubleshooting and for tests that hold the FIB to the route table; not
// safe against a concurrent change (pkg/rib's lock serialises them).
func (d *Dataplane) Lookup(dst netip.Addr) (fwd.NextHop, bool) {
	v, ok := d.fib.Lookup(dst)
	if !ok || v == C.STEER_FIB_RECYCLED || v-1 >= uint64(d.dp.fib.nh_cap) {
		return fwd.NextHop{}, false
	}
	e := unsafe.Slice(d.dp.fib.nh, d.dp.fib.nh_cap)[v-1]
	h := fwd.NextHop{Kind: fwd.NextHopKind(e.kind), Port: uint16(e.port)}
	dstMAC := *(*[6]byte)(unsafe.Pointer(&e.dst))
	switch h.Kind {
	case fwd.Forward:
		h.MAC = inet.MAC(dstMAC)
	case fwd.Unresolved:
		if via := netip.AddrFrom4([4]byte(dstMAC[:4])); via != netip.IPv4Unspecified() {
			h.Via = via
		}
	}
	return h, true
}
