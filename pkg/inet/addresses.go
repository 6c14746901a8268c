package inet

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Address is one of the router's addresses: a host address with the
// length of its connected subnet, on a port.
type Address struct {
	Prefix   netip.Prefix // 10.0.0.1/24
	Port     int          // port id
	PortName string
	Where    string // how messages name it: "ports[0].addresses[1]", "port lan"
}

// Addresses are all of the router's addresses; what an address is to the
// router follows from them.
type Addresses []Address

// ErrPortHasNoAddress: a neighbour was asked of a port without addresses.
var ErrPortHasNoAddress = errors.New("the port has no address")

// OnLink finds the port whose connected subnet holds a (longest match).
func (as Addresses) OnLink(a netip.Addr) (int, bool) {
	best, port := -1, 0
	for _, o := range as {
		if o.Prefix.Masked().Contains(a) && o.Prefix.Bits() > best {
			best, port = o.Prefix.Bits(), o.Port
		}
	}
	return port, best >= 0
}

// IsOwn reports whether a is one of the router's addresses.
func (as Addresses) IsOwn(a netip.Addr) bool {
	_, ok := as.own(a)
	return ok
}

func (as Addresses) own(a netip.Addr) (Address, bool) {
	for _, o := range as {
		if o.Prefix.Addr() == a {
			return o, true
		}
	}
	return Address{}, false
}

// Neighbor checks that a can be a neighbour (a host the router sends to
// directly: a gateway or a static neighbour) on port, or on any port when
// port < 0: on a connected subnet, and neither one of the router's own
// addresses nor a subnet's network or broadcast address. It returns the
// port.
func (as Addresses) Neighbor(a netip.Addr, port int) (int, error) {
	if o, own := as.own(a); own {
		return 0, fmt.Errorf("%s is the router's own address (%s)", a, o.Where)
	}
	var subnets []string
	name := ""
	for _, o := range as {
		if port >= 0 && o.Port != port {
			continue
		}
		name = o.PortName
		if !o.Prefix.Contains(a) {
			subnets = append(subnets, o.Prefix.Masked().String())
			continue
		}
		if IsSubnetEdge(o.Prefix, a) {
			return 0, fmt.Errorf("%s is the network or broadcast address of %s (%s)", a, o.Prefix.Masked(), o.Where)
		}
		return o.Port, nil
	}
	switch {
	case port >= 0 && len(subnets) == 0:
		return 0, ErrPortHasNoAddress
	case port >= 0:
		return 0, fmt.Errorf("not on a connected subnet of port %s (%s)", name, strings.Join(subnets, ", "))
	}
	return 0, errors.New("not on a connected subnet of any port")
}

// Claimed says whether prefix p is the router's own: one of its addresses
// (/32), a connected subnet's network or broadcast address (/32), or a
// connected subnet. Such prefixes are never a static route's: the router
// answers, drops or resolves them itself. The message says which.
func (as Addresses) Claimed(p netip.Prefix) (string, bool) {
	p = p.Masked()
	for _, o := range as {
		switch {
		case p.Bits() == 32 && p.Addr() == o.Prefix.Addr():
			return fmt.Sprintf("%s is the router's own address (%s)", p.Addr(), o.Where), true
		case p.Bits() == 32 && IsSubnetEdge(o.Prefix, p.Addr()):
			return fmt.Sprintf("%s is the network or broadcast address of %s (%s)", p.Addr(), o.Prefix.Masked(), o.Where), true
		case p == o.Prefix.Masked():
			return fmt.Sprintf("%s is the connected subnet of port %s (%s)", p, o.PortName, o.Where), true
		}
	}
	return "", false
}
