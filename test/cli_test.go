package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// badConfig has four mistakes: an unknown top-level key, an unknown port
// key, an lcore polling a port that does not exist, and a bad CIDR (plus a
// bad route prefix).
const badConfig = `eal: {lcores: "0-1", main_lcore: 0, huge: false, memory_mb: 256, file_prefix: PREFIX}
bogus_section: {x: 1}
ports:
  - {name: lan, device: "net_pcap0,rx_pcap=lan-in.pcap,tx_pcap=lan-out.pcap", rx_queues: 1, tx_queues: 1, rx_queuez: 3, addresses: ["10.0.0.1/24"]}
  - {name: wan, device: "net_pcap1,rx_pcap=wan-in.pcap,tx_pcap=wan-out.pcap", rx_queues: 1, tx_queues: 1, addresses: ["203.0.113.1/33"]}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}, {port: wna, queue: 0}]}
routes:
  - {prefix: "198.51.100.0/99", via: "203.0.113.2"}
neighbors:
  - {ip: "10.0.0.2", mac: "02:00:00:00:00:02", port: lan}
  - {ip: "203.0.113.2", mac: "02:00:00:00:00:03", port: wan}
log: {level: info}
`

// problemLine finds the output line naming path (and containing all of
// also), e.g. `ports[1].addresses[0]: ... (value "203.0.113.1/33")`.
func problemLine(out, path string, also ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, path) {
			continue
		}
		ok := true
		for _, a := range also {
			ok = ok && strings.Contains(l, a)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestValidate(t *testing.T) {
	t.Run("good", func(t *testing.T) {
		b := NewBed(t)
		cfg := b.WriteConfig(Standard())
		if r := b.Run("validate", "--config", cfg); r.Code != 0 {
			t.Errorf("valid config: want exit 0\n%s\nconfig:\n%s", r, b.YAML(Standard()))
		}
	})
	// Every example is valid and warns of nothing: they are what operators
	// copy.
	t.Run("examples", func(t *testing.T) {
		b := NewBed(t)
		examples, err := filepath.Glob("../dpdk-config/*.yaml")
		if err != nil || len(examples) < 5 {
			t.Fatalf("dpdk-config/*.yaml: %v %v", examples, err)
		}
		for _, ex := range examples {
			abs, _ := filepath.Abs(ex)
			r := b.Run("validate", "--config", abs)
			if r.Code != 0 || strings.Contains(r.Stderr, "warning") {
				t.Errorf("%s: want exit 0 and no warning\n%s", ex, r)
			}
		}
	})
	// Two busy-polling lcores on one CPU: valid, with a warning that names
	// eal.lcores and the CPU; adaptive lcores may share (they yield when
	// idle): no warning.
	t.Run("shared_cpu_warning", func(t *testing.T) {
		b := NewBed(t)
		c := Standard()
		c.Lcores = "0@0,1@1,2@1,3@0"
		c.LcoreMap = []LcoreMap{{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}}, {Lcore: 2, Worker: true}, {Lcore: 3, Worker: true}}
		c.Extra = "poll: {mode: busy}\n"
		r := b.Run("validate", "--config", b.WriteConfig(c))
		if r.Code != 0 || !strings.Contains(r.Stderr, "warning: eal.lcores") || !strings.Contains(r.Stderr, "lcores 1 and 2 busy-poll CPU 1") {
			t.Errorf("want exit 0 and a warning for lcores 1 and 2 on CPU 1\n%s", r)
		}
		c.Extra = "poll: {mode: adaptive}\n"
		if r := b.Run("validate", "--config", b.WriteConfig(c)); r.Code != 0 || strings.Contains(r.Stderr, "warning") {
			t.Errorf("adaptive lcores sharing a CPU: want exit 0 and no warning\n%s", r)
		}
	})
	t.Run("mistakes", func(t *testing.T) {
		b := NewBed(t)
		cfg := b.WriteFile("bad.yaml", strings.ReplaceAll(badConfig, "PREFIX", b.Prefix))
		r := b.Run("validate", "--config", cfg)
		if r.Code != 1 {
			t.Fatalf("want exit 1\n%s", r)
		}
		out := r.Output()
		for _, c := range []struct {
			path string
			also []string
		}{
			{"bogus_section", nil},
			{"rx_queuez", nil},
			{"lcores[0].rx[1].port", []string{`"wna"`}},
			{"ports[1].addresses[0]", []string{`"203.0.113.1/33"`}},
			{"routes[0].prefix", []string{`"198.51.100.0/99"`}},
		} {
			if !problemLine(out, c.path, c.also...) {
				t.Errorf("no line naming %s (with %q) in:\n%s", c.path, c.also, out)
			}
		}
	})
	t.Run("missing_file", func(t *testing.T) {
		b := NewBed(t)
		if r := b.Run("validate", "--config", b.Path("nope.yaml")); r.Code != 1 {
			t.Errorf("missing config file: want exit 1\n%s", r)
		}
	})
}

// TestRunInvalidConfig: `steer run` rejects a bad config before DPDK
// starts: exit 1, fast, no EAL runtime dir for the file prefix.
func TestRunInvalidConfig(t *testing.T) {
	b := NewBed(t)
	cfg := b.WriteFile("bad.yaml", strings.ReplaceAll(badConfig, "PREFIX", b.Prefix))
	r := b.Run("run", "--config", cfg, "--exit-on-idle", idle.String(), "--stats-file", b.Path("stats.json"))
	if r.Code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	if !problemLine(r.Output(), "lcores[0].rx[1].port", `"wna"`) {
		t.Errorf("run does not name the problems like validate:\n%s", r)
	}
	if r.Elapsed > 5*time.Second {
		t.Errorf("took %v to reject a bad config", r.Elapsed)
	}
	if _, err := os.Stat(b.RuntimeDir()); err == nil {
		t.Errorf("%s exists: DPDK was initialised for an invalid config", b.RuntimeDir())
	}
}

func TestVersion(t *testing.T) {
	b := NewBed(t)
	r := b.Run("version")
	if r.Code != 0 || !strings.Contains(r.Stdout, "steer") {
		t.Errorf("want exit 0 and a version line naming steer\n%s", r)
	}
}

// TestStartupFailureRxQueues: asking for more RX queues than the pcap
// device has (one rx_pcap) fails start-up with exit 1 and a message that
// names rx_queues.
func TestStartupFailureRxQueues(t *testing.T) {
	b := NewBed(t)
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	c := Standard()
	c.Ports[0].RxQueues = 2
	c.LcoreMap[0].Rx = append(c.LcoreMap[0].Rx, RxQ{"lan", 1})
	cfg := b.WriteConfig(c)
	r := b.Run("run", "--config", cfg, "--exit-on-idle", idle.String(), "--stats-file", b.Path("stats.json"))
	if r.Code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	if !strings.Contains(r.Output(), "rx_queues") {
		t.Errorf("no message naming rx_queues\n%s", r)
	}
}
