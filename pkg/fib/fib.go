// Package fib turns port addresses, static routes and neighbours into what
// the fast path needs: FIB entries pointing into a next-hop table.
//
// Besides the routes an operator writes, it installs /32 entries for the
// router's own addresses (Local) and for the network and broadcast addresses
// of each connected subnet (Broadcast), so a single FIB lookup per packet
// answers both "is this for us?" and "where does it go?".
package fib

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
)

// Kind says what happens to packets matching an entry.
type Kind uint8

const (
	Forward    Kind = iota // neighbour MAC known: rewrite and send
	Unresolved             // egress port known, neighbour MAC not (yet)
	Local                  // one of the router's addresses
	Broadcast              // network or broadcast address of a connected subnet
)

func (k Kind) String() string {
	return [...]string{"forward", "unresolved", "local", "broadcast"}[k]
}

// Origin says where an entry came from, by precedence when two claim the
// same prefix: lower wins.
type Origin uint8

const (
	OriginLocal Origin = iota
	OriginBroadcast
	OriginNeighbor
	OriginStatic
	OriginConnected
)

func (o Origin) String() string {
	return [...]string{"local", "broadcast", "neighbor", "static", "connected"}[o]
}

// Interface is a port with its addresses (address + prefix length).
type Interface struct {
	Port      int
	Name      string
	Addresses []netip.Prefix
}

// Neighbor is a known IP -> MAC binding on a port.
type Neighbor struct {
	Addr netip.Addr
	MAC  net.HardwareAddr
	Port int
}

// Route is a static route through an on-link gateway.
type Route struct {
	Prefix netip.Prefix
	Via    netip.Addr
}

// NextHop is an entry of the next-hop table.
type NextHop struct {
	Kind Kind
	Port int
	MAC  net.HardwareAddr // Forward only
	// Unresolved only: the gateway the slow path resolves; invalid for a
	// connected subnet, where it resolves the packet's destination.
	Via netip.Addr
}

// Key identifies equal next hops (they share one table entry).
func (h NextHop) Key() string { return fmt.Sprintf("%d/%d/%s/%s", h.Kind, h.Port, h.MAC, h.Via) }

// Entry is one FIB prefix and the index of its next hop.
type Entry struct {
	Prefix  netip.Prefix
	NextHop int
	Origin  Origin
	Via     netip.Addr // static routes: the gateway
}

// Table is a built FIB.
type Table struct {
	Entries  []Entry   // sorted by prefix length, then address
	NextHops []NextHop // index 0.. (the FIB stores index + 1)
}

type builder struct {
	t       Table
	hopIdx  map[string]int
	byPfx   map[netip.Prefix]int // prefix -> index in t.Entries
	ifaces  []Interface
	neighMC map[netip.Addr]Neighbor
}

// Build computes the FIB. It fails on a gateway that is on no connected
// subnet (config validation reports that first, with the field name).
func Build(ifaces []Interface, routes []Route, neighbors []Neighbor) (*Table, error) {
	b := &builder{hopIdx: map[string]int{}, byPfx: map[netip.Prefix]int{}, ifaces: ifaces,
		neighMC: map[netip.Addr]Neighbor{}}
	for _, ifc := range ifaces {
		for _, a := range ifc.Addresses {
			b.add(a.Masked(), NextHop{Kind: Unresolved, Port: ifc.Port}, OriginConnected, netip.Addr{})
			b.add(netip.PrefixFrom(a.Addr(), 32), NextHop{Kind: Local, Port: ifc.Port}, OriginLocal, netip.Addr{})
			if a.Bits() <= 30 {
				bc := NextHop{Kind: Broadcast, Port: ifc.Port}
				b.add(netip.PrefixFrom(a.Masked().Addr(), 32), bc, OriginBroadcast, netip.Addr{})
				b.add(netip.PrefixFrom(lastAddr(a), 32), bc, OriginBroadcast, netip.Addr{})
			}
		}
	}
	for _, n := range neighbors {
		b.neighMC[n.Addr] = n
		b.add(netip.PrefixFrom(n.Addr, 32), NextHop{Kind: Forward, Port: n.Port, MAC: n.MAC}, OriginNeighbor, netip.Addr{})
	}
	for _, r := range routes {
		port, ok := OnLink(b.ifaces, r.Via)
		if !ok {
			return nil, fmt.Errorf("route %s via %s: gateway is on no connected subnet", r.Prefix, r.Via)
		}
		hop := NextHop{Kind: Unresolved, Port: port, Via: r.Via}
		if n, ok := b.neighMC[r.Via]; ok && n.Port == port {
			hop = NextHop{Kind: Forward, Port: port, MAC: n.MAC}
		}
		b.add(r.Prefix.Masked(), hop, OriginStatic, r.Via)
	}
	sort.Slice(b.t.Entries, func(i, j int) bool {
		a, c := b.t.Entries[i].Prefix, b.t.Entries[j].Prefix
		if a.Bits() != c.Bits() {
			return a.Bits() < c.Bits()
		}
		return a.Addr().Less(c.Addr())
	})
	return &b.t, nil
}

// add keeps, for each prefix, the entry of highest precedence.
func (b *builder) add(p netip.Prefix, hop NextHop, o Origin, via netip.Addr) {
	if i, ok := b.byPfx[p]; ok && b.t.Entries[i].Origin <= o {
		return
	}
	idx, ok := b.hopIdx[hop.Key()]
	if !ok {
		idx = len(b.t.NextHops)
		b.t.NextHops = append(b.t.NextHops, hop)
		b.hopIdx[hop.Key()] = idx
	}
	e := Entry{Prefix: p, NextHop: idx, Origin: o, Via: via}
	if i, ok := b.byPfx[p]; ok {
		b.t.Entries[i] = e
		return
	}
	b.byPfx[p] = len(b.t.Entries)
	b.t.Entries = append(b.t.Entries, e)
}

// OnLink finds the port whose connected subnet holds a (longest match).
func OnLink(ifaces []Interface, a netip.Addr) (int, bool) {
	best, port := -1, 0
	for _, ifc := range ifaces {
		for _, p := range ifc.Addresses {
			if p.Masked().Contains(a) && p.Bits() > best {
				best, port = p.Bits(), ifc.Port
			}
		}
	}
	return port, best >= 0
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Lookup is a longest-prefix match in Go, for tests and explanations; the
// fast path uses rte_fib.
func (t *Table) Lookup(a netip.Addr) (Entry, NextHop, bool) {
	best := -1
	for i, e := range t.Entries {
		if e.Prefix.Contains(a) && (best < 0 || e.Prefix.Bits() > t.Entries[best].Prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return Entry{}, NextHop{}, false
	}
	e := t.Entries[best]
	return e, t.NextHops[e.NextHop], true
}
