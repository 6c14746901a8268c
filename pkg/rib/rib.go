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
	"sort"
	"sync"

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

// Addresses are the router's addresses the table was made for.
func (t *Table) Addresses() inet.Addresses { return t.addrs }
