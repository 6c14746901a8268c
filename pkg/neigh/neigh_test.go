package neigh

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source, advanced by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Hooks that writes every call as one line, so tests compare
// exact sequences.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, a...))
	r.mu.Unlock()
}

func (r *recorder) SendRequest(port int, target netip.Addr, dst net.HardwareAddr) {
	if dst == nil {
		r.add("req %d %s bcast", port, target)
		return
	}
	r.add("req %d %s %s", port, target, dst)
}
func (r *recorder) Resolved(e Entry) { r.add("resolved %d %s %s %s", e.Port, e.IP, e.MAC, e.State) }
func (r *recorder) Unresolved(e Entry) {
	r.add("unresolved %d %s %s", e.Port, e.IP, e.State)
}
func (r *recorder) Send(port int, mac net.HardwareAddr, pkt []byte) {
	r.add("send %d %s %s", port, mac, pkt)
}
func (r *recorder) Dropped(pkt []byte, reason string) { r.add("drop %s %s", pkt, reason) }
func (r *recorder) Drain()                            { r.add("drain") }

// take returns the events recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

var (
	ip1  = netip.MustParseAddr("10.0.0.1")
	ip2  = netip.MustParseAddr("10.0.0.2")
	mac1 = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	mac2 = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	mac3 = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x03}
)

func newTable(t *testing.T, cfg Config) (*Table, *recorder, *clock) {
	t.Helper()
	c := newClock()
	r := &recorder{}
	return New(cfg, r, c.now), r, c
}

func expect(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	got := r.take()
	if !slices.Equal(got, want) {
		t.Fatalf("hook calls:\n got  %q\n want %q", got, want)
	}
}

func expectState(t *testing.T, tb *Table, ip netip.Addr, want State) Entry {
	t.Helper()
	e, ok := tb.Lookup(ip)
	if !ok {
		t.Fatalf("%s: no entry, want %s", ip, want)
	}
	if e.State != want {
		t.Fatalf("%s: state %s, want %s", ip, e.State, want)
	}
	return e
}

func expectGone(t *testing.T, tb *Table, ip netip.Addr) {
	t.Helper()
	if e, ok := tb.Lookup(ip); ok {
		t.Fatalf("%s: entry %+v still there", ip, e)
	}
}

// tickAt advances the clock by d and ticks.
func tickAt(tb *Table, c *clock, d time.Duration) {
	c.advance(d)
	tb.Tick()
}

func TestConfigDefaults(t *testing.T) {
	tb, _, _ := newTable(t, Config{MaxRetries: 100, StaleTime: -1})
	want := Config{
		ReachableTime: 30 * time.Second, StaleTime: 60 * time.Second, RetransTime: time.Second,
		MaxRetries: maxRetriesCap, FailedHold: 20 * time.Second, MaxPending: 8, MaxEntries: 4096, MaxIncomplete: 1024,
	}
	got := tb.Config()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("config %+v, want %+v", got, want)
	}
}

func TestBackoffSaturates(t *testing.T) {
	if got := backoff(time.Second, 2); got != 4*time.Second {
		t.Fatalf("backoff(1s, 2) = %v", got)
	}
	if got := backoff(24*time.Hour, 19); got != math.MaxInt64 {
		t.Fatalf("backoff(24h, 19) = %v, want saturation", got)
	}
}

func TestStateString(t *testing.T) {
	want := []string{"incomplete", "reachable", "stale", "probe", "failed", "static"}
	for s := range numStates {
		if s.String() != want[s] {
			t.Errorf("State(%d) = %q, want %q", s, s.String(), want[s])
		}
	}
}

func TestResolveReplyFlushesInOrder(t *testing.T) {
	tb, r, c := newTable(t, Config{})
	tb.Resolve(1, ip1, []byte("a"))
	expect(t, r, "req 1 10.0.0.1 bcast")
	expectState(t, tb, ip1, Incomplete)
	tb.Resolve(1, ip1, []byte("b"))
	tb.Resolve(1, ip1, []byte("c"))
	expect(t, r) // queued: nothing sent, no second request

	c.advance(500 * time.Millisecond)
	tb.Learn(1, ip1, mac1, Reply)
	expect(t, r,
		"send 1 02:00:00:00:00:01 a",
		"send 1 02:00:00:00:00:01 b",
		"send 1 02:00:00:00:00:01 c",
		"drain",
		"resolved 1 10.0.0.1 02:00:00:00:00:01 reachable")
	e := expectState(t, tb, ip1, Reachable)
	if !slices.Equal(e.MAC, mac1) || e.Port != 1 || e.Static || !e.Updated.Equal(c.now()) {
		t.Fatalf("entry %+v", e)
	}

	// Usable now: a racing Resolve sends straight away.
	tb.Resolve(1, ip1, []byte("d"))
	expect(t, r, "send 1 02:00:00:00:00:01 d")
	// A nil packet only resolves; nothing to send.
	tb.Resolve(1, ip1, nil)
	expect(t, r)
	// No retransmits are left behind.
	tickAt(tb, c, 10*time.Second)
	expect(t, r)

	s := tb.Stats()
	if s.RequestsSent != 1 || s.Resolved != 1 || s.Learnt != 1 || s.Entries[Reachable] != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestResolveNilPacketStartsResolution(t *testing.T) {
	tb, r, _ := newTable(t, Config{})
	tb.Resolve(2, ip1, nil)
	expect(t, r, "req 2 10.0.0.1 bcast")
	tb.Learn(2, ip1, mac1, Reply)
	expect(t, r, "resolved 2 10.0.0.1 02:00:00:00:00:01 reachable")
}

func TestRetryBackoffThenFailed(t *testing.T) {
	tb, r, c := newTable(t, Config{}) // R=1s, 3 requests, hold 20s
	tb.Resolve(1, ip1, []byte("a"))
	tb.Resolve(1, ip1, []byte("b"))
	expect(t, r, "req 1 10.0.0.1 bcast")
	if d := tb.NextDeadline(); !d.Equal(c.now().Add(time.Second)) {
		t.Fatalf("next deadline %v, want +1s", d)
	}

	steps := []struct {
		after time.Duration // since the previous step
		want  []string
	}{
		{999 * time.Millisecond, nil},
		{1 * time.Millisecond, []string{"req 1 10.0.0.1 bcast"}}, // t=1s
		{1999 * time.Millisecond, nil},
		{1 * time.Millisecond, []string{"req 1 10.0.0.1 bcast"}}, // t=3s (waited 2s)
		{3999 * time.Millisecond, nil},
		{1 * time.Millisecond, []string{"drop a failed", "drop b failed"}}, // t=7s (waited 4s)
	}
	for i, s := range steps {
		tickAt(tb, c, s.after)
		if got := r.take(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: hook calls %q, want %q", i, got, s.want)
		}
	}
	expectState(t, tb, ip1, Failed) // never installed: no Unresolved

	// Hold-down: packets are refused, no new requests, even after ticks.
	for range 19 {
		tickAt(tb, c, time.Second)
		tb.Resolve(1, ip1, []byte("x"))
		expect(t, r, "drop x failed")
	}
	expectState(t, tb, ip1, Failed)
	tickAt(tb, c, time.Second) // t=7s+20s: garbage collected
	expect(t, r)
	expectGone(t, tb, ip1)

	// Afterwards a new Resolve starts over.
	tb.Resolve(1, ip1, []byte("y"))
	expect(t, r, "req 1 10.0.0.1 bcast")
	expectState(t, tb, ip1, Incomplete)

	s := tb.Stats()
	if s.RequestsSent != 4 || s.Failed != 1 || s.Dropped[DropFailed] != 21 || s.Resolved != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFailedHoldDownEndsWithoutTick(t *testing.T) {
	tb, r, c := newTable(t, Config{MaxRetries: 1, FailedHold: 5 * time.Second})
	tb.Resolve(1, ip1, nil)
	tickAt(tb, c, time.Second)
	expectState(t, tb, ip1, Failed)
	r.take()
	c.advance(5 * time.Second) // no Tick: the entry is still there but the hold-down is over
	tb.Resolve(1, ip1, []byte("p"))
	expect(t, r, "req 1 10.0.0.1 bcast")
	expectState(t, tb, ip1, Incomplete)
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	tb, r, _ := newTable(t, Config{MaxPending: 3})
	for _, p := range []string{"1", "2", "3", "4", "5"} {
		tb.Resolve(1, ip1, []byte(p))
	}
	expect(t, r, "req 1 10.0.0.1 bcast", "drop 1 queue_full", "drop 2 queue_full")
	tb.Learn(1, ip1, mac1, Reply)
	expect(t, r,
		"send 1 02:00:00:00:00:01 3",
		"send 1 02:00:00:00:00:01 4",
		"send 1 02:00:00:00:00:01 5",
		"drain",
		"resolved 1 10.0.0.1 02:00:00:00:00:01 reachable")
	if d := tb.Stats().Dropped[DropQueueFull]; d != 2 {
		t.Fatalf("queue_full drops %d, want 2", d)
	}

	// MaxPending < 0: nothing is queued, but resolution still starts.
	tb, r, _ = newTable(t, Config{MaxPending: -1})
	tb.Resolve(1, ip1, []byte("1"))
	expect(t, r, "req 1 10.0.0.1 bcast", "drop 1 queue_full")
	tb.Learn(1, ip1, mac1, Reply)
	expect(t, r, "resolved 1 10.0.0.1 02:00:00:00:00:01 reachable")
}

func TestStatic(t *testing.T) {
	tb, r, c := newTable(t, Config{})

	// A static replaces a learnt (here still incomplete) entry and flushes its queue.
	tb.Resolve(1, ip1, []byte("a"))
	r.take()
	if err := tb.AddStatic(1, ip1, mac1); err != nil {
		t.Fatal(err)
	}
	expect(t, r, "send 1 02:00:00:00:00:01 a", "drain", "resolved 1 10.0.0.1 02:00:00:00:00:01 static")
	if e := expectState(t, tb, ip1, Static); !e.Static {
		t.Fatalf("entry %+v: Static false", e)
	}
	// The pending retransmit is cancelled and statics never age.
	for range 5 {
		tickAt(tb, c, time.Hour)
	}
	expect(t, r)
	if !tb.NextDeadline().IsZero() {
		t.Fatalf("a static entry is scheduled: %v", tb.NextDeadline())
	}

	// Learning cannot change it, whatever the kind.
	for _, k := range []LearnKind{Reply, RequestToUs, Other} {
		tb.Learn(1, ip1, mac2, k)
	}
	expect(t, r)
	if e := expectState(t, tb, ip1, Static); !slices.Equal(e.MAC, mac1) {
		t.Fatalf("static MAC changed to %s", e.MAC)
	}
	if n := tb.Stats().StaticConflicts; n != 3 {
		t.Fatalf("static conflicts %d, want 3", n)
	}

	// A static over a reachable learnt entry wins too.
	tb.Learn(1, ip2, mac2, RequestToUs)
	r.take()
	if err := tb.AddStatic(1, ip2, mac3); err != nil {
		t.Fatal(err)
	}
	expect(t, r, "resolved 1 10.0.0.2 02:00:00:00:00:03 static")
	tb.Resolve(1, ip2, []byte("b"))
	expect(t, r, "send 1 02:00:00:00:00:03 b")

	// Replacing a static on another port withdraws the old fast-path entry.
	if err := tb.AddStatic(2, ip2, mac3); err != nil {
		t.Fatal(err)
	}
	expect(t, r, "unresolved 1 10.0.0.2 static", "resolved 2 10.0.0.2 02:00:00:00:00:03 static")

	// DeleteStatic.
	if err := tb.DeleteStatic(ip1); err != nil {
		t.Fatal(err)
	}
	expect(t, r, "unresolved 1 10.0.0.1 static")
	expectGone(t, tb, ip1)
	if err := tb.DeleteStatic(ip1); !errors.Is(err, ErrNoStatic) {
		t.Fatalf("second delete: %v, want ErrNoStatic", err)
	}
	tb.Learn(1, ip1, mac1, RequestToUs) // a learnt entry is not a static one
	r.take()
	if err := tb.DeleteStatic(ip1); !errors.Is(err, ErrNoStatic) {
		t.Fatalf("delete of a learnt entry: %v, want ErrNoStatic", err)
	}
	expectState(t, tb, ip1, Stale)

	// Statics do not count against MaxEntries (checked in TestMaxEntries) and are validated.
	for _, bad := range []struct {
		ip  netip.Addr
		mac net.HardwareAddr
	}{
		{netip.IPv4Unspecified(), mac1},
		{netip.MustParseAddr("224.0.0.1"), mac1},
		{netip.MustParseAddr("2001:db8::1"), mac1},
		{ip1, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{ip1, net.HardwareAddr{0, 0, 0, 0, 0, 0}},
		{ip1, net.HardwareAddr{2, 0, 0, 0, 0}},
	} {
		if err := tb.AddStatic(1, bad.ip, bad.mac); err == nil {
			t.Errorf("AddStatic(%s, %s) accepted", bad.ip, bad.mac)
		}
	}
}

func TestStaticOnLink(t *testing.T) {
	onLink := func(port int, ip netip.Addr) bool {
		return port == 1 && netip.MustParsePrefix("10.0.0.0/24").Contains(ip)
	}
	tb, _, _ := newTable(t, Config{OnLink: onLink})
	if err := tb.AddStatic(2, ip1, mac1); err == nil {
		t.Fatal("AddStatic accepted an address that is not on the port's subnet")
	}
	if err := tb.AddStatic(1, ip1, mac1); err != nil {
		t.Fatal(err)
	}
}

// TestLearn covers RFC 826 merge and the per-kind rules from every starting state.
func TestLearn(t *testing.T) {
	const (
		none = "none"
	)
	// setup brings ip1 into a starting state, with mac1 where it has a MAC.
	setup := map[string]func(tb *Table, c *clock){
		none:         func(*Table, *clock) {},
		"incomplete": func(tb *Table, c *clock) { tb.Resolve(1, ip1, []byte("q")) },
		"reachable":  func(tb *Table, c *clock) { tb.Learn(1, ip1, mac1, Reply) },
		"stale":      func(tb *Table, c *clock) { tb.Learn(1, ip1, mac1, RequestToUs) },
		"probe": func(tb *Table, c *clock) {
			tb.Learn(1, ip1, mac1, RequestToUs)
			tickAt(tb, c, 60*time.Second)
		},
		"failed": func(tb *Table, c *clock) {
			tb.Resolve(1, ip1, nil)
			for range 3 {
				tickAt(tb, c, 4*time.Second)
			}
		},
	}
	tests := []struct {
		from string
		kind LearnKind
		mac  net.HardwareAddr
		want string   // resulting state, or none
		hook []string // hook calls made by the Learn
	}{
		// Other never creates; Reply and RequestToUs do (RFC 826: we are the target).
		{none, Other, mac1, none, nil},
		{none, Reply, mac1, "reachable", []string{"resolved 1 10.0.0.1 02:00:00:00:00:01 reachable"}},
		{none, RequestToUs, mac1, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:01 stale"}},
		// Incomplete: anything resolves it and flushes the queue.
		{"incomplete", Reply, mac1, "reachable", []string{"send 1 02:00:00:00:00:01 q", "drain", "resolved 1 10.0.0.1 02:00:00:00:00:01 reachable"}},
		{"incomplete", RequestToUs, mac1, "stale", []string{"send 1 02:00:00:00:00:01 q", "drain", "resolved 1 10.0.0.1 02:00:00:00:00:01 stale"}},
		{"incomplete", Other, mac1, "stale", []string{"send 1 02:00:00:00:00:01 q", "drain", "resolved 1 10.0.0.1 02:00:00:00:00:01 stale"}},
		// Same MAC: only a Reply changes the state (confirms); nothing to reinstall.
		{"reachable", Reply, mac1, "reachable", nil},
		{"reachable", RequestToUs, mac1, "reachable", nil},
		{"reachable", Other, mac1, "reachable", nil},
		{"stale", Reply, mac1, "reachable", nil},
		{"stale", Other, mac1, "stale", nil},
		{"probe", Reply, mac1, "reachable", nil},
		{"probe", RequestToUs, mac1, "probe", nil},
		{"probe", Other, mac1, "probe", nil},
		// RFC 826 merge: a new MAC from any ARP updates an existing entry.
		{"reachable", Other, mac2, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 stale"}},
		{"reachable", RequestToUs, mac2, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 stale"}},
		{"reachable", Reply, mac2, "reachable", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 reachable"}},
		{"stale", Other, mac2, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 stale"}},
		{"probe", Other, mac2, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 stale"}},
		{"probe", Reply, mac2, "reachable", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 reachable"}},
		// Failed: the host is back.
		{"failed", Other, mac2, "stale", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 stale"}},
		{"failed", Reply, mac2, "reachable", []string{"resolved 1 10.0.0.1 02:00:00:00:00:02 reachable"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.from, tc.kind, tc.mac), func(t *testing.T) {
			tb, r, c := newTable(t, Config{})
			setup[tc.from](tb, c)
			if tc.from != none {
				expectState(t, tb, ip1, map[string]State{"incomplete": Incomplete, "reachable": Reachable,
					"stale": Stale, "probe": Probe, "failed": Failed}[tc.from])
			}
			r.take()
			tb.Learn(1, ip1, tc.mac, tc.kind)
			expect(t, r, tc.hook...)
			e, ok := tb.Lookup(ip1)
			switch {
			case tc.want == none && ok:
				t.Fatalf("entry created: %+v", e)
			case tc.want == none:
			case !ok:
				t.Fatalf("no entry, want %s", tc.want)
			case e.State.String() != tc.want:
				t.Fatalf("state %s, want %s", e.State, tc.want)
			case !slices.Equal(e.MAC, tc.mac):
				t.Fatalf("MAC %s, want %s", e.MAC, tc.mac)
			}
		})
	}
}

// TestLearnedEntryTimers checks that weak evidence does not refresh timers
// while a Reply does.
func TestLearnedEntryTimers(t *testing.T) {
	tb, r, c := newTable(t, Config{})
	tb.Learn(1, ip1, mac1, Reply)
	tickAt(tb, c, 20*time.Second)
	tb.Learn(1, ip1, mac1, Other) // no refresh
	tickAt(tb, c, 10*time.Second)
	expectState(t, tb, ip1, Stale) // 30s after the Reply
	tb.Learn(1, ip1, mac1, Reply)
	tickAt(tb, c, 29*time.Second)
	expectState(t, tb, ip1, Reachable) // refreshed by the second Reply
	tickAt(tb, c, time.Second)
	expectState(t, tb, ip1, Stale)
	r.take()
}

func TestLearnValidation(t *testing.T) {
	onLink := func(port int, ip netip.Addr) bool {
		return port == 1 && netip.MustParsePrefix("10.0.0.0/24").Contains(ip)
	}
	tests := []struct {
		name string
		port int
		ip   netip.Addr
		mac  net.HardwareAddr
	}{
		{"sender 0.0.0.0 (ARP probe)", 1, netip.IPv4Unspecified(), mac1},
		{"limited broadcast sender", 1, netip.MustParseAddr("255.255.255.255"), mac1},
		{"multicast sender IP", 1, netip.MustParseAddr("224.0.0.5"), mac1},
		{"loopback sender IP", 1, netip.MustParseAddr("127.0.0.1"), mac1},
		{"IPv6 sender", 1, netip.MustParseAddr("2001:db8::1"), mac1},
		{"invalid IP", 1, netip.Addr{}, mac1},
		{"broadcast MAC", 1, ip1, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"multicast MAC", 1, ip1, net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x05}},
		{"zero MAC", 1, ip1, net.HardwareAddr{0, 0, 0, 0, 0, 0}},
		{"short MAC", 1, ip1, net.HardwareAddr{2, 0, 0, 0, 1}},
		{"off-link IP", 1, netip.MustParseAddr("192.168.1.1"), mac1},
		{"on-link elsewhere, wrong port", 2, ip1, mac1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, kind := range []LearnKind{Reply, RequestToUs, Other} {
				tb, r, _ := newTable(t, Config{OnLink: onLink})
				tb.Resolve(1, ip1, nil) // an existing entry, which Other could otherwise update
				r.take()
				tb.Learn(tc.port, tc.ip, tc.mac, kind)
				expect(t, r)
				if tc.ip != ip1 {
					expectGone(t, tb, tc.ip)
				}
				expectState(t, tb, ip1, Incomplete)
				if s := tb.Stats(); s.Invalid != 1 || s.Learnt != 0 {
					t.Fatalf("%s: invalid %d learnt %d, want 1 and 0", kind, s.Invalid, s.Learnt)
				}
			}
		})
	}

	// IPv4-mapped IPv6 is the same address.
	tb, _, _ := newTable(t, Config{OnLink: onLink})
	tb.Learn(1, netip.AddrFrom16(ip1.As16()), mac1, RequestToUs)
	expectState(t, tb, ip1, Stale)
}

func TestLearnWrongPortForExistingEntry(t *testing.T) {
	tb, r, _ := newTable(t, Config{})
	tb.Learn(1, ip1, mac1, Reply)
	r.take()
	tb.Learn(2, ip1, mac2, Reply) // an ARP on another segment must not steal the entry
	expect(t, r)
	if e := expectState(t, tb, ip1, Reachable); e.Port != 1 || !slices.Equal(e.MAC, mac1) {
		t.Fatalf("entry moved: %+v", e)
	}
	// Resolve through another port (the FIB changed) restarts resolution there.
	tb.Resolve(2, ip1, []byte("a"))
	expect(t, r, "unresolved 1 10.0.0.1 reachable", "req 2 10.0.0.1 bcast")
	tb.Learn(2, ip1, mac2, Reply)
	expect(t, r, "send 2 02:00:00:00:00:02 a", "drain", "resolved 2 10.0.0.1 02:00:00:00:00:02 reachable")
}

func TestResolveInvalidTarget(t *testing.T) {
	tb, r, _ := newTable(t, Config{})
	tb.Resolve(1, netip.IPv4Unspecified(), []byte("a"))
	tb.Resolve(1, netip.MustParseAddr("224.0.0.1"), []byte("b"))
	expect(t, r, "drop a failed", "drop b failed")
	if len(tb.List()) != 0 {
		t.Fatal("entry created for an invalid target")
	}
}

func TestAgingProbeAnswered(t *testing.T) {
	tb, r, c := newTable(t, Config{})
	tb.Learn(1, ip1, mac1, Reply)
	expect(t, r, "resolved 1 10.0.0.1 02:00:00:00:00:01 reachable")

	tickAt(tb, c, 30*time.Second-time.Millisecond)
	expectState(t, tb, ip1, Reachable)
	tickAt(tb, c, time.Millisecond)
	expectState(t, tb, ip1, Stale)
	expect(t, r) // still installed, nothing sent
	tb.Resolve(1, ip1, []byte("s"))
	expect(t, r, "send 1 02:00:00:00:00:01 s") // stale is usable

	tickAt(tb, c, 60*time.Second-time.Millisecond)
	expectState(t, tb, ip1, Stale)
	tickAt(tb, c, time.Millisecond)
	expectState(t, tb, ip1, Probe)
	expect(t, r, "req 1 10.0.0.1 02:00:00:00:00:01") // unicast to the known MAC
	tb.Resolve(1, ip1, []byte("p"))
	expect(t, r, "send 1 02:00:00:00:00:01 p") // probe is usable
	tickAt(tb, c, time.Second)
	expect(t, r, "req 1 10.0.0.1 02:00:00:00:00:01")

	tb.Learn(1, ip1, mac1, Reply)
	expect(t, r) // same MAC: no reinstall
	expectState(t, tb, ip1, Reachable)
	tickAt(tb, c, 10*time.Second) // no leftover probe timer
	expect(t, r)
	expectState(t, tb, ip1, Reachable)
}

func TestAgingProbeUnanswered(t *testing.T) {
	tb, r, c := newTable(t, Config{})
	tb.Learn(1, ip1, mac1, Reply)
	tickAt(tb, c, 30*time.Second)
	tickAt(tb, c, 60*time.Second)
	expectState(t, tb, ip1, Probe)
	expect(t, r,
		"resolved 1 10.0.0.1 02:00:00:00:00:01 reachable",
		"req 1 10.0.0.1 02:00:00:00:00:01")
	tickAt(tb, c, time.Second)
	expect(t, r, "req 1 10.0.0.1 02:00:00:00:00:01")
	tickAt(tb, c, time.Second)
	expect(t, r, "req 1 10.0.0.1 02:00:00:00:00:01")
	tickAt(tb, c, time.Second-time.Millisecond)
	expectState(t, tb, ip1, Probe)
	tickAt(tb, c, time.Millisecond) // 3 probes, R apart, unanswered
	expect(t, r, "unresolved 1 10.0.0.1 failed")
	if e := expectState(t, tb, ip1, Failed); e.MAC != nil {
		t.Fatalf("failed entry keeps MAC %s", e.MAC)
	}
	tb.Resolve(1, ip1, []byte("x"))
	expect(t, r, "drop x failed") // hold-down, no storm
	tickAt(tb, c, 20*time.Second-time.Millisecond)
	expectState(t, tb, ip1, Failed)
	tickAt(tb, c, time.Millisecond)
	expectGone(t, tb, ip1)
	expect(t, r)
	if s := tb.Stats(); s.Failed != 1 || s.RequestsSent != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMaxEntriesFlood(t *testing.T) {
	const max = 4096
	tb, r, c := newTable(t, Config{MaxEntries: max})
	if err := tb.AddStatic(1, netip.MustParseAddr("172.16.0.1"), mac1); err != nil {
		t.Fatal(err)
	}
	r.take()
	resolved := 0
	countResolved := func() {
		for _, ev := range r.take() {
			if strings.HasPrefix(ev, "resolved ") {
				resolved++
			}
		}
	}

	// 100k ARP requests from distinct senders, all at once.
	ipAt := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := 1; i <= 100_000; i++ {
		tb.Learn(1, ipAt(i), mac2, RequestToUs)
		if i%1024 == 0 {
			countResolved() // keep the recorder small
		}
	}
	countResolved()
	if n := len(tb.byIP); n != max+1 { // statics do not count
		t.Fatalf("%d entries, want %d", n, max+1)
	}
	if len(tb.timers) != max {
		t.Fatalf("%d timers, want %d", len(tb.timers), max)
	}
	s := tb.Stats()
	if s.TableFull != 100_000-max || s.Learnt != max || s.Evicted != 0 || resolved != max {
		t.Fatalf("table_full %d learnt %d evicted %d resolved %d", s.TableFull, s.Learnt, s.Evicted, resolved)
	}
	if s.Entries[Stale] != max || s.Entries[Static] != 1 {
		t.Fatalf("entries %v", s.Entries)
	}
	// The static survived, and a Resolve for a new IP is refused, not queued.
	expectState(t, tb, netip.MustParseAddr("172.16.0.1"), Static)
	newIP := netip.MustParseAddr("10.255.0.1")
	tb.Resolve(1, newIP, []byte("z"))
	expect(t, r, "drop z table_full")

	// Once the flood entries have been stale for 5s, they can be evicted,
	// oldest first, but Failed entries go before any Stale one.
	c.advance(5 * time.Second)
	tb.Resolve(1, netip.MustParseAddr("192.168.0.1"), nil) // evicts the oldest stale
	expect(t, r, "unresolved 1 10.0.0.1 stale", "req 1 192.168.0.1 bcast")
	expectGone(t, tb, ipAt(1))
	for range 3 {
		tickAt(tb, c, 4*time.Second) // 192.168.0.1 fails
	}
	expectState(t, tb, netip.MustParseAddr("192.168.0.1"), Failed)
	r.take()
	tb.Learn(1, newIP, mac2, RequestToUs)
	expectGone(t, tb, netip.MustParseAddr("192.168.0.1"))
	expectState(t, tb, ipAt(2), Stale)
	expectState(t, tb, newIP, Stale)
	if s := tb.Stats(); s.Evicted != 2 || len(tb.byIP) != max+1 {
		t.Fatalf("evicted %d entries %d", s.Evicted, len(tb.byIP))
	}

	// A flood of Resolve for distinct IPs: the entries still resolving
	// are bounded (a quarter of the table), each new one taking the place
	// of the oldest; the table never fills with them.
	tb2, r2, _ := newTable(t, Config{MaxEntries: 100, MaxPending: 2})
	for i := 1; i <= 10_000; i++ {
		tb2.Resolve(1, ipAt(i), []byte("p"))
		if i%1024 == 0 {
			r2.take()
		}
	}
	r2.take()
	s2 := tb2.Stats()
	if len(tb2.byIP) != 25 || s2.RequestsSent != 10_000 || s2.IncompleteEvicted != 10_000-25 || s2.Dropped[DropTableFull] != 0 {
		t.Fatalf("entries %d requests %d evicted incomplete %d table_full drops %d",
			len(tb2.byIP), s2.RequestsSent, s2.IncompleteEvicted, s2.Dropped[DropTableFull])
	}
}

// TestFloodDoesNotLockOutAHost: while a flood towards unused addresses
// keeps the entries still resolving at their bound, a real host that
// appears gets its entry and its request, and its reply makes it usable,
// even when the flood has pushed its entry out before the reply came.
func TestFloodDoesNotLockOutAHost(t *testing.T) {
	tb, r, _ := newTable(t, Config{MaxEntries: 100})
	flood := func(from, n int) {
		for i := from; i < from+n; i++ {
			tb.Resolve(1, netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), []byte("f"))
		}
	}
	flood(0, 1000)
	r.take()
	host := netip.MustParseAddr("10.0.0.77")
	tb.Resolve(1, host, []byte("to host"))
	expect(t, r, "drop f failed", "req 1 10.0.0.77 bcast") // the oldest flood entry goes, with its packet
	tb.Learn(1, host, mac1, Reply)
	expectState(t, tb, host, Reachable)
	evs := r.take()
	if !slices.Contains(evs, "resolved 1 10.0.0.77 "+mac1.String()+" reachable") || !slices.Contains(evs, "send 1 "+mac1.String()+" to host") {
		t.Errorf("events %v: want the host resolved and its packet sent", evs)
	}

	// Another host's entry is pushed out by the flood before its reply.
	host2 := netip.MustParseAddr("10.0.0.78")
	tb.Resolve(1, host2, nil)
	flood(2000, 100)
	expectGone(t, tb, host2)
	tb.Learn(1, host2, mac2, Reply)
	expectState(t, tb, host2, Reachable)
}

func TestFlushPort(t *testing.T) {
	tb, r, _ := newTable(t, Config{})
	tb.Learn(1, ip1, mac1, Reply)
	tb.Resolve(1, ip2, []byte("q"))
	if err := tb.AddStatic(1, netip.MustParseAddr("10.0.0.3"), mac3); err != nil {
		t.Fatal(err)
	}
	tb.Learn(2, netip.MustParseAddr("10.0.1.1"), mac2, Reply)
	r.take()
	if n := tb.Flush(1); n != 2 {
		t.Fatalf("flushed %d, want 2", n)
	}
	got := r.take()
	slices.Sort(got) // map order
	want := []string{"drop q failed", "unresolved 1 10.0.0.1 reachable"}
	if !slices.Equal(got, want) {
		t.Fatalf("hook calls %q, want %q", got, want)
	}
	if l := tb.List(); len(l) != 2 || l[0].IP.String() != "10.0.0.3" || l[1].IP.String() != "10.0.1.1" {
		t.Fatalf("left %+v", l)
	}
}

func TestListSortedAndStats(t *testing.T) {
	tb, _, c := newTable(t, Config{})
	ips := []string{"10.0.0.20", "10.0.0.3", "10.0.0.100", "10.0.0.1"}
	for _, s := range ips {
		tb.Learn(1, netip.MustParseAddr(s), mac1, RequestToUs)
	}
	tb.Learn(1, netip.MustParseAddr("10.0.0.1"), mac1, Reply)
	tb.Resolve(1, netip.MustParseAddr("10.0.0.50"), nil)
	if err := tb.AddStatic(1, netip.MustParseAddr("10.0.0.7"), mac2); err != nil {
		t.Fatal(err)
	}
	l := tb.List()
	var got []string
	for _, e := range l {
		got = append(got, e.IP.String()+"/"+e.State.String())
	}
	want := []string{"10.0.0.1/reachable", "10.0.0.3/stale", "10.0.0.7/static", "10.0.0.20/stale",
		"10.0.0.50/incomplete", "10.0.0.100/stale"}
	if !slices.Equal(got, want) {
		t.Fatalf("list %q, want %q", got, want)
	}
	if !l[0].Updated.Equal(c.now()) {
		t.Fatalf("updated %v", l[0].Updated)
	}
	// Snapshots are copies.
	l[0].MAC[0] = 0xee
	if e, _ := tb.Lookup(netip.MustParseAddr("10.0.0.1")); e.MAC[0] != mac1[0] {
		t.Fatal("List returned the table's own MAC slice")
	}
	s := tb.Stats()
	wantEntries := map[State]int{Incomplete: 1, Reachable: 1, Stale: 3, Probe: 0, Failed: 0, Static: 1}
	for st, n := range wantEntries {
		if s.Entries[st] != n {
			t.Errorf("entries[%s] = %d, want %d", st, s.Entries[st], n)
		}
	}
	if len(s.Dropped) != 3 || s.Learnt != 5 || s.RequestsSent != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLearnCopiesMAC(t *testing.T) {
	tb, _, _ := newTable(t, Config{})
	buf := slices.Clone(mac1)
	tb.Learn(1, ip1, buf, Reply)
	buf[5] = 0x99 // the caller reuses its receive buffer
	if e, _ := tb.Lookup(ip1); !slices.Equal(e.MAC, mac1) {
		t.Fatalf("MAC %s changed with the caller's buffer", e.MAC)
	}
}

// TestConcurrent is a smoke test for -race: readers while another goroutine
// resolves, learns and ticks.
func TestConcurrent(t *testing.T) {
	tb, r, c := newTable(t, Config{MaxEntries: 256})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3000 {
			ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			tb.Resolve(1, ip, []byte{byte(i)})
			if i%3 == 0 {
				tb.Learn(1, ip, mac1, Reply)
			}
			if i%16 == 0 {
				c.advance(500 * time.Millisecond)
				tb.Tick()
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false // one more round after the writer is done
		default:
		}
		l := tb.List()
		for i := 1; i < len(l); i++ {
			if l[i-1].IP.Compare(l[i].IP) >= 0 {
				t.Fatalf("List not sorted at %d", i)
			}
		}
		if len(l) > 256 {
			t.Fatalf("%d entries, MaxEntries 256", len(l))
		}
		_ = tb.Stats()
		_, _ = tb.Lookup(ip1)
		_ = tb.NextDeadline()
	}
	// Every packet was handed back exactly once or is still queued.
	handed := 0
	for _, ev := range r.take() {
		if strings.HasPrefix(ev, "send ") || strings.HasPrefix(ev, "drop ") {
			handed++
		}
	}
	queued := 0
	for _, e := range tb.byIP {
		queued += len(e.queue)
	}
	if handed+queued != 3000 {
		t.Fatalf("%d packets sent or dropped + %d queued, want 3000", handed, queued)
	}
}

// TestOwnMACRefused: an ARP sender claiming one of the router's MACs is
// ignored (counted), and a static entry with it refused: the router would
// send that neighbour's traffic to itself.
func TestOwnMACRefused(t *testing.T) {
	tb, _, _ := newTable(t, Config{OwnMAC: func(m net.HardwareAddr) bool { return bytes.Equal(m, mac1) }})
	tb.Learn(1, ip1, mac1, Reply)
	expectGone(t, tb, ip1)
	if s := tb.Stats(); s.OwnMAC != 1 {
		t.Errorf("own_mac %d, want 1", s.OwnMAC)
	}
	if err := tb.AddStatic(1, ip2, mac1); !errors.Is(err, ErrOwnMAC) {
		t.Errorf("AddStatic with the router's MAC: %v, want ErrOwnMAC", err)
	}
	tb.Learn(1, ip1, mac2, Reply)
	expectState(t, tb, ip1, Reachable)
}
