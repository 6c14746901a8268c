#!/usr/bin/env python3
"""steer benchmark runner (scripts/bench/bench.sh sets it up; docs/BENCH.md explains it).

Generates traffic pcaps with build/steer-trafgen, then runs every row (dpdk-testpmd io,
DPDK l3fwd LPM, steer run-to-completion, steer distributor, and the two-queue variants)
on the same net_pcap source and sink, one DPDK process at a time, interleaved and
repeated. Each run is timed from outside through the DPDK telemetry socket: start-up
(exec -> first packet at the sink), a warm-up, then a fixed window over which the sink
port's opackets/obytes give Mpps and Gbit/s. Prints one table and writes
build/bench/results.json. Standard library only.

Environment: BENCH_SECONDS, BENCH_WARMUP, BENCH_REPEAT, BENCH_TRAFFIC, BENCH_ROWS, BENCH_GO, BENCH_CHURN, BENCH_FLOOD,
BENCH_WAIT_OTHERS, BENCH_MAX_OTHER_LOAD, BENCH_RETRIES (see bench.sh); BENCH_HUGE_OK, BENCH_L3FWD, BENCH_ROOT come from bench.sh.
"""

import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.environ.get("BENCH_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "build", "bench")
STEER = os.path.join(ROOT, "build", "steer")
TRAFGEN = os.path.join(ROOT, "build", "steer-trafgen")
HUGEPAGES_SH = os.path.join(ROOT, "scripts", "hugepages.sh")
RUNTIME = "/var/run/dpdk"
RUNTIME_RE = re.compile(r"^(?:/var)?/run/dpdk/([^/]+)/")
HUGEDIR = "/dev/hugepages"
MEMORY_MB = 512
PREFIX = "steer-bench"  # one file prefix for every program: they never overlap


def env_num(name, default, kind=float, lo=None):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        v = kind(raw)
    except ValueError:
        sys.exit("bench: %s=%r is not a number" % (name, raw))
    if lo is not None and v < lo:
        sys.exit("bench: %s=%s must be >= %s" % (name, raw, lo))
    return v


SECONDS = env_num("BENCH_SECONDS", 5.0, float, 0.5)
WARMUP = env_num("BENCH_WARMUP", 2.0, float, 0)
REPEAT = env_num("BENCH_REPEAT", 3, int, 1)
WAIT_OTHERS = env_num("BENCH_WAIT_OTHERS", 10.0, float, 0)
MAX_OTHER_LOAD = env_num("BENCH_MAX_OTHER_LOAD", 0.3, float, 0)
RETRIES = env_num("BENCH_RETRIES", 2, int, 0)
HUGE = os.environ.get("BENCH_HUGE_OK", "1") == "1"
L3FWD = os.environ.get("BENCH_L3FWD", "")
RUN_GO = os.environ.get("BENCH_GO", "1") != "0"
RUN_CHURN = os.environ.get("BENCH_CHURN", "1") != "0"
RUN_FLOOD = os.environ.get("BENCH_FLOOD", "1") != "0"
API_TOKEN = "steer-bench"
START_TIMEOUT = 30.0  # exec -> first packet at the sink
STOP_TIMEOUT = 20.0  # stop request -> exit, then SIGKILL

# Addresses: l3fwd's built-in LPM table sends 198.18.1.0/24 to port 1 (examples/l3fwd/
# main.c, ipv4_l3fwd_route_array); steer gets the same route via a static neighbour on
# its port 1. Port N of the pcap PMD has MAC 02:70:63:61:70:0N: traffic is addressed to
# port 0 so steer's L2 filter accepts it (testpmd io and l3fwd -P do not look).
LAN_MAC = "02:70:63:61:70:00"
SRC_MAC = "02:00:00:00:00:02"
SRC = "10.1.0.0/16"
DST = "198.18.1.0/24"

TRAFFIC = [
    # id, label, trafgen arguments. 1024 packets per file: the pcap PMD's infinite_rx
    # holds the whole file in mbufs of each RX queue it loads.
    ("udp64-1", "64 B UDP, 1 flow", ["--flows", "1", "--packets", "1024", "--size", "64"]),
    ("udp64-16", "64 B UDP, 16 flows", ["--flows", "16", "--packets", "64", "--size", "64"]),
    ("udp64-1024", "64 B UDP, 1024 flows", ["--flows", "1024", "--packets", "1", "--size", "64"]),
    ("imix-1024", "IMIX UDP, 1024 flows", ["--flows", "1024", "--packets", "1", "--mix", "imix"]),
]


class Row:
    def __init__(self, rid, label, prog, group, poll_cpus, lcores_desc):
        self.id, self.label, self.prog, self.group = rid, label, prog, group
        self.poll_cpus = poll_cpus  # CPUs busy-polling: the cycles charged to the packets
        self.lcores_desc = lcores_desc


ROWS = [
    Row("testpmd-1", "testpmd io", "testpmd", "1q", 1, "main 0@0, fwd 1@1"),
    Row("l3fwd-1", "l3fwd LPM", "l3fwd", "1q", 1, "1@1 (main lcore forwards)"),
    Row("steer-rtc", "steer rtc", "steer", "1q", 1, "main 0@0, rx+fwd 1@1"),
    Row("steer-dist", "steer distributor 1 RX + 1 worker", "steer", "1q", 2, "main 0@0, rx 1@1, worker 2@0"),
    Row("steer-dist-bp", "steer distributor, backpressure", "steer", "1q", 2, "main 0@0, rx 1@1, worker 2@0"),
    Row("testpmd-2", "testpmd io, 2 queues", "testpmd", "2q", 2, "main 0@0, fwd 1@1, fwd 2@0"),
    Row("l3fwd-2", "l3fwd LPM, 2 queues", "l3fwd", "2q", 2, "0@0 (main, forwards), 1@1"),
    Row("steer-2q", "steer rtc, 2 queues", "steer", "2q", 2, "main 0@0, rx+fwd 1@1, rx+fwd 2@0"),
]
BASELINES = {"1q": ("testpmd-1", "l3fwd-1"), "2q": ("testpmd-2", "l3fwd-2")}

# --- small helpers ----------------------------------------------------------------------


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


# --- machine ------------------------------------------------------------------------------


def machine_info():
    lscpu = sh(["lscpu"]).stdout
    model = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    hyper = re.search(r"^Hypervisor vendor:\s*(.+)$", lscpu, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", read("/proc/cpuinfo"), re.M)
    flags = re.search(r"^flags\s*:(.*)$", read("/proc/cpuinfo"), re.M)
    flags = flags.group(1).split() if flags else []
    dpdk_pkg = sh(["dpkg-query", "-W", "-f=${Version}", "dpdk"]).stdout.strip()
    dpdk_pc = sh(["pkg-config", "--modversion", "libdpdk"]).stdout.strip()
    steer_ver = sh([STEER, "version"]).stdout.strip().splitlines()
    git = sh(["git", "-C", ROOT, "describe", "--always", "--dirty"]).stdout.strip()
    return {
        "cpu_model": model.group(1).strip() if model else "?",
        "hypervisor": hyper.group(1).strip() if hyper else None,
        "nproc": os.cpu_count(),
        "cpu_mhz": float(mhz.group(1)) if mhz else None,
        "constant_tsc": "constant_tsc" in flags and "nonstop_tsc" in flags,
        "kernel": os.uname().release,
        "dpdk": dpdk_pc or "?",
        "dpdk_package": dpdk_pkg or "?",
        "steer_version": steer_ver[0] if steer_ver else "?",
        "git": git or "?",
        "hugepages": HUGE,
        "hugepages_free": meminfo("HugePages_Free"),
    }


def meminfo(key):
    m = re.search(r"^%s:\s*(\d+)" % key, read("/proc/meminfo"), re.M)
    return int(m.group(1)) if m else None


def loadavg():
    return read("/proc/loadavg").split()[:3]


def cpu_busy_ticks():
    """(busy, steal) jiffies summed over all CPUs."""
    f = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def proc_ticks(pid):
    s = read("/proc/%d/stat" % pid)
    if not s:
        return 0
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])  # utime + stime of every thread


def other_dpdk_processes(exclude=()):
    """Processes holding a DPDK runtime file open (/var/run/dpdk/*): other DPDK programs."""
    found = {}
    for fd_dir in glob.glob("/proc/[0-9]*/fd"):
        pid = int(fd_dir.split("/")[2])
        if pid in exclude or pid == os.getpid():
            continue
        try:
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                m = RUNTIME_RE.match(target)  # /var/run is a link to /run
                if m:
                    comm = read("/proc/%d/comm" % pid).strip() or "?"
                    found[pid] = "%d(%s %s)" % (pid, comm, m.group(1))
                    break
        except OSError:
            continue
    return sorted(found.values())


# --- traffic -------------------------------------------------------------------------------


def write_empty_pcap(path):
    # A pcap global header and no record: the pcap PMD opens it and its RX returns nothing.
    hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    with open(path, "wb") as f:
        f.write(hdr)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) != 24 or struct.unpack("<I", data[:4])[0] != 0xA1B2C3D4:
        raise RuntimeError("%s is not a 24-byte pcap header" % path)


def pcap_frames(path):
    """The frames of a little-endian pcap file (what steer-trafgen writes)."""
    with open(path, "rb") as f:
        data = f.read()
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def pcap_stats(path):
    """(packets, bytes of frames as stored, i.e. without FCS)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n, nbytes = 24, 0, 0
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16 + incl
        n += 1
        nbytes += incl
    return n, nbytes


def make_traffic(selected):
    tdir = os.path.join(OUT, "traffic")
    os.makedirs(tdir, exist_ok=True)
    empty = os.path.join(tdir, "empty.pcap")
    write_empty_pcap(empty)
    out = []
    for tid, label, args in TRAFFIC:
        if tid not in selected:
            continue
        path = os.path.join(tdir, tid + ".pcap")
        cmd = [TRAFGEN, "--out", path, "--src-mac", SRC_MAC, "--dst-mac", LAN_MAC, "--src", SRC, "--dst", DST,
               "--proto", "udp", "-q"] + args
        r = sh(cmd)
        if r.returncode != 0:
            raise RuntimeError("steer-trafgen failed: %s\n%s" % (" ".join(cmd), r.stderr))
        n, nbytes = pcap_stats(path)
        out.append({"id": tid, "label": label, "file": path, "packets": n, "avg_frame_bytes": nbytes / n,
                    "trafgen": args})
    return out, empty


# --- programs --------------------------------------------------------------------------------


def devices(traffic_file, empty):
    # Three rx_pcap per port whatever the row: the pcap PMD has one TX queue per rx_pcap
    # (without tx_pcap), the two-queue rows need two and l3fwd opens one per EAL lcore; the
    # third is spare. A program sets up only the RX queues it asks for, and infinite_rx
    # loads the file into each of those only.
    lan = "net_pcap0," + ",".join(["rx_pcap=" + traffic_file] * 3) + ",infinite_rx=1"
    wan = "net_pcap1," + ",".join(["rx_pcap=" + empty] * 3)
    return lan, wan


def eal_mem():
    return ["--huge-unlink", "-m", str(MEMORY_MB)] if HUGE else ["--no-huge", "-m", str(MEMORY_MB)]


def testpmd_argv(row, lan, wan):
    n = 1 if row.group == "1q" else 2
    lc = ["-l", "0-1"] if n == 1 else ["--lcores", "0@0,1@1,2@0"]
    return (["dpdk-testpmd"] + lc + ["--file-prefix", PREFIX] + eal_mem() +
            ["--no-pci", "--vdev", lan, "--vdev", wan, "--",
             "-i", "--auto-start", "--forward-mode=io", "--nb-cores=%d" % n, "--rxq=%d" % n, "--txq=%d" % n,
             "--rxd=1024", "--txd=1024", "--no-flush-rx"] +
            # testpmd's default pool (155k mbufs, 338 MB) does not fit in --no-huge -m 512;
            # with hugepages it keeps its default (no difference in rate was measured).
            ([] if HUGE else ["--total-num-mbufs=16383"]))


def l3fwd_argv(row, lan, wan):
    # l3fwd's main lcore runs the forwarding loop too, and an lcore with nothing to do
    # busy-waits for the others: so its main lcore is a forwarding one (see docs/BENCH.md).
    if row.group == "1q":
        lc, cfg = ["-l", "1"], "(0,0,1),(1,0,1)"
    else:
        lc, cfg = ["-l", "0-1"], "(0,0,0),(1,0,0),(0,1,1),(1,1,1)"
    return ([L3FWD] + lc + ["--file-prefix", PREFIX] + eal_mem() +
            ["--no-pci", "--vdev", lan, "--vdev", wan, "--",
             "-p", "0x3", "-P", "--lookup=lpm", "--parse-ptype", "--config=" + cfg])


def steer_config(row, lan, wan, listen=""):
    q = 2 if row.id == "steer-2q" else 1
    lcores = "0-1" if row.id == "steer-rtc" else "0@0,1@1,2@0"
    lines = [
        "# generated by scripts/bench/run.py for row %s" % row.id,
        "eal:",
        '  lcores: "%s"' % lcores,
        "  main_lcore: 0",
        "  huge: %s" % ("true" if HUGE else "false"),
        "  memory_mb: %d" % MEMORY_MB,
        "  file_prefix: %s" % PREFIX,
        "ports:",
        "  - name: lan",
        '    device: "%s"' % lan,
        "    rx_queues: %d" % q,
        "    tx_queues: %d" % q,
        '    addresses: ["10.0.0.1/24"]',
    ]
    if row.id.startswith("steer-dist"):
        lines.append("    steering: distributor")
    lines += [
        "  - name: wan",
        '    device: "%s"' % wan,
        "    rx_queues: %d" % q,
        "    tx_queues: %d" % q,
        '    addresses: ["192.0.2.1/24"]',
        "lcores:",
        "  - lcore: 1",
        "    rx: [{port: lan, queue: 0}, {port: wan, queue: 0}]",
    ]
    if row.id.startswith("steer-dist"):
        lines += ["  - lcore: 2", "    worker: true"]
    elif q == 2:
        lines += ["  - lcore: 2", "    rx: [{port: lan, queue: 1}, {port: wan, queue: 1}]"]
    if row.id == "steer-dist-bp":
        # a full ring stops the RX lcore's polls instead of dropping
        lines += ["distributor:", "  on_full: backpressure"]
    lines += [
        "routes:",
        '  - {prefix: "198.18.1.0/24", via: "192.0.2.2"}',
        "neighbors:",
        '  - {ip: "192.0.2.2", mac: "02:00:00:00:00:03", port: wan}',
        "metrics:",
        '  listen: "%s"' % listen,
        "log:",
        "  format: json",
    ]
    return "\n".join(lines) + "\n"


# --- telemetry -------------------------------------------------------------------------------


class Telemetry:
    def __init__(self, prefix):
        self.path = os.path.join(RUNTIME, prefix, "dpdk_telemetry.v2")
        self.sock = None

    def try_connect(self):
        if not os.path.exists(self.path):
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(self.path)
            s.settimeout(5.0)
            self.greeting = json.loads(s.recv(4096).decode())
        except (OSError, ValueError):
            s.close()
            return False
        self.sock = s
        return True

    def query(self, cmd):
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(65536).decode())
        return reply[cmd.split(",")[0]]

    def stats(self):
        """((port0, port1) stats, time in the middle of the exchange)."""
        t0 = time.monotonic()
        p1 = self.query("/ethdev/stats,1")
        p0 = self.query("/ethdev/stats,0")
        t1 = time.monotonic()
        return p0, p1, (t0 + t1) / 2

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


# --- one run ---------------------------------------------------------------------------------


class Run:
    """One DPDK process from exec to exit, with everything it leaves behind removed."""

    current = None  # the running one, for the signal-time cleanup

    def __init__(self, row, traffic, rep, rundir, lan, wan):
        self.row, self.traffic, self.rep, self.dir = row, traffic, rep, rundir
        self.lan, self.wan = lan, wan
        self.proc = None
        self.fifo_fd = None
        self.logf = None
        self.stats_file = os.path.join(rundir, "steer-stats.json")
        self.api_listen = ""  # steer's HTTP API, off unless a measurement needs it

    def argv(self):
        if self.row.prog == "testpmd":
            return testpmd_argv(self.row, self.lan, self.wan)
        if self.row.prog == "l3fwd":
            return l3fwd_argv(self.row, self.lan, self.wan)
        cfg = os.path.join(self.dir, "steer.yaml")
        with open(cfg, "w") as f:
            f.write(steer_config(self.row, self.lan, self.wan, self.api_listen))
        return [STEER, "run", "--config", cfg, "--stats-file", self.stats_file]

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        remove_leftovers()
        argv = self.argv()
        with open(os.path.join(self.dir, "argv.txt"), "w") as f:
            f.write(" ".join(argv) + "\n")
        stdin = subprocess.DEVNULL
        if self.row.prog == "testpmd":
            # testpmd quits at EOF on stdin: a FIFO held open read-write never gives EOF,
            # and "quit" written to it stops testpmd cleanly.
            fifo = os.path.join(self.dir, "stdin.fifo")
            os.mkfifo(fifo)
            self.fifo_fd = os.open(fifo, os.O_RDWR)
            stdin = self.fifo_fd
        self.logf = open(os.path.join(self.dir, "output.log"), "w")
        Run.current = self
        self.t_exec = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=self.dir,
                                     env=program_env())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def request_stop(self):
        if not self.alive():
            return
        if self.row.prog == "testpmd" and self.fifo_fd is not None:
            try:
                os.write(self.fifo_fd, b"stop\nquit\n")
                return
            except OSError:
                pass
        self.proc.send_signal(signal.SIGINT)

    def stop(self):
        """Ask the program to exit, wait, SIGKILL its group if it does not, clean up."""
        if self.proc is not None:
            self.request_stop()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log("%s did not exit %.0f s after the stop request: SIGKILL" % (self.row.id, STOP_TIMEOUT))
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.fifo_fd is not None:
            os.close(self.fifo_fd)
            self.fifo_fd = None
            try:
                os.unlink(os.path.join(self.dir, "stdin.fifo"))
            except OSError:
                pass
        if self.logf:
            self.logf.close()
            self.logf = None
        Run.current = None
        remove_leftovers()
        return self.proc.returncode if self.proc else None

    def error_line(self):
        """The line of the program's output that says why it failed."""
        text = read(os.path.join(self.dir, "output.log"))
        best = ""
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                j = json.loads(line)  # steer logs JSON lines
                if j.get("level") in ("error", "fatal"):
                    best = j.get("error") or j.get("msg", "")
                    if j.get("error") and j.get("msg"):
                        best = "%s: %s" % (j["msg"], j["error"])
                continue
            except (ValueError, AttributeError):
                pass
            if re.search(r"error|cause|fail|cannot|invalid|not available", line, re.I):
                best = line
        return best or (text.strip().splitlines() or ["(no output)"])[-1]


def program_env():
    # steer reads STEER_* overrides from the environment: the bench's configs must run
    # as written, so none of the caller's get through (only the API token it sets).
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEER_")}
    env["STEER_API_TOKEN"] = API_TOKEN
    return env


def remove_leftovers():
    """The runtime directory and hugepage files of the bench's file prefix, if no process
    holds them (a killed DPDK process leaves its <prefix>map_* files)."""
    if glob.glob(os.path.join(HUGEDIR, PREFIX + "map_*")):
        sh(["bash", HUGEPAGES_SH, "--clean", PREFIX])
    d = os.path.join(RUNTIME, PREFIX)
    if os.path.isdir(d):
        shutil.rmtree(d, ignore_errors=True)


def wait_for_quiet():
    """Wait (at most WAIT_OTHERS s) until no other DPDK process runs and other processes
    use less than MAX_OTHER_LOAD CPU: they share our 2 CPUs. Returns what was still
    running when the wait ended."""
    deadline = time.monotonic() + WAIT_OTHERS
    hz = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    while True:
        others = other_dpdk_processes()
        busy0, me0 = cpu_busy_ticks()[0], proc_ticks(me)
        time.sleep(0.5)
        load = max(0.0, ((cpu_busy_ticks()[0] - busy0) - (proc_ticks(me) - me0)) / hz / 0.5)
        if (not others and load <= MAX_OTHER_LOAD) or time.monotonic() > deadline:
            return others, load


def measure(row, traffic, rep, empty):
    rundir = os.path.join(OUT, "runs", "%s.%s.%d" % (traffic["id"], row.id, rep))
    lan, wan = devices(traffic["file"], empty)
    res = {"traffic": traffic["id"], "row": row.id, "rep": rep, "ok": False, "error": None,
           "loadavg_before": loadavg()}
    others, load = wait_for_quiet()
    res["other_dpdk_at_start"] = others
    res["cpu_others_before"] = load
    run = Run(row, traffic, rep, rundir, lan, wan)
    tel = Telemetry(PREFIX)
    try:
        run.start()
        deadline = run.t_exec + START_TIMEOUT
        while not tel.try_connect():
            if not run.alive():
                raise RuntimeError("exited with %s before its telemetry socket: %s" % (run.proc.returncode, run.error_line()))
            if time.monotonic() > deadline:
                raise RuntimeError("no telemetry socket %.0f s after exec" % START_TIMEOUT)
            time.sleep(0.005)
        while True:
            _, p1, t = tel.stats()
            if p1 and p1.get("opackets", 0) > 0:  # null until the port is set up
                res["startup_s"] = t - run.t_exec
                break
            if not run.alive():
                raise RuntimeError("exited with %s before forwarding: %s" % (run.proc.returncode, run.error_line()))
            if time.monotonic() > deadline:
                raise RuntimeError("nothing forwarded %.0f s after exec: %s" % (START_TIMEOUT, run.error_line()))
            time.sleep(0.002)
        time.sleep(WARMUP)
        busy0, steal0 = cpu_busy_ticks()
        ours0 = proc_ticks(run.proc.pid)
        a0, a1, ta = tel.stats()
        time.sleep(SECONDS)
        b0, b1, tb = tel.stats()
        busy1, steal1 = cpu_busy_ticks()
        ours1 = proc_ticks(run.proc.pid)
        if not run.alive():
            raise RuntimeError("exited during the window: %s" % run.error_line())
        dt = tb - ta
        hz = os.sysconf("SC_CLK_TCK")
        opk = b1["opackets"] - a1["opackets"]
        obytes = b1["obytes"] - a1["obytes"]
        ipk = b0["ipackets"] - a0["ipackets"]
        res.update({
            "window_s": dt,
            "sink_packets": opk,
            "mpps": opk / dt / 1e6,
            "gbps": obytes * 8 / dt / 1e9,
            "rx_mpps": ipk / dt / 1e6,
            "drop_pct": max(0.0, 100.0 * (1 - opk / ipk)) if ipk > 0 else None,
            "sink_oerrors": b1["oerrors"] - a1["oerrors"],
            "cpu_ours": (ours1 - ours0) / hz / dt,
            "cpu_others": max(0.0, ((busy1 - busy0) - (ours1 - ours0)) / hz / dt),
            "cpu_steal": (steal1 - steal0) / hz / dt,
        })
        res["ok"] = True
    except Interrupted:
        raise
    except Exception as e:  # one run's failure (telemetry gone, odd reply) is its row's n/a
        res["error"] = str(e) if isinstance(e, RuntimeError) else "%s: %s" % (type(e).__name__, e)
        res["ok"] = False
    finally:
        tel.close()
        rc = run.stop()
        res["exit_code"] = rc
    if row.prog == "steer":
        st = read(run.stats_file)
        if st:
            try:
                s = json.loads(st)
                res["steer"] = {
                    "lcores": [{k: lc.get(k) for k in ("lcore", "worker", "rx_packets", "tx_packets", "busy_polls",
                                                       "idle_polls")} for lc in s.get("lcores", [])],
                    "dropped": {k: v for k, v in s.get("totals", {}).get("dropped", {}).items() if v},
                    "slowpath": {k: v for k, v in s.get("totals", {}).get("slowpath", {}).items() if v},
                    "mempool": s.get("mempool"),
                    "slowpath_ring_full": sum(lc.get("slowpath_ring_full", 0) for lc in s.get("lcores", [])),
                    "slow_taken": (s.get("slow_path") or {}).get("taken"),
                }
            except ValueError:
                pass
        if res["ok"] and rc not in (0, None):
            res["ok"] = False
            res["error"] = "steer exited %s after the window: %s" % (rc, run.error_line())
    res["loadavg_after"] = loadavg()
    return res


# --- control plane (go test -bench) -------------------------------------------------------------


def free_loopback_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def route_churn(traffic, empty):
    """steer-rtc forwarding traffic while a client adds and deletes static routes through
    steer's HTTP API on 127.0.0.1 as fast as one keep-alive connection allows: request
    latencies, and the forwarding rate in that window against the window before it."""
    import http.client
    row = next(r for r in ROWS if r.id == "steer-rtc")
    lan, wan = devices(traffic["file"], empty)
    port = free_loopback_port()
    res = {"traffic": traffic["id"], "row": row.id, "ok": False, "error": None}
    res["other_dpdk_at_start"], res["cpu_others_before"] = wait_for_quiet()
    run = Run(row, traffic, 0, os.path.join(OUT, "runs", "route-churn.%s" % traffic["id"]), lan, wan)
    run.api_listen = "127.0.0.1:%d" % port
    tel = Telemetry(PREFIX)
    hdrs = {"Authorization": "Bearer " + API_TOKEN, "Content-Type": "application/json"}
    try:
        run.start()
        deadline = run.t_exec + START_TIMEOUT
        while True:
            if tel.sock is None:
                tel.try_connect()
            if tel.sock is not None:
                _, p1, _ = tel.stats()
                if p1 and p1.get("opackets", 0) > 0:
                    break
            if not run.alive():
                raise RuntimeError("steer exited with %s: %s" % (run.proc.returncode, run.error_line()))
            if time.monotonic() > deadline:
                raise RuntimeError("nothing forwarded %.0f s after exec" % START_TIMEOUT)
            time.sleep(0.01)
        time.sleep(WARMUP)
        _, a1, ta = tel.stats()
        time.sleep(SECONDS)
        _, b1, tb = tel.stats()
        res["mpps_before"] = (b1["opackets"] - a1["opackets"]) / (tb - ta) / 1e6
        # The client runs on CPU 0 with steer's main lcore, off the polling CPU 1: what
        # the window shows is steer's own cost of the changes (its API is Go, unpinned).
        affinity = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {0})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        add_ms, del_ms = [], []
        _, c1, tc = tel.stats()
        end = time.monotonic() + SECONDS
        n = 0
        while time.monotonic() < end:
            # 100 adds then their 100 deletes; 100.64.0.0/10 is nobody's subnet here.
            batch = []
            for _ in range(100):
                prefix = "100.%d.%d.0/24" % (64 + (n // 256) % 64, n % 256)
                n += 1
                body = json.dumps({"prefix": prefix, "via": "192.0.2.2"})
                t0 = time.monotonic()
                conn.request("POST", "/api/v1/routes", body, hdrs)
                r = conn.getresponse()
                r.read()
                add_ms.append((time.monotonic() - t0) * 1e3)
                if r.status != 201:
                    raise RuntimeError("POST /api/v1/routes %s: HTTP %d" % (prefix, r.status))
                batch.append(prefix)
            for prefix in batch:
                t0 = time.monotonic()
                conn.request("DELETE", "/api/v1/routes/" + prefix, headers=hdrs)
                r = conn.getresponse()
                r.read()
                del_ms.append((time.monotonic() - t0) * 1e3)
                if r.status != 204:
                    raise RuntimeError("DELETE /api/v1/routes/%s: HTTP %d" % (prefix, r.status))
        _, d1, td = tel.stats()
        conn.close()
        os.sched_setaffinity(0, affinity)
        res["mpps_during"] = (d1["opackets"] - c1["opackets"]) / (td - tc) / 1e6
        res["window_s"] = td - tc
        for name, v in (("add_ms", add_ms), ("delete_ms", del_ms)):
            v = sorted(v)
            res[name] = {"n": len(v), "median": statistics.median(v), "p99": v[min(len(v) - 1, int(len(v) * 0.99))],
                         "max": v[-1]}
        res["ok"] = True
    except Interrupted:
        raise
    except Exception as e:
        res["error"] = str(e) if isinstance(e, RuntimeError) else "%s: %s" % (type(e).__name__, e)
    finally:
        os.sched_setaffinity(0, range(os.cpu_count()))
        tel.close()
        res["exit_code"] = run.stop()
    if res["ok"] and res["exit_code"] not in (0, None):
        res["ok"] = False
        res["error"] = "steer exited %s after the churn: %s" % (res["exit_code"], run.error_line())
    return res


# Slow-path floods: the 1024-flow traffic with every FLOOD_EVERY-th frame replaced by an
# exception the control thread must handle (rate-limited by slow_path.rate, 20,000/s).
FLOOD_EVERY = 4
FLOODS = [
    # id, label, trafgen arguments for the exception frames
    ("arp", "ARP requests for the router's address from 254 senders",
     ["--malform", "arp", "--src", "10.0.0.0/24", "--dst", "10.0.0.1/32", "--dst-mac", "ff:ff:ff:ff:ff:ff"]),
    ("ttl1", "TTL 1 (ICMP time exceeded, token bucket 100/s)",
     ["--malform", "ttl_exceeded", "--src", SRC, "--dst", DST, "--dst-mac", LAN_MAC]),
]


def slowpath_flood(traffic, empty):
    """steer-rtc on the traffic with one frame in FLOOD_EVERY replaced by an exception,
    against the plain traffic in the same spell: what a flood at the slow path costs the
    fast path (packets the lcore handles per second, forwarded ones among them)."""
    row = next(r for r in ROWS if r.id == "steer-rtc")
    good = pcap_frames(traffic["file"])
    out = {"traffic": traffic["id"], "every": FLOOD_EVERY, "runs": []}
    tdir = os.path.join(OUT, "traffic")
    variants = [("none", "no flood", traffic["file"])]
    for fid, label, args in FLOODS:
        raw = os.path.join(tdir, "exc-%s.pcap" % fid)
        cmd = [TRAFGEN, "--out", raw, "--src-mac", SRC_MAC, "--proto", "udp", "-q", "--flows", "254",
               "--packets", "1", "--size", "64"] + args
        r = sh(cmd)
        if r.returncode != 0:
            raise RuntimeError("steer-trafgen failed: %s\n%s" % (" ".join(cmd), r.stderr))
        exc = pcap_frames(raw)
        mixed = [exc[(i // FLOOD_EVERY) % len(exc)] if i % FLOOD_EVERY == FLOOD_EVERY - 1 else fr
                 for i, fr in enumerate(good)]
        path = os.path.join(tdir, "%s-flood-%s.pcap" % (traffic["id"], fid))
        write_pcap(path, mixed)
        variants.append((fid, label, path))
    # Interleaved and repeated like the table's rows; each variant's median run is shown.
    runs = {fid: [] for fid, _, _ in variants}
    for rep in range(REPEAT):
        for fid, label, path in (variants if rep % 2 == 0 else variants[::-1]):
            t = {"id": "%s+%s" % (traffic["id"], fid), "file": path}
            res = measure(row, t, rep, empty)
            res["flood"], res["flood_label"] = fid, label
            st = res.get("steer") or {}
            res["slowpath_ring_full"] = st.get("slowpath_ring_full")
            res["slow_taken"] = st.get("slow_taken")
            runs[fid].append(res)
            if res["ok"]:
                log("slow-path flood %-5s: %.2f Mpps handled, %.2f Mpps forwarded" % (fid, res["rx_mpps"], res["mpps"]))
            else:
                log("slow-path flood %-5s: n/a: %s" % (fid, res["error"]))
    for fid, _, _ in variants:
        ok = sorted((r for r in runs[fid] if r["ok"]), key=lambda r: r["rx_mpps"])
        med = dict(ok[len(ok) // 2]) if ok else dict(runs[fid][-1])
        med["all_rx_mpps"] = [round(r["rx_mpps"], 2) for r in ok]
        out["runs"].append(med)
    return out


def go_benchmarks():
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.path.exists(go):
        return {"error": "go not found"}, []
    cmds = [[go, "test", "-run", "^$", "-bench", "FIBBuild|LPMLoad", "-benchtime", "1x", "-count", "1", "./cgo/lpm/"],
            [go, "test", "-run", "^$", "-bench", "Load1M", "-benchtime", "1x", "-count", "1", "./cgo/fib/"],
            [go, "test", "-run", "AddRoutes1M", "-bench", "AddRoutes1M", "-v", "-count", "1", "./pkg/router/load1m/"]]
    env = dict(os.environ, GOTOOLCHAIN="local")
    t0 = time.monotonic()
    res, out, errors, codes = [], "", [], []
    for cmd in cmds:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        out += " ".join(cmd) + "\n" + r.stdout + r.stderr
        codes.append(r.returncode)
        if r.returncode != 0:
            errors += (r.stdout + r.stderr).strip().splitlines()[-1:]
        for m in re.finditer(r"^Benchmark(\w+)/routes=(\d+)-\d+\s+\d+\s+(\d+) ns/op\s+([\d.]+) routes/s", r.stdout, re.M):
            res.append({"bench": m.group(1), "routes": int(m.group(2)), "seconds": int(m.group(3)) / 1e9,
                        "routes_per_s": float(m.group(4))})
        # steer's own load: TestAddRoutes1M logs "load 1.8s (0.55 M routes/s)"
        m = re.search(r"Router\.AddRoutes into a forwarding router: load ([\d.]+)(m?s) \(([\d.]+) M routes/s\)", r.stdout)
        if m:
            secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
            res.append({"bench": "RouterAddRoutes", "routes": 1000000, "seconds": secs,
                        "routes_per_s": float(m.group(3)) * 1e6})
    with open(os.path.join(OUT, "go-bench.txt"), "w") as f:
        f.write(out)
    remove_go_test_leftovers()
    info = {"command": " ; ".join(" ".join(c) for c in cmds), "exit_code": max(codes), "wall_s": time.monotonic() - t0}
    if errors:
        info["error"] = errors
    return info, res


def remove_go_test_leftovers():
    # ealtest's EAL has the prefix steer-test-<binary>-<pid>: remove the lpm and fib
    # tests' runtime directories once their process is gone (EAL leaves them behind).
    for d in glob.glob(os.path.join(RUNTIME, "steer-test-lpm.test-*")) + glob.glob(os.path.join(RUNTIME, "steer-test-fib.test-*")):
        pid = d.rsplit("-", 1)[-1]
        if pid.isdigit() and not os.path.exists("/proc/" + pid):
            shutil.rmtree(d, ignore_errors=True)


# --- summary and table ---------------------------------------------------------------------------


def summarise(samples, traffic, rows, tsc_mhz):
    out = []
    for t in traffic:
        for row in rows:
            runs = [s for s in samples if s["traffic"] == t["id"] and s["row"] == row.id]
            ok = [s for s in runs if s["ok"]]
            e = {"traffic": t["id"], "row": row.id, "label": row.label, "group": row.group,
                 "poll_cpus": row.poll_cpus, "runs": len(runs), "ok_runs": len(ok)}
            if ok:
                mpps = [s["mpps"] for s in ok]
                med = statistics.median(mpps)
                e.update({
                    "mpps_median": med, "mpps_min": min(mpps), "mpps_max": max(mpps),
                    "gbps_median": statistics.median(s["gbps"] for s in ok),
                    "drop_pct_median": statistics.median(s["drop_pct"] or 0 for s in ok),
                    "startup_s_median": statistics.median(s["startup_s"] for s in ok),
                    "cpu_others_max": max(s["cpu_others"] for s in ok),
                    "cpu_ours_median": statistics.median(s["cpu_ours"] for s in ok),
                    "cycles_per_packet": (tsc_mhz * 1e6 * row.poll_cpus / (med * 1e6)) if tsc_mhz and med > 0 else None,
                })
            else:
                e["error"] = runs[-1]["error"] if runs else "not run"
            out.append(e)
    by = {(e["traffic"], e["row"]): e for e in out}
    for e in out:
        tp, l3 = BASELINES[e["group"]]
        for name, base in (("vs_testpmd", tp), ("vs_l3fwd", l3)):
            b = by.get((e["traffic"], base))
            if "mpps_median" in e and b and b.get("mpps_median"):
                e[name] = e["mpps_median"] / b["mpps_median"]
    return out


def fmt(v, f):
    return "-" if v is None else f % v


def table(info, traffic, rows, summary, samples, discarded, go_info, go_res, churn, started, wall, flood=None):
    lines = []
    m = info
    lines.append("steer bench, %s UTC (%.0f s)" % (started.strftime("%Y-%m-%d %H:%M"), wall))
    lines.append("machine: %s, %d CPUs%s, TSC %s MHz; kernel %s" % (
        m["cpu_model"], m["nproc"], " (%s guest)" % m["hypervisor"] if m["hypervisor"] else "",
        fmt(m["cpu_mhz"], "%.0f"), m["kernel"]))
    lines.append("DPDK %s (Debian %s); steer %s" % (m["dpdk"], m["dpdk_package"], m["git"]))
    if m["hugepages"]:
        lines.append("memory: 2 MiB hugepages, -m %d per program" % MEMORY_MB)
    else:
        lines.append("memory: *** NO HUGEPAGES: every program ran with --no-huge, expect about half the rates ***")
    lines.append("method: source net_pcap rx_pcap=<traffic>,infinite_rx=1 -> sink net_pcap (rx_pcap=<empty>, TX counts and frees);")
    lines.append("        %.0f s warm-up, %.0f s window read from the telemetry socket (sink opackets/obytes); %d run(s) per cell," % (
        WARMUP, SECONDS, REPEAT))
    lines.append("        rows interleaved (order reversed every other round); median (min-max)")
    lines.append("")
    hdr = ("traffic", "row", "CPUs", "Mpps", "(min-max)", "Gbit/s", "cyc/pkt", "drop%", "x testpmd", "x l3fwd")
    body = []
    notes = []
    loaded_cells = 0
    for e in summary:
        t = e["traffic"]
        if "mpps_median" in e:
            rng = "(%.2f-%.2f)" % (e["mpps_min"], e["mpps_max"])
            if e["ok_runs"] < e["runs"]:
                rng += " %d/%d ok" % (e["ok_runs"], e["runs"])
            if e["cpu_others_max"] > MAX_OTHER_LOAD:
                rng += " !"
                loaded_cells += 1
            body.append((t, e["label"], str(e["poll_cpus"]), "%.2f" % e["mpps_median"], rng,
                         "%.2f" % e["gbps_median"], fmt(e["cycles_per_packet"], "%.0f"),
                         "%.1f" % e["drop_pct_median"],
                         fmt(e.get("vs_testpmd"), "%.2f"), fmt(e.get("vs_l3fwd"), "%.2f")))
        else:
            notes.append("%s / %s: n/a: %s" % (t, e["row"], e["error"]))
            body.append((t, e["label"], str(e["poll_cpus"]), "n/a", "[%d]" % len(notes), "-", "-", "-", "-", "-"))
    widths = [max(len(r[i]) for r in [hdr] + body) for i in range(len(hdr))]
    left = {0, 1, 4}

    def line(r):
        return "  ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip()

    lines.append(line(hdr))
    lines.append("  ".join("-" * w for w in widths))
    prev = None
    for r in body:
        if prev is not None and r[0] != prev:
            lines.append("")
        lines.append(line(r if r[0] != prev else ("",) + r[1:]))
        prev = r[0]
    lines.append("")
    if loaded_cells:
        lines.append("! = other processes took more than %.2f CPU in at least one of the cell's windows (after %d retries):" % (
            MAX_OTHER_LOAD, RETRIES))
        lines.append("    its figures are depressed; compare them with care")
    lines.append("rows: 1-queue rows compare with testpmd io / l3fwd on one forwarding lcore, 2-queue rows with both on two;")
    lines.append("      the distributor (1 RX queue, RX lcore + worker) compares with the one-lcore baselines.")
    lines.append("cyc/pkt = TSC Hz x busy-polling CPUs / packet rate: a polling lcore never sleeps and the source never runs")
    lines.append("      dry, so all its cycles go to the packets (no hardware counters in this VM).")
    lines.append("Gbit/s: frame bytes as the PMD counts them (no FCS, preamble or gap).")
    # start-up
    ups = {}
    for s in samples:
        if s.get("ok"):
            ups.setdefault(s["row"], []).append(s["startup_s"])
    if ups:
        lines.append("start-up, exec -> first packet at the sink (median over all traffic): " + ", ".join(
            "%s %.2f s" % (r.id, statistics.median(ups[r.id])) for r in rows if r.id in ups))
    # load
    others = [s["cpu_others"] for s in samples if s.get("ok")]
    steal = [s["cpu_steal"] for s in samples if s.get("ok")]
    if others:
        busy = [s for s in samples if s.get("ok") and s["cpu_others"] > MAX_OTHER_LOAD]
        lines.append("other processes' CPU during the kept windows: median %.2f, max %.2f (%d of %d above %.2f); VM steal max %.2f CPU" % (
            statistics.median(others), max(others), len(busy), len(others), MAX_OTHER_LOAD, max(steal)))
        if discarded:
            lines.append("%d window(s) discarded and measured again because other processes took more than %.2f CPU" % (
                len(discarded), MAX_OTHER_LOAD))
    dpdk_others = sorted({p for s in samples for p in s.get("other_dpdk_at_start", [])})
    if dpdk_others:
        lines.append("WARNING: other DPDK processes were running at the start of some runs (not ours): %s" % ", ".join(dpdk_others[:6]))
    la = [s["loadavg_before"] for s in samples]
    if la:
        lines.append("load average before the first run %s, after the last %s" % (" ".join(la[0]), " ".join(samples[-1]["loadavg_after"])))
    if churn and churn["ok"]:
        a, d = churn["add_ms"], churn["delete_ms"]
        lines.append("route API under traffic (steer-rtc, %s; POST/DELETE /api/v1/routes on 127.0.0.1, one keep-alive client):" % churn["traffic"])
        lines.append("      %d adds + %d deletes in %.1f s; add median %.2f ms, p99 %.2f, max %.2f; delete median %.2f ms, p99 %.2f, max %.2f;" % (
            a["n"], d["n"], churn["window_s"], a["median"], a["p99"], a["max"], d["median"], d["p99"], d["max"]))
        lines.append("      forwarding %.2f Mpps during the churn, %.2f Mpps in the window before (%+.1f%%)" % (
            churn["mpps_during"], churn["mpps_before"], 100 * (churn["mpps_during"] / churn["mpps_before"] - 1)))
    elif churn:
        lines.append("route API under traffic: n/a: %s" % churn["error"])
    if flood:
        lines.append("slow-path floods (steer-rtc, %s with 1 frame in %d an exception; slow_path.rate 20000/s):" % (
            flood["traffic"], flood["every"]))
        base = next((r for r in flood["runs"] if r["flood"] == "none" and r["ok"]), None)
        for r in flood["runs"]:
            if not r["ok"]:
                lines.append("      %-5s n/a: %s" % (r["flood"], r["error"]))
                continue
            rel = ""
            if base and r is not base:
                rel = " (%+.1f%% handled against no flood)" % (100 * (r["rx_mpps"] / base["rx_mpps"] - 1))
            extra = ""
            if r["flood"] != "none":
                extra = "; control thread took %s, ring full for %s" % (r.get("slow_taken"), r.get("slowpath_ring_full"))
            lines.append("      %-5s %6.2f Mpps handled (runs %s), %6.2f Mpps forwarded%s%s  [%s]" % (
                r["flood"], r["rx_mpps"], "/".join("%.1f" % x for x in r["all_rx_mpps"]), r["mpps"], rel, extra,
                r["flood_label"]))
    if go_res or go_info:
        if go_res:
            parts = ["%s %dk routes %.2f s (%.0fk routes/s)" % (g["bench"], g["routes"] // 1000, g["seconds"], g["routes_per_s"] / 1000)
                     for g in go_res]
            lines.append("control plane (go test -bench, one run each): " + "; ".join(parts))
            lines.append("      LPMLoad is rte_lpm create + add + free: rte_lpm_add scans the rules of the same depth, O(n^2) to load n /24s;")
            lines.append("      Load1M is rte_fib (DIR24_8 + RIB) create + sorted bulk add of 1M random /16-/28 prefixes (66% /24, 3.5% longer);")
            lines.append("      RouterAddRoutes is steer's own load of such 1M static routes (4 gateways) through Router.AddRoutes while it forwards")
        if go_info.get("error"):
            lines.append("control plane benchmarks failed: %s (build/bench/go-bench.txt)" % go_info["error"])
    for i, n in enumerate(notes, 1):
        lines.append("[%d] %s" % (i, n))
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------


def main():
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if os.geteuid() != 0:
        sys.exit("bench: DPDK needs root")
    t_sel = os.environ.get("BENCH_TRAFFIC", "")
    r_sel = os.environ.get("BENCH_ROWS", "")
    tids = [t[0] for t in TRAFFIC]
    rids = [r.id for r in ROWS]
    tsel = [x for x in t_sel.split(",") if x] or tids
    rsel = [x for x in r_sel.split(",") if x] or rids
    for x in tsel:
        if x not in tids:
            sys.exit("bench: BENCH_TRAFFIC: unknown %r (known: %s)" % (x, ",".join(tids)))
    for x in rsel:
        if x not in rids:
            sys.exit("bench: BENCH_ROWS: unknown %r (known: %s)" % (x, ",".join(rids)))
    rows = [r for r in ROWS if r.id in rsel]
    if any(r.prog == "l3fwd" for r in rows) and not (L3FWD and os.access(L3FWD, os.X_OK)):
        sys.exit("bench: BENCH_L3FWD must name the l3fwd binary (run through scripts/bench/bench.sh)")

    # Nothing from a previous run may reach these figures.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "runs"))
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    info = machine_info()
    others = other_dpdk_processes()
    ours = [o for o in others if o.endswith(" %s)" % PREFIX)]
    if ours:
        sys.exit("bench: a DPDK process with the bench's file prefix %s is still running: %s. A bench killed "
                 "with SIGKILL? Stop it (kill PID) and run again." % (PREFIX, ", ".join(ours)))
    if others:
        log("WARNING: other DPDK processes are running: %s. Their pollers take the CPUs the rows "
            "poll on; each run waits up to %.0f s for them to end, then measures anyway (and says so)." % (
                ", ".join(others), WAIT_OTHERS))
    samples, discarded, go_info, go_res, churn, flood = [], [], {}, [], None, None
    interrupted = None
    try:
        traffic, empty = make_traffic(tsel)
        n_runs = len(traffic) * len(rows) * REPEAT
        per = WARMUP + SECONDS + 2
        log("%d runs of ~%.0f s each (%d traffic x %d rows x %d), about %.1f min" % (
            n_runs, per, len(traffic), len(rows), REPEAT, n_runs * per / 60))
        k = 0
        for t in traffic:
            for rep in range(REPEAT):
                order = rows if rep % 2 == 0 else rows[::-1]
                for row in order:
                    k += 1
                    # A window in which other processes took more than MAX_OTHER_LOAD CPU
                    # is measured again (at most RETRIES times); the discarded ones are
                    # kept in results.json.
                    for attempt in range(RETRIES + 1):
                        s = measure(row, t, rep, empty)
                        s["attempt"] = attempt + 1
                        if not s["ok"] or s["cpu_others"] <= MAX_OTHER_LOAD or attempt == RETRIES:
                            break
                        discarded.append(s)
                        log("[%d/%d] %-10s %-10s %6.2f Mpps discarded: other processes took %.2f CPU; again in 5 s" % (
                            k, n_runs, t["id"], row.id, s["mpps"], s["cpu_others"]))
                        time.sleep(5)
                    samples.append(s)
                    if s["ok"]:
                        log("[%d/%d] %-10s %-10s %6.2f Mpps  start-up %.2f s  other load %.2f CPU" % (
                            k, n_runs, t["id"], row.id, s["mpps"], s["startup_s"], s["cpu_others"]))
                    else:
                        log("[%d/%d] %-10s %-10s n/a: %s" % (k, n_runs, t["id"], row.id, s["error"]))
        if RUN_CHURN and any(r.id == "steer-rtc" for r in rows):
            t = next((x for x in traffic if x["id"] == "udp64-1024"), traffic[0])
            log("route API under traffic: steer-rtc on %s, adding and deleting routes for %.0f s" % (t["id"], SECONDS))
            churn = route_churn(t, empty)
            if churn["ok"]:
                log("route churn: %d adds, %d deletes; %.2f Mpps during, %.2f before" % (
                    churn["add_ms"]["n"], churn["delete_ms"]["n"], churn["mpps_during"], churn["mpps_before"]))
            else:
                log("route churn: n/a: %s" % churn["error"])
        if RUN_FLOOD and any(r.id == "steer-rtc" for r in rows):
            t = next((x for x in traffic if x["id"] == "udp64-1024"), traffic[0])
            log("slow-path floods: steer-rtc on %s with 1 frame in %d an exception" % (t["id"], FLOOD_EVERY))
            flood = slowpath_flood(t, empty)
        if RUN_GO:
            log("control plane: go test -bench FIBBuild|LPMLoad ./cgo/lpm/, Load1M ./cgo/fib/ (about a minute)")
            go_info, go_res = go_benchmarks()
    except Interrupted as e:
        interrupted = str(e)
        log("interrupted (%s): stopping the running program and cleaning up" % e)
        if Run.current is not None:
            Run.current.stop()
        remove_leftovers()
        remove_go_test_leftovers()
        traffic = locals().get("traffic", [])
    wall = time.monotonic() - t_start
    summary = summarise(samples, traffic, rows, info["cpu_mhz"])
    text = table(info, traffic, rows, summary, samples, discarded, go_info, go_res, churn, started, wall, flood)
    result = {
        "schema": 1,
        "date": started.isoformat(timespec="seconds"),
        "wall_s": wall,
        "interrupted": interrupted,
        "machine": info,
        "settings": {"seconds": SECONDS, "warmup": WARMUP, "repeat": REPEAT, "memory_mb": MEMORY_MB,
                     "hugepages": HUGE, "file_prefix": PREFIX, "src": SRC, "dst": DST, "dst_mac": LAN_MAC},
        "traffic": traffic,
        "rows": [{"id": r.id, "label": r.label, "program": r.prog, "group": r.group, "poll_cpus": r.poll_cpus,
                  "lcores": r.lcores_desc} for r in rows],
        "summary": summary,
        "samples": samples,
        "discarded": discarded,
        "control_plane": {"info": go_info, "results": go_res, "route_churn": churn},
        "slowpath_flood": flood,
        "table": text,
    }
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(OUT, "table.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    print("\nresults: %s (per run: %s/runs/)" % (os.path.relpath(os.path.join(OUT, "results.json"), ROOT),
                                                   os.path.relpath(OUT, ROOT)))
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    main()
