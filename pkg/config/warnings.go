package config

import (
	"fmt"
	"sort"
	"strings"
)

// Warnings are what a valid config gets wrong for speed: steer runs with
// it, correctly, but an operator should know. Each names the field and
// the value. validate prints them, run logs them.
func (c *Config) Warnings() []string {
	var out []string
	out = append(out, c.sharedCPUs()...)
	return out
}

// sharedCPUs: an lcore with poll: busy polls without pause, so two of them
// on one CPU take turns by time slice (milliseconds): together they
// forward about what one would, and a packet can wait a whole slice.
// Adaptive and interrupt lcores give the CPU up when idle, and the main
// lcore mostly sleeps: they are not counted.
func (c *Config) sharedCPUs() []string {
	cpus, err := lcoreCPUs(c.EAL.Lcores)
	if err != nil {
		return nil // validation names it
	}
	pollers := map[int][]int{} // CPU -> polling lcores that may run there
	for _, l := range c.Lcores {
		if l.PollMode != PollBusy && l.PollMode != "" {
			continue
		}
		for _, cpu := range cpus[l.Lcore] {
			pollers[cpu] = append(pollers[cpu], l.Lcore)
		}
	}
	var shared []int
	for cpu, ls := range pollers {
		if len(ls) > 1 {
			shared = append(shared, cpu)
		}
	}
	sort.Ints(shared)
	var out []string
	for _, cpu := range shared {
		var ls []string
		for _, l := range pollers[cpu] {
			ls = append(ls, fmt.Sprint(l))
		}
		out = append(out, fmt.Sprintf("eal.lcores %q: lcores %s busy-poll CPU %d: they take turns by time slice "+
			"(milliseconds), so together they forward about what one would and a packet can wait a whole slice; "+
			"give each busy-polling lcore a CPU of its own, or let them give the CPU up when idle (poll: adaptive or interrupt)", c.EAL.Lcores, strings.Join(ls, " and "), cpu))
	}
	return out
}
