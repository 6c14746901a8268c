package config

import (
	"strings"
	"testing"
)

func TestWarningsSharedCPUs(t *testing.T) {
	cases := []struct {
		lcores string
		lmap   []int
		want   []string // one warning per entry, each with these words
	}{
		{"0-3", []int{1, 2, 3}, nil},
		{"0@0,1@1,2@0", []int{1, 2}, nil}, // the worker shares with the main lcore only
		{"0@0,1@1,2@1,3@0", []int{1, 2, 3}, []string{"lcores 1 and 2 busy-poll CPU 1"}},
		{"0@0,1@0,2@0,3@1", []int{1, 2, 3}, []string{"lcores 1 and 2 busy-poll CPU 0"}},
		{"0,1@(0,1),2@1", []int{1, 2}, []string{"lcores 1 and 2 busy-poll CPU 1"}},
		{"(1,2)@(4,5),0@0", []int{1, 2}, []string{"CPU 4", "CPU 5"}},
		{"0@0,1@1,2@1", []int{1, -2}, nil}, // lcore 2 adaptive: it yields when idle
	}
	for _, c := range cases {
		cfg := &Config{EAL: EAL{Lcores: c.lcores}}
		for _, l := range c.lmap { // negative: the lcore polls adaptive
			if l < 0 {
				cfg.Lcores = append(cfg.Lcores, Lcore{Lcore: -l, PollMode: PollAdaptive})
				continue
			}
			cfg.Lcores = append(cfg.Lcores, Lcore{Lcore: l, PollMode: PollBusy})
		}
		got := cfg.Warnings()
		if len(got) != len(c.want) {
			t.Errorf("%s, map %v: warnings %q, want %d", c.lcores, c.lmap, got, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i], w) || !strings.Contains(got[i], "eal.lcores") {
				t.Errorf("%s: warning %q, want it to name eal.lcores and say %q", c.lcores, got[i], w)
			}
		}
	}
}
