package fib_test

// Load benchmarks: `go test` runs none of them; `make bench` runs
//
//	go test -run '^$' -bench Load1M -benchtime 1x ./cgo/fib/
//
// in the package's TestMain EAL (--no-huge, 512 MB): 1M routes need 64 MiB of
// tbl24, the RIB's nodes and a tbl8 group (1 KiB) per /24 holding longer
// prefixes.

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/fib"
	"github.com/steer-router/steer/cgo/lpm"
)

// tableMix is a prefix-length mix like a full Internet table's (most /24,
// then /22-/23, few shorter), plus a few longer prefixes, which need tbl8s.
var tableMix = []struct {
	bits   int
	permil int
}{
	{16, 10}, {17, 5}, {18, 10}, {19, 20}, {20, 40}, {21, 40}, {22, 90}, {23, 90},
	{24, 660}, {25, 10}, {26, 10}, {27, 7}, {28, 8},
}

// RandomTable returns n distinct prefixes drawn from 1.0.0.0-223.255.255.255
// with tableMix's lengths, seeded so every run loads the same table.
func RandomTable(n int, seed uint64) []netip.Prefix {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[netip.Prefix]struct{}, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		x := r.IntN(1000)
		bits := 24
		for _, m := range tableMix {
			if x < m.permil {
				bits = m.bits
				break
			}
			x -= m.permil
		}
		v := uint32(1<<24) + r.Uint32N(223<<24)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits).Masked()
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		out = append(out, p)
	}
	return out
}

func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	ps := RandomTable(n, 1)
	long := 0
	for _, p := range ps {
		if p.Bits() > 24 {
			long++
		}
	}
	hops := make([]uint64, n)
	for i := range hops {
		hops[i] = uint64(i % 1024)
	}
	// Create, fill and free, as pkg/router does at start (AddBulk sorts the
	// random prefixes first: that is part of the time). Freeing is timed
	// apart: rte_rib_free removes node by node.
	load := func(name string) (*fib.FIB, error) {
		tab, err := fib.New(name, 0, n+1024, long+256, noRoute)
		if err != nil {
			return nil, err
		}
		if err := tab.AddBulk(ps, hops); err != nil {
			tab.Free()
			return nil, err
		}
		return tab, nil
	}
	// One untimed load first: the test EAL runs without hugepages, and the
	// first use of its memory page-faults (+1-1.5 s here); steer's EAL with
	// hugepages has its memory in place before the FIB is built.
	tab, err := load("bench_fib_warm")
	if err != nil {
		b.Fatal(err)
	}
	tab.Free()
	b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
		var free time.Duration
		for i := 0; i < b.N; i++ {
			tab, err := load(fmt.Sprintf("bench_fib_%d", i))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			// Every prefix's first address must find a route (the prefix
			// itself or a longer one inside it).
			for j := 0; j < n; j += 997 {
				if _, ok := tab.Lookup(ps[j].Addr()); !ok {
					tab.Free()
					b.Fatalf("%s has no route after the load", ps[j])
				}
			}
			t0 := time.Now()
			tab.Free()
			free += time.Since(t0)
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
		b.ReportMetric(free.Seconds()/float64(b.N), "s/free")
	})
}

// BenchmarkLookup compares the fast path's lookup of a burst of 32
// destinations: rte_fib (DIR24_8, 4-byte entries) against rte_lpm
// (lookup_bulk and lookupx4) holding the same 50k-prefix table (rte_lpm
// loads more only slowly), destinations inside random prefixes of it.
// Reports TSC cycles per address.
func BenchmarkLookup(b *testing.B) {
	const n = 50_000
	ps := RandomTable(n, 2)
	long := 0
	for _, p := range ps {
		if p.Bits() > 24 {
			long++
		}
	}
	ft, err := fib.New("bench_lookup_fib", 0, n+16, long+64, noRoute)
	if err != nil {
		b.Fatal(err)
	}
	defer ft.Free()
	lt, err := lpm.New("bench_lookup_lpm", 0, n+16, long+64)
	if err != nil {
		b.Fatal(err)
	}
	defer lt.Free()
	hops := make([]uint64, n)
	for i, p := range ps {
		hops[i] = uint64(i % 4096)
		if err := lt.Add(p, uint32(hops[i])); err != nil {
			b.Fatal(err)
		}
	}
	if err := ft.AddBulk(ps, hops); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, hot := range []int{1, 64, 1 << 16} {
		ips := make([]uint32, 1<<16)
		for i := range ips {
			p := ps[r.IntN(min(hot, n))]
			a := p.Addr().As4()
			ips[i] = (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) + r.Uint32N(1<<(32-p.Bits()))
		}
		for _, impl := range []string{"fib", "lpm-bulk", "lpm-x4"} {
			b.Run(fmt.Sprintf("prefixes=%d/%s", min(hot, n), impl), func(b *testing.B) {
				var c float64
				for i := 0; i < b.N; i++ {
					switch impl {
					case "fib":
						c += ft.LookupCycles(ips, 10)
					case "lpm-bulk":
						c += lt.LookupCycles(ips, 10, false)
					default:
						c += lt.LookupCycles(ips, 10, true)
					}
				}
				b.ReportMetric(c/float64(b.N), "cycles/lookup")
			})
		}
	}
}
