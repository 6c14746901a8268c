package slowpath

import "time"

// now is the clock New gives the neighbour table and the ICMP rate limit.
// Tests replace it (before New) with a fake they advance by hand.
var now = time.Now
