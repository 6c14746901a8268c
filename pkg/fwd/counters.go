package fwd

// LcoreCounters are one forwarding lcore's fast-path counters, as Go reads
// them from its C struct.
type LcoreCounters struct {
	Rx, Tx               uint64
	BusyPolls, IdlePolls uint64
	HandedOff            uint64 // to other lcores' workers over rings
	Local                uint64 // own worker share, processed inline
	FromRings            uint64 // received as a worker
	WorkerBursts         uint64 // non-empty ring dequeues
	BackpressureSkips    uint64 // NIC polls skipped for lack of ring room
	ExceptionRingFull    uint64 // slow-path packets freed: the control thread's ring was full
	ControlTx            uint64 // frames the control thread made, sent by this lcore
	ControlTxFull        uint64 // ... dropped: TX queue full
	Dropped              [NumDropReasons]uint64
	SlowPath             [NumSlowReasons]uint64

	// Cycles (TSC): of loops that found work, of loops that found none,
	// and (within busy) waiting for ring room under backpressure.
	BusyCycles, IdleCycles, StallCycles uint64
	// Waiting when idle (poll modes adaptive and interrupt): cycles asleep
	// (neither busy nor idle), the sleeps, and the returns to work after
	// one.
	AsleepCycles, Sleeps, Wakeups uint64
	// A sample of busy loops timed by stage: the loops, the packets they
	// received (NIC queues and rings) and processed here, and their cycles
	// per stage. StageCycles[s] / SampledPackets estimates stage s's cost
	// per packet.
	SampledLoops, SampledPackets, SampledLocal uint64
	StageCycles                                [NumStages]uint64
}

// Packets is what the lcore received: from NIC queues and, as a worker,
// from rings.
func (c LcoreCounters) Packets() uint64 { return c.Rx + c.FromRings }

// RxQueueCounters are one RX queue's backpressure counters.
type RxQueueCounters struct {
	Port, Queue uint16
	StallSkips  uint64 // polls skipped waiting for ring room
	StallCycles uint64
}

// LinkCounters are one (RX lcore, worker) ring of the distributor. What
// an RX lcore processes itself (its RETA's local buckets) goes through no
// link: LcoreCounters.Local counts it.
type LinkCounters struct {
	Worker      int
	Handed      uint64 // enqueued
	DroppedFull uint64
}
