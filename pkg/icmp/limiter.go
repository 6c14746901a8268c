package icmp

import (
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket for ICMP error messages, the rate limit RFC 1812
// section 4.3.2.8 says a router SHOULD apply (RFC 1122 3.2.2 likewise). It
// starts full: up to burst errors at once, then rate per second.
// It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0 = never, +Inf = always
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewLimiter returns a limiter allowing ratePerSec messages per second on
// average and bursts of up to burst. now is the clock (nil = time.Now; tests
// pass a fake).
//
// ratePerSec 0, a negative rate or NaN disables sending: Allow always
// returns false. math.Inf(1) removes the limit: Allow always returns true.
// A burst below 1 is taken as 1, since a bucket that cannot hold one token
// would never allow anything.
func NewLimiter(ratePerSec float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if !(ratePerSec > 0) { // negative or NaN
		ratePerSec = 0
	}
	b := float64(max(burst, 1))
	return &Limiter{rate: ratePerSec, burst: b, tokens: b, last: now(), now: now}
}

// Allow reports whether one more message may be sent now, and if so takes
// its token.
func (l *Limiter) Allow() bool {
	if l.rate == 0 {
		return false
	}
	if math.IsInf(l.rate, 1) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	// A clock stepping backwards refills nothing, and the bucket restarts
	// from the new time instead of waiting for the old one to come back.
	if d := t.Sub(l.last); d > 0 {
		l.tokens = math.Min(l.burst, l.tokens+d.Seconds()*l.rate)
	}
	l.last = t
	// The epsilon absorbs rounding in d.Seconds()*rate (0.1 s at 10/s must
	// give a whole token).
	if l.tokens >= 1-1e-9 {
		l.tokens = math.Max(0, l.tokens-1)
		return true
	}
	return false
}
