// Package fastpath drives steer's C data path (fastpath.c): a dataplane of
// ports, a FIB and lcores that run rx_burst -> checks -> bulk LPM ->
// rewrite -> tx_burst until told to quit. Go sets it up, launches it, stops
// it and reads counters; it never touches a packet.
package fastpath

/*
#include <stdlib.h>
#include "fastpath.h"

static const char *steer_drop_name(int i) { return steer_drop_names[i]; }
static const char *steer_slow_name(int i) { return steer_slow_names[i]; }
static void steer_set_quit(struct steer_dp *dp, uint32_t v) { __atomic_store_n(&dp->quit, v, __ATOMIC_RELEASE); }
static void *steer_lcore_main_ptr(void) { return (void *)steer_lcore_main; }
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	"github.com/steer-router/steer/cgo/eal"
)

// Limits of the C structures.
const (
	MaxPorts        = C.STEER_MAX_PORTS
	MaxQueues       = C.STEER_MAX_QUEUES
	MaxRxPerLcore   = C.STEER_MAX_RX_PER_LCORE
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

// NextHop is one entry of the next-hop table the LPM points into.
type NextHop struct {
	Kind   NextHopKind
	Port   uint16
	DstMAC net.HardwareAddr // neighbour (Forward only)
	SrcMAC net.HardwareAddr // egress port's MAC (Forward only)
}

// RxQueue is one (port, queue) pair an lcore polls.
type RxQueue struct {
	Port, Queue uint16
}

// Dataplane is the C state shared by all forwarding lcores.
type Dataplane struct {
	dp       *C.struct_steer_dp
	lcores   []*Lcore
	launched bool
}

// Lcore is one forwarding lcore's C context.
type Lcore struct {
	ID int
	lc *C.struct_steer_lcore
}

// New allocates a dataplane on a NUMA socket. rxqField is the mbuf dynfield
// offset of the recorded RX queue; nhCap the size of the next-hop table.
func New(rxqField, nhCap, socket int) (*Dataplane, error) {
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
	p := &d.dp.port[id]
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&p.mac.addr_bytes[0])), 6), mac)
	p.nb_txq = C.uint16_t(nbTxq)
	p.mtu = C.uint16_t(mtu)
	p.enabled = 1
	return nil
}

// SetFIB installs the LPM table (a *struct rte_lpm) and the next hops its
// entries point at. Before Launch only: run-time changes come with RCU.
func (d *Dataplane) SetFIB(lpm unsafe.Pointer, hops []NextHop) error {
	if d.launched {
		return errors.New("fastpath: SetFIB after Launch")
	}
	if len(hops) > int(d.dp.fib.nh_cap) {
		return fmt.Errorf("fastpath: %d next hops, table holds %d", len(hops), d.dp.fib.nh_cap)
	}
	d.dp.fib.lpm = (*C.struct_rte_lpm)(lpm)
	table := unsafe.Slice(d.dp.fib.nh, d.dp.fib.nh_cap)
	for i, h := range hops {
		e := &table[i]
		*e = C.struct_steer_nexthop{}
		e.kind = C.uint8_t(h.Kind)
		e.port = C.uint16_t(h.Port)
		if h.Kind == Forward {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&e.dst.addr_bytes[0])), 6), h.DstMAC)
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&e.src.addr_bytes[0])), 6), h.SrcMAC)
		}
	}
	return nil
}

// AddLcore creates the context of a forwarding lcore polling rx.
func (d *Dataplane) AddLcore(id, socket int, rx []RxQueue) (*Lcore, error) {
	if len(rx) == 0 || len(rx) > MaxRxPerLcore {
		return nil, fmt.Errorf("fastpath: lcore %d polls %d queues (1..%d)", id, len(rx), MaxRxPerLcore)
	}
	crx := make([]C.struct_steer_rxq, len(rx))
	for i, q := range rx {
		if q.Port >= MaxPorts || d.dp.port[q.Port].enabled == 0 || q.Queue >= MaxQueues {
			return nil, fmt.Errorf("fastpath: lcore %d: port %d queue %d is not set up", id, q.Port, q.Queue)
		}
		crx[i] = C.struct_steer_rxq{port: C.uint16_t(q.Port), queue: C.uint16_t(q.Queue)}
	}
	lc := C.steer_lcore_create(d.dp, C.uint(id), C.int(socket), &crx[0], C.uint16_t(len(crx)))
	if lc == nil {
		return nil, fmt.Errorf("steer_lcore_create(lcore %d): out of DPDK memory", id)
	}
	l := &Lcore{ID: id, lc: lc}
	d.lcores = append(d.lcores, l)
	return l, nil
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
