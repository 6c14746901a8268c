package rib

// Neighbours: what the neighbour table resolves becomes /32 entries and the
// next hop of the routes through it.

import (
	"fmt"
	"net/netip"

	"github.com/steer-router/steer/pkg/inet"
)

// NeighborUp says ip is usable on port with mac (or its MAC changed): its
// /32 and every static route through it forward in the fast path.
func (t *Table) NeighborUp(ip netip.Addr, port uint16, mac inet.MAC) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, err := t.addrs.Neighbor(ip, int(port)); err != nil || p != int(port) {
		return fmt.Errorf("neighbour %s on port %d: %v", ip, port, err)
	}
	t.neigh[ip4Of(ip)] = neighbor{port: port, mac: mac}
	k := hostKey(ip)
	d := t.dests[k]
	d.sources |= 1 << Neighbor
	t.dests[k] = d
	return t.sync(t.affected(ip), false)
}

// NeighborDown says ip is no longer usable: its traffic goes back to the
// slow path, which resolves it again.
func (t *Table) NeighborDown(ip netip.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.neigh[ip4Of(ip)]; !ok {
		return nil
	}
	delete(t.neigh, ip4Of(ip))
	k := hostKey(ip)
	d := t.dests[k]
	d.sources &^= 1 << Neighbor
	t.store(k, d)
	return t.sync(t.affected(ip), false)
}

// affected are the prefixes whose entry depends on neighbour ip: its /32
// and the static routes through it.
func (t *Table) affected(ip netip.Addr) []key {
	keys := []key{hostKey(ip)}
	for k := range t.vias[ip4Of(ip)] {
		keys = append(keys, k)
	}
	return keys
}
