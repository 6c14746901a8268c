package dataplane

import (
	"testing"

	"github.com/steer-router/steer/pkg/fwd"
)

// The C reason lists (reasons.h) and pkg/fwd's name the same counters in
// the same order: Go reads C's counters by fwd's indexes.
func TestReasonsMatchFwd(t *testing.T) {
	for i, name := range cDropReasons() {
		if got := fwd.DropReason(i).String(); got != name {
			t.Errorf("drop reason %d: C says %q, fwd says %q", i, name, got)
		}
	}
	for i, name := range cStages() {
		if got := fwd.Stage(i).String(); got != name {
			t.Errorf("stage %d: C says %q, fwd says %q", i, name, got)
		}
	}
	for i, name := range cSlowReasons() {
		if got := fwd.SlowReason(i).String(); got != name {
			t.Errorf("slow reason %d: C says %q, fwd says %q", i, name, got)
		}
	}
}
