package rib

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/pkg/fwd"
)

// fakeFIB is the data plane's FIB as the RIB sees it, checking the rules
// the real one relies on: a next hop exists before an entry points at it,
// and is released only once no entry does.
type fakeFIB struct {
	t       testing.TB
	hops    map[uint32]fwd.NextHop
	free    []uint32
	next    uint32
	entries map[netip.Prefix]uint32
	// failAt makes the failAt-th prefix added from now on fail (0: never).
	failAt int
	adds   int
}

func newFake(t testing.TB) *fakeFIB {
	return &fakeFIB{t: t, hops: map[uint32]fwd.NextHop{}, entries: map[netip.Prefix]uint32{}}
}

func (f *fakeFIB) AddNextHop(h fwd.NextHop) (uint32, error) {
	var idx uint32
	if len(f.free) > 0 {
		idx, f.free = f.free[0], f.free[1:]
	} else {
		idx = f.next
		f.next++
	}
	f.hops[idx] = h
	return idx, nil
}

func (f *fakeFIB) ReleaseNextHop(idx uint32) {
	if _, ok := f.hops[idx]; !ok {
		f.t.Errorf("next hop %d released twice", idx)
	}
	for p, i := range f.entries {
		if i == idx {
			f.t.Errorf("next hop %d released while %s points at it", idx, p)
		}
	}
	delete(f.hops, idx)
	f.free = append(f.free, idx)
}

var errFakeFull = errors.New("fake FIB: no space")

func (f *fakeFIB) Set(p netip.Prefix, idx uint32) error {
	if _, ok := f.hops[idx]; !ok {
		f.t.Errorf("%s set to next hop %d, which is not written", p, idx)
	}
	if _, ok := f.entries[p]; !ok {
		f.adds++
		if f.failAt > 0 && f.adds >= f.failAt {
			return errFakeFull
		}
	}
	f.entries[p] = idx
	return nil
}

func (f *fakeFIB) SetBulk(ps []netip.Prefix, idx []uint32) error {
	for i, p := range ps {
		if err := f.Set(p, idx[i]); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeFIB) Delete(p netip.Prefix) error {
	if _, ok := f.entries[p]; !ok {
		return fmt.Errorf("fake FIB: delete %s: no such entry", p)
	}
	delete(f.entries, p)
	return nil
}

// forwarding is the FIB as prefix -> next hop, indexes resolved.
func (f *fakeFIB) forwarding() map[netip.Prefix]fwd.NextHop {
	out := make(map[netip.Prefix]fwd.NextHop, len(f.entries))
	for p, i := range f.entries {
		out[p] = f.hops[i]
	}
	return out
}

// lookup is a longest-prefix match over the entries.
func (f *fakeFIB) lookup(a netip.Addr) (netip.Prefix, fwd.NextHop, bool) {
	for bits := 32; bits >= 0; bits-- {
		p := netip.PrefixFrom(a, bits).Masked()
		if i, ok := f.entries[p]; ok {
			return p, f.hops[i], true
		}
	}
	return netip.Prefix{}, fwd.NextHop{}, false
}

// diff describes how two forwarding views differ ("" when equal).
func diff(got, want map[netip.Prefix]fwd.NextHop) string {
	if maps.Equal(got, want) {
		return ""
	}
	s := ""
	for p, h := range want {
		if g, ok := got[p]; !ok || g != h {
			s += fmt.Sprintf("\n  %s: have %v (%v), want %v", p, g, ok, h)
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			s += fmt.Sprintf("\n  %s: have %v, want none", p, g)
		}
	}
	return s
}
