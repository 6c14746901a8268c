// Package fastpath drives steer's C data path (fastpath.c): a dataplane of
// ports, a FIB and lcores that run rx_burst -> checks -> bulk FIB lookup ->
// rewrite -> tx_burst until told to quit. Go sets it up, launches it, stops
// it and reads counters; it never touches a packet.
package fastpath

/*
#include <stdlib.h>
#include "fastpath.h"

static const char *steer_drop_name(int i) { return steer_drop_names[i]; }
static const char *steer_slow_name(int i) { return steer_slow_names[i]; }
static void steer_set_quit(struct steer_dp *dp, uint32_t v) { __atomic_store_n(&dp->quit, v, __ATOMIC_RELEASE); }
static void steer_set_rx_running(struct steer_dp *dp, uint32_t v) { __atomic_store_n(&dp->rx_running, v, __ATOMIC_RELEASE); }
static void steer_reta_store(struct steer_dp *dp, uint32_t b, uint8_t w) { __atomic_store_n(&dp->reta_want[b], w, __ATOMIC_RELAXED); }
static void steer_reta_bump(struct steer_dp *dp) { __atomic_add_fetch(&dp->reta_gen, 1, __ATOMIC_RELEASE); }
static uint8_t steer_reta_load(struct steer_lcore *lc, uint32_t b) { return __atomic_load_n(&lc->reta[b], __ATOMIC_RELAXED); }
static uint64_t steer_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static void *steer_lcore_main_ptr(void) { return (void *)steer_lcore_main; }
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/fib"
)

// Limits of the C structures.
const (
	MaxPorts        = C.STEER_MAX_PORTS
	MaxQueues       = C.STEER_MAX_QUEUES
	MaxRxPerLcore   = C.STEER_MAX_RX_PER_LCORE
	MaxWorkers      = C.STEER_MAX_WORKERS
	MaxRETA         = C.STEER_MAX_RETA
	Burst           = C.STEER_BURST
	dropReasonCount = C.STEER_DROP_MAX
	slowReasonCount = C.STEER_SLOW_MAX
)

// DropReasons names, in counter order, why the fast path drops packets.
var DropReasons = names(dropReasonCount, func(i int) *C.char { return C.steer_drop_name(C.int(i)) })

// SlowReasons names, in counter order, why packets go to the slow path.
var SlowReasons = names(slowReasonCount, func(i int) *C.char { return C.steer_slow_name(C.int(i)) })

func names(n int, get func(int) *C.char) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(get(i))
	}
	return out
}

// NextHopKind says what the fast path does with packets that match a prefix.
type NextHopKind uint8

const (
	Forward    NextHopKind = C.STEER_NH_FORWARD    // rewrite MACs and send
	Unresolved NextHopKind = C.STEER_NH_UNRESOLVED // egress known, neighbour MAC not yet
	Local      NextHopKind = C.STEER_NH_LOCAL      // the router's own address
	Broadcast  NextHopKind = C.STEER_NH_BROADCAST  // network/broadcast address of a connected subnet
)

// NextHop is one entry of the next-hop table the FIB points into.
type NextHop struct {
	Kind   NextHopKind
	Port   uint16
	DstMAC net.HardwareAddr // neighbour (Forward only)
	SrcMAC net.HardwareAddr // egress port's MAC (Forward only)
	Via    netip.Addr       // Unresolved: the gateway to resolve; invalid for a connected subnet
}

// RxQueue is one (port, queue) pair an lcore polls. Distribute spreads its
// packets over the workers by flow hash instead of forwarding them here.
type RxQueue struct {
	Port, Queue uint16
	Distribute  bool
	// Prefetch packet data ahead of the checks: for NICs, whose DMA leaves
	// it out of the core's cache. A software PMD (pcap, tap, ring) has
	// just written the frame, so there the prefetches are pure cost.
	Prefetch bool
	// HWChecksum: the port was asked to verify IPv4 header checksums, so
	// mbufs may say GOOD and save the sum. Without it the flags are never
	// read.
	HWChecksum bool
}

// Dataplane is the C state shared by all forwarding lcores.
type Dataplane struct {
	dp       *C.struct_steer_dp
	lcores   []*Lcore
	launched bool
	nhCount  int // next-hop entries written; append-only once launched
	ctlLcore int
	ctlPtr   unsafe.Pointer
	// Released next-hop indexes, reusable once every lcore has passed a
	// quiescent state after the release (RCU QSBR token).
	freeHops []freedHop
	// The FIB and its grace period: see fibChange.
	fib        *fib.FIB
	fibToken   uint64
	fibPending bool
}

// NoRoute is the FIB value of "no prefix matches" (the table's default); a
// FIB holds next-hop index + 1, and 0 is never a next hop (struct steer_fib).
const NoRoute = C.STEER_FIB_NO_ROUTE

// maxHops keeps every index + 1 below NoRoute and every index below the
// exception tag that means "look again" (STEER_NH_RETRY).
const maxHops = C.STEER_NH_RETRY

type freedHop struct {
	idx   uint32
	token uint64
}

// Lcore is one forwarding lcore's C context.
type Lcore struct {
	ID     int
	Worker int // software queue id, -1 if not a worker
	lc     *C.struct_steer_lcore
}

// New allocates a dataplane on a NUMA socket. rxqField is the mbuf dynfield
// offset of the recorded RX queue; nhCap the size of the next-hop table.
func New(rxqField, nhCap, socket int) (*Dataplane, error) {
	if nhCap < 1 || nhCap >= maxHops {
		return nil, fmt.Errorf("fastpath: %d next hops, 1..%d", nhCap, maxHops-1)
	}
	dp := C.steer_dp_create(C.int(rxqField), C.uint32_t(nhCap), C.int(socket))
	if dp == nil {
		return nil, fmt.Errorf("steer_dp_create: out of DPDK memory (%d next hops on socket %d)", nhCap, socket)
	}
	return &Dataplane{dp: dp}, nil
}

// SetPort records what the fast path needs of a started port. Call it for
// every port before AddLcore.
func (d *Dataplane) SetPort(id uint16, mac net.HardwareAddr, nbTxq, mtu int) error {
	if id >= MaxPorts || nbTxq < 1 || nbTxq > MaxQueues || len(mac) != 6 {
		return fmt.Errorf("fastpath: port %d: unsupported (max %d ports, 1..%d tx queues)", id, MaxPorts, MaxQueues)
	}
	var m [6]C.uint8_t
	for i, b := range mac {
		m[i] = C.uint8_t(b)
	}
	C.steer_dp_set_port(d.dp, C.uint16_t(id), &m[0], C.uint16_t(nbTxq), C.uint16_t(mtu))
	return nil
}

// SetFIB installs the FIB (an rte_fib whose default is NoRoute, holding
// next-hop index + 1: build it with AddRoutes) and the next hops its entries
// point at. Before Launch only; afterwards next hops are appended
// (AppendNextHop) and routes change through AddRoutes / AddRoute /
// DeleteRoute.
func (d *Dataplane) SetFIB(t *fib.FIB, hops []NextHop) error {
	if d.launched {
		return errors.New("fastpath: SetFIB after Launch")
	}
	if t.Default() != NoRoute {
		return fmt.Errorf("fastpath: FIB default %d, want %d (NoRoute)", t.Default(), uint64(NoRoute))
	}
	if len(hops) > int(d.dp.fib.nh_cap) {
		return fmt.Errorf("fastpath: %d next hops, table holds %d", len(hops), d.dp.fib.nh_cap)
	}
	d.fib = t
	d.dp.fib.fib = (*C.struct_rte_fib)(t.Ptr())
	d.nhCount = 0
	for _, h := range hops {
		if _, err := d.AppendNextHop(h); err != nil {
			return err
		}
	}
	return nil
}

// fibChange runs one change of the FIB (any number of rte_fib adds and
// deletes) inside the grace-period scheme that keeps lock-free readers
// safe, and is the only way the FIB is written:
//
// rte_fib (DPDK 22.11) frees a tbl8 group the moment a change makes it
// uniform (after writing the tbl24 entry, it zeroes the group) and a later
// change may allocate it again. A lookup that read the old tbl24 entry may
// still be about to read the group: zeroes are harmless (value 0 is never a
// next hop, the fast path sends the packet to the slow path to look again),
// but a reused group would give it some other prefix's next hop. So every
// change takes a QSBR token when it is done (rte_rcu_qsbr_start) and the
// next change first waits until every lcore has reported a quiescent state
// after it (rte_rcu_qsbr_check, blocking). Lcores report once per loop, so
// the wait is microseconds while they run; before Launch and after Stop no
// reader is online and it returns at once.
//
// Within one change nothing waits: a bulk that recycles a group with one
// prefix and allocates it again for a later one can, while lcores run, give
// a lookup racing both the later prefix's next hop (a packet misrouted, no
// memory unsafety). Callers keep run-time bulks for loads, where that is
// acceptable, and single changes for everything else.
func (d *Dataplane) fibChange(change func() error) error {
	if d.fib == nil {
		return errors.New("fastpath: no FIB (SetFIB)")
	}
	if d.fibPending {
		C.rte_rcu_qsbr_check(d.dp.qsv, C.uint64_t(d.fibToken), true)
	}
	err := change() // even a failed change may have written part of it
	d.fibToken = uint64(C.rte_rcu_qsbr_start(d.dp.qsv))
	d.fibPending = true
	return err
}

// AddRoutes points prefixes[i] at next-hop index idx[i] in one change (one
// grace period), through fib.AddBulk: for whole tables. It stops at the
// first failure; the prefixes added before it stay.
func (d *Dataplane) AddRoutes(prefixes []netip.Prefix, idx []uint32) error {
	if len(prefixes) != len(idx) {
		return fmt.Errorf("fastpath: %d prefixes, %d next hops", len(prefixes), len(idx))
	}
	vals := make([]uint64, len(idx))
	for i, x := range idx {
		if x >= maxHops {
			return fmt.Errorf("fastpath: %s -> next hop %d: out of range", prefixes[i], x)
		}
		vals[i] = uint64(x) + 1
	}
	return d.fibChange(func() error { return d.fib.AddBulk(prefixes, vals) })
}

// AddRoute points prefix p at next-hop index idx (adding or replacing).
func (d *Dataplane) AddRoute(p netip.Prefix, idx uint32) error {
	if idx >= maxHops {
		return fmt.Errorf("fastpath: %s -> next hop %d: out of range", p, idx)
	}
	return d.fibChange(func() error { return d.fib.Add(p, uint64(idx)+1) })
}

// DeleteRoute removes prefix p from the FIB.
func (d *Dataplane) DeleteRoute(p netip.Prefix) error {
	return d.fibChange(func() error { return d.fib.Delete(p) })
}

// Lookup is the next-hop index the FIB gives dst, as the fast path would
// see it with no change in progress. Not safe against a concurrent change:
// the caller serialises it with the writer.
func (d *Dataplane) Lookup(dst netip.Addr) (uint32, bool) {
	v, ok := d.fib.Lookup(dst)
	if !ok || v == 0 {
		return 0, false
	}
	return uint32(v - 1), true
}

// AppendNextHop writes h at the next free index of the next-hop table and
// returns the index, ready for FIB entries to point at. Entries are never
// rewritten while a FIB entry may point at them, so lcores read them
// without locks.
func (d *Dataplane) AppendNextHop(h NextHop) (uint32, error) {
	var dst, src *C.uint8_t
	if h.Kind == Unresolved && h.Via.IsValid() {
		via := h.Via.As4()
		cd := C.CBytes(via[:])
		defer C.free(cd)
		dst = (*C.uint8_t)(cd)
	}
	if h.Kind == Forward {
		if len(h.DstMAC) != 6 || len(h.SrcMAC) != 6 {
			return 0, fmt.Errorf("fastpath: forward next hop needs both MACs (got %v, %v)", h.DstMAC, h.SrcMAC)
		}
		cd, cs := C.CBytes(h.DstMAC), C.CBytes(h.SrcMAC)
		defer C.free(cd)
		defer C.free(cs)
		dst, src = (*C.uint8_t)(cd), (*C.uint8_t)(cs)
	}
	idx, reused := d.reusableHop()
	if !reused && d.nhCount >= int(d.dp.fib.nh_cap) && len(d.freeHops) > 0 {
		// Full, but entries are on their way back: wait out the oldest
		// one's grace period (lcores report every loop, so microseconds).
		C.rte_rcu_qsbr_check(d.dp.qsv, C.uint64_t(d.freeHops[0].token), true)
		idx, reused = d.reusableHop()
	}
	if !reused && d.nhCount >= int(d.dp.fib.nh_cap) {
		return 0, fmt.Errorf("fastpath: next-hop table full (%d entries)", d.dp.fib.nh_cap)
	}
	C.steer_nh_set(d.dp, C.uint32_t(idx), C.uint8_t(h.Kind), C.uint16_t(h.Port), dst, src)
	if !reused {
		d.nhCount++
	}
	return idx, nil
}

// reusableHop is the oldest released index whose grace period is over, or
// the next unused one.
func (d *Dataplane) reusableHop() (uint32, bool) {
	if len(d.freeHops) > 0 && C.rte_rcu_qsbr_check(d.dp.qsv, C.uint64_t(d.freeHops[0].token), false) == 1 {
		idx := d.freeHops[0].idx
		d.freeHops = d.freeHops[1:]
		return idx, true
	}
	return uint32(d.nhCount), false
}

// ReleaseNextHop says no FIB entry points at idx any more. The index is
// rewritten only after every lcore has reported a quiescent state, so a
// lookup that read idx before the FIB change still sees the old entry.
func (d *Dataplane) ReleaseNextHop(idx uint32) {
	token := C.rte_rcu_qsbr_start(d.dp.qsv)
	d.freeHops = append(d.freeHops, freedHop{idx: idx, token: uint64(token)})
}

// Synchronize waits until every online lcore has reported a quiescent
// state: whatever was unlinked before the call is no longer read. Lcores
// report once per loop, so this takes microseconds unless they are
// descheduled.
func (d *Dataplane) Synchronize() {
	C.rte_rcu_qsbr_synchronize(d.dp.qsv, C.RTE_QSBR_THRID_INVALID)
}

// NextHops is how many next-hop entries are in use.
func (d *Dataplane) NextHops() int { return d.nhCount - len(d.freeHops) }

// RCU is the dataplane's QSBR variable (a *struct rte_rcu_qsbr): every
// lcore reports quiescent states on it once per loop iteration.
func (d *Dataplane) RCU() unsafe.Pointer { return unsafe.Pointer(d.dp.qsv) }

// SetDistributor enables software steering over nWorkers workers with a
// RETA of retaSize buckets (a power of two), filled round robin, and
// bursts of burst packets (1..Burst) on distributor queues and rings. With
// backpressure, RX lcores stop polling while a ring lacks room for a burst;
// without, full rings drop (ring_full). Before AddLcore.
func (d *Dataplane) SetDistributor(nWorkers, retaSize, burst int, backpressure bool) error {
	bp := 0
	if backpressure {
		bp = 1
	}
	if rc := C.steer_dp_set_distributor(d.dp, C.uint16_t(nWorkers), C.uint32_t(retaSize), C.int(bp), C.uint16_t(burst)); rc != 0 {
		return fmt.Errorf("fastpath: distributor with %d workers (1..%d), RETA size %d (power of two up to %d), burst %d (1..%d)",
			nWorkers, MaxWorkers, retaSize, MaxRETA, burst, Burst)
	}
	return nil
}

// AddLcore creates the context of a forwarding lcore polling rx; worker is
// its software queue id as a distributor worker, or -1.
func (d *Dataplane) AddLcore(id, socket int, rx []RxQueue, worker int) (*Lcore, error) {
	if (len(rx) == 0 && worker < 0) || len(rx) > MaxRxPerLcore {
		return nil, fmt.Errorf("fastpath: lcore %d polls %d queues (1..%d) and is no worker", id, len(rx), MaxRxPerLcore)
	}
	crx := make([]C.struct_steer_rxq, len(rx)+1) // +1: never empty for &crx[0]
	for i, q := range rx {
		if q.Port >= MaxPorts || d.dp.port[q.Port].enabled == 0 || q.Queue >= MaxQueues {
			return nil, fmt.Errorf("fastpath: lcore %d: port %d queue %d is not set up", id, q.Port, q.Queue)
		}
		crx[i] = C.struct_steer_rxq{port: C.uint16_t(q.Port), queue: C.uint16_t(q.Queue)}
		if q.Distribute {
			crx[i].distribute = 1
		}
		if q.Prefetch {
			crx[i].opts |= C.BURST_PREFETCH
		}
		if q.HWChecksum {
			crx[i].opts |= C.BURST_HW_CKSUM
		}
	}
	lc := C.steer_lcore_create(d.dp, C.uint(id), C.int(socket), &crx[0], C.uint16_t(len(rx)), C.int(worker))
	if lc == nil {
		return nil, fmt.Errorf("steer_lcore_create(lcore %d, worker %d): out of DPDK memory or worker id beyond %d workers", id, worker, d.dp.n_workers)
	}
	l := &Lcore{ID: id, Worker: worker, lc: lc}
	d.lcores = append(d.lcores, l)
	return l, nil
}

// Link connects RX lcore from to worker to: through ring (a *struct
// rte_ring, single producer and consumer), or inline when ring is nil and
// from == to (the local shortcut).
func (d *Dataplane) Link(from, to *Lcore, ring unsafe.Pointer) error {
	if rc := C.steer_lcore_link(from.lc, C.uint16_t(to.Worker), (*C.struct_rte_ring)(ring), to.lc); rc != 0 {
		return fmt.Errorf("fastpath: link lcore %d -> worker %d (lcore %d): %d", from.ID, to.Worker, to.ID, rc)
	}
	return nil
}

// Distributes reports whether the lcore polls a distributor queue.
func (l *Lcore) Distributes() bool { return l.lc.distributes != 0 }

// RETASize is the number of RETA buckets (0 without a distributor).
func (d *Dataplane) RETASize() int {
	if d.dp.n_workers == 0 {
		return 0
	}
	return int(d.dp.reta_mask) + 1
}

// RETA is the table the control plane asked for: bucket -> worker.
func (d *Dataplane) RETA() []int {
	out := make([]int, d.RETASize())
	for b := range out {
		out[b] = int(d.dp.reta_want[b])
	}
	return out
}

// SetRETA replaces the RETA while lcores run. Each RX lcore moves a bucket
// only once the bucket's old worker has sent everything it was given of it,
// so no flow is reordered by the change.
func (d *Dataplane) SetRETA(reta []int) error {
	if len(reta) != d.RETASize() || len(reta) == 0 {
		return fmt.Errorf("fastpath: RETA of %d entries, want %d", len(reta), d.RETASize())
	}
	for b, w := range reta {
		if w < 0 || w >= int(d.dp.n_workers) {
			return fmt.Errorf("fastpath: RETA bucket %d -> worker %d, have %d workers", b, w, d.dp.n_workers)
		}
	}
	for b, w := range reta {
		C.steer_reta_store(d.dp, C.uint32_t(b), C.uint8_t(w))
	}
	C.steer_reta_bump(d.dp) // after the stores: lcores sweep until they match
	return nil
}

// AppliedRETA is the RETA an RX lcore applies now (moves wait for drains).
func (l *Lcore) AppliedRETA() []int {
	if l.lc.reta == nil {
		return nil
	}
	out := make([]int, int(l.lc.dp.reta_mask)+1)
	for b := range out {
		out[b] = int(C.steer_reta_load(l.lc, C.uint32_t(b)))
	}
	return out
}

// Link counters of one (RX lcore, worker) link.
type LinkCounters struct {
	Worker      int
	Ring        bool   // false: the local shortcut, no ring
	Handed      uint64 // enqueued (or processed inline)
	DroppedFull uint64
}

// Links reads an RX lcore's per-worker link counters.
func (l *Lcore) Links() []LinkCounters {
	if l.lc.out == nil {
		return nil
	}
	outs := unsafe.Slice(l.lc.out, int(l.lc.dp.n_workers))
	var res []LinkCounters
	for w := range outs {
		o := &outs[w]
		if o.linked == 0 {
			continue
		}
		res = append(res, LinkCounters{Worker: w, Ring: o.ring != nil,
			Handed: uint64(C.steer_load64(&o.seq)), DroppedFull: uint64(C.steer_load64(&o.full))})
	}
	return res
}

// ShareTxQueues gives a spinlock to every TX queue that more than one lcore
// sends on and returns how many there are. Call after the last AddLcore.
func (d *Dataplane) ShareTxQueues() int {
	if len(d.lcores) == 0 {
		return 0
	}
	arr := (**C.struct_steer_lcore)(C.malloc(C.size_t(len(d.lcores)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(arr))
	s := unsafe.Slice(arr, len(d.lcores))
	for i, l := range d.lcores {
		s[i] = l.lc
	}
	return int(C.steer_dp_share_txqs(d.dp, arr, C.int(len(d.lcores))))
}

// Lcores lists the lcore contexts in the order they were added.
func (d *Dataplane) Lcores() []*Lcore { return d.lcores }

// Launch starts every lcore's loop. It runs on the EAL main thread.
func (d *Dataplane) Launch() error {
	var err error
	eal.Do(func() {
		C.steer_set_quit(d.dp, 0)
		C.steer_set_rx_running(d.dp, C.uint32_t(len(d.lcores)))
		for _, l := range d.lcores {
			if err = eal.Launch(l.ID, C.steer_lcore_main_ptr(), unsafe.Pointer(l.lc)); err != nil {
				break
			}
			d.launched = true
		}
	})
	if err != nil {
		d.Stop()
	}
	return err
}

// Stop tells every lcore to quit, waits until each has flushed its TX
// buffers and returned.
func (d *Dataplane) Stop() error {
	if !d.launched {
		return nil
	}
	var errs []error
	eal.Do(func() {
		C.steer_set_quit(d.dp, 1)
		for _, l := range d.lcores {
			if rc := eal.Wait(l.ID); rc != 0 {
				errs = append(errs, fmt.Errorf("lcore %d: loop returned %d", l.ID, rc))
			}
		}
	})
	d.launched = false
	return errors.Join(errs...)
}

// Free releases the C state. Lcores must have stopped.
func (d *Dataplane) Free() {
	for _, l := range d.lcores {
		C.steer_lcore_free(l.lc)
	}
	d.lcores = nil
	C.steer_dp_free(d.dp)
	d.dp = nil
}

// Counters are one lcore's fast-path counters.
type Counters struct {
	Rx, Tx               uint64
	BusyPolls, IdlePolls uint64
	HandedOff            uint64   // to other lcores' workers over rings
	Local                uint64   // own worker share, processed inline
	FromRings            uint64   // received as a worker
	WorkerBursts         uint64   // non-empty ring dequeues
	BackpressureSkips    uint64   // NIC polls skipped for lack of ring room
	ExceptionRingFull    uint64   // slow-path packets freed: the control thread's ring was full
	ControlTx            uint64   // frames the control thread made, sent by this lcore
	ControlTxFull        uint64   // ... dropped: TX queue full
	Dropped              []uint64 // indexed like DropReasons
	SlowPath             []uint64 // indexed like SlowReasons
}

// Counters reads the lcore's counters. Each is written by its lcore alone
// with aligned 64-bit stores, so a read sees a whole, possibly older value.
func (l *Lcore) Counters() Counters {
	c := &l.lc.c
	out := Counters{
		Rx: uint64(c.rx), Tx: uint64(c.tx),
		BusyPolls: uint64(c.busy_polls), IdlePolls: uint64(c.idle_polls),
		HandedOff: uint64(c.handed_off), Local: uint64(c.local), FromRings: uint64(c.from_rings),
		WorkerBursts: uint64(c.worker_bursts), BackpressureSkips: uint64(c.backpressure_skips),
		ExceptionRingFull: uint64(c.exc_full), ControlTx: uint64(c.ctl_tx), ControlTxFull: uint64(c.ctl_tx_full),
		Dropped:  make([]uint64, dropReasonCount),
		SlowPath: make([]uint64, slowReasonCount),
	}
	for i := range out.Dropped {
		out.Dropped[i] = uint64(c.drop[i])
	}
	for i := range out.SlowPath {
		out.SlowPath[i] = uint64(c.slow[i])
	}
	return out
}
