package router

import (
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/rib"
	"github.com/steer-router/steer/pkg/trafgen"
)

// BenchmarkAddRoutes1M starts a router forwarding an endless pcap, loads
// 1M routes (TableMix lengths) through 4 gateways in one AddRoutes (timed),
// then points them all at other gateways in a second one (every entry
// replaced). Traffic to a route outside the table keeps flowing
// throughout. `make bench` runs it:
//
//	go test -run '^$' -bench AddRoutes1M -benchtime 1x ./pkg/router/
func BenchmarkAddRoutes1M(b *testing.B) {
	needRoot(b)
	const n = 1_000_000
	dir := b.TempDir()
	writeTraffic(b, dir, nextPcapMACs(2)[0], 64, "198.51.100.1")
	// 64 MiB tbl24 + 64 MiB of tbl8 groups + the RIB's nodes for 1.1M
	// routes: see dpdk-config/README.md.
	cfg := parseConfig(b, lcoreOne+pcapPorts(dir, true)+`
routes: [{prefix: "198.51.100.0/24", via: "203.0.113.2"}]
neighbors: [{ip: "203.0.113.2", mac: "02:00:00:00:00:03", port: wan}]
fib: {max_routes: 1100000, tbl8_groups: 65536}
`)
	skip := map[netip.Prefix]bool{}
	for _, p := range []string{"10.0.0.0/8", "203.0.0.0/8", "198.0.0.0/8"} {
		skip[netip.MustParsePrefix(p)] = true
	}
	var ps []netip.Prefix
	for _, p := range trafgen.RandomTable(n+n/10, 1) {
		if !skip[netip.PrefixFrom(p.Addr(), 8).Masked()] && len(ps) < n {
			ps = append(ps, p)
		}
	}
	gws := []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("203.0.113.11"),
		netip.MustParseAddr("203.0.113.12"), netip.MustParseAddr("203.0.113.13")}
	table := func(shift int) []rib.StaticRoute {
		out := make([]rib.StaticRoute, len(ps))
		for i, p := range ps {
			out[i] = rib.StaticRoute{Prefix: p, Via: gws[(i+shift)%len(gws)]}
		}
		return out
	}
	first, second := table(0), table(1)
	for i := 0; i < b.N; i++ {
		r, err := Start(cfg, zap.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); r.Counters()[0].TxPackets == 0; {
			if time.Now().After(deadline) {
				r.Stop()
				b.Fatal("nothing forwarded 10 s after start")
			}
			time.Sleep(time.Millisecond) // polling the counter
		}
		tx0 := r.Counters()[0].TxPackets
		t0 := time.Now()
		if err := r.AddRoutes(first...); err != nil {
			r.Stop()
			b.Fatal(err)
		}
		load := time.Since(t0)
		t1 := time.Now()
		if err := r.AddRoutes(second...); err != nil {
			r.Stop()
			b.Fatal(err)
		}
		replace := time.Since(t1)
		tx1 := r.Counters()[0].TxPackets
		rep, err := r.Stop()
		if err != nil {
			b.Fatal(err)
		}
		if rep.FIB.Routes != len(ps)+1 {
			b.Errorf("final report: %d routes, want %d", rep.FIB.Routes, len(ps)+1)
		}
		if tx1 == tx0 {
			b.Errorf("nothing forwarded during the loads")
		}
		b.ReportMetric(load.Seconds(), "s/load")
		b.ReportMetric(replace.Seconds(), "s/replace")
		b.ReportMetric(float64(len(ps))/load.Seconds(), "routes/s")
		b.Logf("1M routes (TableMix lengths) through Router.AddRoutes into a forwarding router: load %v (%.2f M routes/s), replace all %v",
			load, float64(len(ps))/load.Seconds()/1e6, replace)
	}
}
