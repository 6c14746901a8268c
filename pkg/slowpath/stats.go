package slowpath

import (
	"sync"
	"sync/atomic"

	"github.com/steer-router/steer/pkg/icmp"
)

// counters are written by the loop (and the neighbour hooks) and read by
// Stats at any time.
type counters struct {
	taken, sent, sendFailed                  atomic.Uint64
	arpRequestsIn, arpRepliesIn, arpOtherIn  atomic.Uint64
	arpRepliesSent, arpRequestsSent          atomic.Uint64
	arpGratuitousSent                        atomic.Uint64
	icmpIn, icmpEchoReplies, icmpRateLimited atomic.Uint64
	softForwarded, fragmented                atomic.Uint64
	icmpErrors, icmpSuppressed, dropped      labeled
}

// labeled is a set of counters by label.
type labeled struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (l *labeled) add(label string) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]uint64{}
	}
	l.m[label]++
	l.mu.Unlock()
}

func (l *labeled) copy(keys ...string) map[string]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]uint64{}
	for _, k := range keys {
		out[k] = 0 // always present, so dashboards see zeros
	}
	for k, v := range l.m {
		out[k] = v
	}
	return out
}

// Stats are the slow path's counters, as the stats file and /metrics show them.
type Stats struct {
	Taken         uint64            `json:"taken"`          // exceptions taken from the rings
	Sent          uint64            `json:"sent"`           // frames queued for transmission
	SendFailed    uint64            `json:"send_failed"`    // frames lost: no mbuf or control ring full
	SoftForwarded uint64            `json:"soft_forwarded"` // transit packets sent by the slow path
	Fragmented    uint64            `json:"fragmented"`     // packets fragmented for a smaller MTU
	Dropped       map[string]uint64 `json:"dropped"`

	ARP struct {
		RequestsReceived uint64 `json:"requests_received"` // for our addresses
		RepliesReceived  uint64 `json:"replies_received"`  // to us
		OtherReceived    uint64 `json:"other_received"`    // gratuitous, for others
		RepliesSent      uint64 `json:"replies_sent"`
		RequestsSent     uint64 `json:"requests_sent"`
		GratuitousSent   uint64 `json:"gratuitous_sent"`
		Resolved         uint64 `json:"resolved"`
		Failed           uint64 `json:"failed"`
		Learnt           uint64 `json:"learnt"`
		Invalid          uint64 `json:"invalid"`
		TableFull        uint64 `json:"table_full"`
		// IncompleteEvicted: resolutions given up for newer ones (a flood
		// of unused addresses); OwnMAC: senders claiming a router MAC.
		IncompleteEvicted uint64            `json:"incomplete_evicted"`
		OwnMAC            uint64            `json:"own_mac"`
		Neighbors         map[string]int    `json:"neighbors"` // by state
		QueueDropped      map[string]uint64 `json:"queue_dropped"`
	} `json:"arp"`

	ICMP struct {
		Received    uint64            `json:"received"` // for us, not echo requests
		EchoReplies uint64            `json:"echo_replies"`
		Errors      map[string]uint64 `json:"errors"` // sent, by kind
		RateLimited uint64            `json:"rate_limited"`
		Suppressed  map[string]uint64 `json:"suppressed"` // RFC 1812 4.3.2.7 said no
	} `json:"icmp"`
}

// ErrorKinds are the ICMP error counters' labels.
var ErrorKinds = []string{"time_exceeded", "net_unreachable", "host_unreachable",
	"port_unreachable", "protocol_unreachable", "fragmentation_needed", "source_route_failed", "parameter_problem"}

// Stats reads the counters.
func (s *SlowPath) Stats() Stats {
	c := &s.c
	var st Stats
	st.Taken, st.Sent, st.SendFailed = c.taken.Load(), c.sent.Load(), c.sendFailed.Load()
	st.SoftForwarded, st.Fragmented = c.softForwarded.Load(), c.fragmented.Load()
	st.Dropped = c.dropped.copy()
	st.ARP.RequestsReceived, st.ARP.RepliesReceived = c.arpRequestsIn.Load(), c.arpRepliesIn.Load()
	st.ARP.OtherReceived = c.arpOtherIn.Load()
	st.ARP.RepliesSent, st.ARP.RequestsSent = c.arpRepliesSent.Load(), c.arpRequestsSent.Load()
	st.ARP.GratuitousSent = c.arpGratuitousSent.Load()
	ns := s.nt.Stats()
	st.ARP.Resolved, st.ARP.Failed, st.ARP.Learnt = ns.Resolved, ns.Failed, ns.Learnt
	st.ARP.Invalid, st.ARP.TableFull = ns.Invalid, ns.TableFull
	st.ARP.IncompleteEvicted, st.ARP.OwnMAC = ns.IncompleteEvicted, ns.OwnMAC
	st.ARP.QueueDropped = ns.Dropped
	st.ARP.Neighbors = map[string]int{}
	for state, n := range ns.Entries {
		st.ARP.Neighbors[state.String()] = n
	}
	st.ICMP.Received, st.ICMP.EchoReplies = c.icmpIn.Load(), c.icmpEchoReplies.Load()
	st.ICMP.RateLimited = c.icmpRateLimited.Load()
	st.ICMP.Errors = c.icmpErrors.copy(ErrorKinds...)
	st.ICMP.Suppressed = c.icmpSuppressed.copy(icmp.ReasonTruncated, icmp.ReasonBadHeader, icmp.ReasonBroadcast,
		icmp.ReasonFragment, icmp.ReasonBadSource, icmp.ReasonICMPError)
	return st
}
