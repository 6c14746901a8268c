package slowpath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/arp"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/icmp"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/ipv4"
	"github.com/steer-router/steer/pkg/neigh"
)

// The test network:
//
//	port 0 (mac0, MTU 1500): 192.0.2.1/24 and 198.51.100.1/24; host A
//	    192.0.2.10 (macA) and host B 198.51.100.7 (macB) live there.
//	port 1 (mac1, MTU 1500): 203.0.113.1/24; gateway 203.0.113.254 (macGW).
//	port 2 (mac2, MTU 600):  10.2.0.1/24; host C 10.2.0.20 (macC).
var (
	mac0  = mustMAC("02:00:00:00:00:01")
	mac1  = mustMAC("02:00:00:00:01:01")
	mac2  = mustMAC("02:00:00:00:02:01")
	macA  = mustMAC("02:aa:00:00:00:0a")
	macB  = mustMAC("02:bb:00:00:00:07")
	macC  = mustMAC("02:cc:00:00:00:14")
	macGW = mustMAC("02:99:00:00:00:fe")

	ip0   = netip.MustParseAddr("192.0.2.1")
	ip0b  = netip.MustParseAddr("198.51.100.1")
	ip1   = netip.MustParseAddr("203.0.113.1")
	ip2   = netip.MustParseAddr("10.2.0.1")
	hostA = netip.MustParseAddr("192.0.2.10")
	hostB = netip.MustParseAddr("198.51.100.7")
	hostC = netip.MustParseAddr("10.2.0.20")
	gw    = netip.MustParseAddr("203.0.113.254")
	far   = netip.MustParseAddr("8.8.8.8")

	bcastIP = netip.MustParseAddr("255.255.255.255")
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func testPorts() []Port {
	return []Port{
		{ID: 0, Name: "p0", MAC: mac0, MTU: 1500, Prefixes: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("198.51.100.1/24")}},
		{ID: 1, Name: "p1", MAC: mac1, MTU: 1500, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.1/24")}},
		{ID: 2, Name: "p2", MAC: mac2, MTU: 600, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.2.0.1/24")}},
	}
}

// sentFrame is one Env.Send call.
type sentFrame struct {
	port  int
	frame []byte
}

type route struct {
	p   netip.Prefix
	hop fwd.NextHop
}

// fakeEnv is the data plane: Take hands out injected exceptions, Send
// records, Lookup reads a route table the test controls.
type fakeEnv struct {
	mu      sync.Mutex
	queue   []fwd.Exception
	sent    []sentFrame
	routes  []route
	sendErr error
	down    map[int]bool  // ports whose link is down
	notify  chan struct{} // if set, signalled (non-blocking) on each Send
	wake    chan struct{} // inject wakes Idle, as an lcore's exception does
	idles   int           // Idle calls
	drains  []int         // Drain calls: the frames sent before each
	takes   int           // Take calls
}

func (f *fakeEnv) counts() (idles, takes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.idles, f.takes
}

func (f *fakeEnv) Drain() {
	f.mu.Lock()
	f.drains = append(f.drains, len(f.sent)) // how many frames had left when it was asked
	f.mu.Unlock()
}

func (f *fakeEnv) Idle(d time.Duration, stop <-chan struct{}) {
	f.mu.Lock()
	f.idles++
	if f.wake == nil {
		f.wake = make(chan struct{}, 1)
	}
	wake, pending := f.wake, len(f.queue) > 0
	f.mu.Unlock()
	if pending {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
	case <-wake:
	case <-t.C:
	}
}

func (f *fakeEnv) Take(n int) []fwd.Exception {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.takes++
	n = min(n, len(f.queue))
	out := f.queue[:n:n]
	f.queue = f.queue[n:]
	return out
}

func (f *fakeEnv) Send(port int, frame []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	f.sent = append(f.sent, sentFrame{port, slices.Clone(frame)})
	if f.notify != nil {
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

func (f *fakeEnv) LinkUp(port int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.down[port]
}

func (f *fakeEnv) Lookup(dst netip.Addr) (fwd.NextHop, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	best, ok := route{}, false
	for _, r := range f.routes {
		if r.p.Contains(dst) && (!ok || r.p.Bits() > best.p.Bits()) {
			best, ok = r, true
		}
	}
	return best.hop, ok
}

// take returns and forgets the frames sent so far.
func (f *fakeEnv) take() []sentFrame {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

func (f *fakeEnv) peek() []sentFrame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

func (f *fakeEnv) inject(e fwd.Exception) {
	defer func() {
		f.mu.Lock()
		if f.wake != nil {
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
		f.mu.Unlock()
	}()
	f.mu.Lock()
	f.queue = append(f.queue, e)
	f.mu.Unlock()
}

func newEnv() *fakeEnv {
	return &fakeEnv{
		routes: []route{
			{netip.MustParsePrefix("192.0.2.10/32"), fwd.NextHop{Kind: fwd.Forward, Port: 0, MAC: inet.MAC(macA)}},
			{netip.MustParsePrefix("198.51.100.7/32"), fwd.NextHop{Kind: fwd.Forward, Port: 0, MAC: inet.MAC(macB)}},
			{netip.MustParsePrefix("192.0.2.1/32"), fwd.NextHop{Kind: fwd.Local, Port: 0}},
			{netip.MustParsePrefix("10.2.0.20/32"), fwd.NextHop{Kind: fwd.Forward, Port: 2, MAC: inet.MAC(macC)}},
			{netip.MustParsePrefix("10.2.0.0/24"), fwd.NextHop{Kind: fwd.Unresolved, Port: 2}},
			{netip.MustParsePrefix("203.0.113.0/24"), fwd.NextHop{Kind: fwd.Unresolved, Port: 1}},
			{netip.MustParsePrefix("8.0.0.0/8"), fwd.NextHop{Kind: fwd.Unresolved, Port: 1, Via: gw}},
			{netip.MustParsePrefix("100.64.0.0/10"), fwd.NextHop{Kind: fwd.Forward, Port: 1, MAC: inet.MAC(macGW)}},
		},
	}
}

// fakeClock drives the neighbour table and the ICMP token bucket.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t        *testing.T
	s        *SlowPath
	env      *fakeEnv
	clk      *fakeClock
	mu       sync.Mutex
	resolved []neigh.Entry
	unres    []neigh.Entry
}

func defaultConfig() Config {
	return Config{Rate: 1000, ICMPRate: 1000, ICMPBurst: 100}
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, env: newEnv(), clk: &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}}
	cfg.Resolved = func(e neigh.Entry) {
		h.mu.Lock()
		h.resolved = append(h.resolved, e)
		h.mu.Unlock()
	}
	cfg.Unresolved = func(e neigh.Entry) {
		h.mu.Lock()
		h.unres = append(h.unres, e)
		h.mu.Unlock()
	}
	old := now
	now = h.clk.Now
	t.Cleanup(func() { now = old })
	h.s = New(cfg, testPorts(), h.env, zap.NewNop())
	return h
}

func reasonOf(t testing.TB, name string) fwd.SlowReason {
	t.Helper()
	for r := fwd.SlowReason(0); r < fwd.NumSlowReasons; r++ {
		if r.String() == name {
			return r
		}
	}
	t.Fatalf("no slow-path reason %q", name)
	return 0
}

// handle feeds one exception through the slow path.
func (h *harness) handle(reason string, port int, frame []byte, opts ...func(*fwd.Exception)) {
	h.t.Helper()
	e := fwd.Exception{Reason: reasonOf(h.t, reason), Port: uint16(port), Frame: slices.Clone(frame)}
	for _, o := range opts {
		o(&e)
	}
	h.s.handle(e)
}

func l2Broadcast(e *fwd.Exception) { e.L2Broadcast = true }

// sent returns the frames sent since the last call, failing unless there are n.
func (h *harness) sent(n int) []sentFrame {
	h.t.Helper()
	out := h.env.take()
	if len(out) != n {
		h.t.Fatalf("sent %d frames, want %d: %v", len(out), n, out)
	}
	return out
}

// ---- frame builders ----

type ipSpec struct {
	src, dst netip.Addr
	proto    layers.IPProtocol
	ttl      uint8
	tos      uint8
	id       uint16
	df, mf   bool
	fragOff  uint16 // 8-byte units
	options  []layers.IPv4Option
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(buf.Bytes())
}

func (sp ipSpec) layer() *layers.IPv4 {
	var flags layers.IPv4Flag
	if sp.df {
		flags |= layers.IPv4DontFragment
	}
	if sp.mf {
		flags |= layers.IPv4MoreFragments
	}
	ttl := sp.ttl
	if ttl == 0 {
		ttl = 64
	}
	return &layers.IPv4{Version: 4, TOS: sp.tos, Id: sp.id, Flags: flags, FragOffset: sp.fragOff, TTL: ttl,
		Protocol: sp.proto, SrcIP: sp.src.AsSlice(), DstIP: sp.dst.AsSlice(), Options: sp.options}
}

// ipRaw builds an IPv4 packet carrying payload as is.
func ipRaw(t testing.TB, sp ipSpec, payload []byte) []byte {
	t.Helper()
	return serialize(t, sp.layer(), gopacket.Payload(payload))
}

// echoPkt builds an ICMP echo request (or another ICMP type) IPv4 packet.
func icmpPkt(t testing.TB, sp ipSpec, typ, code uint8, id, seq uint16, data []byte) []byte {
	t.Helper()
	sp.proto = layers.IPProtocolICMPv4
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: id, Seq: seq}
	return serialize(t, sp.layer(), ic, gopacket.Payload(data))
}

func udpPkt(t testing.TB, sp ipSpec, sport, dport uint16, data []byte) []byte {
	t.Helper()
	sp.proto = layers.IPProtocolUDP
	ip := sp.layer()
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip, u, gopacket.Payload(data))
}

// ethFrame wraps an IPv4 packet (or other payload) in Ethernet.
func ethFrame(dst, src net.HardwareAddr, typ uint16, payload []byte) []byte {
	f := make([]byte, 14+len(payload))
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], typ)
	copy(f[14:], payload)
	return f
}

func ipFrame(src net.HardwareAddr, pkt []byte) []byte { return ethFrame(mac0, src, 0x0800, pkt) }

// arpFrame builds an Ethernet/IPv4 ARP frame field by field.
func arpFrame(op uint16, ethDst, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	b := make([]byte, 60)
	copy(b, ethDst)
	copy(b[6:], sha)
	binary.BigEndian.PutUint16(b[12:], 0x0806)
	binary.BigEndian.PutUint16(b[14:], 1)
	binary.BigEndian.PutUint16(b[16:], 0x0800)
	b[18], b[19] = 6, 4
	binary.BigEndian.PutUint16(b[20:], op)
	copy(b[22:], sha)
	s4 := spa.As4()
	copy(b[28:], s4[:])
	copy(b[32:], tha)
	t4 := tpa.As4()
	copy(b[38:], t4[:])
	return b
}

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

// ---- output checks ----

// decoded is a sent IPv4 frame taken apart.
type decoded struct {
	eth  *layers.Ethernet
	ip   *layers.IPv4
	icmp *layers.ICMPv4
	raw  []byte // IP packet, TotalLen bytes
}

func decodeIP(t testing.TB, frame []byte) decoded {
	t.Helper()
	if len(frame) < 60 {
		t.Fatalf("frame of %d bytes is below the Ethernet minimum", len(frame))
	}
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("decode: %v", el.Error())
	}
	var d decoded
	var ok bool
	if d.eth, ok = p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); !ok || d.eth.EthernetType != layers.EthernetTypeIPv4 {
		t.Fatalf("not an IPv4 Ethernet frame: %v", p)
	}
	if d.ip, ok = p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); !ok {
		t.Fatalf("no IPv4 layer: %v", p)
	}
	d.raw = frame[14 : 14+int(d.ip.Length)]
	hl := int(d.ip.IHL) * 4
	if ipv4.Sum(d.raw[:hl]) != 0xffff {
		t.Errorf("bad IP header checksum in %x", d.raw[:hl])
	}
	if after := frame[14+int(d.ip.Length):]; len(frame) > 60 && len(after) != 0 {
		t.Errorf("%d bytes after the IP packet in a frame above the minimum", len(after))
	}
	if l, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		d.icmp = l
		if ipv4.Sum(d.raw[hl:]) != 0xffff {
			t.Errorf("bad ICMP checksum")
		}
	}
	return d
}

// checkEth checks the Ethernet addresses of a sent frame.
func checkEth(t testing.TB, d decoded, dst, src net.HardwareAddr) {
	t.Helper()
	if !bytes.Equal(d.eth.DstMAC, dst) || !bytes.Equal(d.eth.SrcMAC, src) {
		t.Errorf("Ethernet %v -> %v, want %v -> %v", d.eth.SrcMAC, d.eth.DstMAC, src, dst)
	}
}

// checkICMPError checks an ICMP error message about orig (quoted as given).
func checkICMPError(t testing.TB, d decoded, from, to netip.Addr, k icmp.Kind, rest uint32, orig []byte) {
	t.Helper()
	if d.icmp == nil {
		t.Fatalf("not ICMP: %v", d.ip)
	}
	if got, want := addr(d.ip.SrcIP), from; got != want {
		t.Errorf("error from %v, want %v", got, want)
	}
	if got := addr(d.ip.DstIP); got != to {
		t.Errorf("error to %v, want %v", got, to)
	}
	if d.ip.TTL != 64 || d.ip.TOS != 0xc0 || d.ip.Protocol != layers.IPProtocolICMPv4 || d.ip.IHL != 5 ||
		d.ip.Flags&layers.IPv4DontFragment != 0 {
		t.Errorf("IP header: TTL %d TOS %#x proto %v IHL %d flags %v", d.ip.TTL, d.ip.TOS, d.ip.Protocol, d.ip.IHL, d.ip.Flags)
	}
	if d.icmp.TypeCode.Type() != k.Type || d.icmp.TypeCode.Code() != k.Code {
		t.Errorf("ICMP %v, want %v", d.icmp.TypeCode, k)
	}
	if got := binary.BigEndian.Uint32(d.raw[24:28]); got != rest {
		t.Errorf("ICMP rest of header %#x, want %#x", got, rest)
	}
	quote := d.raw[28:]
	want := orig[:min(len(orig), 548)]
	if !bytes.Equal(quote, want) {
		t.Errorf("quote\n%x\nwant\n%x", quote, want)
	}
	if len(d.raw) > 576 {
		t.Errorf("error of %d bytes exceeds 576", len(d.raw))
	}
}

func addr(b net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(b.To4())
	return a
}

// decremented is pkt as a router forwards it: TTL one less, checksum redone.
func decremented(pkt []byte) []byte {
	out := slices.Clone(pkt)
	out[8]--
	hl := int(out[0]&0xf) * 4
	out[10], out[11] = 0, 0
	binary.BigEndian.PutUint16(out[10:], ipv4.Checksum(out[:hl]))
	return out
}

// wantFrame is the exact frame sendIP makes of pkt: Ethernet plus padding.
func wantFrame(dst, src net.HardwareAddr, pkt []byte) []byte {
	f := ethFrame(dst, src, 0x0800, pkt)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

// ---- ARP ----

func TestARPRequestForUs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		port        int
		sender      netip.Addr
		senderMAC   net.HardwareAddr
		target      netip.Addr
		ourMAC      net.HardwareAddr
		l2broadcast bool
	}{
		{"primary", 0, hostA, macA, ip0, mac0, true},
		{"secondary address", 0, hostB, macB, ip0b, mac0, true},
		{"unicast refresh", 1, gw, macGW, ip1, mac1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			dst := arp.Broadcast
			if !tc.l2broadcast {
				dst = tc.ourMAC
			}
			h.handle("arp", tc.port, arp.Request(tc.senderMAC, tc.sender, tc.target, dst), func(e *fwd.Exception) {
				e.L2Broadcast = tc.l2broadcast
			})
			out := h.sent(1)
			want := arpFrame(arp.OpReply, tc.senderMAC, tc.ourMAC, tc.target, tc.senderMAC, tc.sender)
			if out[0].port != tc.port || !bytes.Equal(out[0].frame, want) {
				t.Errorf("sent on %d\n%x\nwant on %d\n%x", out[0].port, out[0].frame, tc.port, want)
			}
			e, ok := h.s.Neighbors().Lookup(tc.sender)
			if !ok || e.State != neigh.Stale || !bytes.Equal(e.MAC, tc.senderMAC) || e.Port != tc.port {
				t.Errorf("neighbour %v (found %v), want Stale %v on %d", e, ok, tc.senderMAC, tc.port)
			}
			st := h.s.Stats()
			if st.Taken != 1 || st.Sent != 1 || st.ARP.RequestsReceived != 1 || st.ARP.RepliesSent != 1 ||
				st.ARP.Learnt != 1 || st.ARP.Neighbors["stale"] != 1 || st.ARP.OtherReceived != 0 {
				t.Errorf("stats %+v", st)
			}
			if len(h.resolved) != 1 || h.resolved[0].IP != tc.sender {
				t.Errorf("Resolved calls %v", h.resolved)
			}
		})
	}
}

func TestARPNoReply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		port  int
		frame []byte
	}{
		{"request for another host", 0, arp.Request(macA, hostA, netip.MustParseAddr("192.0.2.99"), nil)},
		{"request for another port's address", 0, arp.Request(macA, hostA, ip1, nil)},
		{"request for a third port's address", 1, arp.Request(macGW, gw, ip0, nil)},
		{"gratuitous", 0, arp.Gratuitous(macA, hostA)},
		{"gratuitous claiming our address", 0, arp.Gratuitous(macA, ip0)},
		{"gratuitous reply claiming our address", 0, arpFrame(arp.OpReply, arp.Broadcast, macA, ip0, arp.Broadcast, ip0)},
		{"reply to someone else", 0, arpFrame(arp.OpReply, macB, macA, hostA, macB, hostB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			h.handle("arp", tc.port, tc.frame, l2Broadcast)
			h.sent(0)
			if l := h.s.Neighbors().List(); len(l) != 0 {
				t.Errorf("learnt %v", l)
			}
			st := h.s.Stats()
			if st.ARP.OtherReceived != 1 || st.ARP.RequestsReceived != 0 || st.ARP.RepliesSent != 0 || st.Sent != 0 {
				t.Errorf("stats %+v", st.ARP)
			}
		})
	}
}

// An ARP that is not for us updates an entry that exists (RFC 826 merge).
func TestARPOtherUpdatesExisting(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.handle("arp", 0, arp.Request(macA, hostA, ip0, nil))
	h.sent(1)
	newMAC := mustMAC("02:aa:00:00:00:ff")
	h.handle("arp", 0, arp.Gratuitous(newMAC, hostA))
	h.sent(0)
	e, _ := h.s.Neighbors().Lookup(hostA)
	if !bytes.Equal(e.MAC, newMAC) || e.State != neigh.Stale {
		t.Errorf("entry %v, want Stale with %v", e, newMAC)
	}
	// The same gratuitous ARP arriving on port 1 must not steal the entry.
	h.handle("arp", 1, arp.Gratuitous(macGW, hostA))
	if e, _ := h.s.Neighbors().Lookup(hostA); !bytes.Equal(e.MAC, newMAC) || e.Port != 0 {
		t.Errorf("entry %v changed by an ARP on another port", e)
	}
}

func TestARPProbe(t *testing.T) {
	h := newHarness(t, defaultConfig())
	zero := netip.IPv4Unspecified()
	h.handle("arp", 0, arp.Request(macA, zero, ip0, nil), l2Broadcast)
	out := h.sent(1)
	want := arpFrame(arp.OpReply, macA, mac0, ip0, macA, zero)
	if out[0].port != 0 || !bytes.Equal(out[0].frame, want) {
		t.Errorf("sent on %d\n%x\nwant\n%x", out[0].port, out[0].frame, want)
	}
	if l := h.s.Neighbors().List(); len(l) != 0 {
		t.Errorf("learnt %v from a probe", l)
	}
	st := h.s.Stats()
	if st.ARP.RequestsReceived != 1 || st.ARP.RepliesSent != 1 || st.ARP.Learnt != 0 || st.ARP.Invalid != 0 {
		t.Errorf("stats %+v", st.ARP)
	}
}

func TestARPReplyToUs(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.handle("arp", 1, arpFrame(arp.OpReply, mac1, macGW, gw, mac1, ip1))
	h.sent(0)
	e, ok := h.s.Neighbors().Lookup(gw)
	if !ok || e.State != neigh.Reachable || !bytes.Equal(e.MAC, macGW) || e.Port != 1 {
		t.Errorf("neighbour %v (found %v), want Reachable %v on 1", e, ok, macGW)
	}
	if len(h.resolved) != 1 || h.resolved[0].IP != gw || !bytes.Equal(h.resolved[0].MAC, macGW) {
		t.Errorf("Resolved calls %v", h.resolved)
	}
	st := h.s.Stats()
	if st.ARP.RepliesReceived != 1 || st.ARP.Neighbors["reachable"] != 1 || st.ARP.Resolved != 1 {
		t.Errorf("stats %+v", st.ARP)
	}
	// A reply from an off-link sender is counted invalid, not learnt.
	h.handle("arp", 1, arpFrame(arp.OpReply, mac1, macA, hostA, mac1, ip1))
	if _, ok := h.s.Neighbors().Lookup(hostA); ok {
		t.Error("learnt an off-link sender")
	}
	if st := h.s.Stats(); st.ARP.RepliesReceived != 2 || st.ARP.Invalid != 1 {
		t.Errorf("stats %+v", st.ARP)
	}
}

func TestARPMalformed(t *testing.T) {
	h := newHarness(t, defaultConfig())
	good := arp.Request(macA, hostA, ip0, nil)
	bad := slices.Clone(good)
	bad[21] = 3 // op 3
	vlan := append(append(slices.Clone(good[:12]), 0x81, 0x00, 0, 5), good[12:]...)
	for _, f := range [][]byte{nil, good[:20], good[:41], bad, vlan} {
		h.handle("arp", 0, f)
	}
	h.handle("arp", 7, good) // no such port
	h.sent(0)
	st := h.s.Stats()
	if st.Dropped["malformed_arp"] != 5 || st.Taken != 6 || st.ARP.RequestsReceived != 0 {
		t.Errorf("stats %+v", st)
	}
}

// ---- local delivery ----

func TestEchoReply(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst netip.Addr
		mac      net.HardwareAddr
		tos      uint8
		data     []byte
	}{
		{"primary", hostA, ip0, macA, 0x10 | 0x01, []byte("abcdefgh0123456789")},
		{"secondary", hostB, ip0b, macB, 0, pattern(1400)},
		{"other port's address", hostA, ip1, macA, 0xb8, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			req := icmpPkt(t, ipSpec{src: tc.src, dst: tc.dst, tos: tc.tos, ttl: 3, id: 0x1234}, 8, 0, 0xbeef, 42, tc.data)
			h.handle("local", 0, ipFrame(tc.mac, req))
			out := h.sent(1)
			if out[0].port != 0 {
				t.Errorf("sent on port %d", out[0].port)
			}
			d := decodeIP(t, out[0].frame)
			checkEth(t, d, tc.mac, mac0)
			if addr(d.ip.SrcIP) != tc.dst || addr(d.ip.DstIP) != tc.src || d.ip.TTL != 64 ||
				d.ip.TOS != tc.tos&^3 || d.ip.IHL != 5 || d.ip.Protocol != layers.IPProtocolICMPv4 {
				t.Errorf("IP header %+v", d.ip)
			}
			if d.icmp == nil || d.icmp.TypeCode != layers.CreateICMPv4TypeCode(0, 0) || d.icmp.Id != 0xbeef || d.icmp.Seq != 42 {
				t.Fatalf("ICMP %+v", d.icmp)
			}
			if !bytes.Equal(d.raw[28:], req[28:]) {
				t.Errorf("echo data differs")
			}
			st := h.s.Stats()
			if st.ICMP.EchoReplies != 1 || st.Sent != 1 || st.SoftForwarded != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// The router's own packets respect the egress MTU: a reply as long as a
// 1,000-byte request leaves port 2 (MTU 600) in fragments.
func TestEchoReplyFragmented(t *testing.T) {
	h := newHarness(t, defaultConfig())
	req := icmpPkt(t, ipSpec{src: hostC, dst: ip0, ttl: 9}, 8, 0, 7, 7, pattern(972))
	h.handle("local", 0, ipFrame(macA, req))
	out := h.env.take()
	if len(out) != 2 {
		t.Fatalf("sent %d frames, want 2 fragments", len(out))
	}
	var payload []byte
	for i, f := range out {
		ip := f.frame[14:]
		tot := int(binary.BigEndian.Uint16(ip[2:]))
		mf, off := ip[6]&0x20 != 0, int(binary.BigEndian.Uint16(ip[6:])&0x1fff)*8
		if f.port != 2 || tot > 600 || mf != (i == 0) || off != len(payload) || ipv4.Sum(ip[:20]) != 0xffff {
			t.Errorf("fragment %d: port %d, %d bytes, MF %v, offset %d", i, f.port, tot, mf, off)
		}
		payload = append(payload, ip[20:tot]...)
	}
	if len(payload) != 8+972 || !bytes.Equal(payload[8:], req[28:]) {
		t.Errorf("reassembled %d bytes of ICMP, want the echo's %d", len(payload), 8+972)
	}
	if st := h.s.Stats(); st.ICMP.EchoReplies != 1 || st.Fragmented != 1 {
		t.Errorf("stats: echo replies %d fragmented %d", st.ICMP.EchoReplies, st.Fragmented)
	}
}

// An echo reply whose way back is unresolved waits for ARP like any packet.
func TestEchoReplyUnresolvedRoute(t *testing.T) {
	h := newHarness(t, defaultConfig())
	src := netip.MustParseAddr("8.1.2.3")
	req := icmpPkt(t, ipSpec{src: src, dst: ip1}, 8, 0, 1, 1, []byte("x"))
	h.handle("local", 1, ethFrame(mac1, macGW, 0x0800, req))
	out := h.sent(1)
	if want := arp.Request(mac1, ip1, gw, nil); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Fatalf("sent %x on %d, want ARP request %x", out[0].frame, out[0].port, want)
	}
	h.handle("arp", 1, arpFrame(arp.OpReply, mac1, macGW, gw, mac1, ip1))
	out = h.sent(1)
	d := decodeIP(t, out[0].frame)
	checkEth(t, d, macGW, mac1)
	if d.ip.TTL != 64 || addr(d.ip.SrcIP) != ip1 || addr(d.ip.DstIP) != src {
		t.Errorf("our own reply was changed on the way: %+v", d.ip)
	}
}

func TestLocalNoReply(t *testing.T) {
	echo := func(sp ipSpec) []byte { return icmpPkt(t, sp, 8, 0, 1, 1, []byte("ping")) }
	badICMP := echo(ipSpec{src: hostA, dst: ip0})
	badICMP[22] ^= 0xff // ICMP checksum
	for _, tc := range []struct {
		name   string
		pkt    []byte
		l2     bool
		drop   string
		icmpIn uint64
	}{
		{"echo to limited broadcast", echo(ipSpec{src: hostA, dst: bcastIP}), true, "broadcast", 0},
		{"first fragment for us", echo(ipSpec{src: hostA, dst: ip0, mf: true}), false, "fragment_for_us", 0},
		{"later fragment for us", ipRaw(t, ipSpec{src: hostA, dst: ip0, proto: 1, fragOff: 3}, []byte("12345678")), false, "fragment_for_us", 0},
		{"echo with a bad ICMP checksum", badICMP, false, "malformed_icmp", 0},
		{"echo from 0.0.0.0", echo(ipSpec{src: netip.IPv4Unspecified(), dst: ip0}), false, "malformed_icmp", 0},
		{"echo reply", icmpPkt(t, ipSpec{src: hostA, dst: ip0}, 0, 0, 1, 1, nil), false, "", 1},
		{"ICMP error", icmpPkt(t, ipSpec{src: hostA, dst: ip0}, 3, 1, 0, 0, make([]byte, 28)), false, "", 1},
		{"UDP to limited broadcast", udpPkt(t, ipSpec{src: hostA, dst: bcastIP}, 68, 67, []byte("dhcp")), true, "broadcast", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			h.handle("local", 0, ipFrame(macA, tc.pkt), func(e *fwd.Exception) { e.L2Broadcast = tc.l2 })
			h.sent(0)
			st := h.s.Stats()
			if tc.drop != "" && st.Dropped[tc.drop] != 1 {
				t.Errorf("dropped %v, want %s", st.Dropped, tc.drop)
			}
			if st.ICMP.Received != tc.icmpIn || st.ICMP.EchoReplies != 0 {
				t.Errorf("ICMP stats %+v", st.ICMP)
			}
		})
	}
}

func TestLocalUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  []byte
		kind icmp.Kind
		why  string
	}{
		{"UDP", udpPkt(t, ipSpec{src: hostA, dst: ip0, ttl: 9}, 5000, 9, []byte("query")), icmp.PortUnreachable, "port_unreachable"},
		{"TCP", ipRaw(t, ipSpec{src: hostA, dst: ip0, proto: layers.IPProtocolTCP}, make([]byte, 20)), icmp.PortUnreachable, "port_unreachable"},
		{"protocol 253", ipRaw(t, ipSpec{src: hostA, dst: ip0, proto: 253}, pattern(700)), icmp.ProtocolUnreachable, "protocol_unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			h.handle("local", 0, ipFrame(macA, tc.pkt))
			out := h.sent(1)
			d := decodeIP(t, out[0].frame)
			checkEth(t, d, macA, mac0)
			checkICMPError(t, d, ip0, hostA, tc.kind, 0, tc.pkt)
			st := h.s.Stats()
			if st.ICMP.Errors[tc.why] != 1 || st.Sent != 1 {
				t.Errorf("stats %+v", st.ICMP)
			}
			// The same as a link-layer broadcast: no error.
			h.handle("local", 0, ipFrame(macA, tc.pkt), l2Broadcast)
			h.sent(0)
			if st := h.s.Stats(); st.ICMP.Suppressed[icmp.ReasonBroadcast] != 1 || st.ICMP.Errors[tc.why] != 1 {
				t.Errorf("stats %+v", st.ICMP)
			}
		})
	}
}

// ---- ICMP errors for transit packets ----

func TestTimeExceeded(t *testing.T) {
	for _, tc := range []struct {
		name      string
		src       netip.Addr
		mac       net.HardwareAddr
		from      netip.Addr
		wantDst   net.HardwareAddr
		wantPort  int
		wantEthSr net.HardwareAddr
	}{
		{"sender in the first subnet", hostA, macA, ip0, macA, 0, mac0},
		{"sender in the second subnet", hostB, macB, ip0b, macB, 0, mac0},
		// Off-subnet sender (behind another router): the port's first address.
		{"sender off-subnet", netip.MustParseAddr("100.64.1.1"), macGW, ip0, macGW, 1, mac1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			pkt := udpPkt(t, ipSpec{src: tc.src, dst: far, ttl: 1, id: 77}, 33434, 33435, pattern(32))
			h.handle("ttl_exceeded", 0, ipFrame(tc.mac, pkt))
			out := h.sent(1)
			if out[0].port != tc.wantPort {
				t.Errorf("sent on %d, want %d", out[0].port, tc.wantPort)
			}
			d := decodeIP(t, out[0].frame)
			checkEth(t, d, tc.wantDst, tc.wantEthSr)
			checkICMPError(t, d, tc.from, tc.src, icmp.TimeExceeded, 0, pkt)
			if st := h.s.Stats(); st.ICMP.Errors["time_exceeded"] != 1 || st.Taken != 1 || st.Sent != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestNetUnreachable(t *testing.T) {
	h := newHarness(t, defaultConfig())
	// Ethernet padding after the packet must not be quoted.
	pkt := icmpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("198.18.0.1"), ttl: 30}, 8, 0, 5, 6, nil)
	frame := append(ipFrame(macA, pkt), make([]byte, 60-14-len(pkt))...)
	h.handle("no_route", 0, frame)
	out := h.sent(1)
	d := decodeIP(t, out[0].frame)
	checkEth(t, d, macA, mac0)
	checkICMPError(t, d, ip0, hostA, icmp.NetUnreachable, 0, pkt)
	st := h.s.Stats()
	if st.ICMP.Errors["net_unreachable"] != 1 {
		t.Errorf("stats %+v", st.ICMP)
	}
	for _, k := range ErrorKinds {
		if _, ok := st.ICMP.Errors[k]; !ok {
			t.Errorf("error kind %s missing from %v", k, st.ICMP.Errors)
		}
	}
}

// No route back to the sender of a packet that needs an error: counted.
func TestNoRouteBack(t *testing.T) {
	h := newHarness(t, defaultConfig())
	src := netip.MustParseAddr("172.16.0.1")
	pkt := udpPkt(t, ipSpec{src: src, dst: far, ttl: 1}, 1, 2, nil)
	h.handle("ttl_exceeded", 0, ipFrame(macA, pkt))
	h.sent(0)
	if st := h.s.Stats(); st.Dropped["no_route_back"] != 1 || st.ICMP.Errors["time_exceeded"] != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestErrorSuppressed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		pkt    []byte
		l2     bool
		why    string
	}{
		{"error about an ICMP error", "ttl_exceeded",
			icmpPkt(t, ipSpec{src: hostA, dst: far, ttl: 1}, 3, 3, 0, 0, make([]byte, 28)), false, icmp.ReasonICMPError},
		{"error about a time exceeded", "no_route",
			icmpPkt(t, ipSpec{src: hostA, dst: far}, 11, 0, 0, 0, make([]byte, 28)), false, icmp.ReasonICMPError},
		{"non-first fragment", "ttl_exceeded",
			ipRaw(t, ipSpec{src: hostA, dst: far, ttl: 1, proto: 17, fragOff: 185}, pattern(40)), false, icmp.ReasonFragment},
		{"non-first fragment, no route", "no_route",
			ipRaw(t, ipSpec{src: hostA, dst: far, proto: 17, fragOff: 1, mf: true}, pattern(40)), false, icmp.ReasonFragment},
		{"L2 broadcast", "no_route",
			udpPkt(t, ipSpec{src: hostA, dst: far}, 1, 2, nil), true, icmp.ReasonBroadcast},
		{"L2 broadcast, TTL", "ttl_exceeded",
			udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 1}, 1, 2, nil), true, icmp.ReasonBroadcast},
		{"multicast destination", "ttl_exceeded",
			udpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("239.1.1.1"), ttl: 1}, 1, 2, nil), false, icmp.ReasonBroadcast},
		{"source 0.0.0.0", "no_route",
			udpPkt(t, ipSpec{src: netip.IPv4Unspecified(), dst: far}, 68, 67, nil), false, icmp.ReasonBadSource},
		{"loopback source", "ttl_exceeded",
			udpPkt(t, ipSpec{src: netip.MustParseAddr("127.0.0.1"), dst: far, ttl: 1}, 1, 2, nil), false, icmp.ReasonBadSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			h.handle(tc.reason, 0, ipFrame(macA, tc.pkt), func(e *fwd.Exception) { e.L2Broadcast = tc.l2 })
			h.sent(0)
			st := h.s.Stats()
			for k, n := range st.ICMP.Suppressed {
				if want := uint64(map[bool]int{true: 1}[k == tc.why]); n != want {
					t.Errorf("suppressed %v, want %s: 1", st.ICMP.Suppressed, tc.why)
				}
			}
			if len(st.ICMP.Suppressed) != 6 {
				t.Errorf("suppression reasons %v", st.ICMP.Suppressed)
			}
			for k, n := range st.ICMP.Errors {
				if n != 0 {
					t.Errorf("sent %d %s", n, k)
				}
			}
			if st.ICMP.RateLimited != 0 || st.Sent != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestICMPRateLimit(t *testing.T) {
	h := newHarness(t, Config{Rate: 1000, ICMPRate: 10, ICMPBurst: 5})
	pkt := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 1}, 1, 2, nil)
	for range 100 {
		h.handle("ttl_exceeded", 0, ipFrame(macA, pkt))
	}
	h.sent(5)
	st := h.s.Stats()
	if st.ICMP.Errors["time_exceeded"] != 5 || st.ICMP.RateLimited != 95 || st.Taken != 100 || st.Sent != 5 {
		t.Errorf("stats %+v", st)
	}
	// 10/s: a token every 100ms.
	h.clk.Advance(100 * time.Millisecond)
	h.handle("no_route", 0, ipFrame(macA, pkt))
	h.handle("no_route", 0, ipFrame(macA, pkt))
	h.sent(1)
	st = h.s.Stats()
	if st.ICMP.Errors["net_unreachable"] != 1 || st.ICMP.RateLimited != 96 {
		t.Errorf("stats %+v", st.ICMP)
	}
	// Suppressed errors take no token.
	h.clk.Advance(100 * time.Millisecond)
	h.handle("no_route", 0, ipFrame(macA, pkt), l2Broadcast)
	h.handle("no_route", 0, ipFrame(macA, pkt))
	h.sent(1)
	// Echo replies are not rate limited.
	req := icmpPkt(t, ipSpec{src: hostA, dst: ip0}, 8, 0, 1, 1, nil)
	for range 20 {
		h.handle("local", 0, ipFrame(macA, req))
	}
	h.sent(20)
}

func TestICMPDisabled(t *testing.T) {
	h := newHarness(t, Config{Rate: 1000})
	pkt := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 1}, 1, 2, nil)
	h.handle("ttl_exceeded", 0, ipFrame(macA, pkt))
	h.sent(0)
	if st := h.s.Stats(); st.ICMP.RateLimited != 1 {
		t.Errorf("stats %+v", st.ICMP)
	}
}

// ---- resolution ----

func TestUnresolvedViaGateway(t *testing.T) {
	h := newHarness(t, defaultConfig())
	pkt := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 64, id: 999, tos: 0x28}, 4000, 9, pattern(100))
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out := h.sent(1)
	// ARP for the gateway, not for 8.8.8.8.
	if want := arp.Request(mac1, ip1, gw, nil); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Fatalf("sent on %d\n%x\nwant an ARP request on 1\n%x", out[0].port, out[0].frame, want)
	}
	if e, ok := h.s.Neighbors().Lookup(gw); !ok || e.State != neigh.Incomplete {
		t.Fatalf("gateway entry %v %v, want Incomplete", e, ok)
	}
	if _, ok := h.s.Neighbors().Lookup(far); ok {
		t.Error("an entry for the packet's destination")
	}
	st := h.s.Stats()
	if st.ARP.RequestsSent != 1 || st.SoftForwarded != 1 || st.Sent != 1 {
		t.Errorf("stats %+v", st)
	}

	// A second packet for the same gateway queues without another request.
	pkt2 := udpPkt(t, ipSpec{src: hostB, dst: netip.MustParseAddr("8.8.4.4"), ttl: 2}, 1, 2, []byte("second"))
	h.handle("unresolved", 0, ipFrame(macB, pkt2))
	h.sent(0)

	h.handle("arp", 1, arpFrame(arp.OpReply, mac1, macGW, gw, mac1, ip1))
	out = h.sent(2)
	for i, p := range [][]byte{pkt, pkt2} {
		want := wantFrame(macGW, mac1, decremented(p))
		if out[i].port != 1 || !bytes.Equal(out[i].frame, want) {
			t.Errorf("frame %d on %d\n%x\nwant\n%x", i, out[i].port, out[i].frame, want)
		}
		d := decodeIP(t, out[i].frame)
		if d.ip.TTL != p[8]-1 {
			t.Errorf("TTL %d, want %d", d.ip.TTL, p[8]-1)
		}
	}
	if len(h.resolved) != 1 || h.resolved[0].IP != gw || h.resolved[0].Port != 1 ||
		!bytes.Equal(h.resolved[0].MAC, macGW) || h.resolved[0].State != neigh.Reachable {
		t.Errorf("Resolved calls %v", h.resolved)
	}
	st = h.s.Stats()
	if st.SoftForwarded != 2 || st.Sent != 3 || st.ARP.RepliesReceived != 1 || st.ARP.Resolved != 1 {
		t.Errorf("stats %+v", st)
	}

	// Once resolved, the next such packet goes at once.
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out = h.sent(1)
	if want := wantFrame(macGW, mac1, decremented(pkt)); !bytes.Equal(out[0].frame, want) {
		t.Errorf("frame\n%x\nwant\n%x", out[0].frame, want)
	}
}

func TestUnresolvedConnected(t *testing.T) {
	h := newHarness(t, defaultConfig())
	dst := netip.MustParseAddr("203.0.113.50")
	macD := mustMAC("02:dd:00:00:00:32")
	pkt := icmpPkt(t, ipSpec{src: hostA, dst: dst, ttl: 5}, 8, 0, 3, 4, []byte("hello"))
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out := h.sent(1)
	if want := arp.Request(mac1, ip1, dst, nil); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Fatalf("sent on %d\n%x\nwant\n%x", out[0].port, out[0].frame, want)
	}
	// The destination answers with a request of its own: Stale, usable.
	// Learning flushes the queue before the reply goes out, and the
	// queued packet leaves (Drain) before the fast path is told (Resolved).
	resolvedBefore := len(h.resolved)
	h.handle("arp", 1, arp.Request(macD, dst, ip1, nil))
	h.env.mu.Lock()
	drains := slices.Clone(h.env.drains)
	h.env.mu.Unlock()
	if len(drains) != 1 || drains[0] != 1 || len(h.resolved) != resolvedBefore+1 {
		t.Errorf("drains %v (frames sent before each), resolved %d: want one drain after the queued packet, then the entry resolved", drains, len(h.resolved)-resolvedBefore)
	}
	out = h.sent(2)
	if want := wantFrame(macD, mac1, decremented(pkt)); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Errorf("forwarded\n%x\nwant\n%x", out[0].frame, want)
	}
	if want := arpFrame(arp.OpReply, macD, mac1, ip1, macD, dst); out[1].port != 1 || !bytes.Equal(out[1].frame, want) {
		t.Errorf("ARP reply\n%x\nwant\n%x", out[1].frame, want)
	}
}

// The route is looked up again: it may have changed since the fast path
// looked.
func TestUnresolvedLooksUpAgain(t *testing.T) {
	h := newHarness(t, defaultConfig())
	pkt := udpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("100.64.9.9"), ttl: 10}, 1, 2, nil)
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out := h.sent(1)
	if want := wantFrame(macGW, mac1, decremented(pkt)); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Errorf("frame\n%x\nwant\n%x", out[0].frame, want)
	}
	// No route any more: net unreachable.
	pkt = udpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("198.18.0.1"), ttl: 10}, 1, 2, nil)
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out = h.sent(1)
	checkICMPError(t, decodeIP(t, out[0].frame), ip0, hostA, icmp.NetUnreachable, 0, pkt)
	// Now one of our addresses: handled as local (UDP: port unreachable).
	pkt = udpPkt(t, ipSpec{src: hostA, dst: ip0, ttl: 10}, 1, 2, nil)
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	out = h.sent(1)
	checkICMPError(t, decodeIP(t, out[0].frame), ip0, hostA, icmp.PortUnreachable, 0, pkt)
	if st := h.s.Stats(); st.SoftForwarded != 1 || st.ICMP.Errors["port_unreachable"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestResolutionFailure(t *testing.T) {
	h := newHarness(t, defaultConfig())
	pkt := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 64, id: 4242}, 4000, 9, pattern(60))
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	// An echo reply of ours to a host behind the same gateway: when it
	// fails nobody is told.
	req := icmpPkt(t, ipSpec{src: netip.MustParseAddr("8.9.9.9"), dst: ip1}, 8, 0, 1, 1, nil)
	h.handle("local", 1, ethFrame(mac1, macGW, 0x0800, req))
	h.sent(1) // the first ARP request
	requests := 1
	for range 100 { // 10s in Tick steps
		h.clk.Advance(100 * time.Millisecond)
		h.s.nt.Tick()
		h.s.hostUnreachable()
		for _, f := range h.env.take() {
			if p, err := arp.Parse(f.frame); err == nil && p.Op == arp.OpRequest && p.TargetIP == gw {
				requests++
				continue
			}
			d := decodeIP(t, f.frame)
			checkEth(t, d, macA, mac0)
			// Quoted as received: TTL 64, not 63.
			checkICMPError(t, d, ip0, hostA, icmp.HostUnreachable, 0, pkt)
			if f.port != 0 {
				t.Errorf("error sent on %d", f.port)
			}
			if requests != 3 {
				t.Errorf("failed after %d requests, want 3", requests)
			}
			requests = -100 // count the error once
		}
	}
	if requests != -100 {
		t.Fatalf("no host unreachable (%d requests)", requests)
	}
	e, ok := h.s.Neighbors().Lookup(gw)
	if ok && e.State != neigh.Failed {
		t.Errorf("gateway entry %v", e)
	}
	st := h.s.Stats()
	if st.ICMP.Errors["host_unreachable"] != 1 || st.ARP.Failed != 1 ||
		st.ARP.RequestsSent != 3 || st.ARP.QueueDropped[neigh.DropFailed] != 2 || st.ICMP.RateLimited != 0 {
		t.Errorf("stats %+v", st)
	}
	// While the failure is held, a new packet fails at once.
	h.handle("unresolved", 0, ipFrame(macA, pkt))
	h.sent(0)
	h.s.hostUnreachable()
	out := h.sent(1)
	checkICMPError(t, decodeIP(t, out[0].frame), ip0, hostA, icmp.HostUnreachable, 0, pkt)
}

// ---- software forwarding ----

func TestIPOptionsForward(t *testing.T) {
	h := newHarness(t, defaultConfig())
	opts := []layers.IPv4Option{
		{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}, // router alert
		{OptionType: 0x07, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}},
	}
	pkt := udpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("100.64.0.5"), ttl: 2, options: opts}, 9, 9, pattern(10))
	if pkt[0] != 0x48 {
		t.Fatalf("built IHL %d", pkt[0]&0xf)
	}
	h.handle("ip_options", 0, ipFrame(macA, pkt))
	out := h.sent(1)
	if want := wantFrame(macGW, mac1, decremented(pkt)); out[0].port != 1 || !bytes.Equal(out[0].frame, want) {
		t.Errorf("frame on %d\n%x\nwant\n%x", out[0].port, out[0].frame, want)
	}
	// Ethernet padding after a short packet is not forwarded.
	small := ipRaw(t, ipSpec{src: hostA, dst: netip.MustParseAddr("100.64.0.5"), proto: 17, options: opts[:1]}, nil)
	h.handle("ip_options", 0, append(ipFrame(macA, small), 0xee, 0xee, 0xee, 0xee))
	out = h.sent(1)
	if want := wantFrame(macGW, mac1, decremented(small)); !bytes.Equal(out[0].frame, want) {
		t.Errorf("frame\n%x\nwant\n%x", out[0].frame, want)
	}
	if st := h.s.Stats(); st.SoftForwarded != 2 || st.Fragmented != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Malformed options get a Parameter Problem pointing at the bad octet and
// go no further; a source-routed packet is dropped with Source Route
// Failed (RFC 1812 5.2.4; the choice to drop is RFC 7126's).
func TestIPOptionsChecked(t *testing.T) {
	h := newHarness(t, defaultConfig())
	far := netip.MustParseAddr("100.64.0.5")
	raw := func(opts ...byte) []byte { // a UDP packet with these option bytes (a multiple of 4)
		p := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 9}, 9, 9, pattern(8))
		out := append(append(slices.Clone(p[:20]), opts...), p[20:]...)
		out[0] = 0x40 | byte((20+len(opts))/4)
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		binary.BigEndian.PutUint16(out[10:], 0)
		binary.BigEndian.PutUint16(out[10:], ipv4.Checksum(out[:20+len(opts)]))
		return out
	}
	for _, c := range []struct {
		name string
		pkt  []byte
		k    icmp.Kind
		rest uint32
		drop string
	}{
		{"option length 0", raw(7, 0, 4, 0), icmp.ParameterProblem, 21 << 24, "bad_options"},
		{"option length 1", raw(1, 0x94, 1, 0), icmp.ParameterProblem, 22 << 24, "bad_options"},
		{"source route longer than the header", raw(131, 12, 4, 0), icmp.ParameterProblem, 21 << 24, "bad_options"},
		{"record route pointer 1", raw(7, 7, 1, 0, 0, 0, 0, 0), icmp.ParameterProblem, 22 << 24, "bad_options"},
		{"loose source route", raw(131, 7, 4, 10, 0, 0, 9, 0), icmp.SourceRouteFailed, 0, "source_routed"},
		{"strict source route", raw(137, 7, 4, 10, 0, 0, 9, 0), icmp.SourceRouteFailed, 0, "source_routed"},
	} {
		before := h.s.Stats().Dropped[c.drop]
		h.handle("ip_options", 0, ipFrame(macA, c.pkt))
		out := h.sent(1)
		checkICMPError(t, decodeIP(t, out[0].frame), ip0, hostA, c.k, c.rest, c.pkt)
		if got := h.s.Stats().Dropped[c.drop]; got != before+1 {
			t.Errorf("%s: dropped[%s] %d -> %d", c.name, c.drop, before, got)
		}
	}
	// Record route passes, its TTL decremented.
	rr := raw(7, 7, 4, 0, 0, 0, 0, 0)
	h.handle("ip_options", 0, ipFrame(macA, rr))
	if out := h.sent(1); out[0].port != 1 || !bytes.Equal(out[0].frame, wantFrame(macGW, mac1, decremented(rr))) {
		t.Errorf("record route: frame on %d\n%x", out[0].port, out[0].frame)
	}
}

func TestFragmentationNeededDF(t *testing.T) {
	h := newHarness(t, defaultConfig())
	pkt := udpPkt(t, ipSpec{src: hostA, dst: hostC, df: true, ttl: 20}, 1, 2, pattern(1000-28))
	h.handle("fragmentation_needed", 0, ipFrame(macA, pkt))
	out := h.sent(1)
	d := decodeIP(t, out[0].frame)
	checkEth(t, d, macA, mac0)
	checkICMPError(t, d, ip0, hostA, icmp.FragmentationNeeded, 600, pkt)
	if st := h.s.Stats(); st.ICMP.Errors["fragmentation_needed"] != 1 || st.SoftForwarded != 0 || st.Fragmented != 0 {
		t.Errorf("stats %+v", st)
	}
	// Exactly the MTU fits: forwarded whole.
	fits := udpPkt(t, ipSpec{src: hostA, dst: hostC, df: true, ttl: 20}, 1, 2, pattern(600-28))
	h.handle("fragmentation_needed", 0, ipFrame(macA, fits))
	out = h.sent(1)
	if want := wantFrame(macC, mac2, decremented(fits)); out[0].port != 2 || !bytes.Equal(out[0].frame, want) {
		t.Errorf("frame of the MTU not forwarded as is")
	}
}

// reassemble checks fragments of orig and returns the data they carry.
func reassemble(t *testing.T, orig []byte, frags [][]byte, mtu int, wantTTL uint8, lastMF bool) []byte {
	t.Helper()
	oh, err := ipv4.Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	next := int(oh.FragOffset) * 8
	for i, f := range frags {
		h, err := ipv4.Parse(f)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if len(f) > mtu || int(h.TotalLen) != len(f) {
			t.Errorf("fragment %d: %d bytes, total length %d, MTU %d", i, len(f), h.TotalLen, mtu)
		}
		if h.ID != oh.ID || h.Src != oh.Src || h.Dst != oh.Dst || h.Protocol != oh.Protocol || h.TOS != oh.TOS ||
			h.TTL != wantTTL || h.DF {
			t.Errorf("fragment %d header %+v, original %+v", i, h, oh)
		}
		if int(h.FragOffset)*8 != next {
			t.Errorf("fragment %d at %d, want %d", i, int(h.FragOffset)*8, next)
		}
		last := i == len(frags)-1
		if wantMF := !last || lastMF; h.MF != wantMF {
			t.Errorf("fragment %d MF %v, want %v", i, h.MF, wantMF)
		}
		d := f[h.HeaderLen:h.TotalLen]
		if !last && len(d)%8 != 0 {
			t.Errorf("fragment %d carries %d bytes, not a multiple of 8", i, len(d))
		}
		next += len(d)
		data = append(data, d...)
	}
	return data
}

func TestFragmentationNeededFragments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		resolved bool
	}{{"resolved", true}, {"unresolved", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			if !tc.resolved { // only the connected subnet routes to C
				h.env.routes = slices.DeleteFunc(h.env.routes, func(r route) bool { return r.p.Addr() == hostC })
			}
			pkt := udpPkt(t, ipSpec{src: hostA, dst: hostC, ttl: 20, id: 0xabcd}, 7, 8, pattern(1480-28))
			h.handle("fragmentation_needed", 0, ipFrame(macA, pkt))
			if !tc.resolved {
				out := h.sent(1)
				if want := arp.Request(mac2, ip2, hostC, nil); !bytes.Equal(out[0].frame, want) {
					t.Fatalf("ARP request\n%x\nwant\n%x", out[0].frame, want)
				}
				h.handle("arp", 2, arpFrame(arp.OpReply, mac2, macC, hostC, mac2, ip2))
			}
			out := h.sent(3)
			var frags [][]byte
			for _, f := range out {
				d := decodeIP(t, f.frame)
				checkEth(t, d, macC, mac2)
				if f.port != 2 {
					t.Errorf("fragment sent on %d", f.port)
				}
				frags = append(frags, d.raw)
			}
			if data := reassemble(t, pkt, frags, 600, 19, false); !bytes.Equal(data, pkt[20:]) {
				t.Errorf("reassembled data differs")
			}
			if st := h.s.Stats(); st.Fragmented != 1 || st.SoftForwarded != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// ---- robustness ----

func TestMalformed(t *testing.T) {
	h := newHarness(t, defaultConfig())
	good := udpPkt(t, ipSpec{src: hostA, dst: far, ttl: 1}, 1, 2, pattern(20))
	badSum := slices.Clone(good)
	badSum[10] ^= 1
	badVer := slices.Clone(good)
	badVer[0] = 0x65
	longLen := slices.Clone(good)
	binary.BigEndian.PutUint16(longLen[2:], 200)

	h.s.handle(fwd.Exception{Reason: fwd.SlowLocal, Truncated: true, Frame: ipFrame(macA, good)})
	h.s.handle(fwd.Exception{Reason: fwd.SlowARP, Truncated: true})
	h.s.handle(fwd.Exception{Reason: fwd.NumSlowReasons, Frame: ipFrame(macA, good)})
	h.s.handle(fwd.Exception{Reason: 0x7f, Frame: ipFrame(macA, good)})
	for _, r := range []string{"local", "ttl_exceeded", "unresolved", "broadcast"} {
		h.handle(r, 0, ipFrame(macA, good)[:33])
	}
	for _, p := range [][]byte{badSum, badVer, longLen} {
		h.handle("local", 0, ipFrame(macA, p))
		h.handle("unresolved", 0, ipFrame(macA, p))
		h.handle("ip_options", 0, ipFrame(macA, p))
		h.handle("fragmentation_needed", 0, ipFrame(macA, p))
		h.handle("ttl_exceeded", 0, ipFrame(macA, p))
		h.handle("no_route", 0, ipFrame(macA, p))
	}
	h.sent(0)
	st := h.s.Stats()
	want := map[string]uint64{"truncated": 2, "unknown_reason": 2, "malformed": 4 + 3*4}
	for k, n := range want {
		if st.Dropped[k] != n {
			t.Errorf("dropped[%s] = %d, want %d (%v)", k, st.Dropped[k], n, st.Dropped)
		}
	}
	// Errors are not sent about packets that fail the header checks.
	if st.ICMP.Suppressed[icmp.ReasonBadHeader]+st.ICMP.Suppressed[icmp.ReasonTruncated] != 6 {
		t.Errorf("suppressed %v", st.ICMP.Suppressed)
	}
	if st.Taken != 4+4+3*6 {
		t.Errorf("taken %d", st.Taken)
	}
}

func TestBroadcastReason(t *testing.T) {
	h := newHarness(t, defaultConfig())
	pkt := icmpPkt(t, ipSpec{src: hostA, dst: netip.MustParseAddr("192.0.2.255")}, 8, 0, 1, 1, nil)
	h.handle("broadcast", 0, ipFrame(arp.Broadcast, pkt), l2Broadcast)
	h.sent(0)
	if st := h.s.Stats(); st.Dropped["broadcast"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSendFailure(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.env.sendErr = errors.New("ring full")
	h.handle("arp", 0, arp.Request(macA, hostA, ip0, nil))
	req := icmpPkt(t, ipSpec{src: hostA, dst: ip0}, 8, 0, 1, 1, nil)
	h.handle("local", 0, ipFrame(macA, req))
	st := h.s.Stats()
	if st.SendFailed != 2 || st.Sent != 0 || st.ARP.RepliesSent != 0 || st.ICMP.EchoReplies != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Run announces the router's addresses, then serves the rings until stopped.
func TestRun(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.env.notify = make(chan struct{}, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		h.s.Run(stop)
		close(done)
	}()
	deadline := time.After(10 * time.Second)
	var got []sentFrame
	wait := func(n int) {
		for len(got) < n {
			select {
			case <-h.env.notify:
				got = append(got, h.env.take()...)
			case <-deadline:
				t.Fatalf("got %d frames, want %d", len(got), n)
			}
		}
	}
	wait(4)
	var announced []netip.Addr
	for _, f := range got[:4] {
		p, err := arp.Parse(f.frame)
		if err != nil || !p.IsGratuitous() || !bytes.Equal(p.EthDst, arp.Broadcast) {
			t.Fatalf("not a gratuitous ARP: %x (%v)", f.frame, err)
		}
		if want := testPorts()[f.port].MAC; !bytes.Equal(p.SenderMAC, want) {
			t.Errorf("announcement on %d from %v", f.port, p.SenderMAC)
		}
		announced = append(announced, p.SenderIP)
	}
	slices.SortFunc(announced, netip.Addr.Compare)
	if want := []netip.Addr{ip2, ip0, ip0b, ip1}; !slices.Equal(announced, want) {
		t.Errorf("announced %v, want %v", announced, want)
	}
	h.env.inject(fwd.Exception{Reason: fwd.SlowARP, Port: 0, Frame: arp.Request(macA, hostA, ip0, nil)})
	wait(5)
	if want := arpFrame(arp.OpReply, macA, mac0, ip0, macA, hostA); !bytes.Equal(got[4].frame, want) {
		t.Errorf("reply %x", got[4].frame)
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if st := h.s.Stats(); st.ARP.GratuitousSent != 4 || st.Taken != 1 {
		t.Errorf("stats %+v", st)
	}
}

// FuzzHandle feeds arbitrary frames under every reason: the slow path must
// never panic, whatever it does with them.
func FuzzHandle(f *testing.F) {
	f.Add(uint8(0), false, true, uint8(7), arp.Request(macA, hostA, ip0, nil))
	f.Add(uint8(0), false, true, uint8(0x10), arpFrame(arp.OpReply, mac1, macGW, gw, mac1, ip1))
	f.Add(uint8(1), false, true, uint8(0), ipFrame(macA, icmpPkt(f, ipSpec{src: hostA, dst: ip0}, 8, 0, 1, 1, []byte("x"))))
	f.Add(uint8(3), true, true, uint8(0), ipFrame(macA, udpPkt(f, ipSpec{src: hostA, dst: far, ttl: 1}, 1, 2, nil)))
	f.Add(uint8(5), false, true, uint8(7), ipFrame(macA, udpPkt(f, ipSpec{src: hostA, dst: far}, 1, 2, pattern(40))))
	f.Add(uint8(6), false, true, uint8(3), ipFrame(macA, ipRaw(f, ipSpec{src: hostA, dst: far, proto: 17,
		options: []layers.IPv4Option{{OptionType: 0x83, OptionLength: 7, OptionData: []byte{4, 1, 2, 3, 4}}}}, pattern(100))))
	f.Add(uint8(7), false, true, uint8(4), ipFrame(macA, ipRaw(f, ipSpec{src: hostA, dst: hostC, proto: 17, mf: true, fragOff: 9,
		options: []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}}, pattern(700))))
	f.Fuzz(func(t *testing.T, reason uint8, l2, fixSum bool, nh uint8, frame []byte) {
		// Random bytes rarely carry a good header checksum: fix it up, so
		// that what lies past the header checks is fuzzed too.
		if fixSum && len(frame) >= 34 {
			if hl := 14 + int(frame[14]&0xf)*4; hl >= 34 && len(frame) >= hl {
				frame = slices.Clone(frame)
				frame[24], frame[25] = 0, 0
				binary.BigEndian.PutUint16(frame[24:], ipv4.Checksum(frame[14:hl]))
			}
		}
		old := now
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		now = clk.Now
		defer func() { now = old }()
		env := newEnv()
		s := New(Config{Rate: 1000, ICMPRate: 1e6, ICMPBurst: 1 << 20}, testPorts(), env, zap.NewNop())
		// The fuzzed reason, then every reason (and one past them), on a
		// port (maybe none) chosen by nh's high bits.
		n := int(fwd.NumSlowReasons)
		port := uint16(nh>>4) % 4
		reasons := append([]fwd.SlowReason{fwd.SlowReason(int(reason) % (n + 1))}, make([]fwd.SlowReason, n+1)...)
		for r := range n + 1 {
			reasons[r+1] = fwd.SlowReason(r)
		}
		for _, r := range reasons {
			s.handle(fwd.Exception{Reason: r, L2Broadcast: l2, Port: port, Frame: slices.Clone(frame)})
		}
		// Past every neighbour timer: resolutions fail, senders are told.
		for range 10 {
			clk.Advance(time.Second)
			s.nt.Tick()
			s.hostUnreachable()
		}
		st := s.Stats()
		if st.Taken != uint64(len(reasons)) {
			t.Fatalf("taken %d", st.Taken)
		}
		for _, sf := range env.take() {
			if len(sf.frame) < 60 {
				t.Fatalf("sent a runt of %d bytes", len(sf.frame))
			}
		}
	})
}

// A port whose link comes up announces its addresses; one going down or
// staying up does not.
func TestWatchLinks(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.env.down = map[int]bool{0: true, 2: true}
	up := map[int]bool{0: false, 1: true, 2: false}
	h.s.watchLinks(up)
	h.sent(0)
	h.env.mu.Lock()
	h.env.down = map[int]bool{1: true, 2: true}
	h.env.mu.Unlock()
	h.s.watchLinks(up)
	out := h.sent(2)
	var got []netip.Addr
	for _, f := range out {
		p, err := arp.Parse(f.frame)
		if err != nil || f.port != 0 || !p.IsGratuitous() || !bytes.Equal(p.SenderMAC, mac0) {
			t.Fatalf("not an announcement on port 0: %d %x", f.port, f.frame)
		}
		got = append(got, p.SenderIP)
	}
	if want := []netip.Addr{ip0, ip0b}; !slices.Equal(got, want) {
		t.Errorf("announced %v, want %v", got, want)
	}
	if !maps.Equal(up, map[int]bool{0: true, 1: false, 2: false}) {
		t.Errorf("link states %v", up)
	}
	h.s.watchLinks(up)
	h.sent(0)
	if st := h.s.Stats(); st.ARP.GratuitousSent != 2 {
		t.Errorf("stats %+v", st.ARP)
	}
}

// TestRunSleepsWhenIdle: with nothing to do the control thread stops
// ticking and waits in Env.Idle (about one wake-up per neighbour timer, not
// one per millisecond), and an exception wakes it at once: the ARP request
// is answered long before the next timer.
func TestRunSleepsWhenIdle(t *testing.T) {
	h := newHarness(t, defaultConfig())
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { h.s.Run(stop); close(done) }()
	defer func() { close(stop); <-done }()
	deadline := time.Now().Add(2 * time.Second)
	for idles, _ := h.env.counts(); idles == 0; idles, _ = h.env.counts() {
		if time.Now().After(deadline) {
			t.Fatal("the control thread never went idle")
		}
		time.Sleep(time.Millisecond)
	}
	h.env.take() // the start-up announcements
	_, takes0 := h.env.counts()
	loops0 := h.s.Loops()
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
	}
	if _, takes := h.env.counts(); takes-takes0 > 10 {
		t.Errorf("%d ring reads in 300 ms of quiet, want a few (it should sleep)", takes-takes0)
	}
	// Asleep, it still turns once per neighbour tick: the watchdog's proof
	// of life.
	if n := h.s.Loops() - loops0; n < 2 {
		t.Errorf("%d turns in 300 ms of quiet, want one per neighbour tick (100 ms)", n)
	}
	start = time.Now()
	h.env.inject(fwd.Exception{Reason: reasonOf(t, "arp"), Port: 0, Frame: arp.Request(macA, hostA, ip0, nil)})
	for len(h.env.peek()) == 0 {
		if time.Since(start) > 50*time.Millisecond {
			t.Fatalf("no ARP reply 50 ms after the request: the idle control thread was not woken")
		}
		time.Sleep(time.Millisecond)
	}
}
