package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// base returns a fresh valid configuration as the decoded YAML tree, for
// tests to break one thing at a time with set.
func base() map[string]any {
	return map[string]any{
		"eal": map[string]any{
			"lcores":      "0-3",
			"main_lcore":  0,
			"huge":        false,
			"memory_mb":   256,
			"file_prefix": "steer-test",
			"args":        []any{"--log-level=8", "--no-telemetry"},
		},
		"ports": []any{
			map[string]any{
				"name": "lan", "device": "0000:03:00.0", "rx_queues": 2, "tx_queues": 2,
				"rx_desc": 512, "tx_desc": 2048, "mtu": 9000, "steering": "rss",
				"addresses": []any{"10.0.0.1/24", "10.0.1.1/24"},
			},
			map[string]any{
				"name": "wan", "device": "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap",
				"addresses": []any{"192.0.2.1/30"},
			},
		},
		"lcores": []any{
			map[string]any{"lcore": 1, "rx": []any{
				map[string]any{"port": "lan", "queue": 0},
				map[string]any{"port": "wan", "queue": 0},
			}},
			map[string]any{"lcore": 2, "rx": []any{map[string]any{"port": "lan", "queue": 1}}, "worker": true},
			map[string]any{"lcore": 3, "worker": true},
		},
		"mempool":     map[string]any{"mbufs": 8191, "cache": 128, "data_room": 2176},
		"distributor": map[string]any{"ring_size": 2048, "reta_size": 256, "burst": 16, "on_full": "backpressure"},
		"routes": []any{
			map[string]any{"prefix": "10.1.0.0/16", "via": "10.0.0.2"},
			map[string]any{"prefix": "0.0.0.0/0", "via": "192.0.2.2"},
		},
		"neighbors": []any{
			map[string]any{"ip": "10.0.0.2", "mac": "02:00:00:00:00:02", "port": "lan"},
			map[string]any{"ip": "192.0.2.2", "mac": "02-00-00-00-00-03", "port": "wan"},
		},
		"metrics": map[string]any{"listen": "127.0.0.1:9464"},
		"log":     map[string]any{"level": "warn", "format": "json"},
	}
}

// set replaces the value at path ("ports[1].addresses[0]") in tree; a nil
// value deletes a mapping key.
func set(t *testing.T, tree map[string]any, path string, val any) {
	t.Helper()
	var cur any = tree
	parts := strings.Split(path, ".")
	for i, part := range parts {
		name, idxs := part, []int(nil)
		if k := strings.IndexByte(part, '['); k >= 0 {
			name = part[:k]
			for _, s := range strings.Split(strings.TrimSuffix(part[k+1:], "]"), "][") {
				n, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("set %s: bad index in %q", path, part)
				}
				idxs = append(idxs, n)
			}
		}
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("set %s: %q is not in a mapping", path, name)
		}
		last := i == len(parts)-1
		if last && len(idxs) == 0 {
			if val == nil {
				delete(m, name)
			} else {
				m[name] = val
			}
			return
		}
		if _, ok := m[name]; !ok && !last && len(idxs) == 0 {
			m[name] = map[string]any{}
		}
		cur = m[name]
		for j, n := range idxs {
			l, ok := cur.([]any)
			if !ok || n >= len(l) {
				t.Fatalf("set %s: no element %d in %q", path, n, name)
			}
			if last && j == len(idxs)-1 {
				l[n] = val
				return
			}
			cur = l[n]
		}
	}
}

// get returns the value at a simple path ("eal", "ports[0]").
func get(t *testing.T, tree map[string]any, path string) any {
	t.Helper()
	name, idx, hasIdx := strings.Cut(strings.TrimSuffix(path, "]"), "[")
	v := tree[name]
	if hasIdx {
		n, _ := strconv.Atoi(idx)
		v = v.([]any)[n]
	}
	return v
}

// yamlOf renders a tree as YAML (JSON is YAML).
func yamlOf(t *testing.T, tree map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problemsOf parses and returns the Problems, failing on any other error.
func problemsOf(t *testing.T, yaml []byte) Problems {
	t.Helper()
	cfg, err := Parse(yaml)
	if err == nil {
		if cfg == nil {
			t.Fatal("Parse returned nil config and nil error")
		}
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse error is %T, not Problems: %v", err, err)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with problems")
	}
	if len(ps) == 0 {
		t.Fatal("Parse returned an empty Problems as error")
	}
	return ps
}

// mustParse parses yaml that must be valid.
func mustParse(t *testing.T, yaml []byte) *Config {
	t.Helper()
	cfg, err := Parse(yaml)
	if err != nil {
		t.Fatalf("valid config rejected:\n%v", err)
	}
	return cfg
}

// find returns the problem at field whose message contains msg.
func find(ps Problems, field, msg string) (Problem, bool) {
	for _, p := range ps {
		if p.Field == field && strings.Contains(p.Msg, msg) {
			return p, true
		}
	}
	return Problem{}, false
}

func dump(ps Problems) string {
	if len(ps) == 0 {
		return "  (no problems)"
	}
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s\n", p.Error())
	}
	return b.String()
}

func mustSettings(t *testing.T, yaml []byte) map[string]any {
	t.Helper()
	m, err := readSettings(yaml)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
