package neigh

// One file for the table on purpose: its states, timers, queue and bounds
// are one state machine (doc.go draws it), and every transition touches
// all of them under the one lock.

import (
	"bytes"
	"container/heap"
	"container/list"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// State is a neighbour entry's state.
type State uint8

const (
	Incomplete State = iota // request sent, waiting for an answer; packets are queued
	Reachable               // confirmed by a Reply within ReachableTime
	Stale                   // not confirmed recently; still used for forwarding
	Probe                   // stale entry being re-confirmed by unicast requests; still used
	Failed                  // resolution gave up; held for FailedHold, then deleted
	Static                  // configured; never aged, never changed by learning
	numStates
)

var stateNames = [numStates]string{"incomplete", "reachable", "stale", "probe", "failed", "static"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Usable reports whether packets can be sent to an entry in this state.
func (s State) Usable() bool {
	return s == Reachable || s == Stale || s == Probe || s == Static
}

// LearnKind says what kind of ARP packet Learn is given; see the package doc.
// The zero value is Other, the kind that never creates an entry.
type LearnKind uint8

const (
	Other       LearnKind = iota // gratuitous ARP or any ARP not addressed to us: merge only
	Reply                        // an ARP reply whose target is one of our addresses
	RequestToUs                  // an ARP request whose target is one of our addresses
)

func (k LearnKind) String() string {
	switch k {
	case Other:
		return "other"
	case Reply:
		return "reply"
	case RequestToUs:
		return "request_to_us"
	}
	return fmt.Sprintf("learnkind(%d)", uint8(k))
}

// Reasons passed to Hooks.Dropped.
const (
	DropQueueFull = "queue_full" // the neighbour's queue was full: the oldest packet goes
	DropFailed    = "failed"     // resolution failed or is held down: send ICMP host unreachable
	DropTableFull = "table_full" // no room for a new entry
)

// Defaults for zero (or negative) Config fields.
const (
	DefaultReachableTime = 30 * time.Second
	DefaultStaleTime     = 60 * time.Second
	DefaultRetransTime   = time.Second
	DefaultMaxRetries    = 3
	DefaultFailedHold    = 20 * time.Second
	DefaultMaxPending    = 8
	DefaultMaxEntries    = 4096

	// maxRetriesCap bounds the backoff to RetransTime<<19 (6 days at 1s).
	maxRetriesCap = 20
	// evictMinAge protects entries that just became stale from eviction, so
	// a flood of new senders is refused instead of churning the table (and
	// the fast path) at line rate. Linux's forced GC uses the same 5s.
	evictMinAge = 5 * time.Second
)

// Config tunes the table. Zero (or negative) fields take the defaults above,
// except a negative MaxPending, which means "queue nothing".
type Config struct {
	ReachableTime time.Duration // Reachable -> Stale without a Reply; default 30s
	StaleTime     time.Duration // time an unconfirmed Stale entry is used before probing; default 60s
	RetransTime   time.Duration // first retransmit; doubles per request while Incomplete; default 1s
	MaxRetries    int           // requests per resolution or probe attempt; default 3, at most 20
	FailedHold    time.Duration // how long a Failed entry suppresses requests before deletion; default 20s
	MaxPending    int           // packets queued per unresolved neighbour; default 8; < 0: none
	MaxEntries    int           // dynamic (non-static) entries; default 4096
	// MaxIncomplete bounds the entries still resolving; default a quarter
	// of MaxEntries. A flood towards unused addresses makes one Incomplete
	// entry per address: past this bound a new resolution takes the place
	// of the oldest one, so a real host that appears during the flood
	// still gets its entry (its reply comes in milliseconds, the flood's
	// entries would wait seconds to fail).
	MaxIncomplete int
	// OwnMAC reports whether mac is one of the router's: a neighbour that
	// claims it would make the router send to itself. nil: none is.
	OwnMAC func(mac net.HardwareAddr) bool
	// OnLink reports whether ip may be a neighbour on port (on a connected
	// subnet, not our own address, not a network/broadcast address). Learn and
	// AddStatic refuse addresses for which it returns false. nil: all are.
	// It is called with the table's lock held.
	OnLink func(port int, ip netip.Addr) bool
}

func (c Config) withDefaults() Config {
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	dur(&c.ReachableTime, DefaultReachableTime)
	dur(&c.StaleTime, DefaultStaleTime)
	dur(&c.RetransTime, DefaultRetransTime)
	dur(&c.FailedHold, DefaultFailedHold)
	if c.MaxRetries <= 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	c.MaxRetries = min(c.MaxRetries, maxRetriesCap)
	switch {
	case c.MaxPending == 0:
		c.MaxPending = DefaultMaxPending
	case c.MaxPending < 0:
		c.MaxPending = 0 // queue nothing
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxIncomplete <= 0 {
		c.MaxIncomplete = max(c.MaxEntries/4, 1)
	}
	return c
}

// Entry is a snapshot of one neighbour.
type Entry struct {
	IP      netip.Addr
	Port    int
	MAC     net.HardwareAddr // nil while Incomplete or Failed (in Unresolved: the last known MAC)
	State   State
	Static  bool
	Updated time.Time // last change of state or MAC, or last confirmation
}

// Hooks is how the table acts. Every method is called with the table's lock
// held: it must not call back into the Table, and should not block.
type Hooks interface {
	// SendRequest asks for an ARP request for target on port; dst nil means
	// broadcast, else unicast to dst (probing a known neighbour).
	SendRequest(port int, target netip.Addr, dst net.HardwareAddr)
	// Resolved: e is usable now, or its MAC or port changed; install it in
	// the fast path (replacing any previous entry for e.IP).
	Resolved(e Entry)
	// Unresolved: e, which was installed, is no longer usable (failed,
	// evicted or deleted); remove e.IP from the fast path.
	Unresolved(e Entry)
	// Send: pkt (queued, or passed to Resolve for a usable entry) can go to
	// mac on port.
	Send(port int, mac net.HardwareAddr, pkt []byte)
	// Drain returns once what Send was given has left (or a bound has
	// passed): the packets that waited for an entry go out before Resolved
	// lets the fast path send the flow's newer ones.
	Drain()
	// Dropped: pkt will not be sent; reason is one of the Drop* constants.
	Dropped(pkt []byte, reason string)
}

// ErrOwnMAC is returned by AddStatic for one of the router's own MACs: the
// router would send the neighbour's traffic to itself.
var ErrOwnMAC = errors.New("one of the router's own MACs: its traffic would come back to the router")

// ErrNoStatic is returned by DeleteStatic when ip has no static entry.
var ErrNoStatic = errors.New("neigh: no such static entry")

// Stats are the table's counters; see Table.Stats.
type Stats struct {
	RequestsSent      uint64            // ARP requests asked of SendRequest (broadcast and unicast)
	Resolved          uint64            // times an entry became usable (from new, Incomplete or Failed)
	Failed            uint64            // resolutions and probes that gave up
	Learnt            uint64            // Learn calls that created, updated or confirmed an entry
	Invalid           uint64            // Learn calls ignored: bad sender IP or MAC, off-link, wrong port
	StaticConflicts   uint64            // Learn calls for a static entry's IP with a different MAC (ignored)
	TableFull         uint64            // new entries refused because the table was full
	Evicted           uint64            // entries removed to make room for a new one
	IncompleteEvicted uint64            // resolutions given up for a newer one: MaxIncomplete reached
	OwnMAC            uint64            // ARP senders claiming one of the router's MACs (ignored)
	Dropped           map[string]uint64 // packets given to Hooks.Dropped, by reason (all reasons present)
	Entries           map[State]int     // current entries per state (all states present)
}

type entry struct {
	ip        netip.Addr
	port      int
	mac       net.HardwareAddr
	state     State
	updated   time.Time
	deadline  time.Time // next timer event; meaningful while hidx >= 0
	hidx      int       // index in Table.timers, -1 when not scheduled
	elem      *list.Element
	probes    int      // requests sent in the current resolution/probe attempt
	queue     [][]byte // packets waiting for a MAC, oldest first
	installed bool     // Resolved fired and Unresolved has not since
}

func (e *entry) snapshot() Entry {
	return Entry{
		IP:      e.ip,
		Port:    e.port,
		MAC:     slices.Clone(e.mac),
		State:   e.state,
		Static:  e.state == Static,
		Updated: e.updated,
	}
}

// timerHeap is a min-heap of entries by deadline, so Tick only touches
// entries that are due.
type timerHeap []*entry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*entry)
	e.hidx = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.hidx = -1
	return e
}

// Table is the neighbour table. Create it with New.
type Table struct {
	mu      sync.Mutex
	cfg     Config
	hooks   Hooks
	now     func() time.Time
	byIP    map[netip.Addr]*entry
	byState [numStates]list.List // per state, in order of entering it (oldest first)
	timers  timerHeap
	dynamic int // entries that are not Static
	st      Stats
}

// New returns an empty table. now nil means time.Now.
func New(cfg Config, h Hooks, now func() time.Time) *Table {
	if now == nil {
		now = time.Now
	}
	t := &Table{
		cfg:   cfg.withDefaults(),
		hooks: h,
		now:   now,
		byIP:  make(map[netip.Addr]*entry),
	}
	t.st.Dropped = map[string]uint64{DropQueueFull: 0, DropFailed: 0, DropTableFull: 0}
	return t
}

// Config returns the configuration in effect (defaults filled in).
func (t *Table) Config() Config { return t.cfg }

// validIP reports whether a can be a neighbour: a unicast IPv4 host address.
func validIP(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// validMAC reports whether m can be a neighbour's address: 6 bytes, not zero,
// not multicast/broadcast (group bit clear).
func validMAC(m net.HardwareAddr) bool {
	return len(m) == 6 && m[0]&1 == 0 && !bytes.Equal(m, make([]byte, 6))
}

// Resolve hands the table a packet for neighbour ip on port (pkt may be nil to
// just start resolution, e.g. for a static route's gateway). See the package
// doc for what happens in each state. A static entry is used as configured,
// on its own port; a dynamic entry on another port than port is resolved
// again on port (the FIB moved it), keeping its queued packets.
func (t *Table) Resolve(port int, ip netip.Addr, pkt []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	ip = ip.Unmap()
	if !validIP(ip) {
		t.drop(pkt, DropFailed)
		return
	}
	e := t.byIP[ip]
	if e == nil {
		if t.byState[Incomplete].Len() >= t.cfg.MaxIncomplete {
			t.remove(t.byState[Incomplete].Front().Value.(*entry))
			t.st.IncompleteEvicted++
		}
		if e = t.create(ip, port, now); e == nil {
			t.drop(pkt, DropTableFull)
			return
		}
		t.startResolve(e, now)
		t.enqueue(e, pkt)
		return
	}
	if e.state != Static && e.port != port {
		// The FIB now reaches ip through another port: resolve it there.
		t.uninstall(e)
		e.port = port
		t.startResolve(e, now)
		t.enqueue(e, pkt)
		return
	}
	switch e.state {
	case Reachable, Stale, Probe, Static:
		if pkt != nil {
			t.hooks.Send(e.port, e.mac, pkt)
		}
	case Incomplete:
		t.enqueue(e, pkt)
	case Failed:
		if now.Before(e.deadline) {
			t.drop(pkt, DropFailed) // hold-down: no new requests
			return
		}
		t.startResolve(e, now)
		t.enqueue(e, pkt)
	}
}

// Learn feeds the table an ARP packet received on port whose sender is
// (ip, mac). See the package doc for the rules.
func (t *Table) Learn(port int, ip netip.Addr, mac net.HardwareAddr, kind LearnKind) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	ip = ip.Unmap()
	if !validIP(ip) || !validMAC(mac) || (t.cfg.OnLink != nil && !t.cfg.OnLink(port, ip)) {
		t.st.Invalid++
		return
	}
	if t.cfg.OwnMAC != nil && t.cfg.OwnMAC(mac) {
		t.st.OwnMAC++ // a host "at" our MAC: we would send its traffic to ourselves
		return
	}
	e := t.byIP[ip]
	if e == nil {
		if kind == Other {
			return // RFC 826: only a packet addressed to us adds its sender
		}
		if e = t.create(ip, port, now); e == nil {
			return
		}
		t.setState(e, Incomplete, now) // transient: update makes it usable
	} else if e.state == Static {
		if !bytes.Equal(e.mac, mac) {
			t.st.StaticConflicts++
		}
		return
	} else if e.port != port {
		t.st.Invalid++
		return
	}
	t.st.Learnt++
	if kind == Reply {
		t.update(e, mac, Reachable, now)
	} else {
		t.update(e, mac, Stale, now)
	}
}

// update applies learnt evidence (mac, and st = Reachable for a confirming
// Reply, Stale for weaker evidence) to a dynamic entry.
func (t *Table) update(e *entry, mac net.HardwareAddr, st State, now time.Time) {
	changed := !bytes.Equal(e.mac, mac)
	wasUsable := e.state.Usable()
	if st == Stale && wasUsable && !changed {
		return // weak evidence of what we already know: keep state and timers
	}
	if changed {
		e.mac = slices.Clone(mac)
	}
	e.probes = 0
	t.setState(e, st, now)
	if st == Reachable {
		t.schedule(e, now.Add(t.cfg.ReachableTime))
	} else {
		t.schedule(e, now.Add(t.cfg.StaleTime))
	}
	if !wasUsable {
		t.st.Resolved++
	}
	if !wasUsable || changed {
		t.install(e)
	}
}

// Tick fires due retransmits, aging and garbage collection. Call it every
// ~100ms; timers are only as precise as the calls.
func (t *Table) Tick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for len(t.timers) > 0 && !t.timers[0].deadline.After(now) {
		e := t.timers[0]
		switch e.state {
		case Incomplete:
			if e.probes >= t.cfg.MaxRetries {
				t.fail(e, now)
				break
			}
			t.request(e, nil)
			t.schedule(e, now.Add(backoff(t.cfg.RetransTime, e.probes-1)))
		case Probe:
			if e.probes >= t.cfg.MaxRetries {
				t.fail(e, now)
				break
			}
			t.request(e, e.mac)
			t.schedule(e, now.Add(t.cfg.RetransTime))
		case Reachable:
			t.setState(e, Stale, now)
			t.schedule(e, now.Add(t.cfg.StaleTime))
		case Stale:
			t.setState(e, Probe, now)
			e.probes = 0
			t.request(e, e.mac)
			t.schedule(e, now.Add(t.cfg.RetransTime))
		case Failed:
			t.remove(e)
		default:
			t.unschedule(e) // Static: never scheduled, but don't loop if it were
		}
	}
}

// NextDeadline returns when Tick next has something to do, or the zero time
// if nothing is scheduled.
func (t *Table) NextDeadline() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.timers) == 0 {
		return time.Time{}
	}
	return t.timers[0].deadline
}

// AddStatic adds or replaces a static entry: it wins over any learnt entry
// for ip (whose queued packets are sent to mac), is never aged and never
// changed by Learn. The Resolved hook fires.
func (t *Table) AddStatic(port int, ip netip.Addr, mac net.HardwareAddr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	ip = ip.Unmap()
	switch {
	case !validIP(ip):
		return fmt.Errorf("neigh: %v is not a unicast IPv4 host address", ip)
	case !validMAC(mac):
		return fmt.Errorf("neigh: %v is not a unicast Ethernet address", mac)
	case t.cfg.OnLink != nil && !t.cfg.OnLink(port, ip):
		return fmt.Errorf("neigh: %v is not a neighbour on port %d", ip, port)
	case t.cfg.OwnMAC != nil && t.cfg.OwnMAC(mac):
		return fmt.Errorf("neigh: %v: %w", mac, ErrOwnMAC)
	}
	now := t.now()
	e := t.byIP[ip]
	if e == nil {
		e = &entry{ip: ip, port: port, hidx: -1}
		t.byIP[ip] = e
	} else {
		if e.state != Static {
			t.dynamic--
		}
		if e.port != port {
			t.uninstall(e) // the fast path entry on the old port goes
		}
	}
	t.unschedule(e)
	e.port = port
	e.mac = slices.Clone(mac)
	e.probes = 0
	t.setState(e, Static, now)
	t.install(e)
	return nil
}

// DeleteStatic removes ip's static entry (the Unresolved hook fires), or
// returns ErrNoStatic if ip has none.
func (t *Table) DeleteStatic(ip netip.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byIP[ip.Unmap()]
	if e == nil || e.state != Static {
		return ErrNoStatic
	}
	t.remove(e)
	return nil
}

// Flush removes every dynamic entry on port (e.g. when the port goes down or
// its addresses change); queued packets are dropped ("failed") and installed
// entries get Unresolved. It returns how many entries were removed.
func (t *Table) Flush(port int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.byIP {
		if e.port == port && e.state != Static {
			t.remove(e)
			n++
		}
	}
	return n
}

// Lookup returns a snapshot of ip's entry.
func (t *Table) Lookup(ip netip.Addr) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byIP[ip.Unmap()]
	if e == nil {
		return Entry{}, false
	}
	return e.snapshot(), true
}

// List returns a snapshot of every entry, sorted by IP.
func (t *Table) List() []Entry {
	t.mu.Lock()
	out := make([]Entry, 0, len(t.byIP))
	for _, e := range t.byIP {
		out = append(out, e.snapshot())
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return a.IP.Compare(b.IP) })
	return out
}

// Stats returns a copy of the counters and the number of entries per state.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.st
	s.Dropped = make(map[string]uint64, len(t.st.Dropped))
	for k, v := range t.st.Dropped {
		s.Dropped[k] = v
	}
	s.Entries = make(map[State]int, numStates)
	for st := range numStates {
		s.Entries[st] = t.byState[st].Len()
	}
	return s
}

// create adds a dynamic entry for ip, evicting if the table is full; nil
// (counted) if there is no room. The caller sets its state.
func (t *Table) create(ip netip.Addr, port int, now time.Time) *entry {
	if t.dynamic >= t.cfg.MaxEntries && !t.evict(now) {
		t.st.TableFull++
		return nil
	}
	e := &entry{ip: ip, port: port, hidx: -1}
	t.byIP[ip] = e
	t.dynamic++
	return e
}

// evict removes the oldest Failed entry, else the oldest Stale entry that has
// been stale for evictMinAge; false if there is neither.
func (t *Table) evict(now time.Time) bool {
	if f := t.byState[Failed].Front(); f != nil {
		t.remove(f.Value.(*entry))
		t.st.Evicted++
		return true
	}
	if f := t.byState[Stale].Front(); f != nil {
		if e := f.Value.(*entry); now.Sub(e.updated) >= evictMinAge {
			t.remove(e)
			t.st.Evicted++
			return true
		}
	}
	return false
}

// remove deletes e: its queue is dropped and, if installed, Unresolved fires.
func (t *Table) remove(e *entry) {
	t.dropQueue(e, DropFailed)
	t.uninstall(e)
	t.unschedule(e)
	if e.elem != nil {
		t.byState[e.state].Remove(e.elem)
		e.elem = nil
	}
	if e.state != Static {
		t.dynamic--
	}
	delete(t.byIP, e.ip)
}

// startResolve (re)starts resolution: Incomplete, first broadcast request now.
func (t *Table) startResolve(e *entry, now time.Time) {
	e.mac = nil
	e.probes = 0
	t.setState(e, Incomplete, now)
	t.request(e, nil)
	t.schedule(e, now.Add(t.cfg.RetransTime))
}

// fail gives up on e: queued packets are dropped and the fast path forgets it.
func (t *Table) fail(e *entry, now time.Time) {
	t.st.Failed++
	t.setState(e, Failed, now)
	t.schedule(e, now.Add(t.cfg.FailedHold))
	t.dropQueue(e, DropFailed)
	t.uninstall(e)
	e.mac = nil
	e.probes = 0
}

// backoff returns r<<n, saturating instead of overflowing.
func backoff(r time.Duration, n int) time.Duration {
	if r > math.MaxInt64>>n {
		return math.MaxInt64
	}
	return r << n
}

func (t *Table) request(e *entry, dst net.HardwareAddr) {
	e.probes++
	t.st.RequestsSent++
	t.hooks.SendRequest(e.port, e.ip, dst)
}

// install tells the fast path about e and sends what was waiting for it.
// install: the packets that waited leave first, then the fast path
// learns the entry; the other way round, its newer packets of a flow could
// overtake the older ones still queued here.
func (t *Table) install(e *entry) {
	e.installed = true
	q := e.queue
	e.queue = nil
	for _, p := range q {
		t.hooks.Send(e.port, e.mac, p)
	}
	if len(q) > 0 {
		t.hooks.Drain()
	}
	t.hooks.Resolved(e.snapshot())
}

func (t *Table) uninstall(e *entry) {
	if e.installed {
		e.installed = false
		t.hooks.Unresolved(e.snapshot())
	}
}

func (t *Table) enqueue(e *entry, pkt []byte) {
	if pkt == nil {
		return
	}
	if t.cfg.MaxPending == 0 {
		t.drop(pkt, DropQueueFull)
		return
	}
	if len(e.queue) >= t.cfg.MaxPending {
		// Drop the oldest: it has waited longest and is the most likely to be
		// useless by the time the neighbour answers.
		t.drop(e.queue[0], DropQueueFull)
		copy(e.queue, e.queue[1:])
		e.queue[len(e.queue)-1] = pkt
		return
	}
	e.queue = append(e.queue, pkt)
}

func (t *Table) dropQueue(e *entry, reason string) {
	q := e.queue
	e.queue = nil
	for _, p := range q {
		t.drop(p, reason)
	}
}

func (t *Table) drop(pkt []byte, reason string) {
	if pkt == nil {
		return
	}
	t.st.Dropped[reason]++
	t.hooks.Dropped(pkt, reason)
}

// setState moves e to state s (to the back of its list, even if s is its
// current state: the list order is "oldest in this state first").
func (t *Table) setState(e *entry, s State, now time.Time) {
	if e.elem != nil {
		t.byState[e.state].Remove(e.elem)
	}
	e.state = s
	e.updated = now
	e.elem = t.byState[s].PushBack(e)
}

func (t *Table) schedule(e *entry, at time.Time) {
	e.deadline = at
	if e.hidx >= 0 {
		heap.Fix(&t.timers, e.hidx)
	} else {
		heap.Push(&t.timers, e)
	}
}

func (t *Table) unschedule(e *entry) {
	if e.hidx >= 0 {
		heap.Remove(&t.timers, e.hidx)
	}
}
