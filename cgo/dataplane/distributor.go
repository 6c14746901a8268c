package dataplane

/*
#include "dataplane.h"

static void steer_reta_store(struct steer_dp *dp, uint32_t b, uint8_t w) { __atomic_store_n(&dp->reta_want[b], w, __ATOMIC_RELAXED); }
static void steer_reta_bump(struct steer_dp *dp) { __atomic_add_fetch(&dp->reta_gen, 1, __ATOMIC_RELEASE); }
static uint8_t steer_reta_load(struct steer_lcore *lc, uint32_t b) { return __atomic_load_n(&lc->reta[b], __ATOMIC_RELAXED); }
static uint64_t steer_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/steer-router/steer/pkg/fwd"
)

// SetDistributor enables software steering over nWorkers workers with a
// RETA of retaSize buckets (a power of two), filled round robin, and
// bursts of burst packets (1..fwd.Burst) on distributor queues and rings.
// With backpressure, RX lcores stop polling while a ring lacks room for a
// burst; without, full rings drop (ring_full). Before AddLcore.
func (d *Dataplane) SetDistributor(nWorkers, retaSize, burst int, backpressure bool) error {
	bp := 0
	if backpressure {
		bp = 1
	}
	if rc := C.steer_dp_set_distributor(d.dp, C.uint16_t(nWorkers), C.uint32_t(retaSize), C.int(bp), C.uint16_t(burst)); rc != 0 {
		return fmt.Errorf("dataplane: distributor with %d workers (1..%d), RETA size %d (power of two up to %d), burst %d (1..%d)",
			nWorkers, fwd.MaxWorkers, retaSize, fwd.MaxRETA, burst, fwd.Burst)
	}
	return nil
}

// Link connects RX lcore from to worker to: through ring (a *struct
// rte_ring, single producer and consumer), or inline when ring is nil and
// from == to (the local shortcut).
func (d *Dataplane) Link(from, to *Lcore, ring unsafe.Pointer) error {
	if rc := C.steer_lcore_link(from.lc, C.uint16_t(to.Worker), (*C.struct_rte_ring)(ring), to.lc); rc != 0 {
		return fmt.Errorf("dataplane: link lcore %d -> worker %d (lcore %d): %d", from.ID, to.Worker, to.ID, rc)
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
		return fmt.Errorf("dataplane: RETA of %d entries, want %d", len(reta), d.RETASize())
	}
	for b, w := range reta {
		if w < 0 || w >= int(d.dp.n_workers) {
			return fmt.Errorf("dataplane: RETA bucket %d -> worker %d, have %d workers", b, w, d.dp.n_workers)
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

// Links reads an RX lcore's per-worker link counters.
func (l *Lcore) Links() []fwd.LinkCounters {
	if l.lc.out == nil {
		return nil
	}
	outs := unsafe.Slice(l.lc.out, int(l.lc.dp.n_workers))
	var res []fwd.LinkCounters
	for w := range outs {
		o := &outs[w]
		if o.linked == 0 {
			continue
		}
		res = append(res, fwd.LinkCounters{Worker: w, Ring: o.ring != nil,
			Handed: uint64(C.steer_load64(&o.seq)), DroppedFull: uint64(C.steer_load64(&o.full))})
	}
	return res
}
