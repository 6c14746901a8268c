// Package neigh is the router's ARP neighbour table: the state machine that
// turns a next-hop IPv4 address into a MAC (RFC 826, RFC 1122 2.3.2), with
// Linux-like neighbour states, aging, probing and bounds.
//
// It is pure Go and does no I/O: the caller feeds it events (Resolve for a
// packet whose next hop has no MAC, Learn for a received ARP packet, Tick
// every ~100ms) and it answers through Hooks (send an ARP request, install or
// remove a fast-path entry, send or drop a packet).
//
// # States
//
//	Resolve (new IP): broadcast request, queue the packet
//	  |
//	  v           N broadcasts unanswered (waits R, 2R, 4R ...)
//	Incomplete ---------------------------------------------> Failed --FailedHold--> deleted
//	  |                                                         ^
//	  | Reply: Reachable; RequestToUs, Other: Stale             |
//	  v                                                         |
//	Reachable --ReachableTime--> Stale --StaleTime--> Probe ----+
//	  ^         (no Reply)                              |   N unicast requests unanswered
//	  |                                                 |
//	  +------------------------ Reply ------------------+
//
//	Static: by AddStatic; never aged, never changed by Learn; only DeleteStatic removes it.
//	A Reply makes any dynamic entry Reachable; see Learning for the rest.
//
// Reachable, Stale, Probe and Static are usable: packets go out with the
// entry's MAC. Incomplete queues packets (at most MaxPending per neighbour;
// the oldest is dropped with reason "queue_full" when a new one arrives).
// Failed holds the negative answer for FailedHold so that traffic to a dead
// host does not turn into an ARP storm.
//
// # Timings (defaults in brackets; R = RetransTime, N = MaxRetries)
//
//   - Incomplete: request k (k = 1..N) is broadcast at t0 + R*(2^(k-1) - 1), so
//     at 0s, 1s, 3s [R=1s, N=3]; the entry fails at t0 + R*(2^N - 1) = 7s, when
//     the wait after the last request (4s) is over. Backoff doubles per request.
//   - Reachable: becomes Stale ReachableTime [30s] after the last Reply.
//   - Stale: after StaleTime [60s] without confirmation the entry enters Probe.
//   - Probe: N unicast requests to the known MAC, R apart (no backoff: the
//     entry is still in use), at +0, +R, +2R; no Reply by +N*R [3s] -> Failed.
//     While probing the entry stays usable.
//   - Failed: deleted FailedHold [20s] after failing. A Resolve during that
//     time is dropped ("failed") without sending anything; a later Resolve
//     (even if Tick has not yet deleted the entry) starts over.
//
// Timers are measured from the Tick (or call) that performs the transition,
// so a late Tick delays the next step rather than bunching requests. Every
// neighbour is re-confirmed by a unicast probe every ReachableTime+StaleTime
// [~90s]; one that stops answering is removed from the fast path then.
//
// # Learning (what a received ARP packet does)
//
// The caller classifies each ARP packet it receives on a port:
//
//   - Reply: a reply whose target is one of our addresses: Reachable with the
//     sender's MAC (it confirms reachability), whatever the entry's state. With
//     no entry one is created (RFC 826 adds the sender when we are the target;
//     Linux does so only with arp_accept=1, and then also as Reachable).
//   - RequestToUs: a request whose target is one of our addresses. RFC 826 adds
//     the sender: a new entry is Stale (like Linux). An Incomplete or Failed
//     entry also becomes Stale with the sender's MAC and its queue is flushed
//     (chosen over Reachable: a request proves the host exists, not that it
//     receives our frames; the entry is usable either way).
//   - Other: any other ARP (gratuitous, requests for other hosts). RFC 826
//     merge: it only updates an entry that already exists, never creates one.
//
// For RequestToUs and Other on an existing entry (Linux semantics): with a
// different MAC, or on an Incomplete/Failed entry, the entry becomes Stale with
// the new MAC; with the same MAC a usable entry keeps its state and timers
// (only a Reply confirms). Learn never changes a Static entry (a conflicting
// MAC is counted in Stats.StaticConflicts), and ignores an ARP that arrives on
// a port other than the entry's (an ARP on another segment must not steal an
// entry; Resolve is what moves an entry to another port).
//
// Learn ignores (Stats.Invalid) a sender IP that is not a unicast IPv4 host
// address (0.0.0.0 as in ARP probes, 255.255.255.255, multicast, loopback), a
// sender MAC that is not a 6-byte unicast non-zero address, and a sender that
// Config.OnLink says is not on the port's subnet. OnLink should also reject the
// router's own addresses and subnet network/broadcast addresses.
//
// Whenever an entry becomes usable, or a usable entry's MAC changes, the
// Resolved hook fires (install in the fast path) and then the queued packets
// go to Send in arrival order. When an entry that was installed stops being
// usable (probe failed, evicted, deleted, flushed, moved to another port)
// Unresolved fires.
//
// # Bounds
//
// At most MaxEntries dynamic (non-static) entries exist; statics are bounded
// by the operator and not counted. To make room for a new IP the table evicts
// the oldest Failed entry, else the oldest Stale entry that has been stale for
// at least 5s (like Linux's forced GC, so a flood cannot churn entries that
// were just learnt, nor the fast path with them). Otherwise the new IP is
// refused and counted in Stats.TableFull (its packet, if any, goes to Dropped
// with reason "table_full"). Queued packets are bounded by MaxPending per
// entry, so memory is bounded by MaxEntries*(MaxPending+1) whatever arrives.
//
// # Concurrency and ownership
//
// A Table is safe for concurrent use; every method takes one mutex. Hooks are
// called synchronously with that mutex held: they must not call back into the
// Table (that deadlocks) and should be quick (queue the work, don't block).
// Packet slices passed to Resolve belong to the table afterwards and are
// handed back exactly once, through Send or Dropped. MAC slices handed to
// hooks or returned in Entry must not be modified.
package neigh
