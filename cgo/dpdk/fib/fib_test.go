package fib_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/fib"
)

// BenchmarkLoad1M needs ~250 MB: 64 MiB of tbl24, the RIB's 1M nodes, the
// tbl8 groups.
func TestMain(m *testing.M) {
	ealtest.MemoryMB = 512
	ealtest.Main(m)
}

const noRoute = fib.MaxNextHop

func TestAddLookupDelete(t *testing.T) {
	tab, err := fib.New("t_fib", 0, 64, 16, noRoute)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Free()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tab.Add(netip.MustParsePrefix("10.0.0.0/8"), 1))
	must(tab.Add(netip.MustParsePrefix("10.1.0.0/16"), 2))
	must(tab.Add(netip.MustParsePrefix("10.1.2.3/32"), 3))
	must(tab.AddBulk([]netip.Prefix{netip.MustParsePrefix("10.2.0.0/24"), netip.MustParsePrefix("10.2.0.16/28")}, []uint64{4, 5}))
	for addr, want := range map[string]uint64{"10.9.9.9": 1, "10.1.9.9": 2, "10.1.2.3": 3, "10.1.2.4": 2, "10.2.0.1": 4, "10.2.0.17": 5} {
		if got, ok := tab.Lookup(netip.MustParseAddr(addr)); !ok || got != want {
			t.Errorf("%s -> %d, %v; want %d", addr, got, ok, want)
		}
	}
	must(tab.Delete(netip.MustParsePrefix("10.1.0.0/16")))
	if got, _ := tab.Lookup(netip.MustParseAddr("10.1.9.9")); got != 1 {
		t.Errorf("after deleting /16, 10.1.9.9 -> %d, want 1", got)
	}
	must(tab.Delete(netip.MustParsePrefix("10.2.0.16/28")))
	if got, _ := tab.Lookup(netip.MustParseAddr("10.2.0.17")); got != 4 {
		t.Errorf("after deleting /28, 10.2.0.17 -> %d, want 4", got)
	}
	if got, ok := tab.Lookup(netip.MustParseAddr("192.0.2.1")); ok || got != noRoute {
		t.Errorf("192.0.2.1 -> %d, %v; want the default %d", got, ok, uint64(noRoute))
	}
}

func TestErrorsNameCallAndTarget(t *testing.T) {
	tab, err := fib.New("t_fib_err", 0, 4, 1, noRoute)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Free()
	err = tab.Delete(netip.MustParsePrefix("192.0.2.0/24"))
	if err == nil || !strings.Contains(err.Error(), "rte_fib_delete(192.0.2.0/24)") {
		t.Errorf("deleting a missing prefix: %v; want an error naming rte_fib_delete and the prefix", err)
	}
	_, err = fib.New("t_fib_err", 0, 4, 1, noRoute)
	if err == nil || !strings.Contains(err.Error(), "rte_fib_create(t_fib_err") {
		t.Errorf("duplicate name: %v; want an rte_fib_create error naming the table", err)
	}
	if err := tab.Add(netip.MustParsePrefix("192.0.2.0/24"), fib.MaxNextHop+1); err == nil {
		t.Error("a next hop over 31 bits was accepted")
	}
	// 4 routes at most: the fifth fails and AddBulk names it.
	ps := []netip.Prefix{}
	hs := []uint64{}
	for i := range 5 {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(i), 0}), 24))
		hs = append(hs, 1)
	}
	if err := tab.AddBulk(ps, hs); err == nil || !strings.Contains(err.Error(), "rte_fib_add(198.51.4.0/24") {
		t.Errorf("a fifth route in a 4-route table: %v; want an rte_fib_add error naming 198.51.4.0/24", err)
	}
}
