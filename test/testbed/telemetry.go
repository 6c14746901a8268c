package testbed

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// RuntimeRoot is where EAL keeps each file prefix's runtime directory.
const RuntimeRoot = "/var/run/dpdk"

// RuntimeDir is EAL's runtime directory of a file prefix:
// /var/run/dpdk/<prefix>.
func RuntimeDir(prefix string) string { return filepath.Join(RuntimeRoot, prefix) }

// TelemetryPath is the telemetry socket of a DPDK process with this file
// prefix (telemetry v2).
func TelemetryPath(prefix string) string {
	return filepath.Join(RuntimeDir(prefix), "dpdk_telemetry.v2")
}

// Telemetry is a connection to a DPDK process's telemetry socket
// (SOCK_SEQPACKET): a JSON greeting on connect, then one JSON reply per
// command, {"<command>": value}. One connection serves any number of
// commands, one at a time.
type Telemetry struct {
	conn net.Conn
	buf  []byte
	// Timeout bounds each exchange (write and reply).
	Timeout time.Duration
	// Greeting is what the process said on connect (version, pid,
	// max_output_len).
	Greeting json.RawMessage
}

// DialTelemetry connects to the telemetry socket of the process with file
// prefix prefix and reads its greeting; it fails at once when the socket
// does not exist yet.
func DialTelemetry(prefix string, timeout time.Duration) (*Telemetry, error) {
	return DialTelemetryPath(TelemetryPath(prefix), timeout)
}

// DialTelemetryPath is DialTelemetry on a socket path.
func DialTelemetryPath(path string, timeout time.Duration) (*Telemetry, error) {
	c, err := net.DialTimeout("unixpacket", path, timeout)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{conn: c, buf: make([]byte, 1<<16), Timeout: timeout}
	_ = c.SetDeadline(time.Now().Add(timeout))
	n, err := c.Read(t.buf)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("telemetry greeting: %w", err)
	}
	t.Greeting = append(json.RawMessage(nil), t.buf[:n]...)
	return t, nil
}

// Close closes the connection.
func (t *Telemetry) Close() error {
	if t == nil || t.conn == nil {
		return nil
	}
	return t.conn.Close()
}

// Command sends one command ("/ethdev/stats,1") and returns the whole
// reply.
func (t *Telemetry) Command(cmd string) (map[string]json.RawMessage, error) {
	if t.Timeout > 0 {
		_ = t.conn.SetDeadline(time.Now().Add(t.Timeout))
	}
	if _, err := t.conn.Write([]byte(cmd)); err != nil {
		return nil, fmt.Errorf("telemetry %s: %w", cmd, err)
	}
	n, err := t.conn.Read(t.buf)
	if err != nil {
		return nil, fmt.Errorf("telemetry %s: %w", cmd, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t.buf[:n], &m); err != nil {
		return nil, fmt.Errorf("telemetry %s: %w: %q", cmd, err, t.buf[:n])
	}
	return m, nil
}

// Query sends one command and returns its value: the reply's entry for
// the command name (the command up to its first comma). It is JSON null
// when the process has nothing to say yet (a port not set up).
func (t *Telemetry) Query(cmd string) (json.RawMessage, error) {
	m, err := t.Command(cmd)
	if err != nil {
		return nil, err
	}
	name, _, _ := strings.Cut(cmd, ",")
	v, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("telemetry %s: no %q in the reply %v", cmd, name, m)
	}
	return v, nil
}

// EthdevStats is the reply to /ethdev/stats,<port>: the port's basic
// counters (rte_eth_stats).
type EthdevStats struct {
	IPackets uint64 `json:"ipackets"`
	OPackets uint64 `json:"opackets"`
	IBytes   uint64 `json:"ibytes"`
	OBytes   uint64 `json:"obytes"`
	IMissed  uint64 `json:"imissed"`
	IErrors  uint64 `json:"ierrors"`
	OErrors  uint64 `json:"oerrors"`
	RxNoMbuf uint64 `json:"rx_nombuf"`
}

// EthdevStats reads a port's counters; nil (and no error) while the port
// is not set up yet (the process answers null).
func (t *Telemetry) EthdevStats(port int) (*EthdevStats, error) {
	v, err := t.Query(fmt.Sprintf("/ethdev/stats,%d", port))
	if err != nil {
		return nil, err
	}
	var st *EthdevStats
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("telemetry /ethdev/stats,%d: %w: %s", port, err, v)
	}
	return st, nil
}

// TelemetryCommand connects to the process with file prefix prefix, sends
// one command and returns the reply.
func TelemetryCommand(prefix, cmd string, timeout time.Duration) (map[string]json.RawMessage, error) {
	t, err := DialTelemetry(prefix, timeout)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Command(cmd)
}
