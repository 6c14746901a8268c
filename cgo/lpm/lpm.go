// Package lpm binds DPDK's IPv4 longest-prefix-match table.
package lpm

/*
#cgo pkg-config: libdpdk
// rte_lpm_rcu_qsbr_add is experimental API in DPDK 22.11.
#cgo CFLAGS: -DALLOW_EXPERIMENTAL_API
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_lpm.h>

static uint64_t steer_lpm_lookup_cycles(struct rte_lpm *l, const uint32_t *ips, int n, int rounds, int x4) {
	uint32_t hops[32], sink = 0;
	uint64_t t0 = rte_rdtsc();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i + 32 <= n; i += 32) {
			if (x4) {
				for (int j = 0; j < 32; j += 4) {
					xmm_t ip = _mm_loadu_si128((const __m128i *)&ips[i + j]);
					rte_lpm_lookupx4(l, ip, &hops[j], UINT32_MAX);
				}
			} else {
				rte_lpm_lookup_bulk(l, &ips[i], hops, 32);
			}
			sink += hops[i & 31];
		}
	uint64_t t = rte_rdtsc() - t0;
	__asm__ volatile("" : : "r"(sink));
	return t;
}

static int steer_lpm_attach_rcu(struct rte_lpm *lpm, struct rte_rcu_qsbr *v) {
	struct rte_lpm_rcu_config c;
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.mode = RTE_LPM_QSBR_MODE_DQ; // deleted tbl8 groups wait in a defer queue
	return rte_lpm_rcu_qsbr_add(lpm, &c);
}

static struct rte_lpm *steer_lpm_create(const char *name, int socket, uint32_t rules, uint32_t tbl8s) {
	struct rte_lpm_config c;
	memset(&c, 0, sizeof(c));
	c.max_rules = rules;
	c.number_tbl8s = tbl8s;
	return rte_lpm_create(name, socket, &c);
}
*/
import "C"

import (
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/steer-router/steer/cgo/rteerr"
)

// MaxNextHop is the largest next-hop value rte_lpm stores (24 bits).
const MaxNextHop = 1<<24 - 1

// LPM is an IPv4 LPM table mapping prefixes to 24-bit next-hop ids.
type LPM struct {
	l    *C.struct_rte_lpm
	name string
}

// New creates a table for up to rules prefixes, with tbl8s groups for
// prefixes longer than /24.
func New(name string, socket, rules, tbl8s int) (*LPM, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	l := C.steer_lpm_create(cs, C.int(socket), C.uint32_t(rules), C.uint32_t(tbl8s))
	if l == nil {
		return nil, rteerr.FromErrno("rte_lpm_create", fmt.Sprintf("%s, %d rules, %d tbl8s", name, rules, tbl8s))
	}
	return &LPM{l: l, name: name}, nil
}

// AttachRCU makes deletes safe while lcores look up: tbl8 groups freed by
// a delete are reused only after every reader registered on qsv (a
// *struct rte_rcu_qsbr) has reported a quiescent state.
func (t *LPM) AttachRCU(qsv unsafe.Pointer) error {
	rc := C.steer_lpm_attach_rcu(t.l, (*C.struct_rte_rcu_qsbr)(qsv))
	return rteerr.FromRC(int(rc), "rte_lpm_rcu_qsbr_add", t.name)
}

// Ptr is the *struct rte_lpm for the C fast path.
func (t *LPM) Ptr() unsafe.Pointer { return unsafe.Pointer(t.l) }

func ip32(a netip.Addr) C.uint32_t {
	b := a.As4()
	return C.uint32_t(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

// Add inserts or replaces a prefix.
func (t *LPM) Add(p netip.Prefix, nextHop uint32) error {
	if !p.Addr().Is4() || nextHop > MaxNextHop {
		return fmt.Errorf("rte_lpm_add(%s -> %d): not an IPv4 prefix or next hop out of range", p, nextHop)
	}
	p = p.Masked()
	rc := C.rte_lpm_add(t.l, ip32(p.Addr()), C.uint8_t(p.Bits()), C.uint32_t(nextHop))
	return rteerr.FromRC(int(rc), "rte_lpm_add", fmt.Sprintf("%s -> %d", p, nextHop))
}

// Delete removes a prefix.
func (t *LPM) Delete(p netip.Prefix) error {
	p = p.Masked()
	rc := C.rte_lpm_delete(t.l, ip32(p.Addr()), C.uint8_t(p.Bits()))
	return rteerr.FromRC(int(rc), "rte_lpm_delete", p.String())
}

// Lookup finds the next hop of an address.
func (t *LPM) Lookup(a netip.Addr) (uint32, bool) {
	var nh C.uint32_t
	if C.rte_lpm_lookup(t.l, ip32(a), &nh) != 0 {
		return 0, false
	}
	return uint32(nh), true
}

// Free releases the table.
func (t *LPM) Free() {
	if t.l != nil {
		C.rte_lpm_free(t.l)
		t.l = nil
	}
}

// LookupCycles looks ips up in bursts of 32 (rte_lpm_lookup_bulk, or
// rte_lpm_lookupx4 eight times when x4), rounds times over, and returns the
// TSC cycles per address: a benchmark helper.
func (t *LPM) LookupCycles(ips []uint32, rounds int, x4 bool) float64 {
	if len(ips) < 32 || rounds < 1 {
		return 0
	}
	v := 0
	if x4 {
		v = 1
	}
	c := C.steer_lpm_lookup_cycles(t.l, (*C.uint32_t)(unsafe.Pointer(&ips[0])), C.int(len(ips)), C.int(rounds), C.int(v))
	return float64(c) / float64(len(ips)/32*32*rounds)
}
