// Package fib binds DPDK's rte_fib: an IPv4 longest-prefix-match FIB in the
// DIR24_8 layout (the same tbl24 + tbl8 lookup as rte_lpm) kept next to a
// RIB, a binary trie of the prefixes. Adds and deletes walk the trie,
// O(prefix length), instead of rte_lpm_add's scan of every rule of the same
// depth, so a full table loads in about a second.
//
// DPDK 22.11's rte_fib has no RCU integration: a delete (or an add that
// makes a tbl8 group uniform) frees the group and zeroes it at once, and a
// later add may reuse it. What readers need to stay safe is the caller's
// business; cgo/dataplane (fib.go) says how steer does it.
package fib

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <string.h>
#include <rte_fib.h>

static struct rte_fib *steer_fib_create(const char *name, int socket, int max_routes,
					uint32_t tbl8s, uint64_t def_nh) {
	struct rte_fib_conf c;
	memset(&c, 0, sizeof(c));
	c.type = RTE_FIB_DIR24_8;
	c.default_nh = def_nh;
	c.max_routes = max_routes;
	c.dir24_8.nh_sz = RTE_FIB_DIR24_8_4B;
	c.dir24_8.num_tbl8 = tbl8s;
	return rte_fib_create(name, socket, &c);
}

// Adds n prefixes in one cgo call; returns how many went in before an error
// (*rc < 0) or n.
static int steer_fib_add_bulk(struct rte_fib *f, const uint32_t *ip, const uint8_t *depth,
			      const uint64_t *nh, int n, int *rc) {
	*rc = 0;
	for (int i = 0; i < n; i++) {
		*rc = rte_fib_add(f, ip[i], depth[i], nh[i]);
		if (*rc < 0)
			return i;
	}
	return n;
}

*/
import "C"

import (
	"fmt"
	"net/netip"
	"slices"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// MaxNextHop is the largest next-hop value a FIB with 4-byte entries
// stores (one bit of each entry marks a tbl8 reference).
const MaxNextHop = 1<<31 - 1

// FIB is an IPv4 DIR24_8 table mapping prefixes to next-hop values; a
// lookup that matches nothing returns the table's default.
type FIB struct {
	f    *C.struct_rte_fib
	name string
	def  uint64
}

// New creates a table for up to maxRoutes prefixes, with tbl8s groups for
// the /24s that hold longer prefixes, returning def where nothing matches.
func New(name string, socket, maxRoutes, tbl8s int, def uint64) (*FIB, error) {
	on := fmt.Sprintf("%s, %d routes, %d tbl8s", name, maxRoutes, tbl8s)
	if def > MaxNextHop || maxRoutes < 1 || tbl8s < 1 {
		return nil, fmt.Errorf("rte_fib_create(%s, default %d): out of range (next hops 0..%d)", on, def, MaxNextHop)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	f := C.steer_fib_create(cs, C.int(socket), C.int(maxRoutes), C.uint32_t(tbl8s), C.uint64_t(def))
	if f == nil {
		return nil, rteerr.FromErrno("rte_fib_create", on)
	}
	return &FIB{f: f, name: name, def: def}, nil
}

// Ptr is the *struct rte_fib for the C fast path.
func (t *FIB) Ptr() unsafe.Pointer { return unsafe.Pointer(t.f) }

// Default is the value lookups return where no prefix matches.
func (t *FIB) Default() uint64 { return t.def }

func ip32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Add inserts a prefix or replaces its next hop.
func (t *FIB) Add(p netip.Prefix, nextHop uint64) error {
	if !p.Addr().Is4() || nextHop > MaxNextHop {
		return fmt.Errorf("rte_fib_add(%s -> %d): not an IPv4 prefix or next hop out of range", p, nextHop)
	}
	p = p.Masked()
	rc := C.rte_fib_add(t.f, C.uint32_t(ip32(p.Addr())), C.uint8_t(p.Bits()), C.uint64_t(nextHop))
	return rteerr.FromRC(int(rc), "rte_fib_add", fmt.Sprintf("%s -> %d", p, nextHop))
}

// AddBulk adds prefixes[i] -> nextHops[i], as if one by one in order (a
// prefix given twice keeps its last next hop), for loading whole tables.
// It adds them sorted by address, shorter prefixes first: consecutive adds
// then walk the same trie path and write neighbouring tbl24 entries, which
// makes a million random prefixes load about 8 times faster than in random
// order (cache misses in the trie dominate). It stops at the first failure
// and names that prefix; the prefixes added before it stay.
func (t *FIB) AddBulk(prefixes []netip.Prefix, nextHops []uint64) error {
	if len(prefixes) != len(nextHops) {
		return fmt.Errorf("rte_fib_add: %d prefixes, %d next hops", len(prefixes), len(nextHops))
	}
	if len(prefixes) >= 1<<24 {
		return fmt.Errorf("rte_fib_add: %d prefixes in one bulk, at most %d", len(prefixes), 1<<24-1)
	}
	// address << 32 | length << 24 | index: sorting the keys sorts by
	// address, then length, then input order (so duplicates keep theirs).
	keys := make([]uint64, len(prefixes))
	for i, p := range prefixes {
		if !p.Addr().Is4() || nextHops[i] > MaxNextHop {
			return fmt.Errorf("rte_fib_add(%s -> %d): not an IPv4 prefix or next hop out of range", p, nextHops[i])
		}
		p = p.Masked()
		keys[i] = uint64(ip32(p.Addr()))<<32 | uint64(p.Bits())<<24 | uint64(i)
	}
	slices.Sort(keys)
	const chunk = 1 << 16
	ips := make([]C.uint32_t, 0, min(chunk, len(keys)))
	depths := make([]C.uint8_t, 0, cap(ips))
	hops := make([]C.uint64_t, 0, cap(ips))
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		ips, depths, hops = ips[:0], depths[:0], hops[:0]
		for _, k := range keys[start:end] {
			ips = append(ips, C.uint32_t(k>>32))
			depths = append(depths, C.uint8_t(k>>24&0xff))
			hops = append(hops, C.uint64_t(nextHops[k&0xffffff]))
		}
		var rc C.int
		done := int(C.steer_fib_add_bulk(t.f, &ips[0], &depths[0], &hops[0], C.int(len(ips)), &rc))
		if rc < 0 {
			i := keys[start+done] & 0xffffff
			return rteerr.FromRC(int(rc), "rte_fib_add", fmt.Sprintf("%s -> %d", prefixes[i].Masked(), nextHops[i]))
		}
	}
	return nil
}

// Delete removes a prefix.
func (t *FIB) Delete(p netip.Prefix) error {
	p = p.Masked()
	rc := C.rte_fib_delete(t.f, C.uint32_t(ip32(p.Addr())), C.uint8_t(p.Bits()))
	return rteerr.FromRC(int(rc), "rte_fib_delete", p.String())
}

// Lookup returns the next hop of an address: the default when no prefix
// matches (ok false).
func (t *FIB) Lookup(a netip.Addr) (nextHop uint64, ok bool) {
	ip := C.uint32_t(ip32(a))
	var nh C.uint64_t
	C.rte_fib_lookup_bulk(t.f, &ip, &nh, 1)
	return uint64(nh), uint64(nh) != t.def
}

// Free releases the table.
func (t *FIB) Free() {
	if t.f != nil {
		C.rte_fib_free(t.f)
		t.f = nil
	}
}
