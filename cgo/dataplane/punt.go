package dataplane

/*
#include <stdlib.h>
#include "dataplane.h"
#include "idle.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/steer-router/steer/pkg/fwd"
)

// The control plane's side of the slow path (punt.c): the exception rings
// the lcores fill and the ring of frames the control thread sends through
// one lcore.

// SetControl wires the slow path: exc[i] is lcore i's exception ring (in
// AddLcore order; nil frees its exceptions uncounted by the control
// thread), ctlTx the ring of frames the control thread sends. The first
// lcore with TX queues drains ctlTx. Before Launch.
func (d *Dataplane) SetControl(exc []unsafe.Pointer, ctlTx unsafe.Pointer) error {
	if d.launched {
		return errors.New("dataplane: SetControl after Launch")
	}
	if len(exc) != len(d.lcores) {
		return fmt.Errorf("dataplane: %d exception rings for %d lcores", len(exc), len(d.lcores))
	}
	for i, l := range d.lcores {
		C.steer_lcore_set_exc(l.lc, (*C.struct_rte_ring)(exc[i]))
	}
	for _, l := range d.lcores {
		if l.lc.ctl_row >= 0 {
			if rc := C.steer_dp_set_control(d.dp, (*C.struct_rte_ring)(ctlTx), l.lc); rc != 0 {
				return fmt.Errorf("dataplane: control TX through lcore %d: %d", l.ID, rc)
			}
			d.ctlLcore = l.ID
			return nil
		}
	}
	return errors.New("dataplane: no lcore has TX queues to send the control thread's frames")
}

// WaitSent returns once the lcore that sends the control thread's frames
// has taken every one queued so far (it sends them at once), or after
// max: the frames that waited for ARP leave before the fast path is told
// the neighbour, so a flow's newer packets cannot overtake them.
func (d *Dataplane) WaitSent(max time.Duration) bool {
	if d.dp.ctl_tx == nil {
		return true
	}
	for end := time.Now().Add(max); ; time.Sleep(20 * time.Microsecond) {
		if C.rte_ring_count(d.dp.ctl_tx) == 0 {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// WaitExceptions blocks the control thread until an lcore hands it an
// exception, stop is closed or timeout passes, so an idle control thread
// wakes for its timers only. pending looks for exceptions already waiting,
// after the wait is announced: one that came before is not missed.
func (d *Dataplane) WaitExceptions(timeout time.Duration, stop <-chan struct{}, pending func() bool) {
	C.steer_kick_wait_begin(&d.dp.ctl_kick)
	defer C.steer_kick_wait_end(&d.dp.ctl_kick)
	if pending() {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-stop:
	case <-d.ctlWake:
	case <-t.C:
	}
}

// watchControlKick turns the control kick eventfd's wake-ups into a
// channel (the netpoller reads it: no thread waits). It ends when Free
// closes the file.
func (d *Dataplane) watchControlKick() error {
	fd, err := syscall.Dup(int(d.dp.ctl_kick.fd))
	if err != nil {
		return fmt.Errorf("dataplane: the control kick eventfd: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	d.ctlKick = os.NewFile(uintptr(fd), "steer-control-kick")
	d.ctlWake = make(chan struct{}, 1)
	go func() {
		var b [8]byte
		for {
			if _, err := d.ctlKick.Read(b[:]); err != nil {
				return
			}
			select {
			case d.ctlWake <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}

// ControlLcore is the lcore that sends the control thread's frames.
func (d *Dataplane) ControlLcore() int { return d.ctlLcore }

// Exceptions takes exceptions from the lcores' rings (round robin).
// It keeps its buffers between calls; one goroutine at a time.
type Exceptions struct {
	rings []*C.struct_rte_ring
	next  C.uint32_t
	cap   int
	meta  []C.struct_steer_exc_meta
	buf   unsafe.Pointer // C memory: max * cap bytes
	max   int
}

// NewExceptions reads rings, at most max packets per Take, copying up to
// frameCap bytes of each.
func NewExceptions(rings []unsafe.Pointer, max, frameCap int) *Exceptions {
	e := &Exceptions{cap: frameCap, max: max, meta: make([]C.struct_steer_exc_meta, max)}
	for _, r := range rings {
		if r != nil {
			e.rings = append(e.rings, (*C.struct_rte_ring)(r))
		}
	}
	e.buf = C.malloc(C.size_t(max * frameCap))
	return e
}

// Take dequeues up to n (≤ max) exceptions, frees their mbufs and returns
// copies; the Frames stay valid until the next Take.
func (e *Exceptions) Take(n int) []fwd.Exception {
	if n > e.max {
		n = e.max
	}
	if n <= 0 || len(e.rings) == 0 {
		return nil
	}
	got := int(C.steer_exc_take(&e.rings[0], C.uint32_t(len(e.rings)), &e.next, &e.meta[0],
		(*C.uint8_t)(e.buf), C.uint32_t(e.cap), C.uint32_t(n)))
	out := make([]fwd.Exception, got)
	all := unsafe.Slice((*byte)(e.buf), e.max*e.cap)
	for i := range out {
		m := e.meta[i]
		tag := uint32(m.tag)
		out[i] = fwd.Exception{
			Reason:      fwd.SlowReason(tag &^ C.STEER_EXC_L2BCAST),
			L2Broadcast: tag&C.STEER_EXC_L2BCAST != 0,
			Port:        uint16(m.port),
			Frame:       all[i*e.cap : i*e.cap+int(m.len)],
			Truncated:   int(m.pkt_len) > int(m.len),
		}
	}
	return out
}

// Pending says whether an exception waits in a ring.
func (e *Exceptions) Pending() bool {
	for _, r := range e.rings {
		if C.rte_ring_count(r) > 0 {
			return true
		}
	}
	return false
}

// Free releases the copy buffer.
func (e *Exceptions) Free() {
	C.free(e.buf)
	e.buf = nil
}

// Errors of Send.
var (
	ErrNoMbuf      = errors.New("no free mbuf")
	ErrControlFull = errors.New("control TX ring full")
	ErrTooLong     = errors.New("frame longer than an mbuf")
)

// Send queues a frame for transmission on port; the control lcore sends
// it within ~100 us. pool is a *struct rte_mempool. One goroutine at a time.
func (d *Dataplane) Send(pool unsafe.Pointer, port uint16, frame []byte) error {
	if len(frame) == 0 {
		return ErrTooLong
	}
	rc := C.steer_ctl_send(d.dp, (*C.struct_rte_mempool)(pool), C.uint16_t(port),
		(*C.uint8_t)(unsafe.Pointer(&frame[0])), C.uint32_t(len(frame)))
	switch {
	case rc == 0:
		return nil
	case rc == -C.ENOBUFS:
		return ErrNoMbuf
	case rc == -C.ENOSPC:
		return ErrControlFull
	default:
		return ErrTooLong
	}
}
