package testbed

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/config"
)

func TestPcapDevice(t *testing.T) {
	got := PcapDevice(1, []string{"a.pcap", "a.pcap"}, []string{"o.pcap"}, "infinite_rx=1")
	if want := "net_pcap1,rx_pcap=a.pcap,rx_pcap=a.pcap,tx_pcap=o.pcap,infinite_rx=1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A fragment merges into the rendered config: sections merge key by key,
// new sections are added, and config.Parse reads the result.
func TestConfigFileFragments(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "STEER_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	c := config.Defaults()
	c.EAL.Lcores, c.EAL.Huge = "0-1", false
	p := config.DefaultPort()
	p.Name, p.Device, p.Addresses = "lan", PcapDevice(0, []string{"in.pcap"}, nil), []string{"10.0.0.1/24"}
	c.Ports = []config.Port{p}
	c.Lcores = []config.Lcore{{Lcore: 1, Rx: []config.RxQueue{{Port: "lan"}}}}
	y, err := ConfigFile{Config: c, Comment: "made by a test\nsecond line",
		Fragments: []string{"icmp: {rate: 0}\n", "metrics: {listen: \"127.0.0.1:1\", token: t}\narp: {max_retries: 7}\n", "# nothing\n"}}.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(y), "# made by a test\n# second line\n") {
		t.Errorf("no comment on top:\n%s", y)
	}
	got, err := config.Parse(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	want := *c
	want.ICMP.Rate = 0
	want.Metrics.Listen, want.Metrics.Token = "127.0.0.1:1", "t"
	want.ARP.MaxRetries = 7
	got.EAL.LcoreIDs, got.Ports[0].Prefixes = nil, nil
	got.ARP.Reachable, got.ARP.Stale, got.ARP.Retrans, got.ARP.Hold = 0, 0, 0, 0
	if !reflect.DeepEqual(got.ICMP, want.ICMP) || !reflect.DeepEqual(got.Metrics, want.Metrics) ||
		!reflect.DeepEqual(got.ARP, want.ARP) || !reflect.DeepEqual(got.EAL, want.EAL) {
		t.Errorf("merged config:\n got %+v\nwant %+v\n%s", got, want, y)
	}
	if _, err := RenderConfig(c, "- a list\n"); err == nil {
		t.Error("a list fragment was accepted")
	}
}

// The telemetry client against a fake SOCK_SEQPACKET server that answers
// like DPDK: a greeting, then {"<command>": value}.
func TestTelemetry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dpdk_telemetry.v2")
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Skipf("no unixpacket sockets here: %v", err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(`{"version": "DPDK 22.11.11", "pid": 1, "max_output_len": 16384}`))
		buf := make([]byte, 1024)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			switch string(buf[:n]) {
			case "/ethdev/stats,0":
				c.Write([]byte(`{"/ethdev/stats": null}`))
			case "/ethdev/stats,1":
				c.Write([]byte(`{"/ethdev/stats": {"ipackets": 1, "opackets": 22, "ibytes": 3, "obytes": 1320, "oerrors": 5, "q_opackets": [22]}}`))
			default:
				c.Write([]byte(`{"` + string(buf[:n]) + `": "?"}`))
			}
		}
	}()
	tel, err := DialTelemetryPath(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	if !strings.Contains(string(tel.Greeting), "22.11") {
		t.Errorf("greeting %s", tel.Greeting)
	}
	if st, err := tel.EthdevStats(0); err != nil || st != nil {
		t.Errorf("port not set up: %+v, %v", st, err)
	}
	st, err := tel.EthdevStats(1)
	if err != nil || st == nil || st.OPackets != 22 || st.OBytes != 1320 || st.OErrors != 5 || st.IPackets != 1 {
		t.Errorf("stats: %+v, %v", st, err)
	}
	if v, err := tel.Query("/info"); err != nil || string(v) != `"?"` {
		t.Errorf("/info: %s, %v", v, err)
	}
}

func TestProcessStop(t *testing.T) {
	// Exits on SIGINT: no kill.
	p, err := Start(exec.Command("sleep", "30"), StartOptions{Session: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("exited at once")
	}
	if err := p.Stop(nil, 5*time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if p.ExitCode() != -int(syscall.SIGINT) {
		t.Errorf("exit code %d, want -%d", p.ExitCode(), syscall.SIGINT)
	}
	// Ignores the request: killed, with its group.
	p, err = Start(exec.Command("sh", "-c", "trap '' INT; sleep 30 & wait"), StartOptions{Session: true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := p.Stop(nil, 200*time.Millisecond); !errors.Is(err, ErrKilled) {
		t.Errorf("Stop: %v, want ErrKilled", err)
	}
	if p.ExitCode() != -int(syscall.SIGKILL) {
		t.Errorf("exit code %d", p.ExitCode())
	}
	// KillAfter.
	p, err = Start(exec.Command("sleep", "30"), StartOptions{KillAfter: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("KillAfter did not kill")
	}
	if !p.TimedOut() {
		t.Error("TimedOut false")
	}
}

func TestAPI(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch r.Method {
		case "POST":
			w.WriteHeader(http.StatusCreated)
		case "DELETE":
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	a := NewAPI(strings.TrimPrefix(srv.URL, "http://"), "tok")
	if err := a.AddRoute("100.64.0.0/24", "192.0.2.2"); err != nil {
		t.Error(err)
	}
	if err := a.DeleteRoute("100.64.0.0/24"); err != nil {
		t.Error(err)
	}
	if err := a.expect(200, "DELETE", "/x", nil); err == nil {
		t.Error("204 accepted for 200")
	}
	want := []string{"POST /api/v1/routes Bearer tok", "DELETE /api/v1/routes/100.64.0.0/24 Bearer tok", "DELETE /x Bearer tok"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("requests %q", seen)
	}
	if _, err := FreeLoopback(); err != nil {
		t.Error(err)
	}
}
