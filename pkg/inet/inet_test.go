package inet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefix(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"10.0.0.1/24", "10.0.0.1/24", ""},
		{"10.0.0.0/24", "10.0.0.0/24", ""},
		{"2001:db8::/32", "", "IPv4 only"},
		{"10.0.0.1", "", "missing prefix length"},
		{"10.0.0.1/33", "", "bad prefix length"},
		{"ten/8", "", "not an IPv4 prefix"},
	} {
		p, err := ParsePrefix(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || p.String() != c.want {
			t.Errorf("%q: %v %v, want %s", c.in, p, err, c.want)
		}
	}
	if _, err := ParseRoutePrefix("10.0.0.1/24"); err == nil || !strings.Contains(err.Error(), `did you mean "10.0.0.0/24"`) {
		t.Errorf("route prefix with host bits: %v", err)
	}
}

func TestParseAddrAndMAC(t *testing.T) {
	if _, err := ParseAddr("10.0.0.2/24"); err == nil || !strings.Contains(err.Error(), "without prefix length") {
		t.Errorf("address with length: %v", err)
	}
	if _, err := ParseAddr("::1"); err == nil {
		t.Error("IPv6 accepted")
	}
	for _, c := range []struct{ in, err string }{
		{"02:00:00:00:00:02", ""},
		{"00:00:00:00:00:00", "zero MAC"},
		{"ff:ff:ff:ff:ff:ff", "multicast or broadcast"},
		{"01:00:5e:00:00:01", "multicast or broadcast"},
		{"02:00:00:00:00", "not an Ethernet MAC"},
	} {
		_, err := ParseMAC(c.in)
		if (c.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v, want %q", c.in, err, c.err)
		}
	}
}

func TestLast(t *testing.T) {
	for _, c := range []struct{ p, want string }{
		{"10.0.0.1/24", "10.0.0.255"}, {"192.0.2.0/30", "192.0.2.3"}, {"0.0.0.0/0", "255.255.255.255"}, {"10.1.2.3/32", "10.1.2.3"},
	} {
		if got := Last(netip.MustParsePrefix(c.p)); got.String() != c.want {
			t.Errorf("Last(%s) = %s, want %s", c.p, got, c.want)
		}
	}
}

var addrs = Addresses{
	{Prefix: netip.MustParsePrefix("10.0.0.1/24"), Port: 0, PortName: "lan", Where: "ports[0].addresses[0]"},
	{Prefix: netip.MustParsePrefix("10.0.1.1/24"), Port: 0, PortName: "lan", Where: "ports[0].addresses[1]"},
	{Prefix: netip.MustParsePrefix("192.0.2.1/30"), Port: 1, PortName: "wan", Where: "ports[1].addresses[0]"},
	{Prefix: netip.MustParsePrefix("198.18.0.1/31"), Port: 2, PortName: "p2p", Where: "ports[2].addresses[0]"},
}

func TestNeighbor(t *testing.T) {
	for _, c := range []struct {
		a    string
		port int
		want int
		err  string
	}{
		{"10.0.0.2", -1, 0, ""},
		{"192.0.2.2", 1, 1, ""},
		{"198.18.0.0", -1, 2, ""}, // /31: both addresses are hosts
		{"10.0.1.1", -1, 0, "router's own address (ports[0].addresses[1])"},
		{"10.0.0.255", -1, 0, "network or broadcast address of 10.0.0.0/24"},
		{"192.0.2.0", -1, 0, "network or broadcast"},
		{"10.9.0.2", -1, 0, "not on a connected subnet of any port"},
		{"10.0.0.3", 1, 0, "not on a connected subnet of port wan (192.0.2.0/30)"},
	} {
		port, err := addrs.Neighbor(netip.MustParseAddr(c.a), c.port)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s on %d: %v, want %q", c.a, c.port, err, c.err)
			}
			continue
		}
		if err != nil || port != c.want {
			t.Errorf("%s on %d: port %d, %v; want %d", c.a, c.port, port, err, c.want)
		}
	}
	if _, err := addrs.Neighbor(netip.MustParseAddr("10.0.0.2"), 7); !errors.Is(err, ErrPortHasNoAddress) {
		t.Errorf("port without addresses: %v", err)
	}
}

func TestClaimed(t *testing.T) {
	for _, c := range []struct {
		p    string
		want string // "" = not claimed
	}{
		{"10.0.0.1/32", "router's own address"},
		{"10.0.0.0/32", "network or broadcast"},
		{"10.0.0.255/32", "network or broadcast"},
		{"10.0.1.0/24", "connected subnet of port lan (ports[0].addresses[1])"},
		{"198.18.0.0/32", ""}, // /31 has no network address
		{"10.0.0.7/32", ""},
		{"10.0.0.0/16", ""},
		{"198.51.100.0/24", ""},
	} {
		msg, ok := addrs.Claimed(netip.MustParsePrefix(c.p))
		if ok != (c.want != "") || ok && !strings.Contains(msg, c.want) {
			t.Errorf("Claimed(%s) = %q %v, want %q", c.p, msg, ok, c.want)
		}
	}
	if p, ok := addrs.OnLink(netip.MustParseAddr("10.0.1.9")); !ok || p != 0 {
		t.Errorf("OnLink: %d %v", p, ok)
	}
}

// TestUnroutable: a route inside a range the fast path never looks up is
// refused; one that merely covers such a range routes the rest.
func TestUnroutable(t *testing.T) {
	for _, s := range []string{"127.0.0.0/8", "127.1.0.0/16", "0.1.0.0/16", "0.0.0.0/8", "224.0.0.0/4",
		"239.1.2.0/24", "240.0.0.0/4", "250.0.0.0/8", "255.255.255.255/32"} {
		if _, err := ParseRoutePrefix(s); err == nil || !strings.Contains(err.Error(), "before any lookup") {
			t.Errorf("%s: %v, want refused", s, err)
		}
	}
	for _, s := range []string{"0.0.0.0/0", "128.0.0.0/1", "192.0.0.0/2", "198.51.100.0/24", "1.0.0.0/8", "223.255.255.0/24"} {
		if _, err := ParseRoutePrefix(s); err != nil {
			t.Errorf("%s: %v, want accepted", s, err)
		}
	}
}
