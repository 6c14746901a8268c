package router

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/steer-router/steer/cgo/fastpath"
	"github.com/steer-router/steer/pkg/fib"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/slowpath"
)

// fibState mirrors what the fast path's FIB and next-hop table hold, so
// run-time changes (routes, neighbours) know what to replace and when a
// next-hop entry is no longer used. Guarded by Router.fibMu.
//
// Next-hop entries are never rewritten while a FIB entry may point at
// them: a change writes a new entry, repoints the FIB, and releases the old
// one, which the fast path reuses only after an RCU grace period. FIB
// changes themselves go through the Dataplane, which keeps the grace
// periods between them (fastpath.Dataplane.fibChange).
type fibState struct {
	entryNH map[pfx]uint32         // every FIB entry -> next-hop index
	nhIdx   map[string]uint32      // next hop (fib.NextHop.Key) -> index
	hopOf   map[uint32]fib.NextHop // index -> next hop
	nhRef   map[uint32]int         // FIB entries per index

	usable    map[netip.Addr]hwAddr       // neighbours the fast path may send to
	hostNH    map[netip.Addr]bool         // neighbours with their own /32 entry
	viaRoutes map[netip.Addr]map[pfx]bool // gateway -> static routes through it
}

// pfx is an IPv4 prefix as a map key: address << 8 | length. Maps of a
// million routes hash and compare it far faster than netip.Prefix.
type pfx uint64

func keyOf(p netip.Prefix) pfx {
	a := p.Addr().As4()
	return pfx(uint64(a[0])<<32 | uint64(a[1])<<24 | uint64(a[2])<<16 | uint64(a[3])<<8 | uint64(p.Bits()))
}

func (k pfx) prefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(k >> 32), byte(k >> 24), byte(k >> 16), byte(k >> 8)}), int(k&0xff))
}

// ip4 is an IPv4 address as a pointer-free map value (a gateway: never
// 0.0.0.0).
type ip4 uint32

func ip4Of(a netip.Addr) ip4 {
	b := a.As4()
	return ip4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

func (a ip4) addr() netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

type hwAddr struct {
	port int
	mac  net.HardwareAddr
}

func (fs *fibState) init(t *fib.Table, static []fib.Neighbor) {
	*fs = fibState{entryNH: map[pfx]uint32{}, nhIdx: map[string]uint32{}, hopOf: map[uint32]fib.NextHop{},
		nhRef: map[uint32]int{}, usable: map[netip.Addr]hwAddr{}, hostNH: map[netip.Addr]bool{},
		viaRoutes: map[netip.Addr]map[pfx]bool{}}
	for i, h := range t.NextHops {
		fs.nhIdx[h.Key()] = uint32(i)
		fs.hopOf[uint32(i)] = h
	}
	for _, e := range t.Entries {
		fs.entryNH[keyOf(e.Prefix)] = uint32(e.NextHop)
		fs.nhRef[uint32(e.NextHop)]++
		if e.Origin == fib.OriginNeighbor {
			fs.hostNH[e.Prefix.Addr()] = true
		}
		if e.Origin == fib.OriginStatic {
			fs.linkVia(e.Via, e.Prefix)
		}
	}
	for _, n := range static {
		fs.usable[n.Addr] = hwAddr{port: n.Port, mac: n.MAC}
	}
	// Next hops no entry uses (a static route's hop replaced by a
	// neighbour's) are released at once: nothing can be reading them.
	for i := range fs.hopOf {
		if fs.nhRef[i] == 0 {
			delete(fs.nhIdx, fs.hopOf[i].Key())
			delete(fs.hopOf, i)
		}
	}
}

func (fs *fibState) linkVia(via netip.Addr, p netip.Prefix) {
	if fs.viaRoutes[via] == nil {
		fs.viaRoutes[via] = map[pfx]bool{}
	}
	fs.viaRoutes[via][keyOf(p)] = true
}

func (fs *fibState) unlinkVia(via netip.Addr, p netip.Prefix) {
	delete(fs.viaRoutes[via], keyOf(p))
	if len(fs.viaRoutes[via]) == 0 {
		delete(fs.viaRoutes, via)
	}
}

// hopIndex finds or writes h in the fast path's table and takes a
// reference on it.
func (r *Router) hopIndex(h fib.NextHop) (uint32, error) {
	fs := &r.fs
	idx, ok := fs.nhIdx[h.Key()]
	if !ok {
		var err error
		if idx, err = r.dp.AppendNextHop(r.fastpathHop(h)); err != nil {
			return 0, err
		}
		fs.nhIdx[h.Key()] = idx
		fs.hopOf[idx] = h
	}
	fs.nhRef[idx]++
	return idx, nil
}

// unref drops a reference; the last one releases the entry to the fast
// path (reused after a grace period).
func (r *Router) unref(idx uint32) {
	fs := &r.fs
	fs.nhRef[idx]--
	if fs.nhRef[idx] > 0 {
		return
	}
	delete(fs.nhRef, idx)
	delete(fs.nhIdx, fs.hopOf[idx].Key())
	delete(fs.hopOf, idx)
	r.dp.ReleaseNextHop(idx)
}

// setEntry points prefix p at next hop h (adding or replacing the entry).
func (r *Router) setEntry(p netip.Prefix, h fib.NextHop) error {
	idx, err := r.hopIndex(h)
	if err != nil {
		return err
	}
	old, had := r.fs.entryNH[keyOf(p)]
	if had && old == idx {
		r.unref(idx)
		return nil
	}
	if err := r.dp.AddRoute(p, idx); err != nil {
		r.unref(idx)
		return r.fibFull(err)
	}
	r.fs.entryNH[keyOf(p)] = idx
	if had {
		r.unref(old)
	}
	return nil
}

// clearEntry removes prefix p's entry, if any.
func (r *Router) clearEntry(p netip.Prefix) error {
	idx, ok := r.fs.entryNH[keyOf(p)]
	if !ok {
		return nil
	}
	if err := r.dp.DeleteRoute(p); err != nil {
		return err
	}
	delete(r.fs.entryNH, keyOf(p))
	r.unref(idx)
	return nil
}

// gatewayHop is where a route through via on port sends: straight to the
// gateway's MAC once it is known, else to the slow path to resolve it.
func (r *Router) gatewayHop(port int, via netip.Addr) fib.NextHop {
	if n, ok := r.fs.usable[via]; ok && n.port == port {
		return fib.NextHop{Kind: fib.Forward, Port: port, MAC: n.mac}
	}
	return fib.NextHop{Kind: fib.Unresolved, Port: port, Via: via}
}

// installHost gives a usable on-link neighbour its /32, so packets to it
// leave the fast path's connected-subnet (unresolved) entry. Skipped when
// the address is the router's own or a static /32 route claims it.
func (r *Router) installHost(ip netip.Addr, n hwAddr) error {
	p := netip.PrefixFrom(ip, 32)
	if _, own := r.base[keyOf(p)]; own {
		return nil
	}
	if _, routed := r.routes[keyOf(p)]; routed {
		return nil
	}
	if err := r.setEntry(p, fib.NextHop{Kind: fib.Forward, Port: n.port, MAC: n.mac}); err != nil {
		return err
	}
	r.fs.hostNH[ip] = true
	return nil
}

// neighborUp: the neighbour table says e is usable (or its MAC changed).
func (r *Router) neighborUp(e neigh.Entry) {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	n := hwAddr{port: e.Port, mac: append(net.HardwareAddr(nil), e.MAC...)}
	r.fs.usable[e.IP] = n
	err := r.installHost(e.IP, n)
	for k := range r.fs.viaRoutes[e.IP] {
		if port, ok := fib.OnLink(r.ifaces, e.IP); ok {
			err = firstErr(err, r.setEntry(k.prefix(), r.gatewayHop(port, e.IP)))
		}
	}
	if err != nil {
		r.log.Error(fmt.Sprintf("installing neighbour %s: %v", e.IP, err))
	}
}

// neighborDown: e is no longer usable; its traffic goes back to the slow
// path, which resolves it again.
func (r *Router) neighborDown(e neigh.Entry) {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	delete(r.fs.usable, e.IP)
	var err error
	if r.fs.hostNH[e.IP] {
		err = r.clearEntry(netip.PrefixFrom(e.IP, 32))
		delete(r.fs.hostNH, e.IP)
	}
	for k := range r.fs.viaRoutes[e.IP] {
		if port, ok := fib.OnLink(r.ifaces, e.IP); ok {
			err = firstErr(err, r.setEntry(k.prefix(), r.gatewayHop(port, e.IP)))
		}
	}
	if err != nil {
		r.log.Error(fmt.Sprintf("removing neighbour %s: %v", e.IP, err))
	}
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// slowEnv is the data plane as the slow path sees it.
type slowEnv struct{ r *Router }

func (e slowEnv) Take(n int) []fastpath.Exception { return e.r.exc.Take(n) }

func (e slowEnv) Send(port int, frame []byte) error {
	return e.r.dp.Send(e.r.pool.Ptr(), uint16(port), frame)
}

func (e slowEnv) HopOf(idx uint32) (slowpath.Hop, bool) {
	e.r.fibMu.Lock()
	defer e.r.fibMu.Unlock()
	h, ok := e.r.fs.hopOf[idx]
	return slowHop(h), ok
}

// Lookup asks the FIB itself (under fibMu, so no writer changes what it
// reads).
func (e slowEnv) Lookup(dst netip.Addr) (slowpath.Hop, bool) {
	e.r.fibMu.Lock()
	defer e.r.fibMu.Unlock()
	idx, ok := e.r.dp.Lookup(dst)
	if !ok {
		return slowpath.Hop{}, false
	}
	h, ok := e.r.fs.hopOf[idx]
	return slowHop(h), ok
}

func (e slowEnv) LinkUp(port int) bool {
	for _, p := range e.r.ports {
		if int(p.id) == port {
			l, err := p.id.Link()
			return err == nil && l.Up
		}
	}
	return false
}

func slowHop(h fib.NextHop) slowpath.Hop {
	return slowpath.Hop{Kind: fastpath.NextHopKind(h.Kind), Port: h.Port, MAC: h.MAC, Via: h.Via}
}
