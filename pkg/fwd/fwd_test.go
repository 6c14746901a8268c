package fwd

import (
	"regexp"
	"testing"
)

// Counter names are metric labels and JSON keys: lower snake case, unique.
func TestReasonNames(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	for r := DropReason(0); r < NumDropReasons; r++ {
		s := r.String()
		if !name.MatchString(s) || seen[s] {
			t.Errorf("drop reason %d: name %q", r, s)
		}
		seen[s] = true
	}
	for r := SlowReason(0); r < NumSlowReasons; r++ {
		s := r.String()
		if !name.MatchString(s) || seen[s] {
			t.Errorf("slow reason %d: name %q", r, s)
		}
		seen[s] = true
	}
	if got := DropReason(200).String(); got != "drop(200)" {
		t.Errorf("out of range: %q", got)
	}
}
