package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid config: everything else is defaulted.
const minimal = `
eal:
  lcores: "0-1"
ports:
  - name: lan
    device: net_null0
    addresses: ["10.0.0.1/24"]
lcores:
  - lcore: 1
    rx: [{port: lan, queue: 0}]
`

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, []byte(minimal))
	want := Config{
		EAL: EAL{Lcores: "0-1", MainLcore: 0, Huge: true, MemoryMB: 512, FilePrefix: "steer", LcoreIDs: []int{0, 1}},
		Ports: []Port{{
			Name: "lan", Device: "net_null0", RxQueues: 1, TxQueues: 1, RxDesc: 1024, TxDesc: 1024,
			MTU: 1500, Steering: "auto", Addresses: []string{"10.0.0.1/24"}, Prefixes: cfg.Ports[0].Prefixes,
		}},
		Lcores:  []Lcore{{Lcore: 1, Rx: []RxQueue{{Port: "lan", Queue: 0}}, PollMode: "adaptive"}},
		Poll:    Poll{Mode: "adaptive", MaxSleep: "2ms", Sleep: 2 * time.Millisecond},
		Mempool: Mempool{Mbufs: 0, Cache: 256, DataRoom: 2176},
		Distributor: Distributor{RingSize: 1024, RetaSize: 128, Burst: 32, OnFull: "drop", MaxStall: "100us", Hash: "auto",
			Balance: Balance{Mode: "auto", Interval: "500ms", Busy: 0.9, MinGain: 0.05, Hold: "2s",
				Every: 500 * time.Millisecond, HoldFor: 2 * time.Second},
			Stall: 100 * time.Microsecond},
		SlowPath: SlowPath{RingSize: 1024, Rate: 20000},
		FIB:      FIB{MaxRoutes: 1 << 16, Tbl8Groups: 1 << 12},
		ARP: ARP{ReachableTime: "30s", StaleTime: "60s", RetransTime: "1s", FailedHold: "20s",
			MaxRetries: 3, MaxPending: 8, MaxEntries: 4096,
			Reachable: 30 * time.Second, Stale: time.Minute, Retrans: time.Second, Hold: 20 * time.Second},
		ICMP:    ICMP{Rate: 100, Burst: 50},
		Metrics: Metrics{Listen: "127.0.0.1:9464"},
		Log:     Log{Level: "info", Format: "auto"},
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *cfg, want)
	}
	if len(cfg.Ports[0].Prefixes) != 1 || cfg.Ports[0].Prefixes[0].String() != "10.0.0.1/24" {
		t.Errorf("Prefixes = %v", cfg.Ports[0].Prefixes)
	}
}

// Explicit values that equal the zero value are kept where zero is valid,
// and per-port zeros mean "unset".
func TestDefaultsExplicitZero(t *testing.T) {
	y := strings.Replace(minimal, `lcores: "0-1"`, "lcores: \"0-1\"\n  huge: false\n  memory_mb: 160", 1)
	cfg := mustParse(t, []byte(y+"mempool: {cache: 0}\nmetrics: {listen: \"\"}\n"))
	if cfg.Mempool.Cache != 0 || cfg.Mempool.DataRoom != 2176 {
		t.Errorf("mempool = %+v, want cache 0 kept, data_room defaulted", cfg.Mempool)
	}
	if cfg.EAL.Huge || cfg.EAL.MemoryMB != 160 || cfg.EAL.FilePrefix != "steer" {
		t.Errorf("eal = %+v", cfg.EAL)
	}
	if cfg.Metrics.Listen != "" {
		t.Errorf("metrics.listen = %q, want empty (disabled) kept", cfg.Metrics.Listen)
	}

	// In a port, a key left out takes its default, a zero given is checked.
	_, err := Parse([]byte(strings.Replace(minimal, "device: net_null0", "device: net_null0\n    rx_queues: 0\n    mtu: 0\n    steering: \"\"", 1)))
	for _, f := range []string{"ports[0].rx_queues", "ports[0].mtu", "ports[0].steering"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("explicit zeros: %v, want a problem at %s", err, f)
		}
	}
	if p := DefaultPort(); p.RxQueues != 1 || p.TxQueues != 1 || p.MTU != 1500 || p.RxDesc != 1024 || p.Steering != "auto" {
		t.Errorf("DefaultPort %+v", p)
	}
}

func TestUnknownKeys(t *testing.T) {
	cases := []struct {
		name, yaml, field, msg string
	}{
		{"top level", minimal + "frobnicate: 1\n", "frobnicate", "unknown key"},
		{"top level typo", minimal + "neighbours: []\n", "neighbours", `unknown key; did you mean "neighbors"?`},
		{"eal", strings.Replace(minimal, `lcores: "0-1"`, "lcores: \"0-1\"\n  hugepages: true", 1), "eal.hugepages", "unknown key"},
		{"port", strings.Replace(minimal, "device: net_null0", "devcie: net_null0\n    device: net_null0", 1), "ports[0].devcie", `unknown key; did you mean "device"?`},
		{"port rx_queus", strings.Replace(minimal, "device: net_null0", "device: net_null0\n    rx_queus: 2", 1), "ports[0].rx_queus", `unknown key; did you mean "rx_queues"?`},
		{"lcore rx entry", strings.Replace(minimal, "queue: 0", "queue: 0, qeue: 1", 1), "lcores[0].rx[0].qeue", `did you mean "queue"?`},
		{"no suggestion for far names", minimal + "log: {colour: true}\n", "log.colour", "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := problemsOf(t, []byte(tc.yaml))
			if _, ok := find(ps, tc.field, tc.msg); !ok {
				t.Fatalf("want %s: %s, got:\n%s", tc.field, tc.msg, dump(ps))
			}
			if !strings.Contains(ps.Error(), tc.field+": unknown key") {
				t.Errorf("Error() lacks %q:\n%s", tc.field+": unknown key", ps.Error())
			}
			if len(ps) != 1 {
				t.Errorf("want exactly one problem, got:\n%s", dump(ps))
			}
		})
	}
	t.Run("far names get no suggestion", func(t *testing.T) {
		ps := problemsOf(t, []byte(minimal+"log: {colour: true}\n"))
		if strings.Contains(ps[0].Msg, "did you mean") {
			t.Errorf("unexpected suggestion: %s", ps[0].Error())
		}
	})
}

func TestWrongTypes(t *testing.T) {
	cases := []struct {
		name, yaml, field, msg, value string
	}{
		{"string for int", strings.Replace(minimal, `lcores: "0-1"`, "lcores: \"0-1\"\n  memory_mb: lots", 1), "eal.memory_mb", "expected an integer, got a string", "lots"},
		{"quoted number for int", strings.Replace(minimal, "queue: 0", `queue: "0"`, 1), "lcores[0].rx[0].queue", "expected an integer, got a string", "0"},
		{"fraction for int", strings.Replace(minimal, "device: net_null0", "device: net_null0\n    mtu: 1500.5", 1), "ports[0].mtu", "expected an integer", "1500.5"},
		{"string for bool", strings.Replace(minimal, `lcores: "0-1"`, "lcores: \"0-1\"\n  huge: \"yes\"", 1), "eal.huge", "expected true or false, got a string", "yes"},
		{"int for string", strings.Replace(minimal, `lcores: "0-1"`, "lcores: 1", 1), "eal.lcores", "expected a string, got an integer; quote it", "1"},
		{"bool for string", minimal + "log: {level: true}\n", "log.level", "expected a string, got a boolean", "true"},
		{"string for list", strings.Replace(minimal, `addresses: ["10.0.0.1/24"]`, `addresses: "10.0.0.1/24"`, 1), "ports[0].addresses", "expected a list, got a string", "10.0.0.1/24"},
		{"string for list of mappings", minimal + "routes: 10.1.0.0/16\n", "routes", "expected a list of mappings, got a string", "10.1.0.0/16"},
		{"list for mapping", minimal + "metrics: [a]\n", "metrics", "expected a mapping, got a list", ""},
		{"string for list element", strings.Replace(minimal, "rx: [{port: lan, queue: 0}]", "rx: [lan]", 1), "lcores[0].rx[0]", "expected a mapping, got a string", "lan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := problemsOf(t, []byte(tc.yaml))
			p, ok := find(ps, tc.field, tc.msg)
			if !ok {
				t.Fatalf("want %s: %s, got:\n%s", tc.field, tc.msg, dump(ps))
			}
			if p.Value != tc.value {
				t.Errorf("value = %q, want %q", p.Value, tc.value)
			}
		})
	}
}

// A field that failed to decode is not reported again by validation.
func TestNoFollowOnProblems(t *testing.T) {
	ps := problemsOf(t, []byte(strings.Replace(minimal, `lcores: "0-1"`, "lcores: [0, 1]", 1)))
	if len(ps) != 1 || ps[0].Field != "eal.lcores" || !strings.Contains(ps[0].Msg, "expected a string") {
		t.Errorf("want only the type problem on eal.lcores, got:\n%s", dump(ps))
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	tree := base()
	set(t, tree, "eal.memory_mb", 0)
	set(t, tree, "ports[0].mtu", 20000)
	set(t, tree, "lcores[2].lcore", 9)
	set(t, tree, "routes[0].via", "172.16.0.1")
	set(t, tree, "log.format", "xml")
	ps := problemsOf(t, yamlOf(t, tree))
	want := []string{"eal.memory_mb", "ports[0].mtu", "lcores[2].lcore", "routes[0].via", "log.format"}
	var got []string
	for _, p := range ps {
		got = append(got, p.Field)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v, want %v\n%s", got, want, dump(ps))
	}
	lines := strings.Split(ps.Error(), "\n")
	if len(lines) != 5 {
		t.Fatalf("Error() has %d lines, want 5:\n%s", len(lines), ps.Error())
	}
	for i, f := range want {
		if !strings.HasPrefix(lines[i], f+": ") {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], f+": ")
		}
	}
}

// Decode and validation problems are reported together.
func TestDecodeAndValidationTogether(t *testing.T) {
	y := strings.Replace(minimal, "device: net_null0", "device: net_null0\n    rx_queus: 2\n    mtu: big", 1) +
		"log: {level: loud}\nmempool: {data_room: 10}\n"
	ps := problemsOf(t, []byte(y))
	for _, w := range []struct{ field, msg string }{
		{"ports[0].rx_queus", "unknown key"},
		{"ports[0].mtu", "expected an integer"},
		{"log.level", "must be one of"},
		{"mempool.data_room", "1024..65535"},
	} {
		if _, ok := find(ps, w.field, w.msg); !ok {
			t.Errorf("missing %s: %s in:\n%s", w.field, w.msg, dump(ps))
		}
	}
	if len(ps) != 4 {
		t.Errorf("want 4 problems, got:\n%s", dump(ps))
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Run("keys in the file", func(t *testing.T) {
		t.Setenv("STEER_EAL_HUGE", "false")  // the file says true
		t.Setenv("STEER_LOG_LEVEL", "debug") // the file says warn
		y := strings.Replace(minimal, `lcores: "0-1"`, "lcores: \"0-1\"\n  huge: true", 1)
		cfg := mustParse(t, []byte(y+"log: {level: warn}\n"))
		if cfg.EAL.Huge {
			t.Error("STEER_EAL_HUGE=false did not override huge: true from the file")
		}
		if cfg.Log.Level != "debug" {
			t.Errorf("log.level = %q, want debug from STEER_LOG_LEVEL", cfg.Log.Level)
		}
	})
	t.Run("defaulted keys absent from file", func(t *testing.T) {
		t.Setenv("STEER_EAL_HUGE", "false")
		t.Setenv("STEER_LOG_LEVEL", "debug")
		t.Setenv("STEER_MEMPOOL_CACHE", "64")
		cfg := mustParse(t, []byte(minimal))
		if cfg.EAL.Huge || cfg.Log.Level != "debug" || cfg.Mempool.Cache != 64 {
			t.Errorf("env not applied: huge=%v level=%q cache=%d", cfg.EAL.Huge, cfg.Log.Level, cfg.Mempool.Cache)
		}
	})
	t.Run("key without default absent from file", func(t *testing.T) {
		t.Setenv("STEER_EAL_LCORES", "0-2")
		cfg := mustParse(t, []byte(strings.Replace(minimal, `lcores: "0-1"`, "file_prefix: x", 1)))
		if cfg.EAL.Lcores != "0-2" || !reflect.DeepEqual(cfg.EAL.LcoreIDs, []int{0, 1, 2}) {
			t.Errorf("eal.lcores = %q (%v), want 0-2 from STEER_EAL_LCORES", cfg.EAL.Lcores, cfg.EAL.LcoreIDs)
		}
	})
	t.Run("list of words", func(t *testing.T) {
		t.Setenv("STEER_EAL_ARGS", "--log-level 8  --no-telemetry")
		cfg := mustParse(t, []byte(minimal))
		if want := []string{"--log-level", "8", "--no-telemetry"}; !reflect.DeepEqual(cfg.EAL.Args, want) {
			t.Errorf("eal.args = %q, want %q", cfg.EAL.Args, want)
		}
	})
	t.Run("empty variable is ignored", func(t *testing.T) {
		t.Setenv("STEER_LOG_LEVEL", "")
		if cfg := mustParse(t, []byte(minimal)); cfg.Log.Level != "info" {
			t.Errorf("log.level = %q, want the default", cfg.Log.Level)
		}
	})
	t.Run("bad value names field and variable", func(t *testing.T) {
		t.Setenv("STEER_EAL_MEMORY_MB", "lots")
		t.Setenv("STEER_EAL_HUGE", "maybe")
		ps := problemsOf(t, []byte(minimal))
		if p, ok := find(ps, "eal.memory_mb", "not an integer from STEER_EAL_MEMORY_MB"); !ok || p.Value != "lots" {
			t.Errorf("want eal.memory_mb problem naming STEER_EAL_MEMORY_MB, got:\n%s", dump(ps))
		}
		if _, ok := find(ps, "eal.huge", "not a boolean from STEER_EAL_HUGE"); !ok {
			t.Errorf("want eal.huge problem naming STEER_EAL_HUGE, got:\n%s", dump(ps))
		}
		if len(ps) != 2 {
			t.Errorf("want 2 problems, got:\n%s", dump(ps))
		}
	})
	t.Run("env value is validated", func(t *testing.T) {
		t.Setenv("STEER_LOG_FORMAT", "xml")
		ps := problemsOf(t, []byte(minimal))
		if _, ok := find(ps, "log.format", "auto, console, json"); !ok {
			t.Errorf("got:\n%s", dump(ps))
		}
	})
	t.Run("lists of mappings stay in the file", func(t *testing.T) {
		t.Setenv("STEER_PORTS", "lan")
		ps := problemsOf(t, []byte(minimal))
		if _, ok := find(ps, "ports", "cannot be set from the environment (STEER_PORTS)"); !ok {
			t.Errorf("got:\n%s", dump(ps))
		}
	})
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "steer.conf") // any extension: the content is YAML
	if err := os.WriteFile(good, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Ports[0].Name != "lan" {
		t.Errorf("Ports = %+v", cfg.Ports)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(minimal+"log: {level: loud}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	ps, ok := err.(Problems) // the command type-asserts exactly this
	if !ok || len(ps) != 1 || ps[0].Field != "log.level" {
		t.Errorf("Load(bad) = %T %v, want Problems with log.level", err, err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || errors.As(err, new(Problems)) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a plain not-exist error", err)
	}
}

func TestSyntaxError(t *testing.T) {
	for _, y := range []string{"eal: [\n", "- a\n- b\n", "eal:\n\tlcores: 1\n"} {
		_, err := Parse([]byte(y))
		if err == nil || errors.As(err, new(Problems)) || !strings.Contains(err.Error(), "parse config") {
			t.Errorf("Parse(%q) = %v, want a parse error", y, err)
		}
	}
}

func TestEmptyDocument(t *testing.T) {
	ps := problemsOf(t, nil)
	for _, f := range []string{"eal.lcores", "ports", "lcores"} {
		if _, ok := find(ps, f, ""); !ok {
			t.Errorf("missing problem at %s in:\n%s", f, dump(ps))
		}
	}
	if len(ps) != 3 {
		t.Errorf("want 3 problems, got:\n%s", dump(ps))
	}
}

// Keys are matched case-insensitively (viper lower-cases them).
func TestKeyCase(t *testing.T) {
	cfg := mustParse(t, []byte(strings.Replace(strings.Replace(minimal, "eal:", "EAL:", 1), "name: lan", "Name: lan", 1)))
	if cfg.EAL.Lcores != "0-1" || cfg.Ports[0].Name != "lan" {
		t.Errorf("upper-case keys not read: %+v %+v", cfg.EAL, cfg.Ports)
	}
}

// TestPollModes: an lcore's own poll setting wins over poll.mode, which the
// others take.
func TestPollModes(t *testing.T) {
	cfg := mustParse(t, []byte(`
eal: {lcores: "0-2"}
ports:
  - {name: lan, device: net_null0, addresses: ["10.0.0.1/24"], rx_queues: 2}
poll: {mode: busy, max_sleep: 2ms}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}], poll: interrupt}
  - {lcore: 2, rx: [{port: lan, queue: 1}]}
`))
	if got := []string{cfg.Lcores[0].PollMode, cfg.Lcores[1].PollMode}; got[0] != "interrupt" || got[1] != "busy" {
		t.Errorf("poll modes %v, want [interrupt busy]", got)
	}
	if cfg.Poll.Sleep != 2*time.Millisecond {
		t.Errorf("poll.max_sleep %v, want 2ms", cfg.Poll.Sleep)
	}
}
