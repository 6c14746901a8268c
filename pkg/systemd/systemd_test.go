package systemd

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// listen stands in for systemd: a datagram socket at $NOTIFY_SOCKET whose
// messages arrive on the returned channel.
func listen(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5 s")
		return ""
	}
}

func TestStates(t *testing.T) {
	ch := listen(t)
	n := New(zap.NewNop())
	n.Ready("forwarding on 2 ports")
	if m := next(t, ch); m != "READY=1\nSTATUS=forwarding on 2 ports" {
		t.Errorf("ready: %q", m)
	}
	n.Reloading()
	if m := next(t, ch); !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") || len(m) < len("RELOADING=1\nMONOTONIC_USEC=1") {
		t.Errorf("reloading: %q", m)
	}
	n.Stopping("signal terminated")
	if m := next(t, ch); m != "STOPPING=1\nSTATUS=stopping: signal terminated" {
		t.Errorf("stopping: %q", m)
	}
}

func TestOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	core, logs := observer.New(zap.DebugLevel)
	n := New(zap.New(core))
	n.Ready("x")
	n.Watchdog(func() map[string]uint64 { t.Error("progress read without a watchdog"); return nil })()
	if logs.Len() != 0 {
		t.Errorf("logged outside systemd: %v", logs.All())
	}
}

// TestWatchdog: fed every half period while both threads progress; when
// one stops, feeding stops and the stuck thread is named.
func TestWatchdog(t *testing.T) {
	ch := listen(t)
	t.Setenv("WATCHDOG_USEC", "100000") // 100 ms: fed every 50 ms
	t.Setenv("WATCHDOG_PID", fmt.Sprint(os.Getpid()))
	var lcore, control atomic.Uint64
	var frozen atomic.Bool
	progress := func() map[string]uint64 {
		if !frozen.Load() {
			lcore.Add(1)
		}
		control.Add(1)
		return map[string]uint64{"lcore 1": lcore.Load(), "control thread": control.Load()}
	}
	core, logs := observer.New(zap.DebugLevel)
	stop := New(zap.New(core)).Watchdog(progress)
	defer stop()
	for i := 0; i < 3; i++ {
		if m := next(t, ch); m != "WATCHDOG=1" {
			t.Fatalf("feed %d: %q", i, m)
		}
	}
	frozen.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for logs.FilterMessageSnippet("no progress").Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a stuck lcore was never reported")
		}
		time.Sleep(10 * time.Millisecond) // polling the log
	}
	e := logs.FilterMessageSnippet("no progress").All()[0]
	if fmt.Sprint(e.ContextMap()["stuck"]) != "[lcore 1]" {
		t.Errorf("stuck %v, want [lcore 1]", e.ContextMap()["stuck"])
	}
	// Drain what was sent before the freeze took effect; then nothing.
	for len(ch) > 0 {
		<-ch
	}
	select {
	case m := <-ch:
		t.Errorf("fed while lcore 1 is stuck: %q", m)
	case <-time.After(200 * time.Millisecond): // four feeding periods
	}
}

func TestStuck(t *testing.T) {
	got := Stuck(map[string]uint64{"a": 1, "b": 2, "c": 3}, map[string]uint64{"a": 2, "b": 2})
	if fmt.Sprint(got) != "[b c]" {
		t.Errorf("Stuck = %v, want [b c]", got)
	}
}
