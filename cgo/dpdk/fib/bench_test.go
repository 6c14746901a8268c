package fib_test

// Load benchmarks: `go test` runs none of them; `make bench` runs
//
//	go test -run '^$' -bench Load1M -benchtime 1x ./cgo/dpdk/fib/
//
// in the package's TestMain EAL (--no-huge, 512 MB): 1M routes need 64 MiB of
// tbl24, the RIB's nodes and a tbl8 group (1 KiB) per /24 holding longer
// prefixes.

import (
	"fmt"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/pkg/trafgen"
)

func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	ps := trafgen.RandomTable(n, 1)
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
