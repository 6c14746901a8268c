// Package slowpath is steer's control thread for the packets the fast path
// does not forward itself: ARP (RFC 826), ICMP for and from the router
// (RFC 792, RFC 1812 4.3), packets waiting for a neighbour's MAC, packets
// with IP options, and fragmentation (RFC 791).
//
// The fast path hands these over through bounded per-lcore rings and never
// waits: a full ring is counted there and the packet freed. This loop takes
// at most Config.Rate packets per second from the rings, so an ARP or ping
// flood costs the forwarding lcores one ring enqueue per burst and the
// control thread a bounded share of the main lcore. Frames it sends go back
// through a ring one forwarding lcore drains onto its TX queues.
package slowpath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/arp"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/icmp"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/ipv4"
	"github.com/steer-router/steer/pkg/neigh"
)

// Port is what the slow path knows of a router port.
type Port struct {
	ID       int
	Name     string
	MAC      net.HardwareAddr
	MTU      int
	Prefixes []netip.Prefix // the router's addresses on it
}

// Env is the data plane around the slow path (the router implements it).
type Env interface {
	// Take returns up to n exceptions from the lcores' rings.
	Take(n int) []fwd.Exception
	// Send queues a frame for transmission on port.
	Send(port int, frame []byte) error
	// Lookup routes dst as the fast path does now (the route table's
	// longest match among what the FIB holds).
	Lookup(dst netip.Addr) (fwd.NextHop, bool)
	// LinkUp reports a port's link state.
	LinkUp(port int) bool
	// Drain returns once the frames given to Send have left the router (a
	// bound on the wait is the Env's), so what the fast path sends next
	// follows them.
	Drain()
	// Idle blocks until an exception may have arrived (an lcore wakes
	// the control thread when it hands one over), stop is closed, or d
	// passes: an idle control thread wakes only for its timers.
	Idle(d time.Duration, stop <-chan struct{})
}

// Config tunes the slow path.
type Config struct {
	Rate      int     // packets per second taken from the rings
	ICMPRate  float64 // ICMP errors per second; 0: none
	ICMPBurst int
	Neigh     neigh.Config
	// Resolved and Unresolved tell the router a neighbour became usable (or
	// changed) or stopped being usable. They run with the neighbour table's
	// lock held and must not call back into the SlowPath.
	Resolved   func(neigh.Entry)
	Unresolved func(neigh.Entry)
}

// tick is how often the loop wakes while exceptions arrive: the latency of
// an answer and the granularity of the rate limit. After idleAfter empty
// ticks it waits in Env.Idle instead, woken by the next exception or its
// next timer (neighTick). Measured on an idle steer, all its non-lcore
// threads: 4.2% of a CPU with a 1 ms timer, 2.6% with 4 ms, 0.4% with
// 50 ms; a distributor worker sharing the main lcore's CPU pays that too.
const (
	tick      = time.Millisecond
	idleAfter = 100
)

// neighTick is how often neighbour timers run.
const neighTick = 100 * time.Millisecond

// linkTick is how often link states are read (a link that comes up is
// announced with gratuitous ARP).
const linkTick = time.Second

// frameCap bounds the bytes copied per exception: a jumbo frame plus VLAN tags.
const frameCap = 9216 + 22

// SlowPath is the control thread. Create with New, run with Run.
type SlowPath struct {
	cfg     Config
	env     Env
	log     *zap.Logger
	ports   map[int]Port
	ours    map[netip.Addr]int // router address -> port
	nt      *neigh.Table
	limiter *icmp.Limiter
	sendMu  sync.Mutex // Env.Send has one producer at a time
	// packets whose neighbour failed, for host unreachable errors
	unreachable chan []byte

	c counters
	// loops counts Run's turns: proof of life for the watchdog.
	loops atomic.Uint64
}

// Loops is how many turns Run has made; it grows at least every neighbour
// tick (100 ms) while Run runs, asleep or not.
func (s *SlowPath) Loops() uint64 { return s.loops.Load() }

// New builds the slow path for ports; Run starts it.
func New(cfg Config, ports []Port, env Env, log *zap.Logger) *SlowPath {
	s := &SlowPath{cfg: cfg, env: env, log: log, ports: map[int]Port{}, ours: map[netip.Addr]int{},
		unreachable: make(chan []byte, 64)}
	for _, p := range ports {
		s.ports[p.ID] = p
		for _, a := range p.Prefixes {
			s.ours[a.Addr()] = p.ID
		}
	}
	s.limiter = icmp.NewLimiter(cfg.ICMPRate, max(cfg.ICMPBurst, 1), now)
	nc := cfg.Neigh
	nc.OnLink = s.onLink
	nc.OwnMAC = s.ownMAC
	s.nt = neigh.New(nc, hooks{s}, now)
	return s
}

// Neighbors is the neighbour table.
func (s *SlowPath) Neighbors() *neigh.Table { return s.nt }

// ownMAC: mac is one of the router's ports'.
func (s *SlowPath) ownMAC(mac net.HardwareAddr) bool {
	for _, p := range s.ports {
		if bytes.Equal(p.MAC, mac) {
			return true
		}
	}
	return false
}

// onLink: ip may be a neighbour on port: inside one of the port's subnets
// and neither our address nor the subnet's network or broadcast address.
func (s *SlowPath) onLink(port int, ip netip.Addr) bool {
	p, ok := s.ports[port]
	if !ok {
		return false
	}
	for _, a := range p.Prefixes {
		n := a.Masked()
		if !n.Contains(ip) || ip == a.Addr() {
			continue
		}
		if inet.IsSubnetEdge(a, ip) {
			continue
		}
		return true
	}
	return false
}

// Run serves the rings until stop is closed. It announces the router's
// addresses with gratuitous ARP first (RFC 5227 2.3), so neighbours that
// cached an old MAC for them learn the new one.
func (s *SlowPath) Run(stop <-chan struct{}) {
	s.announce()
	empty := 0
	t := time.NewTimer(tick)
	defer t.Stop()
	lastNeigh, lastLink := time.Now(), time.Now()
	up := map[int]bool{}
	for id := range s.ports {
		up[id] = s.env.LinkUp(id)
	}
	for {
		s.loops.Add(1)
		var now time.Time
		if empty >= idleAfter {
			// Quiet: sleep until an lcore hands over an exception or the
			// neighbour timers are due.
			s.env.Idle(time.Until(lastNeigh.Add(neighTick)), stop)
			now = time.Now()
		} else {
			select {
			case <-stop:
				return
			case now = <-t.C:
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		// At most rate x tick: what the rings hold beyond that waits, and
		// what they cannot hold the fast path frees.
		taken := s.env.Take(max(s.cfg.Rate*int(tick/time.Microsecond)/1e6, 1))
		for _, e := range taken {
			s.handle(e)
		}
		if len(taken) > 0 {
			empty = 0
		} else {
			empty++
		}
		if now.Sub(lastNeigh) >= neighTick {
			s.nt.Tick()
			lastNeigh = now
		}
		s.hostUnreachable()
		if now.Sub(lastLink) >= linkTick {
			s.watchLinks(up)
			lastLink = now
		}
		if empty < idleAfter {
			t.Reset(tick)
		}
	}
}

func (s *SlowPath) announce() {
	for _, p := range s.ports {
		s.announcePort(p)
	}
}

func (s *SlowPath) announcePort(p Port) {
	for _, a := range p.Prefixes {
		if s.send(p.ID, arp.Gratuitous(p.MAC, a.Addr())) {
			s.c.arpGratuitousSent.Add(1)
		}
	}
}

// watchLinks announces the addresses of a port whose link came up (RFC
// 5227 2.3: neighbours may have cached another MAC meanwhile). A link that
// goes down changes nothing here: its neighbours fail their probes if it
// stays down.
func (s *SlowPath) watchLinks(up map[int]bool) {
	for id, p := range s.ports {
		now := s.env.LinkUp(id)
		if now && !up[id] {
			s.log.Info("link up: announcing the port's addresses", zap.String("port", p.Name))
			s.announcePort(p)
		}
		up[id] = now
	}
}

// handle dispatches one exception by the fast path's reason.
func (s *SlowPath) handle(e fwd.Exception) {
	s.c.taken.Add(1)
	if e.Truncated {
		s.drop("truncated")
		return
	}
	if e.Reason == fwd.SlowARP {
		s.arpIn(int(e.Port), e.Frame)
		return
	}
	if len(e.Frame) < inet.EthHeaderLen+ipv4.MinHeaderLen {
		s.drop("malformed")
		return
	}
	pkt := e.Frame[inet.EthHeaderLen:]
	switch e.Reason {
	case fwd.SlowLocal:
		s.local(int(e.Port), pkt, e.L2Broadcast)
	case fwd.SlowBroadcast:
		// RFC 1122 3.2.2.6: echo requests to broadcast may be dropped
		// (and are: no smurf amplifier); nothing else is for us there.
		s.drop("broadcast")
	case fwd.SlowTTLExceeded:
		s.icmpError(int(e.Port), pkt, e.L2Broadcast, icmp.TimeExceeded, 0)
	case fwd.SlowNoRoute:
		s.icmpError(int(e.Port), pkt, e.L2Broadcast, icmp.NetUnreachable, 0)
	case fwd.SlowUnresolved, fwd.SlowIPOptions, fwd.SlowFragmentationNeeded:
		s.forward(int(e.Port), pkt, e.L2Broadcast)
	default:
		s.drop("unknown_reason")
	}
}

// arpIn answers requests for the ingress port's addresses and feeds the
// neighbour table (RFC 826 "Packet Reception").
func (s *SlowPath) arpIn(port int, frame []byte) {
	p, err := arp.Parse(frame)
	if err != nil {
		s.drop("malformed_arp")
		return
	}
	pt, ok := s.ports[port]
	if !ok {
		return
	}
	toUs := false
	for _, a := range pt.Prefixes {
		toUs = toUs || a.Addr() == p.TargetIP
	}
	// A gratuitous ARP (sender IP = target IP) announces and asks nothing
	// (RFC 5227 2.3): one for our own address is a conflict, neither a
	// request to answer nor a reply to learn.
	toUs = toUs && !p.IsGratuitous()
	switch {
	case p.Op == arp.OpRequest && toUs && !p.IsProbe():
		s.c.arpRequestsIn.Add(1)
		s.nt.Learn(port, p.SenderIP, p.SenderMAC, neigh.RequestToUs)
		s.arpReply(pt, p)
	case p.Op == arp.OpRequest && toUs:
		// RFC 5227 probe (sender 0.0.0.0): answer, learn nothing.
		s.c.arpRequestsIn.Add(1)
		s.arpReply(pt, p)
	case p.Op == arp.OpReply && toUs:
		s.c.arpRepliesIn.Add(1)
		s.nt.Learn(port, p.SenderIP, p.SenderMAC, neigh.Reply)
	default:
		s.c.arpOtherIn.Add(1)
		s.nt.Learn(port, p.SenderIP, p.SenderMAC, neigh.Other)
	}
}

func (s *SlowPath) arpReply(pt Port, req arp.Packet) {
	f, err := arp.Reply(req, pt.MAC)
	if err != nil {
		s.drop("malformed_arp")
		return
	}
	if s.send(pt.ID, f) {
		s.c.arpRepliesSent.Add(1)
	}
}

// local handles a packet for one of the router's addresses (or the limited
// broadcast): echo requests get replies; other protocols get port or
// protocol unreachable (RFC 1812 4.3.3.? / RFC 1122 3.2.2.1), subject to
// the rules on when errors may be sent.
func (s *SlowPath) local(port int, pkt []byte, l2bcast bool) {
	h, err := ipv4.Parse(pkt)
	if err != nil {
		s.drop("malformed")
		return
	}
	if _, ours := s.ours[h.Dst]; !ours {
		s.drop("broadcast") // 255.255.255.255: nothing listens there
		return
	}
	if h.IsFragment() {
		s.drop("fragment_for_us") // no reassembly in the router
		return
	}
	switch h.Protocol {
	case ipv4.ProtoICMP:
		reply, err := icmp.EchoReply(pkt[:h.TotalLen], h.Dst)
		if err != nil {
			if errors.Is(err, icmp.ErrNotEchoRequest) {
				s.c.icmpIn.Add(1) // replies, errors: nothing to do
			} else {
				s.drop("malformed_icmp")
			}
			return
		}
		if s.output(reply) {
			s.c.icmpEchoReplies.Add(1)
		}
	case ipv4.ProtoUDP, ipv4.ProtoTCP:
		s.icmpError(port, pkt, l2bcast, icmp.PortUnreachable, 0)
	default:
		s.icmpError(port, pkt, l2bcast, icmp.ProtocolUnreachable, 0)
	}
}

// icmpError sends an error about pkt (as received) back to its source from
// the router's address on the ingress port, when RFC 1812 4.3.2.7 allows
// and the token bucket has a token.
// rest is the word after the ICMP checksum: the next-hop MTU of
// FragmentationNeeded, the pointer of ParameterProblem (icmp.ErrorRest).
func (s *SlowPath) icmpError(port int, pkt []byte, l2bcast bool, k icmp.Kind, rest uint32) {
	if ok, why := icmp.MayError(pkt, l2bcast); !ok {
		s.c.icmpSuppressed.add(why)
		return
	}
	if !s.limiter.Allow() {
		s.c.icmpRateLimited.Add(1)
		return
	}
	src, ok := s.sourceFor(port, pkt)
	if !ok {
		s.drop("no_source_address")
		return
	}
	msg, err := icmp.ErrorRest(pkt, k, src, rest)
	if err != nil {
		s.drop("malformed")
		return
	}
	if s.output(msg) {
		s.c.icmpErrors.add(kindName(k))
	}
}

// sourceFor picks the router's address on port in the original sender's
// subnet, else the port's first address (RFC 1812 4.3.2.4).
func (s *SlowPath) sourceFor(port int, pkt []byte) (netip.Addr, bool) {
	p, ok := s.ports[port]
	if !ok || len(p.Prefixes) == 0 {
		for _, q := range s.ports {
			if len(q.Prefixes) > 0 {
				return q.Prefixes[0].Addr(), true
			}
		}
		return netip.Addr{}, false
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	for _, a := range p.Prefixes {
		if a.Masked().Contains(src) {
			return a.Addr(), true
		}
	}
	return p.Prefixes[0].Addr(), true
}

// forward sends, in software, a transit packet the fast path could not:
// its neighbour's MAC is unknown, it has IP options, or it exceeds the
// egress MTU. Options are checked first (RFC 1812 5.2.4): malformed ones
// get a Parameter Problem pointing at the bad octet; source-routed packets
// are dropped (RFC 7126's advice, what most routers do: source routing
// lets a sender steer around filters) with a Source Route Failed; record
// route and timestamp pass unchanged (the router records nothing). Its route is
// looked up again: it may have changed since the fast path looked (or the
// fast path's lookup raced a FIB change).
func (s *SlowPath) forward(port int, pkt []byte, l2bcast bool) {
	h, err := ipv4.Parse(pkt)
	if err != nil {
		s.drop("malformed")
		return
	}
	pkt = pkt[:h.TotalLen]
	if h.HeaderLen > ipv4.MinHeaderLen {
		switch o := ipv4.CheckOptions(pkt[:h.HeaderLen]); {
		case o.Problem >= 0:
			s.drop("bad_options")
			s.icmpError(port, pkt, l2bcast, icmp.ParameterProblem, uint32(o.Problem)<<24)
			return
		case o.SourceRoute:
			s.drop("source_routed")
			s.icmpError(port, pkt, l2bcast, icmp.SourceRouteFailed, 0)
			return
		}
	}
	hop, ok := s.env.Lookup(h.Dst)
	switch {
	case !ok:
		s.icmpError(port, pkt, l2bcast, icmp.NetUnreachable, 0)
		return
	case hop.Kind == fwd.Local: // it became one of our addresses
		s.local(port, pkt, l2bcast)
		return
	case hop.Kind == fwd.Broadcast:
		s.drop("broadcast")
		return
	case h.TTL <= 1: // checked by the fast path, unless the route changed meanwhile
		s.icmpError(port, pkt, l2bcast, icmp.TimeExceeded, 0)
		return
	}
	if mtu := s.ports[int(hop.Port)].MTU; mtu > 0 && len(pkt) > mtu {
		if h.DF {
			s.icmpError(port, pkt, l2bcast, icmp.FragmentationNeeded, uint32(mtu))
			return
		}
		frags, err := fragment(pkt, h, mtu)
		if err != nil {
			s.drop("cannot_fragment")
			return
		}
		s.c.fragmented.Add(1)
		s.c.softForwarded.Add(1)
		for _, f := range frags {
			s.toHop(hop, h.Dst, f)
		}
		return
	}
	s.c.softForwarded.Add(1)
	s.toHop(hop, h.Dst, append([]byte(nil), pkt...)) // the exception buffer is reused
}

// output routes a packet the router originates (ICMP) to its destination.
func (s *SlowPath) output(pkt []byte) bool {
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	hop, ok := s.env.Lookup(dst)
	if !ok {
		s.drop("no_route_back")
		return false
	}
	if hop.Kind != fwd.Forward && hop.Kind != fwd.Unresolved {
		s.drop("not_forwardable")
		return false
	}
	// What the router sends respects the MTU too: an echo reply as long
	// as a request that came in on a larger-MTU port leaves in fragments
	// (the router's packets never set DF).
	if mtu := s.ports[int(hop.Port)].MTU; mtu > 0 && len(pkt) > mtu {
		h, err := ipv4.Parse(pkt)
		if err != nil {
			s.drop("malformed")
			return false
		}
		frags, err := fragment(pkt, h, mtu)
		if err != nil {
			s.drop("cannot_fragment")
			return false
		}
		s.c.fragmented.Add(1)
		ok := true
		for _, f := range frags {
			ok = s.toHop(hop, dst, f) && ok
		}
		return ok
	}
	return s.toHop(hop, dst, pkt)
}

// toHop sends pkt via hop: at once when the MAC is known, else through the
// neighbour table (which queues it while it resolves). Transit packets stay
// as received until they leave (sendIP decrements their TTL), so an error
// about one quotes it unchanged (RFC 1812 4.3.2.3).
func (s *SlowPath) toHop(hop fwd.NextHop, dst netip.Addr, pkt []byte) bool {
	if hop.Kind == fwd.Forward {
		return s.sendIP(int(hop.Port), hop.MAC.HW(), pkt)
	}
	next := dst
	if hop.Via.IsValid() {
		next = hop.Via
	}
	s.nt.Resolve(int(hop.Port), next, pkt)
	return true
}

// sendIP frames pkt for mac on port and sends it; a transit packet (not
// from one of our addresses) gets its TTL decremented on the way out.
func (s *SlowPath) sendIP(port int, mac net.HardwareAddr, pkt []byte) bool {
	p, ok := s.ports[port]
	if !ok {
		return false
	}
	if _, ours := s.ours[netip.AddrFrom4([4]byte(pkt[12:16]))]; !ours {
		ipv4.DecrementTTL(pkt)
	}
	f := make([]byte, inet.EthHeaderLen+len(pkt), max(inet.EthHeaderLen+len(pkt), 60))
	copy(f, mac)
	copy(f[6:], p.MAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	copy(f[inet.EthHeaderLen:], pkt)
	f = f[:cap(f)] // pad to the Ethernet minimum
	return s.send(port, f)
}

func (s *SlowPath) send(port int, frame []byte) bool {
	s.sendMu.Lock()
	err := s.env.Send(port, frame)
	s.sendMu.Unlock()
	if err != nil {
		s.c.sendFailed.Add(1)
		return false
	}
	s.c.sent.Add(1)
	return true
}

func (s *SlowPath) drop(reason string) { s.c.dropped.add(reason) }

// hooks are the neighbour table's hands.
type hooks struct{ s *SlowPath }

func (h hooks) SendRequest(port int, target netip.Addr, dst net.HardwareAddr) {
	s := h.s
	p, ok := s.ports[port]
	if !ok {
		return
	}
	src, ok := netip.Addr{}, false
	for _, a := range p.Prefixes {
		if a.Masked().Contains(target) {
			src, ok = a.Addr(), true
			break
		}
	}
	if !ok {
		return
	}
	if s.send(port, arp.Request(p.MAC, src, target, dst)) {
		s.c.arpRequestsSent.Add(1)
	}
}

func (h hooks) Resolved(e neigh.Entry) {
	if h.s.cfg.Resolved != nil {
		h.s.cfg.Resolved(e)
	}
}

func (h hooks) Unresolved(e neigh.Entry) {
	if h.s.cfg.Unresolved != nil {
		h.s.cfg.Unresolved(e)
	}
}

func (h hooks) Send(port int, mac net.HardwareAddr, pkt []byte) {
	h.s.sendIP(port, mac, pkt)
}

func (h hooks) Drain() { h.s.env.Drain() }

// Dropped: a packet could not reach its neighbour. When resolution failed,
// its sender learns: host unreachable (RFC 1812 4.3.3.? / 5.2.7.1).
func (h hooks) Dropped(pkt []byte, reason string) {
	s := h.s // counted by the table (arp.queue_dropped)
	if reason != neigh.DropFailed {
		return
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	if _, ours := s.ours[src]; ours {
		return // our own message: nobody to tell
	}
	// Sent from the loop: the table's lock is held here, and the error
	// itself may need the table. Beyond the queue's room, the rate limit
	// would have dropped it anyway.
	select {
	case s.unreachable <- pkt:
	default:
		s.c.icmpRateLimited.Add(1)
	}
}

// hostUnreachable tells the senders of packets whose neighbour failed.
func (s *SlowPath) hostUnreachable() {
	for {
		select {
		case pkt := <-s.unreachable:
			src := netip.AddrFrom4([4]byte(pkt[12:16]))
			if hop, ok := s.env.Lookup(src); ok {
				s.icmpError(int(hop.Port), pkt, false, icmp.HostUnreachable, 0)
			}
		default:
			return
		}
	}
}

func kindName(k icmp.Kind) string {
	switch k {
	case icmp.TimeExceeded:
		return "time_exceeded"
	case icmp.NetUnreachable:
		return "net_unreachable"
	case icmp.HostUnreachable:
		return "host_unreachable"
	case icmp.ProtocolUnreachable:
		return "protocol_unreachable"
	case icmp.PortUnreachable:
		return "port_unreachable"
	case icmp.FragmentationNeeded:
		return "fragmentation_needed"
	case icmp.SourceRouteFailed:
		return "source_route_failed"
	case icmp.ParameterProblem:
		return "parameter_problem"
	}
	return "other"
}
