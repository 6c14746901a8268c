package dataplane

/*
#include <stdlib.h>
#include "dataplane.h"

static uint8_t steer_reta_load(const uint8_t *t, uint32_t b) { return __atomic_load_n(&t[b], __ATOMIC_RELAXED); }
static uint64_t steer_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/steer-router/steer/pkg/fwd"
)

// SetDistributor enables software steering over nWorkers workers with RETAs
// of retaSize buckets (a power of two), bursts of burst packets
// (1..fwd.Burst) on distributor queues and rings, and flows as hash makes
// them. With backpressure, RX lcores stop polling while a ring lacks room
// for a burst, at most maxStall at a time; without, full rings drop
// (ring_full). Every RX lcore's RETA starts local (SetRETA). Before
// AddLcore.
func (d *Dataplane) SetDistributor(nWorkers, retaSize, burst int, backpressure bool, maxStall time.Duration, hash fwd.HashMode) error {
	bp := 0
	if backpressure {
		bp = 1
	}
	if rc := C.steer_dp_set_distributor(d.dp, C.uint16_t(nWorkers), C.uint32_t(retaSize), C.int(bp),
		C.uint64_t(maxStall.Nanoseconds()), C.uint16_t(burst), C.uint8_t(hash)); rc != 0 {
		return fmt.Errorf("dataplane: distributor with %d workers (1..%d), RETA size %d (power of two up to %d), burst %d (1..%d), hash %d",
			nWorkers, fwd.MaxWorkers, retaSize, fwd.MaxRETA, burst, fwd.Burst, hash)
	}
	return nil
}

// Workers is the number of distributor workers (0 without a distributor).
func (d *Dataplane) Workers() int { return int(d.dp.n_workers) }

// Link connects RX lcore from to worker to through ring (a *struct
// rte_ring, single producer and consumer). An lcore that is RX lcore and
// worker needs no link to itself.
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

// SetRETA sets the RETA this RX lcore is to follow: per bucket a worker's
// id or fwd.RETALocal (the lcore's own id as a worker is local too). The
// lcore moves a bucket only once its old owner has sent everything it was
// given of it, so no flow is reordered by the change.
func (l *Lcore) SetRETA(reta []int) error {
	n := int(l.lc.dp.reta_mask) + 1
	if !l.Distributes() || len(reta) != n {
		return fmt.Errorf("dataplane: lcore %d: RETA of %d entries, want %d (a distributing lcore)", l.ID, len(reta), n)
	}
	c := make([]C.uint8_t, n)
	for b, w := range reta {
		switch {
		case w == fwd.RETALocal:
			c[b] = C.STEER_LOCAL
		case w < 0 || w >= int(l.lc.dp.n_workers):
			return fmt.Errorf("dataplane: lcore %d: RETA bucket %d -> worker %d, have %d workers", l.ID, b, w, l.lc.dp.n_workers)
		default:
			c[b] = C.uint8_t(w)
		}
	}
	if rc := C.steer_lcore_set_reta(l.lc, &c[0], C.uint32_t(n)); rc != 0 {
		return fmt.Errorf("dataplane: lcore %d: RETA refused (%d): a worker without a link", l.ID, rc)
	}
	return nil
}

func (l *Lcore) readRETA(t *C.uint8_t) []int {
	if t == nil {
		return nil
	}
	out := make([]int, int(l.lc.dp.reta_mask)+1)
	for b := range out {
		w := int(C.steer_reta_load(t, C.uint32_t(b)))
		if w == C.STEER_LOCAL || w == l.Worker {
			w = fwd.RETALocal
		}
		out[b] = w
	}
	return out
}

// WantedRETA is the RETA the control plane set (fwd.RETALocal: local).
func (l *Lcore) WantedRETA() []int { return l.readRETA(l.lc.reta_want) }

// AppliedRETA is the RETA the lcore applies now (moves wait for drains).
func (l *Lcore) AppliedRETA() []int { return l.readRETA(l.lc.reta) }

// BucketPackets is, per bucket, the packets the lcore has seen of it (while
// every bucket is local: counted in a sample of bursts and scaled up).
func (l *Lcore) BucketPackets() []uint64 {
	if l.lc.bucket_pkts == nil {
		return nil
	}
	n := int(l.lc.dp.reta_mask) + 1
	src := unsafe.Slice((*C.uint64_t)(unsafe.Pointer(l.lc.bucket_pkts)), n)
	out := make([]uint64, n)
	for b := range out {
		out[b] = uint64(C.steer_load64(&src[b]))
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
		res = append(res, fwd.LinkCounters{Worker: w,
			Handed: uint64(C.steer_load64(&o.seq)), DroppedFull: uint64(C.steer_load64(&o.full))})
	}
	return res
}
