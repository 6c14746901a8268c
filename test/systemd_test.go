package e2e

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket stands in for systemd: a datagram socket at $NOTIFY_SOCKET
// (inherited by steer) whose messages arrive on the channel.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

// expect reads notifications until one starts with prefix; the others
// (watchdog feeds) are counted.
func expect(t *testing.T, ch <-chan string, prefix string, feeds *int) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-ch:
			if strings.HasPrefix(m, prefix) {
				return m
			}
			if m == "WATCHDOG=1" {
				*feeds++
				continue
			}
			t.Fatalf("notification %q while waiting for %q", m, prefix)
		case <-deadline:
			t.Fatalf("no %q notification within 20 s", prefix)
		}
	}
}

// TestSystemdNotify runs steer as systemd's Type=notify would: READY=1
// once it forwards (and not before: /healthz is already 200 then), the
// watchdog fed while the lcores and the control thread make progress,
// RELOADING=1 then READY=1 around a reload, STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	b := NewBed(t)
	ch := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "400000") // fed every 200 ms
	api, section := withAPI(t, "")
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	c := Standard()
	c.Extra = section
	p := b.Start("run", "--config", b.WriteConfig(c))

	feeds := 0
	ready := expect(t, ch, "READY=1", &feeds)
	if !strings.Contains(ready, "STATUS=forwarding: 2 ports, 1 lcores") {
		t.Errorf("READY without the status: %q", ready)
	}
	if code, body, _, err := api.do("GET", "/healthz", ""); err != nil || code != 200 {
		t.Errorf("READY=1 sent before /healthz says forwarding: %d %q %v", code, body, err)
	}
	for feeds < 3 {
		select {
		case m := <-ch:
			if m != "WATCHDOG=1" {
				t.Fatalf("notification %q while waiting for watchdog feeds", m)
			}
			feeds++
		case <-time.After(5 * time.Second):
			t.Fatalf("%d watchdog feeds, then none for 5 s (WatchdogSec 400 ms)", feeds)
		}
	}
	p.Signal(syscall.SIGHUP)
	expect(t, ch, "RELOADING=1\nMONOTONIC_USEC=", &feeds)
	expect(t, ch, "READY=1", &feeds)
	p.Signal(syscall.SIGTERM)
	if m := expect(t, ch, "STOPPING=1", &feeds); !strings.Contains(m, "STATUS=stopping: signal terminated") {
		t.Errorf("STOPPING without the reason: %q", m)
	}
	if r := p.Wait(); r.Code != 0 || !strings.Contains(r.Stderr, "feeding the systemd watchdog") {
		t.Errorf("want a clean exit that logged the watchdog\n%s", r)
	}
}
