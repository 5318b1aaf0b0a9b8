/* spool.h - a bounded queue of records waiting for acknowledgement, on disk
 * (store-and-forward) or in memory
 *
 * Records are opaque bytes with increasing ids. A sender appends a record,
 * reads the records it has not sent yet in order (spool_next), and marks a
 * record acknowledged by id, in any order; a record is forgotten once it and
 * every record before it are acknowledged.
 *
 * On disk (dir given), DIR holds numbered segment files and an ack file:
 *
 *   seg-<first id, 20 digits>.log   frames: u32 length, u32 CRC-32 (of id,
 *                                   length and data), u64 id, then the data
 *                                   (little-endian)
 *   ack                             u64 first unacknowledged id, u32 CRC-32
 *                                   (written to ack.tmp, then renamed)
 *   lock                            flock()ed while a process uses DIR
 *   owner                           the program and the destination the
 *                                   records are for, a line each
 *                                   (written to owner.tmp, then renamed)
 *
 * A spool belongs to one program and one destination (the records of
 * es-mqtt-pub are no use to es-kafka-pub, nor an MQTT broker's to
 * another broker): another program is refused, the same program with
 * another destination is refused while records are pending and takes the
 * spool over when it is empty. Refused means exit 2 with the records
 * untouched. A spool without an owner file (made before there was one) is
 * taken over by the first program that opens it.
 *
 * A record is in the kernel before spool_append returns, so it survives the
 * death of the process; --fsync decides what survives power loss. A torn
 * frame at the end (a crash mid-write) fails its CRC and is cut off when the
 * spool is opened again. The ack file is written at most every 200 ms, so
 * after a crash up to that much acknowledged data is sent again: delivery
 * is at least once.
 */
#ifndef ES_SPOOL_H
#define ES_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum spool_full { SPOOL_BLOCK, SPOOL_DROP_OLDEST };
enum spool_sync { SPOOL_SYNC_INTERVAL = 0, SPOOL_SYNC_ALWAYS, SPOOL_SYNC_NEVER };

struct spool_cfg {
	const char *dir;	/* NULL: in memory */
	uint64_t max_bytes;	/* on disk: the segment files' total size */
	uint64_t max_records;	/* in memory: how many records */
	enum spool_full full;
	enum spool_sync sync;
	/* On disk: whose records these are (see above); NULL: no check. */
	const char *owner_prog, *owner_dest;
};

struct spool;
/* Opens (creating DIR if needed). A failure is said on stderr and kept
 * as spool_status(): the spool then does nothing, and the program is to
 * end with that status (1; 2 for a spool of another owner, whose records
 * are untouched). At run time too: an I/O error (disk full) fails it. */
struct spool *spool_open(const struct spool_cfg *cfg);
/* 0, or the exit status of the failure said. */
int spool_status(const struct spool *s);
/* What spool_open would say of the owner, touching nothing, making
 * nothing (--check); a DIR that does not exist is fine. 0, or the exit
 * status (said). */
int spool_check_owner(const struct spool_cfg *cfg);
/* The destination changed while running (a reload that waited for the
 * spool to empty, or moved its records on purpose): the owner file says
 * the new one. */
void spool_set_owner(struct spool *s, const char *dest);
/* True if a record of n bytes does not fit now (SPOOL_BLOCK: wait for
 * acknowledgements; SPOOL_DROP_OLDEST never says so). */
bool spool_is_full(struct spool *s, size_t n);
/* Appends a record; returns its id. Under SPOOL_DROP_OLDEST the oldest
 * records may go to make room (counted by spool_dropped). */
uint64_t spool_append(struct spool *s, const void *p, size_t n);
/* The next record not yet read, in order: true with *id, *p, *n (valid
 * until the next call), false when every record was read. */
bool spool_next(struct spool *s, uint64_t *id, const void **p, size_t *n);
/* Reads again from the oldest unacknowledged record (after a reconnect
 * that lost what was sent). */
void spool_rewind(struct spool *s);
/* Marks a record acknowledged; ids already forgotten are ignored. */
void spool_ack(struct spool *s, uint64_t id);
/* Records appended and not yet acknowledged. */
uint64_t spool_pending(const struct spool *s);
/* The bytes of those records (as appended: no frame headers), the same
 * in memory and on disk, and after a reopen. */
uint64_t spool_pending_bytes(const struct spool *s);
/* Records read and not yet acknowledged. */
uint64_t spool_unacked_read(const struct spool *s);
uint64_t spool_dropped(const struct spool *s);
/* Periodic work: fsync under SPOOL_SYNC_INTERVAL, the ack file. */
void spool_tick(struct spool *s, int64_t now_ms);
/* Writes the ack file and closes (the records stay on disk). */
void spool_close(struct spool *s);

/* The arguments of the options every publisher with a spool takes:
 * --queue N (1 to 100000000), --spool-max SIZE (at least 64k),
 * --spool-full block|drop-oldest, --fsync always|interval|never. False with
 * why (size n) naming the option for a bad one (a usage error). */
bool spool_arg_queue(const char *arg, uint64_t *v, char *why, size_t n);
bool spool_arg_max(const char *arg, uint64_t *v, char *why, size_t n);
bool spool_arg_full(const char *arg, enum spool_full *v, char *why, size_t n);
bool spool_arg_sync(const char *arg, enum spool_sync *v, char *why, size_t n);

#endif
