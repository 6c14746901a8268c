package fib

import (
	"net"
	"net/netip"
	"testing"
)

var (
	lanMAC  = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	wanMAC  = net.HardwareAddr{2, 0, 0, 0, 0, 3}
	ifaces  = []Interface{{Port: 0, Name: "lan", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}}, {Port: 1, Name: "wan", Addresses: []netip.Prefix{netip.MustParsePrefix("203.0.113.1/24")}}}
	neigh   = []Neighbor{{Addr: netip.MustParseAddr("10.0.0.2"), MAC: lanMAC, Port: 0}, {Addr: netip.MustParseAddr("203.0.113.2"), MAC: wanMAC, Port: 1}}
	statics = []Route{{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("203.0.113.2")}, {Prefix: netip.MustParsePrefix("192.0.2.0/24"), Via: netip.MustParseAddr("10.0.0.9")}}
)

func TestBuildLookup(t *testing.T) {
	tab, err := Build(ifaces, statics, neigh)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dst    string
		kind   Kind
		port   int
		mac    net.HardwareAddr
		origin Origin
	}{
		{"10.0.0.1", Local, 0, nil, OriginLocal},
		{"203.0.113.1", Local, 1, nil, OriginLocal},
		{"10.0.0.255", Broadcast, 0, nil, OriginBroadcast},
		{"10.0.0.0", Broadcast, 0, nil, OriginBroadcast},
		{"10.0.0.2", Forward, 0, lanMAC, OriginNeighbor},
		{"10.0.0.77", Unresolved, 0, nil, OriginConnected},
		{"198.51.100.200", Forward, 1, wanMAC, OriginStatic},
		{"192.0.2.5", Unresolved, 0, nil, OriginStatic}, // gateway without a neighbour entry
	}
	for _, c := range cases {
		e, h, ok := tab.Lookup(netip.MustParseAddr(c.dst))
		if !ok {
			t.Errorf("%s: no match", c.dst)
			continue
		}
		if h.Kind != c.kind || h.Port != c.port || h.MAC.String() != c.mac.String() || e.Origin != c.origin {
			t.Errorf("%s: got %v port %d mac %s origin %v; want %v port %d mac %s origin %v",
				c.dst, h.Kind, h.Port, h.MAC, e.Origin, c.kind, c.port, c.mac, c.origin)
		}
	}
	if _, _, ok := tab.Lookup(netip.MustParseAddr("8.8.8.8")); ok {
		t.Error("8.8.8.8 matched although there is no default route")
	}
}

func TestNextHopsAreShared(t *testing.T) {
	routes := append([]Route{{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Via: netip.MustParseAddr("203.0.113.2")}}, statics...)
	tab, err := Build(ifaces, routes, neigh)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := tab.Lookup(netip.MustParseAddr("198.18.1.1"))
	b, _, _ := tab.Lookup(netip.MustParseAddr("198.51.100.1"))
	if a.NextHop != b.NextHop {
		t.Errorf("two routes via one gateway use next hops %d and %d, want one shared", a.NextHop, b.NextHop)
	}
	seen := map[string]bool{}
	for _, h := range tab.NextHops {
		if seen[h.Key()] {
			t.Errorf("next hop %v appears twice", h)
		}
		seen[h.Key()] = true
	}
}

func TestPointToPointHasNoBroadcast(t *testing.T) {
	p2p := []Interface{{Port: 0, Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/31")}}}
	tab, err := Build(p2p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, h, _ := tab.Lookup(netip.MustParseAddr("192.0.2.1"))
	if h.Kind != Unresolved {
		t.Errorf("RFC 3021 /31 peer is %v, want unresolved (a host, not a broadcast)", h.Kind)
	}
	_, h, _ = tab.Lookup(netip.MustParseAddr("192.0.2.0"))
	if h.Kind != Local {
		t.Errorf("own /31 address is %v, want local", h.Kind)
	}
}

func TestOffLinkGatewayFails(t *testing.T) {
	_, err := Build(ifaces, []Route{{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Via: netip.MustParseAddr("192.168.1.1")}}, nil)
	if err == nil {
		t.Fatal("a gateway on no connected subnet was accepted")
	}
}

func TestLocalWinsOverRoute(t *testing.T) {
	routes := []Route{{Prefix: netip.MustParsePrefix("10.0.0.1/32"), Via: netip.MustParseAddr("10.0.0.2")}}
	tab, err := Build(ifaces, routes, neigh)
	if err != nil {
		t.Fatal(err)
	}
	_, h, _ := tab.Lookup(netip.MustParseAddr("10.0.0.1"))
	if h.Kind != Local {
		t.Errorf("router's own address resolves to %v, want local", h.Kind)
	}
	// 2 ports x (own, network, broadcast) + 2 neighbours; the /32 route is
	// replaced by the local entry, not added beside it.
	n := 0
	for _, e := range tab.Entries {
		if e.Prefix.Bits() > 24 {
			n++
		}
	}
	if n != 8 {
		t.Errorf("entries longer than /24: %d, want 8", n)
	}
}
