package ring_test

import (
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/ring"
)

func TestMain(m *testing.M) { ealtest.Main(m) }

func TestSPSCRing(t *testing.T) {
	r, err := ring.NewSPSC("t_ring", 1024, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	if r.Capacity() != 1023 || r.Count() != 0 {
		t.Errorf("capacity %d count %d, want 1023 and 0", r.Capacity(), r.Count())
	}
	if _, err := ring.NewSPSC("t_ring_bad", 1000, 0); err == nil {
		t.Error("a ring size that is not a power of two was accepted")
	}
}
