package e2e

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCLIUsageErrors: a command line steer cannot act on exits 2, prints
// nothing on stdout and points at the command's help on stderr, so a
// script never takes a typo for success. No DPDK, no running steer.
func TestCLIUsageErrors(t *testing.T) {
	b := NewBed(t)
	for _, tc := range []struct {
		args []string
		say  string // in stderr
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "steer"`},
		{[]string{}, "steer needs a subcommand"},
		{[]string{"routes"}, "steer routes needs a subcommand: add, del, list"},
		{[]string{"routes", "lst"}, `unknown command "lst" for "steer routes" (did you mean "list"?)`},
		{[]string{"routes", "remove", "192.0.2.0/24"}, `unknown command "remove" for "steer routes"`},
		{[]string{"routes", "show"}, `unknown command "show"`},
		{[]string{"neighbors"}, "steer neighbors needs a subcommand"},
		{[]string{"config"}, "steer config needs a subcommand: dump"},
		{[]string{"routes", "list", "extra"}, `unknown command "extra" for "steer routes list"`},
		{[]string{"routes", "del"}, "accepts 1 arg(s), received 0"},
		{[]string{"stats", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"routes", "list", "-o", "yaml"}, `--output: "yaml" is neither table nor json`},
		{[]string{"routes", "list", "--api", "127.0.0.1"}, `--api: "127.0.0.1" has no port`},
		{[]string{"routes", "list", "--api", "ftp://127.0.0.1:21"}, "--api"},
	} {
		r := b.Run(tc.args...)
		if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, tc.say) || !strings.Contains(r.Stderr, "--help' for usage") {
			t.Errorf("want exit 2, no stdout, and stderr saying %q and pointing at --help\n%s", tc.say, r)
		}
	}
	if r := b.Run("--version"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "steer ") || !strings.Contains(r.Stdout, "DPDK") {
		t.Errorf("steer --version\n%s", r)
	}
	r := b.Run("version", "-o", "json")
	var v struct{ Version, DPDK string }
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.Version == "" || !strings.Contains(v.DPDK, "DPDK") {
		t.Errorf("steer version -o json\n%s", r)
	}
	// Without --config, run and validate read the package's default file.
	if _, err := os.Stat("/etc/steer/steer.yaml"); os.IsNotExist(err) {
		r := b.Run("validate")
		if r.Code != 2 || !strings.Contains(r.Stderr, "no --config given, and /etc/steer/steer.yaml does not exist") {
			t.Errorf("validate without a config anywhere\n%s", r)
		}
	}
}

// TestCLIAgainstRunningSteer drives a running steer as a script would:
// host:port and $STEER_API for the address, -o json, the token's error,
// `config dump` of API changes as a config that validates and runs, and
// `reload` with its outcome in the exit code.
func TestCLIAgainstRunningSteer(t *testing.T) {
	b := NewBed(t)
	api, section := withAPI(t, "t0ken")
	addr := strings.TrimPrefix(api.base, "http://")
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	c := Standard()
	c.Extra = section
	cfg := b.WriteConfig(c)
	p := b.Start("run", "--config", cfg)
	api.waitReady(p)

	run := func(want int, args ...string) Result {
		t.Helper()
		r := b.Run(args...)
		if r.Code != want {
			t.Fatalf("want exit %d\n%s", want, r)
		}
		return r
	}

	// host:port, no scheme; -o json is the API's document.
	r := run(0, "routes", "list", "-o", "json", "--api", addr)
	var routes struct {
		Routes []struct{ Prefix, Via, Source string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &routes); err != nil || len(routes.Routes) != 1 || routes.Routes[0].Prefix != "198.51.100.0/24" {
		t.Errorf("routes list -o json: %v\n%s", err, r)
	}
	// $STEER_API instead of --api.
	t.Setenv("STEER_API", addr)
	r = run(0, "neighbors", "list", "-o", "json")
	var neigh struct{ Neighbors []struct{ IP, Port string } }
	if err := json.Unmarshal([]byte(r.Stdout), &neigh); err != nil || len(neigh.Neighbors) < 2 {
		t.Errorf("neighbors list -o json with $STEER_API: %v\n%s", err, r)
	}
	// A change without the token says how to give it.
	r = run(1, "routes", "add", "192.0.2.0/24", "via", "203.0.113.2")
	if !strings.Contains(r.Stderr, "--token") || !strings.Contains(r.Stderr, "STEER_API_TOKEN") || strings.Contains(r.Stderr, "Authorization") {
		t.Errorf("the token's error talks about HTTP, not the CLI\n%s", r)
	}
	run(0, "routes", "add", "192.0.2.0/24", "via", "203.0.113.2", "--token", "t0ken")
	run(0, "routes", "del", "198.51.100.0/24", "--token", "t0ken")

	// The dump keeps the API's changes and is a config steer accepts.
	r = run(0, "config", "dump")
	if strings.Contains(r.Stdout, "t0ken") {
		t.Errorf("config dump shows the token\n%s", r.Stdout)
	}
	var doc struct {
		Routes []struct{ Prefix, Via string }
	}
	if err := yaml.Unmarshal([]byte(r.Stdout), &doc); err != nil || len(doc.Routes) != 1 || doc.Routes[0].Prefix != "192.0.2.0/24" {
		t.Errorf("config dump's routes are not the running ones (192.0.2.0/24 only): %v\n%s", err, r.Stdout)
	}
	dumped := b.WriteFile("dumped.yaml", r.Stdout)
	if v := b.Run("validate", "--config", dumped); v.Code != 0 {
		t.Errorf("steer validate refuses the dump\n%s", v)
	}
	r = run(0, "config", "dump", "-o", "json")
	var jdoc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &jdoc); err != nil || jdoc["routes"] == nil || jdoc["eal"] == nil {
		t.Errorf("config dump -o json: %v\n%s", err, r)
	}

	// reload: the address and token come from --config alone.
	t.Setenv("STEER_API", "")
	c.Routes = append(c.Routes, [2]string{"100.64.0.0/24", "203.0.113.2"})
	b.WriteConfig(c)
	r = run(0, "reload", "--config", cfg)
	if !strings.Contains(r.Stdout, "reload applied: routes 1 added") {
		t.Errorf("reload's answer\n%s", r)
	}
	r = run(0, "routes", "list", "--config", cfg)
	if !strings.Contains(r.Stdout, "100.64.0.0/24") {
		t.Errorf("the reloaded route is missing\n%s", r)
	}
	// A change that needs a restart: exit 1 and the reason, nothing changed.
	c2 := c
	c2.Ports = append([]Port(nil), c.Ports...)
	c2.Ports[1].RxFiles = []string{"wan-in-2.pcap"}
	b.WriteConfig(c2)
	r = run(1, "reload", "--config", cfg)
	if !strings.Contains(r.Stderr, "ports[1].device changed") || !strings.Contains(r.Stderr, "needs a restart") {
		t.Errorf("a refused reload does not say why\n%s", r)
	}
	p.Signal(os.Interrupt)
	res := p.Wait()
	if res.Code != 0 {
		t.Errorf("steer did not stop cleanly\n%s", res)
	}
	// The exit summary is logged (JSON here: stderr is not a terminal),
	// and EAL's runtime directory is gone.
	if !strings.Contains(res.Stderr, `"msg":"summary"`) || !strings.Contains(res.Stderr, `"mbufs_in_use_after_close":0`) {
		t.Errorf("no summary entry in the log\n%s", res)
	}
	if _, err := os.Stat(b.RuntimeDir()); !os.IsNotExist(err) {
		t.Errorf("%s is left behind (%v)", b.RuntimeDir(), err)
	}
}

// TestAPIAddressTaken: an API address in use fails start-up before EAL
// touches anything (no runtime directory is created), naming
// metrics.listen and the way out.
func TestAPIAddressTaken(t *testing.T) {
	b := NewBed(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("STEER_METRICS_LISTEN", ln.Addr().String())
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	r := b.Run("run", "--config", b.WriteConfig(Standard()))
	if r.Code != 1 || !strings.Contains(r.Stderr, `metrics.listen: \"`+ln.Addr().String()) || !strings.Contains(r.Stderr, "STEER_METRICS_LISTEN=") {
		t.Errorf("want exit 1 naming metrics.listen and the override\n%s", r)
	}
	if _, err := os.Stat(b.RuntimeDir()); !os.IsNotExist(err) {
		t.Errorf("EAL started (%s exists) although the API address was taken", b.RuntimeDir())
	}
}
