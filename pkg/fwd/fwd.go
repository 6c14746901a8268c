// Package fwd is the forwarding plane's vocabulary, shared by steer's C data
// plane (cgo/dataplane) and its control plane: why the fast path drops a
// packet or hands it to the slow path, what a next hop is, what an
// exception carries, what an lcore counts, and the limits of the C tables.
//
// It is pure Go, so the control plane (route table, slow path, API,
// metrics, reload) builds and tests without DPDK. cgo/dataplane pins its C
// definitions to these: the limits at compile time, the reason lists and
// next-hop kinds in a test.
package fwd

import (
	"fmt"
	"net/netip"

	"github.com/steer-router/steer/pkg/inet"
)

// Limits of the C data plane's tables.
const (
	MaxPorts      = 32   // port ids 0..31
	MaxQueues     = 64   // RX and TX queues per port
	MaxRxPerLcore = 32   // (port, queue) pairs one lcore polls
	MaxWorkers    = 16   // distributor workers
	MaxLcores     = 128  // forwarding lcores (RCU reader slots)
	MaxRETA       = 4096 // distributor RETA buckets
	Burst         = 32   // packets per RX burst, TX buffer and ring burst
)

// DropReason says why the fast path dropped a packet.
type DropReason uint8

// Drop reasons, in the C data plane's counter order.
const (
	DropUnknownEthertype   DropReason = iota // not IPv4 or ARP
	DropRunt                                 // shorter than Ethernet + a 20-byte IPv4 header (RFC 1812 5.2.2)
	DropBadVersion                           // IP version is not 4 (5.2.2)
	DropBadIHL                               // header length below 20 (5.2.2)
	DropBadChecksum                          // header checksum (5.2.2)
	DropBadLength                            // total length vs header and frame (5.2.2)
	DropMartianSource                        // 0/8, 127/8, multicast or class E source (5.3.7)
	DropOwnSource                            // a transit packet from one of the router's addresses (5.3.7)
	DropBroadcastSource                      // from a connected subnet's directed broadcast (5.3.7)
	DropLinkSource                           // from a group (broadcast, multicast) or zero MAC (4.2.2.11)
	DropMartianDestination                   // 0/8, 127/8, class E destination (5.3.7)
	DropL2OtherHost                          // unicast frame for another MAC
	DropLinkBroadcast                        // link-layer broadcast not for the router (5.3.4)
	DropMulticast                            // IPv4 multicast destination: no multicast routing
	DropTxFull                               // the device refused it on TX
	DropRingFull                             // the distributor's ring to a worker was full
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"unknown_ethertype", "runt", "bad_version", "bad_ihl", "bad_checksum",
	"bad_length", "martian_source", "own_source", "broadcast_source", "link_source", "martian_destination",
	"l2_other_host", "link_broadcast", "multicast",
	"tx_full", "ring_full"}

// String is the reason's counter name ("bad_checksum"), also its metrics label.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("drop(%d)", uint8(r))
}

// SlowReason says why the fast path handed a packet to the slow path.
type SlowReason uint8

// Slow-path reasons, in the C data plane's counter order.
const (
	SlowARP                 SlowReason = iota // ARP: answered, learnt, resolved by the control thread
	SlowLocal                                 // for one of the router's addresses, or 255.255.255.255
	SlowBroadcast                             // a connected subnet's network or broadcast address
	SlowTTLExceeded                           // TTL would reach 0: ICMP time exceeded
	SlowNoRoute                               // no route: ICMP net unreachable
	SlowUnresolved                            // next hop without a MAC yet: ARP resolves it
	SlowIPOptions                             // header options: forwarded in software
	SlowFragmentationNeeded                   // above the egress MTU: fragmented, or ICMP when DF
	NumSlowReasons
)

var slowNames = [NumSlowReasons]string{"arp", "local", "broadcast", "ttl_exceeded", "no_route", "unresolved",
	"ip_options", "fragmentation_needed"}

// String is the reason's counter name ("ttl_exceeded").
func (r SlowReason) String() string {
	if r < NumSlowReasons {
		return slowNames[r]
	}
	return fmt.Sprintf("slow(%d)", uint8(r))
}

// Stage is what an lcore's cycles go to, measured in a sample of its busy
// loops.
type Stage uint8

const (
	StageRx      Stage = iota // polling NIC queues and rings
	StageHandoff              // hashing flows, handing packets to workers
	StageProcess              // the L3 pipeline
	StageTx                   // sending TX buffers
	NumStages
)

var stageNames = [NumStages]string{"rx", "handoff", "process", "tx"}

func (s Stage) String() string {
	if s < NumStages {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// HashMode is what makes packets one flow for the distributor (config
// distributor.hash).
type HashMode uint8

const (
	HashAuto HashMode = iota // TCP by the 5-tuple; everything else and fragments by addresses and protocol
	HashL3                   // addresses and protocol
	HashL4                   // TCP and UDP by the 5-tuple
)

// ParseHashMode reads a config value (auto, l3, l4).
func ParseHashMode(s string) (HashMode, error) {
	switch s {
	case "auto":
		return HashAuto, nil
	case "l3":
		return HashL3, nil
	case "l4":
		return HashL4, nil
	}
	return 0, fmt.Errorf("unknown flow hash %q (auto, l3, l4)", s)
}

// PollMode is how an lcore waits when its queues and rings run dry (config
// poll.mode, lcores[].poll).
type PollMode uint8

const (
	PollBusy      PollMode = iota // never: it polls without pause
	PollAdaptive                  // growing sleeps, woken by work handed to it
	PollInterrupt                 // blocked on its RX queues' interrupts
)

var pollNames = [...]string{"busy", "adaptive", "interrupt"}

func (m PollMode) String() string {
	if int(m) < len(pollNames) {
		return pollNames[m]
	}
	return fmt.Sprintf("poll(%d)", uint8(m))
}

// ParsePollMode reads a config value (busy, adaptive, interrupt).
func ParsePollMode(s string) (PollMode, error) {
	for i, n := range pollNames {
		if n == s {
			return PollMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown poll mode %q (busy, adaptive, interrupt)", s)
}

// RETALocal is a RETA entry that keeps a bucket on its RX lcore.
const RETALocal = -1

// NextHopKind says what the fast path does with a packet whose route points
// at a next hop.
type NextHopKind uint8

const (
	Forward    NextHopKind = iota // neighbour MAC known: rewrite and send
	Unresolved                    // egress port known, neighbour MAC not (yet): slow path resolves
	Local                         // one of the router's addresses: slow path answers
	Broadcast                     // network or broadcast address of a connected subnet
	NumNextHopKinds
)

var kindNames = [NumNextHopKinds]string{"forward", "unresolved", "local", "broadcast"}

func (k NextHopKind) String() string {
	if k < NumNextHopKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the kind's name.
func (k NextHopKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *NextHopKind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = NextHopKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown next-hop kind %q", b)
}

// NextHop is one entry of the fast path's next-hop table. Comparable:
// routes with equal next hops share one entry.
type NextHop struct {
	Kind NextHopKind `json:"kind"`
	Port uint16      `json:"port"`
	MAC  inet.MAC    `json:"mac,omitzero"` // Forward: the neighbour's MAC
	// Unresolved: the gateway to resolve; invalid for a connected subnet,
	// where the packet's own destination is resolved.
	Via netip.Addr `json:"via,omitzero"`
}

func (h NextHop) String() string {
	switch h.Kind {
	case Forward:
		return fmt.Sprintf("forward port %d to %s", h.Port, h.MAC)
	case Unresolved:
		if h.Via.IsValid() {
			return fmt.Sprintf("unresolved port %d via %s", h.Port, h.Via)
		}
		return fmt.Sprintf("unresolved port %d (connected)", h.Port)
	}
	return fmt.Sprintf("%s port %d", h.Kind, h.Port)
}

// Exception is a packet the fast path handed to the control thread, copied
// out of its mbuf.
type Exception struct {
	Reason      SlowReason
	L2Broadcast bool   // arrived as link-layer broadcast or multicast
	Port        uint16 // ingress port
	Frame       []byte // the frame, up to the copy limit
	Truncated   bool   // the frame was longer than the copy limit
}
