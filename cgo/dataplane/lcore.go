package dataplane

/*
#include "dataplane.h"
#include "idle.h"
static uint8_t steer_load8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/steer-router/steer/pkg/fwd"
)

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

// Lcore is one forwarding lcore's C context.
type Lcore struct {
	ID     int
	Worker int // software queue id, -1 if not a worker
	lc     *C.struct_steer_lcore
}

// AddLcore creates the context of a forwarding lcore polling rx; worker is
// its software queue id as a distributor worker, or -1.
func (d *Dataplane) AddLcore(id, socket int, rx []RxQueue, worker int) (*Lcore, error) {
	if (len(rx) == 0 && worker < 0) || len(rx) > fwd.MaxRxPerLcore {
		return nil, fmt.Errorf("dataplane: lcore %d polls %d queues (1..%d) and is no worker", id, len(rx), fwd.MaxRxPerLcore)
	}
	crx := make([]C.struct_steer_rxq, len(rx)+1) // +1: never empty for &crx[0]
	for i, q := range rx {
		if q.Port >= fwd.MaxPorts || d.dp.port[q.Port].enabled == 0 || q.Queue >= fwd.MaxQueues {
			return nil, fmt.Errorf("dataplane: lcore %d: port %d queue %d is not set up", id, q.Port, q.Queue)
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

// SetPoll sets how the lcore waits when idle, before Launch; maxSleep is
// the longest adaptive sleep (shared by every lcore).
func (l *Lcore) SetPoll(mode fwd.PollMode, maxSleep time.Duration) error {
	if rc := C.steer_lcore_set_poll(l.lc, C.uint8_t(mode), C.uint64_t(maxSleep.Nanoseconds())); rc != 0 {
		return fmt.Errorf("dataplane: lcore %d: poll %s, max sleep %v: %w", l.ID, mode, maxSleep, syscall.Errno(-rc))
	}
	return nil
}

// PollMode is how the lcore waits when idle, as it runs: an interrupt
// lcore whose queues cannot interrupt falls back to adaptive.
func (l *Lcore) PollMode() fwd.PollMode {
	return fwd.PollMode(C.steer_load8(&l.lc.poll_mode))
}

// Counters reads the lcore's counters. Each is written by its lcore alone
// with aligned 64-bit stores, so a read sees a whole, possibly older value.
func (l *Lcore) Counters() fwd.LcoreCounters {
	c := &l.lc.c
	out := fwd.LcoreCounters{
		Rx: uint64(c.rx), Tx: uint64(c.tx),
		BusyPolls: uint64(c.busy_polls), IdlePolls: uint64(c.idle_polls),
		HandedOff: uint64(c.handed_off), Local: uint64(c.local), FromRings: uint64(c.from_rings),
		WorkerBursts: uint64(c.worker_bursts), BackpressureSkips: uint64(c.backpressure_skips),
		ExceptionRingFull: uint64(c.exc_full), ControlTx: uint64(c.ctl_tx), ControlTxFull: uint64(c.ctl_tx_full),
	}
	for i := range out.Dropped {
		out.Dropped[i] = uint64(c.drop[i])
	}
	for i := range out.SlowPath {
		out.SlowPath[i] = uint64(c.slow[i])
	}
	out.BusyCycles, out.IdleCycles, out.StallCycles = uint64(c.busy_cycles), uint64(c.idle_cycles), uint64(c.stall_cycles)
	out.AsleepCycles, out.Sleeps, out.Wakeups = uint64(c.asleep_cycles), uint64(c.sleeps), uint64(c.wakeups)
	out.SampledLoops, out.SampledPackets, out.SampledLocal = uint64(c.sampled_loops), uint64(c.sampled_pkts), uint64(c.sampled_local)
	for i := range out.StageCycles {
		out.StageCycles[i] = uint64(c.stage_cycles[i])
	}
	return out
}

// RxQueues reads the backpressure counters of the lcore's RX queues.
func (l *Lcore) RxQueues() []fwd.RxQueueCounters {
	out := make([]fwd.RxQueueCounters, l.lc.n_rx)
	for i := range out {
		q := &l.lc.rx[i]
		out[i] = fwd.RxQueueCounters{Port: uint16(q.port), Queue: uint16(q.queue),
			StallSkips: uint64(q.stall_skips), StallCycles: uint64(q.stall_cycles)}
	}
	return out
}

// CPtr is the lcore's C context (a *struct steer_lcore), for the C test
// helpers in dataplanetest.
func (l *Lcore) CPtr() unsafe.Pointer { return unsafe.Pointer(l.lc) }
