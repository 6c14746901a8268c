// Package inet is IPv4 addressing as steer's operators write it and as a
// router judges it: parsing prefixes, addresses and MACs, the broadcast
// address of a subnet, and what the router's own addresses make of an
// address (on-link, a neighbour, one of its own). Config validation, the
// API, reload, the route table and the slow path all ask here, so one
// concept is checked in one place.
package inet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParsePrefix parses an IPv4 prefix ("10.0.0.0/24"). It does not insist on
// a canonical prefix: an interface address keeps its host bits.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err == nil {
		if !p.Addr().Is4() {
			return netip.Prefix{}, errors.New("IPv4 only")
		}
		return p, nil
	}
	addr, bits, hasBits := strings.Cut(s, "/")
	a, aerr := netip.ParseAddr(addr)
	switch {
	case aerr != nil:
		return netip.Prefix{}, errors.New("not an IPv4 prefix like 10.0.0.1/24")
	case !a.Is4():
		return netip.Prefix{}, errors.New("IPv4 only")
	case !hasBits:
		return netip.Prefix{}, fmt.Errorf("missing prefix length, e.g. %s/24", s)
	default:
		return netip.Prefix{}, fmt.Errorf("bad prefix length %q: expected 0..32", bits)
	}
}

// ParseRoutePrefix parses the destination of a route: an IPv4 prefix
// without host bits, not inside a range the fast path never looks up.
func ParseRoutePrefix(s string) (netip.Prefix, error) {
	p, err := ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("host bits set; did you mean %q?", p.Masked().String())
	}
	if why, dead := Unroutable(p); dead {
		return netip.Prefix{}, errors.New(why)
	}
	return p, nil
}

// unroutable are the destinations the fast path drops or keeps before any
// FIB lookup (RFC 1812 5.3.7, 4.2.2.11; 255.255.255.255 is for the router
// itself, 5.3.5.1).
var unroutable = []struct {
	net  netip.Prefix
	what string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" 0.0.0.0/8"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback 127.0.0.0/8"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast 224.0.0.0/4"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved 240.0.0.0/4 (and the limited broadcast)"},
}

// Unroutable says whether every destination of p lies in a range the fast
// path never forwards to, and why. A prefix that only covers such a range
// (0.0.0.0/0) is routable: it routes the rest.
func Unroutable(p netip.Prefix) (string, bool) {
	for _, u := range unroutable {
		if p.Bits() >= u.net.Bits() && u.net.Contains(p.Addr()) {
			return fmt.Sprintf("inside %s: the fast path drops those destinations before any lookup (RFC 1812 5.3.7), so the route could never be used", u.what), true
		}
	}
	return "", false
}

// ParseAddr parses an IPv4 address ("10.0.0.2").
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil && strings.Contains(s, "/"):
		return netip.Addr{}, errors.New("an address without prefix length is expected, e.g. 10.0.0.2")
	case err != nil:
		return netip.Addr{}, errors.New("not an IPv4 address like 10.0.0.2")
	case !a.Is4():
		return netip.Addr{}, errors.New("IPv4 only")
	}
	return a, nil
}

// EthHeaderLen is the length of an Ethernet header without VLAN tags.
const EthHeaderLen = 14

// MAC is an Ethernet address. Comparable, so it can key a map.
type MAC [6]byte

// ParseMAC parses a neighbour's MAC: six bytes, unicast, not zero.
func ParseMAC(s string) (MAC, error) {
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		return MAC{}, errors.New("not an Ethernet MAC like 02:00:00:00:00:02")
	}
	hw := MAC(m)
	return hw, hw.CheckUnicast()
}

// CheckUnicast says why m cannot be a neighbour's address, or nil.
func (m MAC) CheckUnicast() error {
	switch {
	case m == MAC{}:
		return errors.New("the zero MAC is not a neighbour's address")
	case m[0]&1 != 0:
		return errors.New("multicast or broadcast MAC; a neighbour has a unicast MAC")
	}
	return nil
}

func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// MarshalText writes m as 02:00:00:00:00:0a.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads any MAC net.ParseMAC takes (six bytes).
func (m *MAC) UnmarshalText(b []byte) error {
	hw, err := net.ParseMAC(string(b))
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("not an Ethernet MAC: %q", b)
	}
	*m = MAC(hw)
	return nil
}

// HW is m as the net package has it.
func (m MAC) HW() net.HardwareAddr { return net.HardwareAddr(m[:]) }

// Last is the last address of p: a subnet's broadcast address.
func Last(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	u := binary.BigEndian.Uint32(b[:]) | (uint32(1)<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

// HasBroadcast reports whether subnet p has network and broadcast
// addresses of its own (RFC 3021: /31 and /32 do not).
func HasBroadcast(p netip.Prefix) bool { return p.Bits() <= 30 }

// IsSubnetEdge reports whether a is the network or broadcast address of p.
func IsSubnetEdge(p netip.Prefix, a netip.Addr) bool {
	return HasBroadcast(p) && (a == p.Masked().Addr() || a == Last(p))
}
