package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// noEnv hides every STEER_* variable from the test: Parse would apply them.
func noEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix+"_") {
			t.Setenv(k, "") // restores it afterwards
			os.Unsetenv(k)
		}
	}
}

// roundTrip marshals c, parses the result and requires the same config.
func roundTrip(t *testing.T, c *Config) []byte {
	t.Helper()
	y, err := Marshal(c)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	back, err := Parse(y)
	if err != nil {
		t.Fatalf("Parse(Marshal(c)): %v\n%s", err, y)
	}
	if !reflect.DeepEqual(c, back) {
		t.Fatalf("Parse(Marshal(c)) differs from c\nc:    %+v\nback: %+v\nYAML:\n%s", c, back, y)
	}
	return y
}

// Every example config, parsed, marshalled and parsed again, is the same.
func TestMarshalExamplesRoundTrip(t *testing.T) {
	noEnv(t)
	files, err := filepath.Glob("../../dpdk-config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			roundTrip(t, c)
		})
	}
}

// A config with every section set to non-default values (the tests' base
// tree) survives the round trip, and Marshal twice gives the same bytes.
func TestMarshalEverySection(t *testing.T) {
	noEnv(t)
	doc, err := yaml.Marshal(base())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(base): %v", err)
	}
	c.EAL.Args = []string{"--log-level=8", "--trace", "yes", "--base-virtaddr", "0x10", "--trace-dir", "#not a comment", "--huge-dir", "a: b"} // values YAML must quote
	c.Metrics.Token = "null"
	y := roundTrip(t, c)
	y2, _ := Marshal(c)
	if string(y) != string(y2) {
		t.Errorf("Marshal is not deterministic:\n%s\n---\n%s", y, y2)
	}
}

// Defaults is what Parse gives a document that sets only what it must, and
// DefaultPort is a ports entry with only name, device and addresses.
func TestDefaultsMatchParse(t *testing.T) {
	noEnv(t)
	parsed, err := Parse([]byte(`
eal: {lcores: "0-1"}
ports:
  - {name: lan, device: "net_pcap0,rx_pcap=in.pcap", addresses: ["10.0.0.1/24"]}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	c.EAL.Lcores = "0-1"
	p := DefaultPort()
	p.Name, p.Device, p.Addresses = "lan", "net_pcap0,rx_pcap=in.pcap", []string{"10.0.0.1/24"}
	c.Ports = []Port{p}
	c.Lcores = []Lcore{{Lcore: 1, Rx: []RxQueue{{Port: "lan", Queue: 0}}}}
	y, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	built, err := Parse(y)
	if err != nil {
		t.Fatalf("Parse(Marshal(Defaults + port)): %v\n%s", err, y)
	}
	if !reflect.DeepEqual(parsed, built) {
		t.Fatalf("defaults differ\nParse:    %+v\nDefaults: %+v", parsed, built)
	}
	// Before validation, Defaults holds exactly the settings, nothing derived.
	if d := Defaults(); d.EAL.LcoreIDs != nil || d.ARP.Reachable != 0 || d.ARP.ReachableTime != "30s" || !d.EAL.Huge {
		t.Errorf("Defaults: %+v", d)
	}
}

// Every key of the schema is written, derived fields are not, nil lists
// are left out and empty ones are written as [].
func TestMarshalKeys(t *testing.T) {
	c := Defaults()
	c.EAL.Args = []string{}
	c.Ports = []Port{DefaultPort()}
	c.Ports[0].Addresses = nil
	y, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(y, &tree); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	for _, k := range scalarKeys(reflect.TypeOf(Config{}), "") {
		path := strings.Split(k, ".")
		m := tree
		for _, sec := range path[:len(path)-1] {
			m, _ = m[sec].(map[string]any)
		}
		if _, ok := m[path[len(path)-1]]; !ok {
			t.Errorf("key %s missing from\n%s", k, y)
		}
	}
	if args, ok := tree["eal"].(map[string]any)["args"].([]any); !ok || len(args) != 0 {
		t.Errorf("eal.args: want [], got %#v", tree["eal"].(map[string]any)["args"])
	}
	port := tree["ports"].([]any)[0].(map[string]any)
	if _, ok := port["addresses"]; ok {
		t.Errorf("a nil list was written: %v", port)
	}
	for _, derived := range []string{"lcoreids", "prefixes", "reachable:", "gateway", "hw:"} {
		if strings.Contains(strings.ToLower(string(y)), derived) {
			t.Errorf("derived field %q written:\n%s", derived, y)
		}
	}
	for _, absent := range []string{"lcores", "routes", "neighbors"} {
		if _, ok := tree[absent]; ok {
			t.Errorf("%s written for a nil list", absent)
		}
	}
}

func TestMarshalNil(t *testing.T) {
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil): no error")
	}
}
