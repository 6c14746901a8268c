// Package rib is steer's one route table: every source of routes enters it,
// one precedence rule picks what is installed, and it writes the data
// plane's FIB through a small interface (FIB), so it is tested without
// DPDK.
//
// Sources, and their administrative distance (lower wins when several
// claim the same prefix; equal distances go to the source listed first):
//
//	local       0  one of the router's addresses (/32): the slow path answers
//	broadcast   0  a connected subnet's network or broadcast address (/32)
//	connected   0  a port's subnet: its hosts are resolved by ARP
//	static      1  routes from the config, SIGHUP reloads and the HTTP API
//	neighbor  250  the /32 of a resolved on-link neighbour
//
// The first three are the router's own entries. They are made from the
// ports' addresses when the table is created and no route operation can
// remove or shadow them: a static route for one of them is refused. A
// neighbour's /32 is how a resolved host on a connected subnet is forwarded
// in the fast path (the connected entry itself sends to the slow path for
// ARP); it is not a route an operator wrote, so any route for the same /32
// wins over it, as in Linux and VPP, where a neighbour is no route at all.
// The values follow FRR's (connected 0, static 1, eBGP 20, OSPF 110, iBGP
// 200), so routes from a routing daemon can take their own distance later.
//
// Static routes name a gateway on a connected subnet. Their FIB next hop is
// Forward to the gateway's MAC once the gateway is a usable neighbour
// (NeighborUp), Unresolved (the slow path resolves it) otherwise.
//
// Whatever order routes and neighbours arrive in, the same set of them
// gives the same FIB: the entry of a prefix is always computed from every
// source's current claim, never patched.
package rib

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
)

// Source says where a route comes from.
type Source uint8

const (
	Local     Source = iota // one of the router's addresses
	Broadcast               // a connected subnet's network or broadcast address
	Connected               // a port's subnet
	Static                  // config, reload, API
	Neighbor                // a resolved on-link neighbour's /32
	numSources
)

var sourceNames = [numSources]string{"local", "broadcast", "connected", "static", "neighbor"}

func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText writes the source's name.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a source's name.
func (s *Source) UnmarshalText(b []byte) error {
	for i, n := range sourceNames {
		if n == string(b) {
			*s = Source(i)
			return nil
		}
	}
	return fmt.Errorf("unknown route source %q", b)
}

// Distance is the source's administrative distance.
func (s Source) Distance() int { return int(distance[s]) }

var distance = [numSources]uint8{Local: 0, Broadcast: 0, Connected: 0, Static: 1, Neighbor: 250}

// own are the sources of the router's own entries.
const own = 1<<Local | 1<<Broadcast | 1<<Connected

// FIB is the data plane's forwarding table as the RIB writes it: a table of
// next hops and prefixes pointing at them. cgo/dataplane implements it
// (with the grace periods its lock-free readers need).
type FIB interface {
	// AddNextHop writes h at a free index of the next-hop table.
	AddNextHop(h fwd.NextHop) (uint32, error)
	// ReleaseNextHop says no entry points at idx any more.
	ReleaseNextHop(idx uint32)
	// Set points prefix p at next hop idx, adding or replacing it.
	Set(p netip.Prefix, idx uint32) error
	// SetBulk is many Sets as one change, for loads.
	SetBulk(ps []netip.Prefix, idx []uint32) error
	// Delete removes prefix p.
	Delete(p netip.Prefix) error
}

// Route is one prefix as the table holds it: the source whose claim is
// installed, and what the fast path does with it.
type Route struct {
	Prefix  netip.Prefix `json:"prefix"`
	Source  Source       `json:"source"`
	Via     netip.Addr   `json:"via,omitzero"` // static: the gateway
	NextHop fwd.NextHop  `json:"next_hop"`
}

// StaticRoute is a static route: a prefix through a gateway.
type StaticRoute struct {
	Prefix netip.Prefix
	Via    netip.Addr
}

// Errors.
var (
	ErrNoRoute = errors.New("no such static route")
	ErrFull    = errors.New("FIB full")
)

// bulkMin is the size from which a change is written as one FIB bulk (one
// grace period, sorted adds: for loads) instead of one change per prefix.
const bulkMin = 64

// Table is the RIB. Safe for concurrent use; one change at a time.
type Table struct {
	mu         sync.Mutex
	fib        FIB
	addrs      inet.Addresses
	maxEntries int

	dests map[key]dest
	neigh map[ip4]neighbor         // usable neighbours
	vias  map[ip4]map[key]struct{} // gateway -> static prefixes through it

	hops  map[fwd.NextHop]uint32 // next hops in the FIB's table -> index
	hopOf map[uint32]fwd.NextHop
	refs  map[uint32]int // FIB entries per next-hop index

	entries int     // prefixes in the FIB
	lens    [33]int // ... by length, so Lookup tries only lengths in use
	statics int
}

// dest is one prefix: who claims it and what the FIB holds for it. No
// pointers: a million of them cost the garbage collector nothing.
type dest struct {
	sources   uint8  // 1 << Source for every source that claims it
	port      uint16 // own entries: their port
	installed bool   // the FIB has it, pointing at nh
	via       ip4    // static: the gateway
	nh        uint32
}

type neighbor struct {
	port uint16
	mac  inet.MAC
}

// key is an IPv4 prefix as a map key: address << 8 | length.
type key uint64

func keyOf(p netip.Prefix) key {
	a := p.Masked().Addr().As4()
	return key(uint64(a[0])<<32 | uint64(a[1])<<24 | uint64(a[2])<<16 | uint64(a[3])<<8 | uint64(p.Bits()))
}

func (k key) prefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(k >> 32), byte(k >> 24), byte(k >> 16), byte(k >> 8)}), int(k&0xff))
}

func hostKey(a netip.Addr) key { return keyOf(netip.PrefixFrom(a, 32)) }

// ip4 is an IPv4 address as a pointer-free value.
type ip4 uint32

func ip4Of(a netip.Addr) ip4 {
	b := a.As4()
	return ip4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

func (a ip4) addr() netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// New makes the table for the router's addresses and installs its own
// entries: every address (/32, local), every subnet (connected) and, for
// subnets that have them, their network and broadcast addresses (/32,
// broadcast). maxEntries bounds the prefixes in the FIB.
func New(fib FIB, addrs inet.Addresses, maxEntries int) (*Table, error) {
	t := &Table{fib: fib, addrs: addrs, maxEntries: maxEntries,
		dests: map[key]dest{}, neigh: map[ip4]neighbor{}, vias: map[ip4]map[key]struct{}{},
		hops: map[fwd.NextHop]uint32{}, hopOf: map[uint32]fwd.NextHop{}, refs: map[uint32]int{}}
	var keys []key
	claim := func(p netip.Prefix, s Source, port int) {
		k := keyOf(p)
		d := t.dests[k]
		if d.sources&own == 0 || s < ownSource(d.sources) {
			d.port = uint16(port)
		}
		d.sources |= 1 << s
		t.dests[k] = d
		keys = append(keys, k)
	}
	for _, a := range addrs {
		claim(a.Prefix.Masked(), Connected, a.Port)
		claim(netip.PrefixFrom(a.Prefix.Addr(), 32), Local, a.Port)
		if inet.HasBroadcast(a.Prefix) {
			claim(netip.PrefixFrom(a.Prefix.Masked().Addr(), 32), Broadcast, a.Port)
			claim(netip.PrefixFrom(inet.Last(a.Prefix), 32), Broadcast, a.Port)
		}
	}
	if err := t.sync(keys, true); err != nil {
		return nil, err
	}
	return t, nil
}

// ownSource is the best of the own sources in a claim set.
func ownSource(sources uint8) Source {
	for s := Local; s <= Connected; s++ {
		if sources&(1<<s) != 0 {
			return s
		}
	}
	return numSources
}

// best is the source whose claim is installed: the lowest distance, then
// the first listed.
func best(sources uint8) (Source, bool) {
	b, found := Source(0), false
	for s := Local; s < numSources; s++ {
		if sources&(1<<s) != 0 && (!found || distance[s] < distance[b]) {
			b, found = s, true
		}
	}
	return b, found
}

// nextHop is what the FIB should hold for a prefix, from its best claim.
func (t *Table) nextHop(k key, d dest) (fwd.NextHop, Source, bool) {
	s, ok := best(d.sources)
	if !ok {
		return fwd.NextHop{}, 0, false
	}
	switch s {
	case Local:
		return fwd.NextHop{Kind: fwd.Local, Port: d.port}, s, true
	case Broadcast:
		return fwd.NextHop{Kind: fwd.Broadcast, Port: d.port}, s, true
	case Connected:
		return fwd.NextHop{Kind: fwd.Unresolved, Port: d.port}, s, true
	case Static:
		return t.gatewayHop(d.via), s, true
	default: // Neighbor
		n := t.neigh[ip4(k>>8)]
		return fwd.NextHop{Kind: fwd.Forward, Port: n.port, MAC: n.mac}, s, true
	}
}

// gatewayHop is where a route through gateway via sends: to its MAC once it
// is a usable neighbour on its subnet's port, else to the slow path to
// resolve it.
func (t *Table) gatewayHop(via ip4) fwd.NextHop {
	a := via.addr()
	port, _ := t.addrs.OnLink(a)
	if n, ok := t.neigh[via]; ok && int(n.port) == port {
		return fwd.NextHop{Kind: fwd.Forward, Port: n.port, MAC: n.mac}
	}
	return fwd.NextHop{Kind: fwd.Unresolved, Port: uint16(port), Via: a}
}

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

// Lookup is the longest match for a in what the FIB holds, as the fast
// path would find it.
func (t *Table) Lookup(a netip.Addr) (Route, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for bits := 32; bits >= 0; bits-- {
		if t.lens[bits] == 0 {
			continue
		}
		k := keyOf(netip.PrefixFrom(a, bits))
		if d, ok := t.dests[k]; ok && d.installed {
			return t.route(k, d), true
		}
	}
	return Route{}, false
}

func (t *Table) route(k key, d dest) Route {
	h, s, _ := t.nextHop(k, d)
	r := Route{Prefix: k.prefix(), Source: s, NextHop: h}
	if s == Static {
		r.Via = d.via.addr()
	}
	return r
}

// Routes lists the static routes or, with all, every entry the FIB holds
// (own entries, neighbours' /32s), sorted by address then length.
func (t *Table) Routes(all bool) []Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Route
	for k, d := range t.dests {
		switch {
		case all && d.installed:
			out = append(out, t.route(k, d))
		case !all && d.sources&(1<<Static) != 0:
			out = append(out, Route{Prefix: k.prefix(), Source: Static, Via: d.via.addr(), NextHop: t.gatewayHop(d.via)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Prefix.Addr() != out[j].Prefix.Addr() {
			return out[i].Prefix.Addr().Less(out[j].Prefix.Addr())
		}
		return out[i].Prefix.Bits() < out[j].Prefix.Bits()
	})
	return out
}

// Stats sizes the table.
type Stats struct {
	Entries   int `json:"entries"`   // prefixes in the FIB, own entries included
	NextHops  int `json:"next_hops"` // next-hop entries in use
	Routes    int `json:"routes"`    // static routes
	Neighbors int `json:"neighbors"` // usable neighbours
}

func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{Entries: t.entries, NextHops: len(t.hopOf), Routes: t.statics, Neighbors: len(t.neigh)}
}

// checkPrefix validates a static route's prefix: canonical IPv4, and not
// one of the router's own. Errors name the field.
func (t *Table) checkPrefix(p netip.Prefix) error {
	switch {
	case !p.IsValid() || !p.Addr().Is4():
		return field.Errorf("prefix", p.String(), "not an IPv4 prefix")
	case p != p.Masked():
		return field.Errorf("prefix", p.String(), "host bits set; did you mean %q?", p.Masked().String())
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

// NeighborUp says ip is usable on port with mac (or its MAC changed): its
// /32 and every static route through it forward in the fast path.
func (t *Table) NeighborUp(ip netip.Addr, port uint16, mac inet.MAC) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, err := t.addrs.Neighbor(ip, int(port)); err != nil || p != int(port) {
		return fmt.Errorf("neighbour %s on port %d: %v", ip, port, err)
	}
	t.neigh[ip4Of(ip)] = neighbor{port: port, mac: mac}
	k := hostKey(ip)
	d := t.dests[k]
	d.sources |= 1 << Neighbor
	t.dests[k] = d
	return t.sync(t.affected(ip), false)
}

// NeighborDown says ip is no longer usable: its traffic goes back to the
// slow path, which resolves it again.
func (t *Table) NeighborDown(ip netip.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.neigh[ip4Of(ip)]; !ok {
		return nil
	}
	delete(t.neigh, ip4Of(ip))
	k := hostKey(ip)
	d := t.dests[k]
	d.sources &^= 1 << Neighbor
	t.store(k, d)
	return t.sync(t.affected(ip), false)
}

// affected are the prefixes whose entry depends on neighbour ip: its /32
// and the static routes through it.
func (t *Table) affected(ip netip.Addr) []key {
	keys := []key{hostKey(ip)}
	for k := range t.vias[ip4Of(ip)] {
		keys = append(keys, k)
	}
	return keys
}

// Addresses are the router's addresses the table was made for.
func (t *Table) Addresses() inet.Addresses { return t.addrs }
