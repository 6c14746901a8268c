// Package dataplane drives steer's C data plane (the *.c and *.h files
// here; dataplane.h lists them by stage): ports, a FIB with its next-hop
// table, lcores that run rx_burst -> checks -> bulk FIB lookup -> rewrite ->
// tx_burst until told to quit, the distributor's rings and RETA, and the
// slow path's rings. Go sets it up, launches it, changes its FIB and RETA,
// stops it and reads counters; it never touches a packet.
//
// The Go side is split like the C: dataplane.go (create, ports, launch,
// stop), fib.go (the FIB writer and its grace periods), lcore.go (lcore
// contexts and counters), distributor.go, punt.go (exceptions and the
// control thread's frames).
package dataplane

/*
#include <stdlib.h>
#include "dataplane.h"
#include "distributor.h"
#include "idle.h"

static void steer_set_quit(struct steer_dp *dp, uint32_t v) { __atomic_store_n(&dp->quit, v, __ATOMIC_RELEASE); }
static void steer_set_rx_running(struct steer_dp *dp, uint32_t v) { __atomic_store_n(&dp->rx_running, v, __ATOMIC_RELEASE); }
static void *steer_lcore_main_ptr(void) { return (void *)steer_lcore_main; }
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/pkg/fwd"
)

// Dataplane is the C state shared by all forwarding lcores.
type Dataplane struct {
	dp       *C.struct_steer_dp
	lcores   []*Lcore
	launched bool
	// The control thread's wake-ups (WaitExceptions).
	ctlKick  *os.File
	ctlWake  chan struct{}
	portMAC  map[uint16]net.HardwareAddr
	ctlLcore int
	nh       nextHops
	// The FIB and its grace period: see fibChange.
	fib        *fib.FIB
	fibToken   uint64
	fibPending bool
}

// New allocates a data plane on a NUMA socket with a next-hop table of
// nhCap entries.
func New(nhCap, socket int) (*Dataplane, error) {
	if nhCap < 1 || nhCap > C.STEER_MAX_NEXTHOPS {
		return nil, fmt.Errorf("dataplane: %d next hops, 1..%d", nhCap, C.STEER_MAX_NEXTHOPS)
	}
	dp := C.steer_dp_create(C.uint32_t(nhCap), C.int(socket))
	if dp == nil {
		return nil, fmt.Errorf("steer_dp_create: out of DPDK memory (%d next hops on socket %d)", nhCap, socket)
	}
	d := &Dataplane{dp: dp, portMAC: map[uint16]net.HardwareAddr{}}
	if err := d.watchControlKick(); err != nil {
		C.steer_dp_free(dp)
		return nil, err
	}
	return d, nil
}

// SetPort records what the fast path needs of a started port. Call it for
// every port before AddLcore.
func (d *Dataplane) SetPort(id uint16, mac net.HardwareAddr, nbTxq, mtu int) error {
	if id >= fwd.MaxPorts || nbTxq < 1 || nbTxq > fwd.MaxQueues || len(mac) != 6 {
		return fmt.Errorf("dataplane: port %d: unsupported (max %d ports, 1..%d tx queues)", id, fwd.MaxPorts, fwd.MaxQueues)
	}
	m := C.CBytes(mac)
	defer C.free(m)
	C.steer_dp_set_port(d.dp, C.uint16_t(id), (*C.uint8_t)(m), C.uint16_t(nbTxq), C.uint16_t(mtu))
	d.portMAC[id] = append(net.HardwareAddr(nil), mac...)
	return nil
}

// AddMartianSource makes transit packets from addr dropped with reason
// (fwd.DropOwnSource for the router's addresses, fwd.DropBroadcastSource
// for connected subnets' directed broadcasts). Before Launch.
func (d *Dataplane) AddMartianSource(addr netip.Addr, reason fwd.DropReason) error {
	if !addr.Is4() {
		return fmt.Errorf("dataplane: martian source %v: IPv4 only", addr)
	}
	b := addr.As4()
	be := *(*C.uint32_t)(unsafe.Pointer(&b[0])) // as the header holds it
	if rc := C.steer_dp_add_martian_source(d.dp, be, C.uint8_t(reason)); rc != 0 {
		return fmt.Errorf("dataplane: more than %d martian sources", C.STEER_MAX_MARTIAN_SOURCES)
	}
	return nil
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

// Launch starts every lcore's loop. It runs on the EAL main thread. A RETA
// set before takes effect at once: nothing is in flight yet to reorder.
func (d *Dataplane) Launch() error {
	var err error
	eal.Do(func() {
		for _, l := range d.lcores {
			if l.Distributes() {
				C.steer_reta_sweep(l.lc)
			}
		}
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
		for _, l := range d.lcores { // sleepers see quit at once
			C.steer_wake(l.lc)
		}
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
	d.ctlKick.Close() // ends watchControlKick's reader
	C.steer_dp_free(d.dp)
	d.dp = nil
}
