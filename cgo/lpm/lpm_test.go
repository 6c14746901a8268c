package lpm_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/ealtest"
	"github.com/steer-router/steer/cgo/lpm"
)

func TestMain(m *testing.M) { ealtest.Main(m) }

func TestAddLookupDelete(t *testing.T) {
	tab, err := lpm.New("t_lpm", 0, 64, 16)
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
	for addr, want := range map[string]uint32{"10.9.9.9": 1, "10.1.9.9": 2, "10.1.2.3": 3, "10.1.2.4": 2} {
		if got, ok := tab.Lookup(netip.MustParseAddr(addr)); !ok || got != want {
			t.Errorf("%s -> %d, %v; want %d", addr, got, ok, want)
		}
	}
	must(tab.Delete(netip.MustParsePrefix("10.1.0.0/16")))
	if got, _ := tab.Lookup(netip.MustParseAddr("10.1.9.9")); got != 1 {
		t.Errorf("after deleting /16, 10.1.9.9 -> %d, want 1", got)
	}
	if _, ok := tab.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("192.0.2.1 matched an empty part of the table")
	}
}

func TestErrorsNameCallAndTarget(t *testing.T) {
	tab, err := lpm.New("t_lpm_err", 0, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Free()
	err = tab.Delete(netip.MustParsePrefix("192.0.2.0/24"))
	if err == nil || !strings.Contains(err.Error(), "rte_lpm_delete(192.0.2.0/24)") {
		t.Errorf("deleting a missing prefix: %v; want an error naming rte_lpm_delete and the prefix", err)
	}
	// A second table with the same name fails with EEXIST's text.
	_, err = lpm.New("t_lpm_err", 0, 4, 1)
	if err == nil || !strings.Contains(err.Error(), "rte_lpm_create(t_lpm_err") {
		t.Errorf("duplicate name: %v; want an rte_lpm_create error naming the table", err)
	}
	if err := tab.Add(netip.MustParsePrefix("192.0.2.0/24"), lpm.MaxNextHop+1); err == nil {
		t.Error("a next hop over 24 bits was accepted")
	}
}
