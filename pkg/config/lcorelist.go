package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

const (
	maxLcore = 127  // RTE_MAX_LCORE is 128 in Debian's DPDK build
	maxCPU   = 1023 // CPU_SETSIZE
)

// parseLcores returns the sorted, unique lcore ids named by an EAL lcore
// string in either of EAL's syntaxes:
//
//	-l:       "0-3", "0,2,4", "1-2,5"
//	--lcores: "0@0,1@1,2@1,3@0", "(4-5)@1", "1@(5-7)", "(0,1)@(0,1)", "0,2@1"
//
// The --lcores syntax is recognised by '@' or '('; in it an lcore may be
// named only once.
func parseLcores(s string) ([]int, error) {
	cpus, err := lcoreCPUs(s)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(cpus))
	for id := range cpus {
		ids = append(ids, id)
	}
	return uniqueSorted(ids), nil
}

// lcoreCPUs maps each lcore of an EAL lcore string (see parseLcores) to
// the CPUs its thread may run on: with -l, lcore N runs on CPU N; with
// --lcores, "L@C" runs the lcores L on the CPUs C, and a group without
// '@' runs on the CPUs of its own numbers ("(0,6)": both on CPUs 0 and 6).
func lcoreCPUs(s string) (map[int][]int, error) {
	if s == "" {
		return nil, fmt.Errorf("empty")
	}
	out := map[int][]int{}
	if !strings.ContainsAny(s, "@()") {
		ids, err := parseSet(s, maxLcore, "lcore")
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[id] = []int{id}
		}
		return out, nil
	}
	elems, err := splitTop(s)
	if err != nil {
		return nil, err
	}
	for _, e := range elems {
		lset, cset, hasCPU := strings.Cut(e, "@")
		lc, err := parseGroup(lset, maxLcore, "lcore")
		if err != nil {
			return nil, err
		}
		cpus := lc
		if hasCPU {
			if cpus, err = parseGroup(cset, maxCPU, "cpu"); err != nil {
				return nil, err
			}
		}
		for _, id := range lc {
			if _, dup := out[id]; dup {
				return nil, fmt.Errorf("lcore %d is mapped twice", id)
			}
			out[id] = uniqueSorted(slices.Clone(cpus))
		}
	}
	return out, nil
}

// splitTop splits s at the commas outside parentheses.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("nested parentheses")
			}
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced parentheses")
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parentheses")
	}
	return append(out, s[start:]), nil
}

// parseGroup parses one side of an --lcores element: "3", "4-5" or "(0,2-3)".
func parseGroup(s string, max int, what string) ([]int, error) {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return parseSet(s[1:len(s)-1], max, what)
	}
	if strings.ContainsAny(s, "(),@") {
		return nil, fmt.Errorf("bad %s set %q: expected N, N-M or (N,M-K)", what, s)
	}
	return parseSet(s, max, what)
}

// parseSet parses a comma-separated list of numbers and ranges ("0-3,5").
func parseSet(s string, max int, what string) ([]int, error) {
	var ids []int
	for _, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parseID(lo, max, what)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseID(hi, max, what); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %s is reversed", item)
			}
		}
		for id := a; id <= b; id++ {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func parseID(s string, max int, what string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty %s number", what)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a valid %s number", s, what)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, fmt.Errorf("%s %s is out of range 0..%d", what, s, max)
	}
	return n, nil
}

func uniqueSorted(ids []int) []int {
	slices.Sort(ids)
	return slices.Compact(ids)
}
