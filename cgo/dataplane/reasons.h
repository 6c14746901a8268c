/* Why the fast path drops a packet or hands it to the slow path: one line
 * each, enum name and counter name (also the metrics label). The order is
 * the counters' order and pkg/fwd's; a test pins the two together. */
#ifndef STEER_REASONS_H
#define STEER_REASONS_H

#define STEER_DROP_REASONS(X)                                                  \
	X(UNKNOWN_ETHERTYPE, "unknown_ethertype")                              \
	X(RUNT, "runt")                                                        \
	X(BAD_VERSION, "bad_version")                                          \
	X(BAD_IHL, "bad_ihl")                                                  \
	X(BAD_CHECKSUM, "bad_checksum")                                        \
	X(BAD_LENGTH, "bad_length")                                            \
	X(MARTIAN_SOURCE, "martian_source")                                    \
	X(OWN_SOURCE, "own_source")                                            \
	X(BROADCAST_SOURCE, "broadcast_source")                                \
	X(LINK_SOURCE, "link_source")                                          \
	X(MARTIAN_DESTINATION, "martian_destination")                          \
	X(L2_OTHER_HOST, "l2_other_host")                                      \
	X(LINK_BROADCAST, "link_broadcast")                                    \
	X(MULTICAST, "multicast")                                              \
	X(TX_FULL, "tx_full")                                                  \
	X(RING_FULL, "ring_full")

#define STEER_SLOW_REASONS(X)                                                  \
	X(ARP, "arp")                                                          \
	X(LOCAL, "local")                                                      \
	X(BROADCAST, "broadcast")                                              \
	X(TTL_EXCEEDED, "ttl_exceeded")                                        \
	X(NO_ROUTE, "no_route")                                                \
	X(UNRESOLVED, "unresolved")                                            \
	X(IP_OPTIONS, "ip_options")                                            \
	X(FRAGMENTATION_NEEDED, "fragmentation_needed")

#define STEER_ENUM(e, s) STEER_DROP_##e,
enum steer_drop { STEER_DROP_REASONS(STEER_ENUM) STEER_DROP_MAX };
#undef STEER_ENUM
#define STEER_ENUM(e, s) STEER_SLOW_##e,
enum steer_slow { STEER_SLOW_REASONS(STEER_ENUM) STEER_SLOW_MAX };
#undef STEER_ENUM

extern const char *const steer_drop_names[STEER_DROP_MAX];
extern const char *const steer_slow_names[STEER_SLOW_MAX];

#endif
