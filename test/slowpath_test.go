package e2e

// The slow path on net_pcap ports (deterministic): crafted ARP and IP
// packets for the router in, steer's answers out, every field checked. The
// standard topology: lan 10.0.0.1/24 (static neighbour 10.0.0.2 =
// LanHostMAC), wan 203.0.113.1/24 (203.0.113.2 = WanPeerMAC),
// 198.51.100.0/24 via 203.0.113.2.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// checkGratuitous: the port announced its address at start: an ARP
// broadcast from the port's MAC whose sender and target IP are the
// port's address.
func checkGratuitous(t *testing.T, frames []*outFrame, port, addr string, mac net.HardwareAddr) {
	t.Helper()
	var found bool
	for _, f := range frames {
		if !isGratuitous(f) {
			continue
		}
		checkNoProblems(t, f)
		if f.ARP.SPA != netip.MustParseAddr(addr) || !bytes.Equal(f.ARP.SHA, mac) || !bytes.Equal(f.Src, mac) ||
			!bytes.Equal(f.Dst, trafgen.BroadcastMAC()) {
			t.Errorf("%s: a gratuitous ARP must announce %s at %v to ff:ff:ff:ff:ff:ff: %s", port, addr, mac, f)
			continue
		}
		found = true
	}
	if !found {
		t.Errorf("%s: no gratuitous ARP for %s at start", port, addr)
	}
}

// TestSlowPathARP: steer answers ARP requests for its own addresses (a
// broadcast request and a unicast poll on lan, a request on wan) with
// replies from the port's MAC to the requester, never one for an address
// that is not its own, and announces each address at start.
func TestSlowPathARP(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	bc := trafgen.BroadcastMAC()
	lanIn := [][]byte{
		arpFrame(bc, LanHostMAC, 1, LanHostMAC, "10.0.0.2", nil, "10.0.0.1"),
		arpFrame(bc, LanHostMAC, 1, LanHostMAC, "10.0.0.2", nil, "10.0.0.77"),       // not ours
		arpFrame(lanMAC, LanHostMAC, 1, LanHostMAC, "10.0.0.2", nil, "10.0.0.1"),    // unicast poll (RFC 1122 2.3.2.1)
		arpFrame(bc, LanHostMAC, 1, LanHostMAC, "10.0.0.2", nil, "198.51.100.7"),    // routed elsewhere: no proxy ARP
		arpFrame(lanMAC, LanHostMAC, 2, LanHostMAC, "10.0.0.2", lanMAC, "10.0.0.1"), // a reply is never answered
	}
	wanIn := [][]byte{
		arpFrame(bc, WanPeerMAC, 1, WanPeerMAC, "203.0.113.2", nil, "203.0.113.1"),
	}
	r := slowRun(t, lanIn, wanIn, "", idle)
	if got := r.Stats.Totals.SlowPath["arp"]; got != uint64(len(lanIn)+len(wanIn)) {
		t.Errorf("slowpath.arp = %d, sent %d ARP packets", got, len(lanIn)+len(wanIn))
	}

	checkGratuitous(t, r.Lan, "lan", "10.0.0.1", lanMAC)
	checkGratuitous(t, r.Wan, "wan", "203.0.113.1", wanMAC)

	check := func(port string, frames []*outFrame, mac net.HardwareAddr, ip string, reqMAC net.HardwareAddr, reqIP string, want int) {
		t.Helper()
		n := 0
		for _, f := range frames {
			if isGratuitous(f) {
				continue
			}
			if f.ARP == nil || f.ARP.Op != 2 {
				t.Errorf("%s: unexpected frame %s", port, f)
				continue
			}
			checkNoProblems(t, f)
			n++
			if !bytes.Equal(f.ARP.SHA, mac) || f.ARP.SPA != netip.MustParseAddr(ip) ||
				!bytes.Equal(f.ARP.THA, reqMAC) || f.ARP.TPA != netip.MustParseAddr(reqIP) {
				t.Errorf("%s: reply %s, want %s is-at %v to %s %v", port, f, ip, mac, reqIP, reqMAC)
			}
			if !bytes.Equal(f.Dst, reqMAC) || !bytes.Equal(f.Src, mac) {
				t.Errorf("%s: reply sent %v -> %v, want %v -> %v (to the requester, not broadcast)", port, f.Src, f.Dst, mac, reqMAC)
			}
		}
		if n != want {
			t.Errorf("%s: %d ARP replies, want %d", port, n, want)
		}
	}
	check("lan", r.Lan, lanMAC, "10.0.0.1", LanHostMAC, "10.0.0.2", 2)
	check("wan", r.Wan, wanMAC, "203.0.113.1", WanPeerMAC, "203.0.113.2", 1)

	if r.SlowPath != nil {
		if v, n := counterSum(r.SlowPath, "arp"); n > 0 && v == 0 {
			t.Errorf("every slow_path ARP counter is 0 after 3 replies: %s", fmtCounters(r.SlowPath))
		}
	}
}

// TestSlowPathARPStaticWinsAndLearns: an ARP request and an unsolicited
// reply from 10.0.0.2 claiming another MAC do not move the static
// neighbour (all 20,000 packets to 10.0.0.2 that follow still go to
// LanHostMAC), while 10.0.0.5, which asked for the router's address, is
// learned from its request (RFC 826): packets routed to it after that
// leave with its MAC.
func TestSlowPathARPStaticWinsAndLearns(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	bc := trafgen.BroadcastMAC()
	impostor := net.HardwareAddr{0x02, 0, 0, 0, 0xaa, 0xaa}
	host5 := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x05}
	lanIn := [][]byte{
		arpFrame(bc, impostor, 1, impostor, "10.0.0.2", nil, "10.0.0.1"),
		arpFrame(bc, impostor, 2, impostor, "10.0.0.2", bc, "10.0.0.2"), // gratuitous reply
		arpFrame(bc, host5, 1, host5, "10.0.0.5", nil, "10.0.0.1"),
	}
	// On wan, behind the ARP packets in time: 20,000 packets to the static
	// neighbour, then 50 to the learned one.
	filler := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
		Flows: 100, PacketsPerFlow: 200, FirstFlow: 1000, TTL: 64, Size: 64, Seed: 41})
	probes := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.MustParsePrefix("10.0.0.5/32"),
		Flows: 1, PacketsPerFlow: 50, FirstFlow: 5000, TTL: 64, Size: 64, Seed: 42})
	wanIn := append(append([][]byte(nil), filler...), probes...)
	r := slowRun(t, lanIn, wanIn, "", idle)

	var toStatic, toLearned, wrong int
	for _, f := range r.Lan {
		if f.IP == nil {
			continue
		}
		switch f.Dst4 {
		case lanHost:
			toStatic++
			if !bytes.Equal(f.Dst, LanHostMAC) {
				wrong++
				if wrong <= 3 {
					t.Errorf("%s: sent to %v, the static neighbour is %v (static entries win over ARP)", f, f.Dst, LanHostMAC)
				}
			}
		case netip.MustParseAddr("10.0.0.5"):
			toLearned++
			if !bytes.Equal(f.Dst, host5) || !bytes.Equal(f.Src, lanMAC) {
				t.Errorf("%s: want %v -> %v (learned from its ARP request)", f, lanMAC, host5)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d packets to 10.0.0.2 went to another MAC than the static entry's", wrong, toStatic)
	}
	if toStatic != len(filler) {
		t.Errorf("%d of %d packets to the static neighbour forwarded", toStatic, len(filler))
	}
	t.Logf("%d of %d packets to the learned neighbour 10.0.0.5 forwarded", toLearned, len(probes))
	if toLearned < len(probes)-8 {
		t.Errorf("only %d of %d packets to 10.0.0.5 (which had asked for 10.0.0.1 before them) were forwarded", toLearned, len(probes))
	}
}

// TestSlowPathEcho: echo requests to the router's addresses (the lan
// address, the wan address asked from the lan, a 1000-byte one, one on
// wan) get echo replies from the address asked, to the requester's MAC,
// with id, sequence and data unchanged and valid IP and ICMP checksums.
func TestSlowPathEcho(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	type ping struct {
		port, from, to string
		seq            uint16
		size           int
	}
	pings := []ping{
		{"lan", "10.0.0.2", "10.0.0.1", 1, 56},
		{"lan", "10.0.0.2", "203.0.113.1", 2, 56},
		{"lan", "10.0.0.2", "10.0.0.1", 3, 1000},
		{"lan", "10.0.0.2", "10.0.0.1", 4, 0},
		{"wan", "203.0.113.2", "203.0.113.1", 5, 56},
	}
	const id = 0x4d2
	var lanIn, wanIn [][]byte
	reqs := map[uint32][]byte{}
	for _, p := range pings {
		req := ipv4Pkt(p.from, p.to, protoICMP, 64, 100+p.seq, 0, icmpMsg(icmpEchoRequest, 0, id<<16|uint32(p.seq), echoData(p.seq, p.size)))
		reqs[id<<16|uint32(p.seq)] = req
		if p.port == "lan" {
			lanIn = append(lanIn, ether(lanMAC, LanHostMAC, 0x0800, req))
		} else {
			wanIn = append(wanIn, ether(wanMAC, WanPeerMAC, 0x0800, req))
		}
	}
	r := slowRun(t, lanIn, wanIn, "", idle)
	if got := r.Stats.Totals.SlowPath["local"]; got != uint64(len(pings)) {
		t.Errorf("slowpath.local = %d, sent %d echo requests", got, len(pings))
	}
	for _, port := range []struct {
		name     string
		frames   []*outFrame
		mac, dst net.HardwareAddr
	}{{"lan", r.Lan, lanMAC, LanHostMAC}, {"wan", r.Wan, wanMAC, WanPeerMAC}} {
		errs, echo, _, other := sortOut(port.frames)
		for _, f := range other {
			t.Errorf("%s: unexpected frame %s", port.name, f)
		}
		for _, fs := range errs {
			for _, f := range fs {
				t.Errorf("%s: unexpected ICMP error %s", port.name, f)
			}
		}
		for _, p := range pings {
			key := id<<16 | uint32(p.seq)
			got := echo[key]
			if p.port != port.name {
				if len(got) > 0 {
					t.Errorf("echo reply for seq %d (asked on %s) left on %s", p.seq, p.port, port.name)
				}
				continue
			}
			what := fmt.Sprintf("echo %s -> %s seq %d (%d bytes)", p.from, p.to, p.seq, p.size)
			if len(got) != 1 {
				t.Errorf("%s: %d replies on %s, want 1", what, len(got), port.name)
				continue
			}
			checkEchoReply(t, what, got[0], reqs[key], p.to, port.mac, port.dst)
		}
	}
	if r.SlowPath != nil {
		if v, n := counterSum(r.SlowPath, "echo"); n > 0 && v == 0 {
			t.Errorf("every slow_path echo counter is 0 after %d replies: %s", len(pings), fmtCounters(r.SlowPath))
		}
	}
}

// trigger is a packet sent to the router with the ICMP error it must draw
// (Err.Type 0: none).
type trigger struct {
	name string
	port string
	eth  []byte // the frame (nil: built from ip with the port's MACs)
	ip   []byte
	Err  icmpErr
}

// runTriggers sends the triggers (each IP packet with a unique id), runs
// steer with extra config and checks: every trigger with an error draws
// exactly that error, on the port it arrived on; nothing else leaves but
// gratuitous ARP and the echo replies in allowEcho (seen ones returned).
func runTriggers(t *testing.T, trs []trigger, extra string) (*slowResult, map[uint32]bool) {
	t.Helper()
	lanMAC, wanMAC := PortMACs(t)
	var lanIn, wanIn [][]byte
	byID := map[int]*trigger{}
	for i := range trs {
		tr := &trs[i]
		id := int(binary.BigEndian.Uint16(tr.ip[4:]))
		if byID[id] != nil {
			t.Fatalf("triggers %q and %q share IP id %#x", byID[id].name, tr.name, id)
		}
		byID[id] = tr
		f := tr.eth
		if tr.port == "lan" {
			if f == nil {
				f = ether(lanMAC, LanHostMAC, 0x0800, tr.ip)
			}
			lanIn = append(lanIn, f)
		} else {
			if f == nil {
				f = ether(wanMAC, WanPeerMAC, 0x0800, tr.ip)
			}
			wanIn = append(wanIn, f)
		}
	}
	r := slowRun(t, lanIn, wanIn, extra, idle)
	echoes := map[uint32]bool{}
	for _, port := range []struct {
		name   string
		frames []*outFrame
	}{{"lan", r.Lan}, {"wan", r.Wan}} {
		errs, echo, _, other := sortOut(port.frames)
		for _, f := range other {
			t.Errorf("%s: unexpected frame %s", port.name, f)
		}
		for k, fs := range echo {
			echoes[k] = true
			for _, f := range fs {
				checkNoProblems(t, f)
			}
		}
		for id, fs := range errs {
			tr := byID[id]
			if tr == nil {
				for _, f := range fs {
					t.Errorf("%s: ICMP error quoting no packet sent: %s", port.name, f)
				}
				continue
			}
			if tr.Err.Type == 0 {
				for _, f := range fs {
					t.Errorf("%s: must draw no ICMP error (RFC 1812 4.3.2.7), got %s", tr.name, f)
				}
				continue
			}
			if tr.port != port.name {
				t.Errorf("%s: arrived on %s, its error left on %s: %s", tr.name, tr.port, port.name, fs[0])
				continue
			}
			if len(fs) != 1 {
				t.Errorf("%s: %d errors, want 1", tr.name, len(fs))
			}
			checkICMPError(t, tr.name, fs[0], tr.Err)
		}
		for i := range trs {
			tr, id := &trs[i], int(binary.BigEndian.Uint16(trs[i].ip[4:]))
			if tr.Err.Type != 0 && tr.port == port.name && len(errs[id]) == 0 {
				t.Errorf("%s: no ICMP %d/%d on %s", tr.name, tr.Err.Type, tr.Err.Code, port.name)
			}
		}
	}
	return r, echoes
}

// TestSlowPathICMPErrors: time exceeded (UDP, an echo request, a first
// fragment; on lan and on wan), net unreachable, port unreachable (UDP and
// TCP to the router) and protocol unreachable (GRE to the router), each
// from the router's address on the port the packet arrived on, to its
// sender's MAC, quoting the packet as received (TTL 1 for time exceeded),
// as much as fits in 576 bytes: a 1400-byte packet makes a 576-byte error.
func TestSlowPathICMPErrors(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	lanErr := func(typ, code uint8, ip []byte) icmpErr {
		return icmpErr{Type: typ, Code: code, Src: "10.0.0.1", Dst: "10.0.0.2", SrcMAC: lanMAC, DstMAC: LanHostMAC, Orig: ip}
	}
	udp := func(src, dst string, ttl uint8, id uint16, n int, dport uint16) []byte {
		return ipv4Pkt(src, dst, protoUDP, ttl, id, 0, udpSeg(src, dst, 5000+id, dport, n))
	}
	var trs []trigger
	add := func(name, port string, ip []byte, mk func([]byte) icmpErr) {
		trs = append(trs, trigger{name: name, port: port, ip: ip, Err: mk(ip)})
	}
	add("TTL 1 UDP to 198.51.100.7 (100 bytes)", "lan", udp("10.0.0.2", "198.51.100.7", 1, 0x101, 72, 7777),
		func(ip []byte) icmpErr { return lanErr(icmpTimeExceeded, 0, ip) })
	add("TTL 1 UDP to 198.51.100.7 (1400 bytes)", "lan", udp("10.0.0.2", "198.51.100.7", 1, 0x102, 1372, 7777),
		func(ip []byte) icmpErr { return lanErr(icmpTimeExceeded, 0, ip) })
	add("TTL 1 UDP to 198.51.100.7 (548 bytes, exactly fits)", "lan", udp("10.0.0.2", "198.51.100.7", 1, 0x10a, 520, 7777),
		func(ip []byte) icmpErr { return lanErr(icmpTimeExceeded, 0, ip) })
	add("TTL 1 echo request through the router", "lan",
		ipv4Pkt("10.0.0.2", "198.51.100.7", protoICMP, 1, 0x103, 0, icmpMsg(icmpEchoRequest, 0, 0x00070001, echoData(1, 56))),
		func(ip []byte) icmpErr { return lanErr(icmpTimeExceeded, 0, ip) })
	add("TTL 1 first fragment (MF, offset 0)", "lan",
		ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, 0x104, 0x2000, udpSeg("10.0.0.2", "198.51.100.7", 1, 2, 200)),
		func(ip []byte) icmpErr { return lanErr(icmpTimeExceeded, 0, ip) })
	add("no route to 192.0.2.9", "lan", udp("10.0.0.2", "192.0.2.9", 64, 0x105, 100, 7777),
		func(ip []byte) icmpErr { return lanErr(icmpUnreachable, 0, ip) })
	add("UDP to 10.0.0.1 port 33434", "lan", udp("10.0.0.2", "10.0.0.1", 64, 0x106, 24, 33434),
		func(ip []byte) icmpErr { return lanErr(icmpUnreachable, 3, ip) })
	add("TCP SYN to 10.0.0.1 port 7", "lan",
		ipv4Pkt("10.0.0.2", "10.0.0.1", protoTCP, 64, 0x107, 0x4000, tcpSyn("10.0.0.2", "10.0.0.1", 40000, 7)),
		func(ip []byte) icmpErr { return lanErr(icmpUnreachable, 3, ip) })
	add("GRE to 10.0.0.1", "lan", ipv4Pkt("10.0.0.2", "10.0.0.1", protoGRE, 64, 0x108, 0, make([]byte, 24)),
		func(ip []byte) icmpErr { return lanErr(icmpUnreachable, 2, ip) })
	// Arriving on wan: the error comes from the wan address and goes back
	// through the route to its source.
	add("TTL 1 UDP from 198.51.100.9 arriving on wan", "wan", udp("198.51.100.9", "10.0.0.2", 1, 0x109, 40, 7777),
		func(ip []byte) icmpErr {
			return icmpErr{Type: icmpTimeExceeded, Src: "203.0.113.1", Dst: "198.51.100.9", SrcMAC: wanMAC, DstMAC: WanPeerMAC, Orig: ip}
		})
	r, echoes := runTriggers(t, trs, "")
	if len(echoes) > 0 {
		t.Errorf("echo replies to packets that were not echo requests for the router: %v", echoes)
	}
	// The 1400-byte original: a 576-byte error.
	for _, f := range r.Lan {
		if f.IsICMPError() && f.QuotedID() == 0x102 && len(f.IP) != icmpErrMaxIPBytes {
			t.Errorf("the error about a 1400-byte packet has %d bytes of IP, want %d", len(f.IP), icmpErrMaxIPBytes)
		}
	}
	for _, c := range []struct {
		reason string
		want   uint64
	}{{"ttl_exceeded", 6}, {"no_route", 1}, {"local", 3}} {
		if got := r.Stats.Totals.SlowPath[c.reason]; got != c.want {
			t.Errorf("slowpath.%s = %d, want %d", c.reason, got, c.want)
		}
	}
	if r.SlowPath != nil {
		if v, n := counterSum(r.SlowPath, "exceeded"); n > 0 && v == 0 {
			t.Errorf("every slow_path time-exceeded counter is 0 after 6: %s", fmtCounters(r.SlowPath))
		}
	}
}

// TestSlowPathNoErrorAboutErrors: what RFC 1812 4.3.2.7 forbids answering
// gets no ICMP error: a TTL-1 ICMP error (unreachable, time exceeded), a
// non-first fragment with TTL 1 (middle and last), TTL-1 packets sent to
// the Ethernet broadcast or a multicast MAC, UDP to the subnet and the
// limited broadcast address, a packet without route whose source is the
// subnet broadcast or network address. A TTL-1 UDP packet sent with them
// must still draw its error (so a silent router does not pass). An echo
// request to the subnet broadcast 10.0.0.255 may be answered or not (what
// steer does is logged), but never with an error.
func TestSlowPathNoErrorAboutErrors(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	bc := trafgen.BroadcastMAC()
	mcast := net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	quoted := ipv4Pkt("198.51.100.7", "10.0.0.2", protoUDP, 60, 0x9999, 0, udpSeg("198.51.100.7", "10.0.0.2", 53, 3333, 8))[:28]
	udp := func(src, dst string, ttl uint8, id uint16, dport uint16) []byte {
		return ipv4Pkt(src, dst, protoUDP, ttl, id, 0, udpSeg(src, dst, 4444, dport, 32))
	}
	control := udp("10.0.0.2", "198.51.100.7", 1, 0x200, 9)
	trs := []trigger{
		{name: "control: TTL 1 UDP", port: "lan", ip: control,
			Err: icmpErr{Type: icmpTimeExceeded, Src: "10.0.0.1", Dst: "10.0.0.2", SrcMAC: lanMAC, DstMAC: LanHostMAC, Orig: control}},
		{name: "TTL 1 ICMP destination unreachable", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "198.51.100.7", protoICMP, 1, 0x201, 0, icmpMsg(icmpUnreachable, 1, 0, quoted))},
		{name: "TTL 1 ICMP time exceeded", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "198.51.100.7", protoICMP, 1, 0x202, 0, icmpMsg(icmpTimeExceeded, 0, 0, quoted))},
		{name: "TTL 1 ICMP parameter problem", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "198.51.100.7", protoICMP, 1, 0x20b, 0, icmpMsg(icmpParamProblem, 0, 0, quoted))},
		{name: "TTL 1 middle fragment", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, 0x203, 0x2000|25, make([]byte, 200))},
		{name: "TTL 1 last fragment", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, 0x204, 50, make([]byte, 100))},
		{name: "TTL 1 UDP to the Ethernet broadcast", port: "lan", ip: udp("10.0.0.2", "198.51.100.7", 1, 0x205, 9)},
		{name: "TTL 1 UDP to a multicast MAC", port: "lan", ip: udp("10.0.0.2", "198.51.100.7", 1, 0x206, 9)},
		{name: "UDP to the subnet broadcast 10.0.0.255 port 33434", port: "lan", ip: udp("10.0.0.2", "10.0.0.255", 64, 0x207, 33434)},
		{name: "UDP to 255.255.255.255 port 33434", port: "lan", ip: udp("10.0.0.2", "255.255.255.255", 64, 0x208, 33434)},
		{name: "no route, source 10.0.0.255 (subnet broadcast)", port: "lan", ip: udp("10.0.0.255", "192.0.2.9", 64, 0x209, 9)},
		{name: "no route, source 10.0.0.0 (subnet network address)", port: "lan", ip: udp("10.0.0.0", "192.0.2.9", 64, 0x20a, 9)},
		{name: "echo request to 10.0.0.255", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "10.0.0.255", protoICMP, 64, 0x20c, 0, icmpMsg(icmpEchoRequest, 0, 0x00090001, echoData(9, 56)))},
		{name: "echo request to 10.0.0.255 (Ethernet broadcast)", port: "lan",
			ip: ipv4Pkt("10.0.0.2", "10.0.0.255", protoICMP, 64, 0x20d, 0, icmpMsg(icmpEchoRequest, 0, 0x00090002, echoData(9, 56)))},
	}
	for i := range trs {
		switch trs[i].name {
		case "TTL 1 UDP to the Ethernet broadcast", "UDP to 255.255.255.255 port 33434", "echo request to 10.0.0.255 (Ethernet broadcast)":
			trs[i].eth = ether(bc, LanHostMAC, 0x0800, trs[i].ip)
		case "TTL 1 UDP to a multicast MAC":
			trs[i].eth = ether(mcast, LanHostMAC, 0x0800, trs[i].ip)
		}
	}
	_, echoes := runTriggers(t, trs, "")
	for k := range echoes {
		if k != 0x00090001 && k != 0x00090002 {
			t.Errorf("an echo reply (id/seq %#x) to no echo request sent", k)
		}
	}
	t.Logf("echo requests to the subnet broadcast 10.0.0.255: unicast frame answered %v, broadcast frame answered %v",
		echoes[0x00090001], echoes[0x00090002])
}

// ttl1Burst is n TTL-1 UDP packets from 10.0.0.2 through the router.
func ttl1Burst(lanMAC net.HardwareAddr, n int) [][]byte {
	var fs [][]byte
	for i := 0; i < n; i++ {
		ip := ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, uint16(i), 0, udpSeg("10.0.0.2", "198.51.100.7", 6000, 7000, 18))
		fs = append(fs, ether(lanMAC, LanHostMAC, 0x0800, ip))
	}
	return fs
}

// TestSlowPathICMPRateLimit: 2000 TTL-1 packets at once with icmp {rate:
// 10, burst: 5} draw at least one time exceeded and at most burst +
// rate * (steer's whole run time) + 2; every one of them is well formed.
func TestSlowPathICMPRateLimit(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	const n, rate, burst = 2000, 10, 5
	r := slowRun(t, ttl1Burst(lanMAC, n), nil, fmt.Sprintf("icmp: {rate: %d, burst: %d}\n", rate, burst), idle)
	if got := r.Stats.Totals.SlowPath["ttl_exceeded"]; got != n {
		t.Errorf("slowpath.ttl_exceeded = %d, sent %d", got, n)
	}
	errs, _, _, other := sortOut(r.Lan)
	for _, f := range other {
		t.Errorf("lan: unexpected frame %s", f)
	}
	sent := 0
	for _, fs := range errs {
		for _, f := range fs {
			sent++
			checkNoProblems(t, f)
			if f.ICMPType() != icmpTimeExceeded || f.Dst4 != lanHost {
				t.Errorf("unexpected error %s", f)
			}
		}
	}
	limit := burst + int(rate*r.Run.Elapsed.Seconds()) + 2
	t.Logf("%d TTL-1 packets, %d time exceeded sent in a run of %v (rate %d/s, burst %d: at most %d)",
		n, sent, r.Run.Elapsed.Round(time.Millisecond), rate, burst, limit)
	if sent < 1 || sent > limit {
		t.Errorf("%d time-exceeded messages, want 1..%d", sent, limit)
	}
	for _, f := range r.Wan {
		if !isGratuitous(f) {
			t.Errorf("wan: unexpected frame %s", f)
		}
	}
	if r.SlowPath != nil {
		t.Logf("slow path: %s", fmtCounters(r.SlowPath))
	}
}

// TestSlowPathICMPRateZero: icmp {rate: 0} sends no error at all (TTL 1,
// no route, port unreachable), while echo requests are still answered.
func TestSlowPathICMPRateZero(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	in := ttl1Burst(lanMAC, 20)
	in = append(in,
		ether(lanMAC, LanHostMAC, 0x0800, ipv4Pkt("10.0.0.2", "192.0.2.9", protoUDP, 64, 0x300, 0, udpSeg("10.0.0.2", "192.0.2.9", 1, 2, 20))),
		ether(lanMAC, LanHostMAC, 0x0800, ipv4Pkt("10.0.0.2", "10.0.0.1", protoUDP, 64, 0x301, 0, udpSeg("10.0.0.2", "10.0.0.1", 1, 33434, 20))))
	req := ipv4Pkt("10.0.0.2", "10.0.0.1", protoICMP, 64, 0x302, 0, icmpMsg(icmpEchoRequest, 0, 0x00310001, echoData(1, 56)))
	in = append(in, ether(lanMAC, LanHostMAC, 0x0800, req))
	r := slowRun(t, in, nil, "icmp: {rate: 0}\n", idle)
	errs, echo, _, other := sortOut(r.Lan)
	for _, fs := range errs {
		for _, f := range fs {
			t.Errorf("icmp.rate 0, yet an error left: %s", f)
		}
	}
	for _, f := range other {
		t.Errorf("lan: unexpected frame %s", f)
	}
	if got := echo[0x00310001]; len(got) != 1 {
		t.Errorf("%d echo replies with icmp.rate 0, want 1 (the rate limits errors only)", len(got))
	} else {
		checkEchoReply(t, "echo", got[0], req, "10.0.0.1", lanMAC, LanHostMAC)
	}
}

// TestSlowPathHostUnreachable: packets from wan for 10.0.0.77 (on the
// connected lan, no neighbour) make steer ask for 10.0.0.77 on lan (ARP
// requests from the lan address and MAC to the broadcast, no more than
// max_retries + 1), and when nobody answers each queued packet draws an
// ICMP host unreachable from the wan address back to its source, quoting
// it as received (the TTL is decremented only when a packet leaves).
func TestSlowPathHostUnreachable(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	const retries = 2
	var in, origs [][]byte
	for i := 0; i < 3; i++ {
		ip := ipv4Pkt("198.51.100.9", "10.0.0.77", protoUDP, 64, uint16(0x400+i), 0, udpSeg("198.51.100.9", "10.0.0.77", 9, 9, 30))
		origs = append(origs, ip)
		in = append(in, ether(wanMAC, WanPeerMAC, 0x0800, ip))
	}
	extra := fmt.Sprintf("arp: {retrans_time: 100ms, max_retries: %d}\n", retries)
	// Idle long enough for the resolution to fail and the errors to go out.
	r := slowRun(t, nil, in, extra, 3*time.Second)
	if got := r.Stats.Totals.SlowPath["unresolved"]; got != uint64(len(in)) {
		t.Errorf("slowpath.unresolved = %d, sent %d", got, len(in))
	}
	requests := 0
	for _, f := range r.Lan {
		if isGratuitous(f) {
			continue
		}
		if f.ARP == nil || f.ARP.Op != 1 {
			t.Errorf("lan: unexpected frame %s", f)
			continue
		}
		checkNoProblems(t, f)
		requests++
		if f.ARP.TPA != netip.MustParseAddr("10.0.0.77") || f.ARP.SPA != netip.MustParseAddr("10.0.0.1") ||
			!bytes.Equal(f.ARP.SHA, lanMAC) || !bytes.Equal(f.Src, lanMAC) || !bytes.Equal(f.Dst, trafgen.BroadcastMAC()) {
			t.Errorf("lan: %s, want who-has 10.0.0.77 tell 10.0.0.1 from %v to the broadcast", f, lanMAC)
		}
	}
	if requests < 1 || requests > retries+1 {
		t.Errorf("%d ARP requests for 10.0.0.77, want 1..%d (max_retries %d)", requests, retries+1, retries)
	}
	errs, _, _, other := sortOut(r.Wan)
	for _, f := range other {
		t.Errorf("wan: unexpected frame %s", f)
	}
	got := 0
	for i, ip := range origs {
		fs := errs[0x400+i]
		if len(fs) > 1 {
			t.Errorf("packet %d: %d errors", i, len(fs))
		}
		if len(fs) == 0 {
			continue
		}
		got++
		checkICMPError(t, fmt.Sprintf("packet %d to 10.0.0.77", i), fs[0], icmpErr{Type: icmpUnreachable, Code: 1,
			Src: "203.0.113.1", Dst: "198.51.100.9", SrcMAC: wanMAC, DstMAC: WanPeerMAC, Orig: ip})
	}
	t.Logf("%d ARP requests, %d of %d queued packets answered with host unreachable", requests, got, len(origs))
	if got == 0 {
		t.Errorf("no host unreachable for any of the %d packets to 10.0.0.77", len(origs))
	}
}
