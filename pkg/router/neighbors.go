package router

import (
	"errors"
	"net"
	"net/netip"
)

// Neighbor is one entry of the neighbour (ARP) table as the API shows it.
type Neighbor struct {
	IP    netip.Addr `json:"ip"`
	MAC   string     `json:"mac,omitempty"` // "" while incomplete or failed
	Port  string     `json:"port"`
	State string     `json:"state"` // static | incomplete | reachable | stale | probe | failed
	// Static entries come from the config or the API and always win over
	// what ARP learns.
	Static bool `json:"static"`
}

// ErrNoNeighbor is returned when deleting a static neighbour that does not exist.
var ErrNoNeighbor = errors.New("no such static neighbour")

// Neighbors lists the neighbour table (static and learnt), sorted by IP.
// (Stub: filled in with ARP, issue 4.)
func (r *Router) Neighbors() []Neighbor { return nil }

// AddNeighbor adds or replaces a static neighbour on the named port.
// (Stub: filled in with ARP, issue 4.)
func (r *Router) AddNeighbor(ip netip.Addr, mac net.HardwareAddr, port string) error {
	return errors.New("not implemented yet")
}

// DeleteNeighbor removes a static neighbour; ErrNoNeighbor if there is none.
// (Stub: filled in with ARP, issue 4.)
func (r *Router) DeleteNeighbor(ip netip.Addr) error { return errors.New("not implemented yet") }
