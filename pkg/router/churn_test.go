package router

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/rib"
)

// Routes change under traffic: an infinite pcap sends half its flows to A
// (a static route never touched) and half to B (added and deleted again and
// again), while 10,000 other /24 and /28 routes come and go (the /28s take
// and give back FIB tbl8 groups, reused only after a grace period). A must
// never lose a packet, nothing may crash or leak.
func TestRouteChurnUnderTraffic(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	lanMAC := nextPcapMACs(2)[0]
	writeTraffic(t, dir, lanMAC, 64, "198.51.100.1", "192.0.2.1") // A, B, A, B, ...: each pass of the file is half A
	cfg := parseConfig(t, lcoreOne+pcapPorts(dir, true)+`
routes: [{prefix: "198.51.100.0/24", via: "203.0.113.2"}]
neighbors: [{ip: "203.0.113.2", mac: "02:00:00:00:00:03", port: wan}]
`)
	r, err := Start(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			r.Stop()
		}
	}()

	gw := netip.MustParseAddr("203.0.113.2")
	b := netip.MustParsePrefix("192.0.2.0/24")
	// At least n route pairs and at least 1 s, checked in 100 ms windows.
	const n = 10000
	const window = 100 * time.Millisecond
	start := time.Now()
	next := start.Add(window)
	lastTx := uint64(0)
	stalls, windows, i := 0, 0, 0
	for ; i < n || time.Since(start) < 10*window || i%2 == 1; i++ { // ends after a delete of B
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64 + byte(i>>8&63), byte(i), 0}), 24)
		if i%2 == 1 { // longer than /24: takes a FIB tbl8 group, recycled (grace period)
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64 + byte(i>>8&63), byte(i), 16}), 28)
		}
		if err := r.AddRoute(p, gw); err != nil {
			t.Fatalf("add %s: %v", p, err)
		}
		if i%2 == 0 {
			if err := r.AddRoute(b, gw); err != nil {
				t.Fatalf("add B: %v", err)
			}
		} else if err := r.DeleteRoute(b); err != nil {
			t.Fatalf("delete B: %v", err)
		}
		if err := r.DeleteRoute(p); err != nil {
			t.Fatalf("delete %s: %v", p, err)
		}
		if now := time.Now(); now.After(next) { // forwarding goes on during the churn
			tx := r.Counters()[0].TxPackets
			if tx == lastTx {
				stalls++
			}
			lastTx, next = tx, now.Add(window)
			windows++
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d route changes (add+delete of %d routes, %d flaps of B) in %v: %.0f changes/s under traffic",
		4*i, i, i, elapsed, float64(4*i)/elapsed.Seconds())
	// A lock or a blocked reader would stop forwarding for the whole churn;
	// a scheduler gap (other busy pollers on this CPU, as under go test's
	// parallel packages) costs a window now and then.
	if windows == 0 || stalls*2 > windows {
		t.Errorf("forwarding made no progress in %d of %d windows of %v", stalls, windows, window)
	}
	if got := len(r.Routes(false)); got != 1 {
		t.Errorf("%d static routes left, want 1 (A)", got)
	}
	if err := r.AddRoute(netip.MustParsePrefix("10.0.0.1/32"), gw); err == nil {
		t.Error("a route over the router's own address was accepted")
	}
	if err := r.AddRoute(netip.MustParsePrefix("100.64.0.0/24"), netip.MustParseAddr("192.168.1.1")); err == nil {
		t.Error("a gateway on no connected subnet was accepted")
	}

	// Neighbour churn under traffic: the gateway's MAC changes 6000 times
	// (a static entry replaced), each time a new next hop and A's route
	// repointed. Released next hops come back after an RCU grace period,
	// so the 4096-entry table never fills, and A keeps forwarding.
	a := netip.MustParseAddr("198.51.100.1")
	txBefore := r.Counters()[0].TxPackets
	var mac net.HardwareAddr
	for j := 0; j < 6000; j++ {
		mac = net.HardwareAddr{2, 0, 0, 0x77, byte(j >> 8), byte(j)}
		if err := r.AddNeighbor(gw, inet.MAC(mac), "wan"); err != nil {
			t.Fatalf("neighbour change %d: %v", j, err)
		}
	}
	if rt, ok := r.Lookup(a); !ok || rt.NextHop.Kind != fwd.Forward || rt.NextHop.MAC.String() != mac.String() {
		t.Errorf("A after the neighbour churn: %+v, want forward to %s", rt, mac)
	}
	if n := r.rib.Stats().NextHops; n > 16 {
		t.Errorf("%d next hops in use after the neighbour churn, want a handful", n)
	}
	Eventually(t, 5*time.Second, func() bool { return r.Counters()[0].TxPackets > txBefore })
	if err := r.DeleteNeighbor(gw); err != nil {
		t.Fatal(err)
	}
	if rt, ok := r.Lookup(a); !ok || rt.NextHop.Kind != fwd.Unresolved || rt.NextHop.Via != gw {
		t.Errorf("A without its gateway's MAC: %+v, want unresolved via %s", rt, gw)
	}
	if err := r.DeleteNeighbor(gw); !errors.Is(err, neigh.ErrNoStatic) {
		t.Errorf("deleting it again: %v, want neigh.ErrNoStatic", err)
	}
	if err := r.AddNeighbor(netip.MustParseAddr("10.0.0.1"), inet.MAC(mac), "lan"); err == nil {
		t.Error("the router's own address was accepted as a neighbour")
	}
	if err := r.AddNeighbor(netip.MustParseAddr("10.0.0.9"), inet.MAC(mac), "wan"); err == nil {
		t.Error("a neighbour outside the port's subnets was accepted")
	}

	// AddRoutes: all or nothing on a bad route; replaces, moves routes
	// between gateways (both ways at once) and keeps a duplicate's last.
	g1, g2 := netip.MustParseAddr("203.0.113.20"), netip.MustParseAddr("203.0.113.21")
	p1, p2 := netip.MustParsePrefix("100.100.0.0/24"), netip.MustParsePrefix("100.100.1.16/28")
	if err := r.AddRoutes(rib.StaticRoute{Prefix: p1, Via: g1}, rib.StaticRoute{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Via: g1}); err == nil {
		t.Error("AddRoutes accepted a connected subnet")
	}
	if got := len(r.Routes(false)); got != 1 {
		t.Errorf("%d static routes after a refused AddRoutes, want 1", got)
	}
	if err := r.AddRoutes(rib.StaticRoute{Prefix: p1, Via: g1}, rib.StaticRoute{Prefix: p2, Via: g2}, rib.StaticRoute{Prefix: p2, Via: g1}); err != nil {
		t.Fatal(err)
	}
	if err := r.AddRoutes(rib.StaticRoute{Prefix: p1, Via: g2}, rib.StaticRoute{Prefix: p2, Via: g2}); err != nil { // p1 moves to g2
		t.Fatal(err)
	}
	if err := r.AddRoutes(rib.StaticRoute{Prefix: p1, Via: g1}, rib.StaticRoute{Prefix: p2, Via: g1}); err != nil { // both move back
		t.Fatal(err)
	}
	for _, p := range []netip.Prefix{p1, p2} {
		if rt, ok := r.Lookup(p.Addr()); !ok || rt.Via != g1 || rt.NextHop.Via != g1 {
			t.Errorf("%s after AddRoutes: %+v, want via %s", p, rt, g1)
		}
	}
	for _, p := range []netip.Prefix{p1, p2} {
		if err := r.DeleteRoute(p); err != nil {
			t.Fatal(err)
		}
	}

	// What the C FIB holds is what the route table says, entry by entry.
	checkFIBMatchesRIB(t, r)

	rep, err := r.Stop()
	stopped = true
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	noRoute := tot.SlowPath["no_route"]
	if tot.RxPackets < 100000 || tot.TxPackets == 0 {
		t.Fatalf("rx %d tx %d: too little traffic to mean anything", tot.RxPackets, tot.TxPackets)
	}
	// Only B's half can have found no route; A's packets were all forwarded.
	if noRoute > tot.RxPackets/2+64 {
		t.Errorf("no_route %d of %d received: more than B's half, so A lost packets", noRoute, tot.RxPackets)
	}
	if u := tot.Unaccounted(); u != 0 {
		t.Errorf("%d packets unaccounted", u)
	}
	if rep.Mempool.InUseAfterClose != 0 {
		t.Errorf("mbuf leak: %d in use after close", rep.Mempool.InUseAfterClose)
	}
}

// checkFIBMatchesRIB looks every entry of the route table up in the data
// plane's own FIB and next-hop table: the next hops must be the same.
func checkFIBMatchesRIB(t *testing.T, r *Router) {
	t.Helper()
	routes := r.Routes(true)
	if len(routes) == 0 {
		t.Fatal("the route table is empty")
	}
	for _, rt := range routes {
		a := rt.Prefix.Addr()
		want, _ := r.Lookup(a) // a longer prefix may hold the first address
		got, ok := r.dp.Lookup(a)
		if !ok || got != want.NextHop {
			t.Errorf("%s (entry %s): the FIB gives %+v (%v), the route table %+v", a, rt.Prefix, got, ok, want.NextHop)
		}
	}
}

// Eventually polls cond until it holds or within passes.
func Eventually(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(time.Millisecond)
	}
}
