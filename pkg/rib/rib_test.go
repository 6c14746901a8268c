package rib

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
)

// The standard two ports: lan 10.0.0.1/24 (port 0), wan 203.0.113.1/24
// (port 1).
var addrs = inet.Addresses{
	{Prefix: netip.MustParsePrefix("10.0.0.1/24"), Port: 0, PortName: "lan", Where: "port lan"},
	{Prefix: netip.MustParsePrefix("203.0.113.1/24"), Port: 1, PortName: "wan", Where: "port wan"},
}

var (
	macA = inet.MAC{2, 0, 0, 0, 0, 0xa}
	macB = inet.MAC{2, 0, 0, 0, 0, 0xb}
	macN = inet.MAC{2, 0, 0, 0, 0, 0x2}
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func newTable(t testing.TB, f *fakeFIB) *Table {
	t.Helper()
	tab, err := New(f, addrs, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// ownEntries is what the standard ports alone install.
func ownEntries() map[netip.Prefix]fwd.NextHop {
	return map[netip.Prefix]fwd.NextHop{
		pfx("10.0.0.0/24"):      {Kind: fwd.Unresolved, Port: 0},
		pfx("10.0.0.1/32"):      {Kind: fwd.Local, Port: 0},
		pfx("10.0.0.0/32"):      {Kind: fwd.Broadcast, Port: 0},
		pfx("10.0.0.255/32"):    {Kind: fwd.Broadcast, Port: 0},
		pfx("203.0.113.0/24"):   {Kind: fwd.Unresolved, Port: 1},
		pfx("203.0.113.1/32"):   {Kind: fwd.Local, Port: 1},
		pfx("203.0.113.0/32"):   {Kind: fwd.Broadcast, Port: 1},
		pfx("203.0.113.255/32"): {Kind: fwd.Broadcast, Port: 1},
	}
}

func with(base map[netip.Prefix]fwd.NextHop, kv ...any) map[netip.Prefix]fwd.NextHop {
	out := map[netip.Prefix]fwd.NextHop{}
	for p, h := range base {
		out[p] = h
	}
	for i := 0; i < len(kv); i += 2 {
		out[pfx(kv[i].(string))] = kv[i+1].(fwd.NextHop)
	}
	return out
}

func TestOwnEntries(t *testing.T) {
	f := newFake(t)
	tab := newTable(t, f)
	if d := diff(f.forwarding(), ownEntries()); d != "" {
		t.Fatalf("own entries:%s", d)
	}
	if st := tab.Stats(); st.Entries != 8 || st.NextHops != 6 || st.Routes != 0 {
		t.Errorf("stats %+v, want 8 entries, 6 next hops, no routes", st)
	}
	// A /31 has no network or broadcast address (RFC 3021).
	f31 := newFake(t)
	if _, err := New(f31, inet.Addresses{{Prefix: pfx("192.0.2.0/31"), Port: 3}}, 64); err != nil {
		t.Fatal(err)
	}
	if d := diff(f31.forwarding(), map[netip.Prefix]fwd.NextHop{
		pfx("192.0.2.0/31"): {Kind: fwd.Unresolved, Port: 3},
		pfx("192.0.2.0/32"): {Kind: fwd.Local, Port: 3},
	}); d != "" {
		t.Errorf("/31:%s", d)
	}
}

func TestStaticRouteFollowsItsGateway(t *testing.T) {
	f := newFake(t)
	tab := newTable(t, f)
	if err := tab.AddStatic(StaticRoute{pfx("198.51.100.0/24"), ip("203.0.113.2")}); err != nil {
		t.Fatal(err)
	}
	unresolved := fwd.NextHop{Kind: fwd.Unresolved, Port: 1, Via: ip("203.0.113.2")}
	if d := diff(f.forwarding(), with(ownEntries(), "198.51.100.0/24", unresolved)); d != "" {
		t.Fatalf("before ARP:%s", d)
	}
	if err := tab.NeighborUp(ip("203.0.113.2"), 1, macA); err != nil {
		t.Fatal(err)
	}
	toA := fwd.NextHop{Kind: fwd.Forward, Port: 1, MAC: macA}
	if d := diff(f.forwarding(), with(ownEntries(), "198.51.100.0/24", toA, "203.0.113.2/32", toA)); d != "" {
		t.Fatalf("gateway resolved:%s", d)
	}
	if err := tab.NeighborUp(ip("203.0.113.2"), 1, macB); err != nil { // a new MAC
		t.Fatal(err)
	}
	toB := fwd.NextHop{Kind: fwd.Forward, Port: 1, MAC: macB}
	if d := diff(f.forwarding(), with(ownEntries(), "198.51.100.0/24", toB, "203.0.113.2/32", toB)); d != "" {
		t.Fatalf("gateway moved:%s", d)
	}
	if err := tab.NeighborDown(ip("203.0.113.2")); err != nil {
		t.Fatal(err)
	}
	if d := diff(f.forwarding(), with(ownEntries(), "198.51.100.0/24", unresolved)); d != "" {
		t.Fatalf("gateway lost:%s", d)
	}
	if err := tab.DeleteStatic(pfx("198.51.100.0/24")); err != nil {
		t.Fatal(err)
	}
	if d := diff(f.forwarding(), ownEntries()); d != "" {
		t.Fatalf("route deleted:%s", d)
	}
	if len(f.hops) != 6 {
		t.Errorf("%d next hops written after everything went, want the 6 own ones", len(f.hops))
	}
}

// The case the two old models disagreed on: a neighbour N and a route
// N/32 via G. The route wins, however the two arrived; without the route,
// N's /32 forwards to N; without either, N is resolved on the connected
// subnet.
func TestRouteBeatsNeighbourHostEntry(t *testing.T) {
	const n, g = "10.0.0.5", "10.0.0.9"
	toG := fwd.NextHop{Kind: fwd.Forward, Port: 0, MAC: macB}
	toN := fwd.NextHop{Kind: fwd.Forward, Port: 0, MAC: macN}
	both := with(ownEntries(), n+"/32", toG, g+"/32", toG)
	onlyN := with(ownEntries(), n+"/32", toN, g+"/32", toG)
	ops := map[string]func(*Table) error{
		"N up":      func(t *Table) error { return t.NeighborUp(ip(n), 0, macN) },
		"route add": func(t *Table) error { return t.AddStatic(StaticRoute{pfx(n + "/32"), ip(g)}) },
	}
	for _, order := range [][]string{{"N up", "route add"}, {"route add", "N up"}} {
		f := newFake(t)
		tab := newTable(t, f)
		if err := tab.NeighborUp(ip(g), 0, macB); err != nil {
			t.Fatal(err)
		}
		for _, o := range order {
			if err := ops[o](tab); err != nil {
				t.Fatalf("%v: %s: %v", order, o, err)
			}
		}
		if d := diff(f.forwarding(), both); d != "" {
			t.Errorf("%v: both present:%s", order, d)
		}
		if r, ok := tab.Lookup(ip(n)); !ok || r.Source != Static || r.Via != ip(g) {
			t.Errorf("%v: lookup %s = %+v, want the static route via %s", order, n, r, g)
		}
		if err := tab.DeleteStatic(pfx(n + "/32")); err != nil {
			t.Fatal(err)
		}
		if d := diff(f.forwarding(), onlyN); d != "" {
			t.Errorf("%v: route deleted:%s", order, d)
		}
		if err := tab.AddStatic(StaticRoute{pfx(n + "/32"), ip(g)}); err != nil {
			t.Fatal(err)
		}
		if err := tab.NeighborDown(ip(n)); err != nil {
			t.Fatal(err)
		}
		if d := diff(f.forwarding(), both); d != "" {
			t.Errorf("%v: N gone, route stays:%s", order, d)
		}
		if err := tab.NeighborUp(ip(n), 0, macN); err != nil { // the start-up state again
			t.Fatal(err)
		}
		if d := diff(f.forwarding(), both); d != "" {
			t.Errorf("%v: N back:%s", order, d)
		}
	}
}

// No route operation can remove or shadow the router's own entries.
func TestOwnEntriesStay(t *testing.T) {
	f := newFake(t)
	tab := newTable(t, f)
	for _, c := range []struct {
		r     StaticRoute
		field string
		msg   string
	}{
		{StaticRoute{pfx("10.0.0.1/32"), ip("10.0.0.2")}, "prefix", "router's own address"},
		{StaticRoute{pfx("10.0.0.255/32"), ip("10.0.0.2")}, "prefix", "network or broadcast"},
		{StaticRoute{pfx("203.0.113.0/24"), ip("10.0.0.2")}, "prefix", "connected subnet of port wan"},
		{StaticRoute{pfx("198.51.100.0/24"), ip("10.0.0.1")}, "via", "router's own address"},
		{StaticRoute{pfx("198.51.100.0/24"), ip("10.0.0.255")}, "via", "network or broadcast"},
		{StaticRoute{pfx("198.51.100.0/24"), ip("192.0.2.1")}, "via", "not on a connected subnet"},
		{StaticRoute{pfx("198.51.100.1/24"), ip("10.0.0.2")}, "prefix", "host bits set"},
		{StaticRoute{pfx("127.0.0.0/8"), ip("10.0.0.2")}, "prefix", "before any lookup"},
		{StaticRoute{pfx("224.0.0.0/4"), ip("10.0.0.2")}, "prefix", "before any lookup"},
		{StaticRoute{pfx("255.255.255.255/32"), ip("10.0.0.2")}, "prefix", "before any lookup"},
	} {
		err := tab.AddStatic(c.r)
		fe, ok := field.Of(err)
		if !ok || fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%v: %v, want a %s error about %q", c.r, err, c.field, c.msg)
		}
	}
	for _, p := range []string{"10.0.0.1/32", "10.0.0.0/24", "10.0.0.255/32", "198.51.100.0/24"} {
		if err := tab.DeleteStatic(pfx(p)); !errors.Is(err, ErrNoRoute) {
			t.Errorf("delete %s: %v, want ErrNoRoute", p, err)
		}
	}
	if err := tab.NeighborUp(ip("10.0.0.1"), 0, macA); err == nil {
		t.Error("the router's own address became a neighbour")
	}
	if err := tab.NeighborUp(ip("10.0.0.7"), 1, macA); err == nil {
		t.Error("a neighbour on the wrong port was accepted")
	}
	if d := diff(f.forwarding(), ownEntries()); d != "" {
		t.Fatalf("own entries changed:%s", d)
	}
}

// state is the set of routes and neighbours a table was given.
type state struct {
	routes map[netip.Prefix]netip.Addr
	neigh  map[netip.Addr]inet.MAC
}

// build applies s to a fresh table, routes and neighbours in a random order.
func build(t *testing.T, s state, rng *rand.Rand) *fakeFIB {
	f := newFake(t)
	tab := newTable(t, f)
	type op func() error
	var ops []op
	for p, via := range s.routes {
		ops = append(ops, func() error { return tab.AddStatic(StaticRoute{p, via}) })
	}
	for a, mac := range s.neigh {
		port, _ := addrs.OnLink(a)
		ops = append(ops, func() error { return tab.NeighborUp(a, uint16(port), mac) })
	}
	rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	for _, o := range ops {
		if err := o(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// One precedence rule: after any sequence of changes the FIB is what the
// final set of routes and neighbours gives when applied to an empty table
// in any order.
func TestSameStateSameFIB(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := []netip.Addr{ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4"), ip("203.0.113.2"), ip("203.0.113.3")}
	prefixes := []netip.Prefix{pfx("198.51.100.0/24"), pfx("198.51.100.128/25"), pfx("0.0.0.0/0"),
		pfx("10.0.0.3/32"), pfx("10.0.0.4/32"), pfx("203.0.113.3/32"), pfx("10.1.0.0/16"), pfx("10.0.0.0/25")}
	macs := []inet.MAC{macA, macB, macN}
	for round := 0; round < 20; round++ {
		f := newFake(t)
		tab := newTable(t, f)
		s := state{routes: map[netip.Prefix]netip.Addr{}, neigh: map[netip.Addr]inet.MAC{}}
		for step := 0; step < 200; step++ {
			var err error
			switch rng.IntN(4) {
			case 0:
				p, via := prefixes[rng.IntN(len(prefixes))], hosts[rng.IntN(len(hosts))]
				if err = tab.AddStatic(StaticRoute{p, via}); err == nil {
					s.routes[p] = via
				}
			case 1:
				p := prefixes[rng.IntN(len(prefixes))]
				if err = tab.DeleteStatic(p); err == nil {
					delete(s.routes, p)
				} else if errors.Is(err, ErrNoRoute) {
					err = nil
				}
			case 2:
				a, mac := hosts[rng.IntN(len(hosts))], macs[rng.IntN(len(macs))]
				port, _ := addrs.OnLink(a)
				if err = tab.NeighborUp(a, uint16(port), mac); err == nil {
					s.neigh[a] = mac
				}
			case 3:
				a := hosts[rng.IntN(len(hosts))]
				if err = tab.NeighborDown(a); err == nil {
					delete(s.neigh, a)
				}
			}
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			want := build(t, s, rng)
			if d := diff(f.forwarding(), want.forwarding()); d != "" {
				t.Fatalf("round %d step %d: the FIB differs from the same state built afresh:%s", round, step, d)
			}
			for i := 0; i < 8; i++ {
				a := netip.AddrFrom4([4]byte{[]byte{10, 198, 203, 10}[rng.IntN(4)], byte(rng.IntN(2) * 51), byte(rng.IntN(2) * 100), byte(rng.IntN(8))})
				_, wh, wok := f.lookup(a)
				r, ok := tab.Lookup(a)
				if ok != wok || ok && r.NextHop != wh {
					t.Fatalf("lookup %s: %+v %v, the FIB has %v %v", a, r, ok, wh, wok)
				}
			}
		}
		// Everything removed: only the own next hops remain written.
		for p := range s.routes {
			if err := tab.DeleteStatic(p); err != nil {
				t.Fatal(err)
			}
		}
		for a := range s.neigh {
			if err := tab.NeighborDown(a); err != nil {
				t.Fatal(err)
			}
		}
		if d := diff(f.forwarding(), ownEntries()); d != "" || len(f.hops) != 6 {
			t.Fatalf("round %d: after removing everything, %d next hops:%s", round, len(f.hops), d)
		}
	}
}

// A bulk is all or nothing: a refused route or a full FIB changes nothing.
func TestBulkAllOrNothing(t *testing.T) {
	f := newFake(t)
	tab := newTable(t, f)
	if err := tab.AddStatic(StaticRoute{pfx("198.51.0.0/16"), ip("203.0.113.2")}); err != nil {
		t.Fatal(err)
	}
	before := f.forwarding()
	routes := make([]StaticRoute, 200)
	for i := range routes {
		routes[i] = StaticRoute{netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, byte(i), 0}), 24), ip("10.0.0.2")}
	}
	routes[10] = StaticRoute{pfx("198.51.0.0/16"), ip("10.0.0.3")} // replaces one
	bad := slices.Clone(routes)
	bad[157].Via = ip("192.0.2.9")
	err := tab.AddStatic(bad...)
	if fe, ok := field.Of(err); !ok || fe.Field != "routes[157].via" {
		t.Fatalf("refused bulk: %v, want a routes[157].via error", err)
	}
	if d := diff(f.forwarding(), before); d != "" {
		t.Fatalf("a refused bulk changed the FIB:%s", d)
	}
	for _, small := range []bool{false, true} {
		f.adds, f.failAt = 0, 150
		rs := routes
		if small {
			f.failAt = 3
			rs = routes[:12]
		}
		if err := tab.AddStatic(rs...); !errors.Is(err, ErrFull) {
			t.Fatalf("bulk into a full FIB: %v, want ErrFull", err)
		}
		if d := diff(f.forwarding(), before); d != "" {
			t.Fatalf("small=%v: a failed bulk changed the FIB:%s", small, d)
		}
		if st := tab.Stats(); st.Routes != 1 || st.Entries != len(before) {
			t.Fatalf("small=%v: stats %+v after a failed bulk", small, st)
		}
	}
	f.failAt = 0
	if err := tab.AddStatic(routes...); err != nil {
		t.Fatal(err)
	}
	if st := tab.Stats(); st.Routes != 200 || st.Entries != len(before)+199 {
		t.Errorf("stats %+v after the bulk", st)
	}
	if r, ok := tab.Lookup(ip("198.51.3.4")); !ok || r.Via != ip("10.0.0.3") {
		t.Errorf("the bulk's replacement of 198.51.0.0/16: %+v", r)
	}
}

func TestCapacity(t *testing.T) {
	f := newFake(t)
	tab, err := New(f, addrs, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.AddStatic(StaticRoute{pfx("198.51.100.0/24"), ip("10.0.0.2")}, StaticRoute{pfx("198.51.101.0/24"), ip("10.0.0.2")}); err != nil {
		t.Fatal(err)
	}
	err = tab.AddStatic(StaticRoute{pfx("198.51.102.0/24"), ip("10.0.0.2")})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("an 11th entry with fib.max_routes 10: %v", err)
	}
	if st := tab.Stats(); st.Entries != 10 || st.Routes != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestRoutesList(t *testing.T) {
	f := newFake(t)
	tab := newTable(t, f)
	if err := tab.AddStatic(StaticRoute{pfx("198.51.100.0/24"), ip("203.0.113.2")}, StaticRoute{pfx("0.0.0.0/0"), ip("203.0.113.3")}); err != nil {
		t.Fatal(err)
	}
	if err := tab.NeighborUp(ip("10.0.0.2"), 0, macA); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(tab.Routes(false))
	if !strings.HasPrefix(got, "[{0.0.0.0/0 static 203.0.113.3") || !strings.Contains(got, "{198.51.100.0/24 static 203.0.113.2") {
		t.Errorf("static routes: %s", got)
	}
	all := tab.Routes(true)
	if len(all) != 8+2+1 {
		t.Errorf("all routes: %d, want 11", len(all))
	}
	var sources []string
	for _, r := range all {
		sources = append(sources, r.Source.String())
	}
	for _, s := range []string{"local", "broadcast", "connected", "static", "neighbor"} {
		if !slices.Contains(sources, s) {
			t.Errorf("no %s entry in %v", s, sources)
		}
	}
}

// 1M routes through two gateways, loaded as one bulk into the fake.
func BenchmarkAddStatic1M(b *testing.B) {
	routes := make([]StaticRoute, 1_000_000)
	r := rand.New(rand.NewPCG(1, 1))
	seen := map[netip.Prefix]bool{}
	for i := range routes {
		for {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(11 + r.IntN(180)), byte(r.IntN(256)), byte(r.IntN(256)), 0}), 24)
			if !seen[p] {
				seen[p] = true
				routes[i] = StaticRoute{p, []netip.Addr{ip("203.0.113.2"), ip("203.0.113.3")}[i%2]}
				break
			}
		}
	}
	for i := 0; i < b.N; i++ {
		tab, err := New(&countingFIB{}, addrs, 1<<21)
		if err != nil {
			b.Fatal(err)
		}
		if err := tab.AddStatic(routes...); err != nil {
			b.Fatal(err)
		}
	}
}

// countingFIB takes everything and keeps nothing: the RIB's own cost.
type countingFIB struct{ next uint32 }

func (c *countingFIB) AddNextHop(fwd.NextHop) (uint32, error) { c.next++; return c.next - 1, nil }
func (c *countingFIB) ReleaseNextHop(uint32)                  {}
func (c *countingFIB) Set(netip.Prefix, uint32) error         { return nil }
func (c *countingFIB) SetBulk([]netip.Prefix, []uint32) error { return nil }
func (c *countingFIB) Delete(netip.Prefix) error              { return nil }

func TestRouteJSON(t *testing.T) {
	r := Route{Prefix: pfx("198.51.100.0/24"), Source: Static, Via: ip("203.0.113.2"),
		NextHop: fwd.NextHop{Kind: fwd.Forward, Port: 1, MAC: macA}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"prefix":"198.51.100.0/24","source":"static","via":"203.0.113.2","next_hop":{"kind":"forward","port":1,"mac":"02:00:00:00:00:0a"}}`
	if string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
	var back Route
	if err := json.Unmarshal(b, &back); err != nil || back != r {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	b, _ = json.Marshal(Route{Prefix: pfx("10.0.0.0/24"), Source: Connected, NextHop: fwd.NextHop{Kind: fwd.Unresolved}})
	if want := `{"prefix":"10.0.0.0/24","source":"connected","next_hop":{"kind":"unresolved","port":0}}`; string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
}
