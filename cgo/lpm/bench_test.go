package lpm_test

// Control-plane load benchmarks: how long steer takes to turn N static /24
// routes into a FIB (pkg/fib.Build) and to load them into rte_lpm (what
// pkg/router does at start). `go test` runs none of them; `make bench` runs
//
//	go test -run '^$' -bench 'FIBBuild|LPMLoad' -benchtime 1x ./cgo/lpm/
//
// The EAL is the package's TestMain one (--no-huge, 256 MB): a table for 1M
// rules needs 64 MiB of tbl24 plus 8 MiB of rules, which fits.
//
// rte_lpm_add (DPDK 22.11) looks for an existing rule by scanning every rule
// of the same depth, so loading n prefixes of one length costs O(n^2): the
// LPM sizes stop at 100k, where the trend is plain (here 100k took 6 s and
// 200k 31 s, so 1M /24s would take over ten minutes). The FIB model has no
// such cost and runs up to 1M.

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/cgo/lpm"
	"github.com/steer-router/steer/pkg/fib"
)

// prefixes24 returns n distinct /24s counting up from 16.0.0.0/24.
func prefixes24(n int) []netip.Prefix {
	ps := make([]netip.Prefix, n)
	for i := range ps {
		v := uint32(16)<<24 + uint32(i)<<8
		ps[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
	}
	return ps
}

func BenchmarkFIBBuild(b *testing.B) {
	ifaces := []fib.Interface{
		{Port: 0, Name: "lan", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}},
		{Port: 1, Name: "wan", Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
	}
	gw := netip.MustParseAddr("192.0.2.2")
	neigh := []fib.Neighbor{{Addr: gw, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 3}, Port: 1}}
	for _, n := range []int{100_000, 1_000_000} {
		routes := make([]fib.Route, n)
		for i, p := range prefixes24(n) {
			routes[i] = fib.Route{Prefix: p, Via: gw}
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				t, err := fib.Build(ifaces, routes, neigh)
				if err != nil {
					b.Fatal(err)
				}
				if len(t.Entries) < n {
					b.Fatalf("%d entries, want at least %d", len(t.Entries), n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
		})
	}
}

func BenchmarkLPMLoad(b *testing.B) {
	for _, n := range []int{10_000, 50_000, 100_000} {
		ps := prefixes24(n)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				// Create, fill and free, as pkg/router does at start (rules
				// with the same 1024 spare; no prefix is longer than /24).
				tab, err := lpm.New(fmt.Sprintf("bench_lpm_%d_%d", n, i), 0, n+1024, 256)
				if err != nil {
					b.Fatal(err)
				}
				for j, p := range ps {
					if err := tab.Add(p, uint32(j%1024)); err != nil {
						tab.Free()
						b.Fatal(err)
					}
				}
				if nh, ok := tab.Lookup(ps[n-1].Addr().Next()); !ok || nh != uint32((n-1)%1024) {
					tab.Free()
					b.Fatalf("last prefix looks up to %d, %v", nh, ok)
				}
				tab.Free()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
		})
	}
}
