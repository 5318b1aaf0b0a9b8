/* spool.c - a bounded queue of records waiting for acknowledgement, on disk
 * or in memory (the format and its guarantees are in spool.h)
 *
 * Ids in [ack_id, read_id) have been read and wait for their ack; ids in
 * [read_id, next_id) wait to be read. A ring indexed by id keeps, per read
 * record, whether it was acked (acks may come out of order) and where it
 * starts on disk, so that spool_rewind() can read it again. In memory the
 * ring holds the records themselves, in slots reused round and round.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "diag.h"
#include "mem.h"
#include "size.h"
#include "spool.h"

#define FRAME_HDR 16
#define ACK_EVERY_MS 200
#define SYNC_EVERY_MS 1000

struct seg {
	uint64_t first;		/* id of its first record: its name */
	uint64_t size;
};

struct slot {
	bool acked;
	uint64_t seg, off;	/* disk: where the frame starts */
	char *buf;		/* memory: the record */
	size_t len, cap;
};

struct spool {
	struct spool_cfg cfg;
	bool mem;
	int dirfd, lockfd, wfd, rfd;
	struct seg *segs;
	size_t nseg, capseg;
	uint64_t total;		/* bytes in segment files */
	uint64_t seg_max;
	uint64_t next_id, ack_id, read_id;
	uint64_t rseg, roff;	/* disk: where read_id's frame starts */
	uint64_t rfd_seg;	/* the segment rfd has open */
	struct slot *ring;
	uint64_t ringcap;	/* disk: a power of two; memory: max_records */
	char *rbuf;
	size_t rcap;
	uint64_t mem_bytes;	/* memory: the bytes of [ack_id, next_id) */
	uint64_t dropped;
	bool dirty, ack_dirty;
	int64_t last_sync, last_ack;
	int status;	/* a failure said: the exit status (spool_status) */
};

/* ---- CRC-32 (IEEE 802.3, reflected), table built once ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_add(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* Frame header: length, CRC of (id, length, data), id; little-endian as
 * the machines this runs on (the spool does not travel). */
static uint32_t frame_crc(uint64_t id, uint32_t len, const void *p)
{
	uint32_t c = crc_add(0, &id, sizeof id);
	c = crc_add(c, &len, sizeof len);
	return crc_add(c, p, len);
}

/* ---- small helpers ---- */

/* A failure is said once and kept (spool_status): the spool does nothing
 * more, and its program ends. */
static void fail_status(struct spool *s, int status)
{
	if (!s->status)
		s->status = status;
}

static void fail(struct spool *s, const char *what, const char *name)
{
	if (!s->status)
		diag_warn("spool %s: %s%s%s: %s", s->cfg.dir, what,
			  name ? " " : "", name ? name : "", strerror(errno));
	fail_status(s, EXIT_RUNTIME);
}

/* mkdir -p: a spool under a directory that does not exist yet (a fresh
 * /var/spool/es/NAME) is made whole. */
static int mkdir_parents(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *q = p + 1; *q && !rc; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*q = '/';
	}
	if (!rc && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static void seg_name(uint64_t first, char *buf, size_t n)
{
	snprintf(buf, n, "seg-%020llu.log", (unsigned long long)first);
}

static int seg_open(struct spool *s, uint64_t first, int flags)
{
	char name[64];
	seg_name(first, name, sizeof name);
	int fd = openat(s->dirfd, name, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		fail(s, "cannot open", name);
	return fd;
}

static struct slot *slot_of(const struct spool *s, uint64_t id)
{
	return &s->ring[s->mem ? id % s->ringcap : id & (s->ringcap - 1)];
}

/* Disk: room in the ring for one more read record; the ring doubles and
 * its entries move to their new places. */
static void ring_room(struct spool *s)
{
	if (s->read_id - s->ack_id < s->ringcap)
		return;
	uint64_t cap = s->ringcap * 2;
	struct slot *r = xmalloc(cap * sizeof *r);
	memset(r, 0, cap * sizeof *r);
	for (uint64_t id = s->ack_id; id < s->read_id; id++)
		r[id & (cap - 1)] = *slot_of(s, id);
	free(s->ring);
	s->ring = r;
	s->ringcap = cap;
}

/* name's content replaced by n bytes at p, atomically: written to
 * name.tmp, synced (unless --fsync never), renamed. */
static void replace_file(struct spool *s, const char *name, const void *p,
			 size_t n)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		fail(s, "cannot write", tmp);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (s->cfg.sync != SPOOL_SYNC_NEVER)
		fdatasync(fd);
	close(fd);
	if (renameat(s->dirfd, tmp, s->dirfd, name) < 0)
		fail(s, "cannot rename", tmp);
}

static void write_ack(struct spool *s)
{
	unsigned char b[12];
	uint32_t crc = crc_add(0, &s->ack_id, 8);
	memcpy(b, &s->ack_id, 8);
	memcpy(b + 8, &crc, 4);
	replace_file(s, "ack", b, sizeof b);
	s->ack_dirty = false;
}

static uint64_t read_ack(struct spool *s, bool *ok)
{
	unsigned char b[12];
	uint64_t id = 0;
	uint32_t crc;
	*ok = false;
	int fd = openat(s->dirfd, "ack", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, b, sizeof b) == (ssize_t)sizeof b) {
		memcpy(&id, b, 8);
		memcpy(&crc, b + 8, 4);
		*ok = crc == crc_add(0, &id, 8);
	}
	close(fd);
	return *ok ? id : 0;
}

/* Removes the segments whose records are all acknowledged (never the one
 * being written). */
static void trim(struct spool *s)
{
	while (s->nseg > 1 && s->segs[1].first <= s->ack_id) {
		char name[64];
		seg_name(s->segs[0].first, name, sizeof name);
		if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
			fail(s, "cannot remove", name);
		s->total -= s->segs[0].size;
		if (s->rfd >= 0 && s->rfd_seg == s->segs[0].first) {
			close(s->rfd);
			s->rfd = -1;
		}
		memmove(s->segs, s->segs + 1, --s->nseg * sizeof *s->segs);
	}
}

static void seg_push(struct spool *s, uint64_t first, uint64_t size)
{
	if (s->nseg == s->capseg) {
		s->capseg = s->capseg ? s->capseg * 2 : 16;
		s->segs = xrealloc(s->segs, s->capseg * sizeof *s->segs);
	}
	s->segs[s->nseg].first = first;
	s->segs[s->nseg++].size = size;
	s->total += size;
}

/* The acknowledged prefix forgotten: ack_id moves past it (on disk the
 * files of its segments go). */
static void ack_advance(struct spool *s)
{
	uint64_t from = s->ack_id;
	while (s->ack_id < s->read_id && slot_of(s, s->ack_id)->acked) {
		if (s->mem)
			s->mem_bytes -= slot_of(s, s->ack_id)->len;
		s->ack_id++;
	}
	if (!s->mem && s->ack_id != from) {
		s->ack_dirty = true;
		trim(s);
	}
}

/* ---- opening: find the segments, cut a torn tail, find the ack point ---- */

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

static void list_segments(struct spool *s)
{
	DIR *d = fdopendir(dup(s->dirfd));
	if (!d) {
		fail(s, "cannot list", NULL);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned long long first;
		char tail[8];
		if (sscanf(e->d_name, "seg-%20llu%7s", &first, tail) != 2 ||
		    strcmp(tail, ".log"))
			continue;
		struct stat st;
		if (fstatat(s->dirfd, e->d_name, &st, 0) < 0) {
			fail(s, "cannot stat", e->d_name);
			continue;
		}
		seg_push(s, first, (uint64_t)st.st_size);
	}
	closedir(d);
	if (s->nseg)
		qsort(s->segs, s->nseg, sizeof *s->segs, cmp_seg);
}

/* Reads the frame header at off: its id and length; false at the end of the
 * segment or if the frame is incomplete or fails its CRC (check). */
static bool frame_at(struct spool *s, int fd, uint64_t off, uint64_t size,
		     bool check, uint64_t *id, uint32_t *len)
{
	unsigned char h[FRAME_HDR];
	uint32_t crc;
	if (off + FRAME_HDR > size ||
	    pread(fd, h, FRAME_HDR, (off_t)off) != FRAME_HDR)
		return false;
	memcpy(len, h, 4);
	memcpy(&crc, h + 4, 4);
	memcpy(id, h + 8, 8);
	if (off + FRAME_HDR + *len > size)
		return false;
	if (!check)
		return true;
	if (*len > s->rcap) {
		s->rcap = *len;
		s->rbuf = xrealloc(s->rbuf, s->rcap);
	}
	if (pread(fd, s->rbuf, *len, (off_t)(off + FRAME_HDR)) != (ssize_t)*len)
		return false;
	return crc == frame_crc(*id, *len, s->rbuf);
}

/* The segment being written: every frame checked; a torn or damaged tail
 * (a crash mid-write) is cut off. Sets next_id. */
static void check_last(struct spool *s)
{
	struct seg *g = &s->segs[s->nseg - 1];
	int fd = seg_open(s, g->first, O_RDWR);
	if (fd < 0)
		return;
	uint64_t off = 0, id, expect = g->first;
	uint32_t len;
	while (frame_at(s, fd, off, g->size, true, &id, &len) && id == expect) {
		off += FRAME_HDR + len;
		expect++;
	}
	if (off < g->size) {
		diag_warn("spool %s: dropped %llu bytes of a torn record at the end "
			  "(the writer died mid-write)", s->cfg.dir,
			  (unsigned long long)(g->size - off));
		if (ftruncate(fd, (off_t)off) < 0)
			fail(s, "cannot truncate", NULL);
		s->total -= g->size - off;
		g->size = off;
	}
	s->next_id = expect;
	s->wfd = fd;
	lseek(fd, 0, SEEK_END);
}

/* Positions the reader at ack_id: the frames before it in its segment are
 * stepped over by their headers. */
static void seek_ack(struct spool *s)
{
	size_t i = 0;
	while (i + 1 < s->nseg && s->segs[i + 1].first <= s->ack_id)
		i++;
	s->rseg = s->segs[i].first;
	s->roff = 0;
	int fd = seg_open(s, s->rseg, O_RDONLY);
	uint64_t id;
	uint32_t len;
	if (fd < 0)
		return;
	while (frame_at(s, fd, s->roff, s->segs[i].size, false, &id, &len) &&
	       id < s->ack_id)
		s->roff += FRAME_HDR + len;
	s->rfd = fd;
	s->rfd_seg = s->rseg;
	s->read_id = s->ack_id;
}

/* ---- the owner: which program, which destination ---- */

#define OWNER_MAX 2048

/* The owner file's two lines; false if there is none. */
static bool read_owner(int dirfd, char *prog, char *dest)
{
	char buf[2 * OWNER_MAX];
	int fd = openat(dirfd, "owner", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	char *nl = r > 0 ? memchr(buf, '\n', (size_t)r) : NULL;
	if (!nl)
		return false;
	buf[r] = 0;
	*nl = 0;
	nl[1 + strcspn(nl + 1, "\n")] = 0;
	snprintf(prog, OWNER_MAX, "%.*s", OWNER_MAX - 1, buf);
	snprintf(dest, OWNER_MAX, "%.*s", OWNER_MAX - 1, nl + 1);
	return true;
}

static void write_owner(struct spool *s, const char *dest)
{
	char buf[2 * OWNER_MAX + 2];
	int n = snprintf(buf, sizeof buf, "%.*s\n%.*s\n", OWNER_MAX - 1,
			 s->cfg.owner_prog, OWNER_MAX - 1, dest);
	replace_file(s, "owner", buf, (size_t)n);
}

/* A usage error (the wrong --spool), with the records as they were:
 * said, and EXIT_USAGE for the program to exit with. */
static int refuse_other(const struct spool_cfg *c, const char *prog,
			const char *dest)
{
	diag_warn("--spool %s belongs to %s (for %s), not %s: its records stay "
		  "there for it; give each publisher a spool directory of its "
		  "own", c->dir, prog, dest, c->owner_prog);
	return EXIT_USAGE;
}

static int refuse_pending(const struct spool_cfg *c, uint64_t n,
			  const char *dest)
{
	diag_warn("--spool %s holds %llu records for %s, not %s: they stay "
		  "there; deliver them first (%s with that destination) or give "
		  "this destination a spool directory of its own", c->dir,
		  (unsigned long long)n, dest, c->owner_dest, c->owner_prog);
	return EXIT_USAGE;
}

/* The records pending, from the files alone (nothing cut, nothing
 * written): for --check. */
static uint64_t dry_pending(struct spool *s)
{
	bool ok;
	uint64_t ack = read_ack(s, &ok);
	list_segments(s);
	if (!s->nseg)
		return 0;
	struct seg *g = &s->segs[s->nseg - 1];
	int fd = seg_open(s, g->first, O_RDONLY);
	uint64_t off = 0, id, next = g->first;
	uint32_t len;
	while (frame_at(s, fd, off, g->size, false, &id, &len) && id == next) {
		off += FRAME_HDR + len;
		next++;
	}
	close(fd);
	if (!ok || ack < s->segs[0].first)
		ack = s->segs[0].first;
	return next > ack ? next - ack : 0;
}

int spool_check_owner(const struct spool_cfg *cfg)
{
	if (!cfg->dir || !cfg->owner_prog)
		return 0;
	struct spool s = { .cfg = *cfg, .lockfd = -1, .wfd = -1, .rfd = -1 };
	char prog[OWNER_MAX], dest[OWNER_MAX];
	crc_init();
	s.dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.dirfd < 0)
		return 0;	/* made at start */
	int rc = 0;
	if (read_owner(s.dirfd, prog, dest)) {
		uint64_t n = 0;
		if (strcmp(prog, cfg->owner_prog))
			rc = refuse_other(cfg, prog, dest);
		else if (strcmp(dest, cfg->owner_dest))
			n = dry_pending(&s);
		if (n)
			rc = refuse_pending(cfg, n, dest);
	}
	free(s.segs);
	close(s.dirfd);
	return rc ? rc : s.status;
}

/* After opening: the same program's spool for another destination is
 * taken over only when empty; one without an owner is taken over. */
static void own(struct spool *s, bool owned, const char *dest)
{
	if (owned && !strcmp(dest, s->cfg.owner_dest))
		return;
	if (owned && spool_pending(s)) {
		fail_status(s, refuse_pending(&s->cfg, spool_pending(s), dest));
		return;
	}
	if (owned)
		diag_warn("spool %s: empty, now for %s (was for %s)", s->cfg.dir,
			  s->cfg.owner_dest, dest);
	write_owner(s, s->cfg.owner_dest);
}

void spool_set_owner(struct spool *s, const char *dest)
{
	if (!s->mem && s->cfg.owner_prog)
		write_owner(s, dest);
}

/* The directory, made if need be, and locked: false if not (said). */
static bool open_dir(struct spool *s)
{
	if (mkdir_parents(s->cfg.dir) < 0) {
		fail(s, "cannot create it", NULL);
		return false;
	}
	s->dirfd = open(s->cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		fail(s, "cannot open", NULL);
		return false;
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lockfd < 0) {
		fail(s, "cannot open", "lock");
		return false;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		diag_warn("spool %s is in use by another process", s->cfg.dir);
		fail_status(s, EXIT_RUNTIME);
		return false;
	}
	return true;
}

static void open_disk(struct spool *s)
{
	if (!open_dir(s))
		return;
	char prog[OWNER_MAX], dest[OWNER_MAX];
	bool owned = s->cfg.owner_prog && read_owner(s->dirfd, prog, dest);
	if (owned && strcmp(prog, s->cfg.owner_prog)) {
		fail_status(s, refuse_other(&s->cfg, prog, dest));
		return;
	}
	s->seg_max = s->cfg.max_bytes / 8;
	if (s->seg_max < 4096)
		s->seg_max = 4096;
	if (s->seg_max > (64u << 20))
		s->seg_max = 64u << 20;
	s->ringcap = 1024;
	s->ring = xmalloc(s->ringcap * sizeof *s->ring);
	memset(s->ring, 0, s->ringcap * sizeof *s->ring);
	bool ack_ok;
	uint64_t ack = read_ack(s, &ack_ok);
	list_segments(s);
	if (s->status)
		return;
	if (!s->nseg) {
		s->next_id = ack;
		s->wfd = seg_open(s, ack, O_RDWR | O_CREAT);
		seg_push(s, ack, 0);
	} else {
		check_last(s);
	}
	if (s->status)
		return;
	if (!ack_ok)
		ack = s->segs[0].first;
	if (ack < s->segs[0].first)
		ack = s->segs[0].first;
	if (ack > s->next_id)
		ack = s->next_id;
	s->ack_id = ack;
	trim(s);
	seek_ack(s);
	if (s->cfg.owner_prog)
		own(s, owned, dest);
}

struct spool *spool_open(const struct spool_cfg *cfg)
{
	struct spool *s = xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	s->dirfd = s->lockfd = s->wfd = s->rfd = -1;
	crc_init();
	if (cfg->dir) {
		open_disk(s);
	} else {
		s->mem = true;
		s->ringcap = cfg->max_records ? cfg->max_records : 1;
		s->ring = xmalloc(s->ringcap * sizeof *s->ring);
		memset(s->ring, 0, s->ringcap * sizeof *s->ring);
	}
	return s;
}

/* ---- appending ---- */

bool spool_is_full(struct spool *s, size_t n)
{
	if (s->mem)
		return s->next_id - s->ack_id >= s->ringcap;
	if (s->cfg.full == SPOOL_DROP_OLDEST || s->ack_id == s->next_id)
		return false;
	return s->total + FRAME_HDR + n > s->cfg.max_bytes;
}

/* Drop-oldest: the oldest segment goes whole, acknowledged or not. */
static void drop_oldest(struct spool *s)
{
	uint64_t end = s->segs[1].first;
	if (end > s->ack_id)
		s->dropped += end - s->ack_id;
	s->ack_id = end;
	s->ack_dirty = true;
	if (s->read_id < end) {
		s->read_id = end;
		s->rseg = end;
		s->roff = 0;
	}
	trim(s);
}

static void roll(struct spool *s)
{
	if (s->cfg.sync == SPOOL_SYNC_INTERVAL && s->dirty)
		fdatasync(s->wfd);
	close(s->wfd);
	s->wfd = seg_open(s, s->next_id, O_RDWR | O_CREAT | O_TRUNC);
	seg_push(s, s->next_id, 0);
	if (s->cfg.sync == SPOOL_SYNC_ALWAYS)
		fsync(s->dirfd);	/* the new name itself */
	trim(s);
}

static uint64_t append_disk(struct spool *s, const void *p, size_t n)
{
	struct seg *g = &s->segs[s->nseg - 1];
	if (g->size > 0 && g->size + FRAME_HDR + n > s->seg_max)
		roll(s);
	while (s->cfg.full == SPOOL_DROP_OLDEST && s->nseg > 1 &&
	       s->total + FRAME_HDR + n > s->cfg.max_bytes)
		drop_oldest(s);
	g = &s->segs[s->nseg - 1];
	uint64_t id = s->next_id;
	uint32_t len = (uint32_t)n, crc = frame_crc(id, len, p);
	unsigned char h[FRAME_HDR];
	memcpy(h, &len, 4);
	memcpy(h + 4, &crc, 4);
	memcpy(h + 8, &id, 8);
	struct iovec iov[2] = { { h, FRAME_HDR }, { (void *)p, n } };
	ssize_t w = pwritev(s->wfd, iov, 2, (off_t)g->size);
	if (w != (ssize_t)(FRAME_HDR + n)) {
		if (w >= 0)
			errno = ENOSPC;
		fail(s, "cannot append to", NULL);
	}
	g->size += FRAME_HDR + n;
	s->total += FRAME_HDR + n;
	if (s->cfg.sync == SPOOL_SYNC_ALWAYS)
		fdatasync(s->wfd);
	else
		s->dirty = true;
	return s->next_id++;
}

uint64_t spool_append(struct spool *s, const void *p, size_t n)
{
	if (s->status)
		return s->next_id;	/* the program ends: nothing more */
	if (!s->mem)
		return append_disk(s, p, n);
	struct slot *sl = slot_of(s, s->next_id);
	if (n > sl->cap) {
		sl->cap = n;
		sl->buf = xrealloc(sl->buf, n);
	}
	memcpy(sl->buf, p, n);
	sl->len = n;
	sl->acked = false;
	s->mem_bytes += n;
	return s->next_id++;
}

/* ---- reading ---- */

static size_t seg_index(const struct spool *s, uint64_t first)
{
	for (size_t i = 0; i < s->nseg; i++)
		if (s->segs[i].first == first)
			return i;
	return s->nseg;
}

/* A damaged frame in the middle (not a crash: the disk): the rest of that
 * segment is lost; say so, count it, and go on with the next. */
static void skip_damaged(struct spool *s, size_t i)
{
	if (i + 1 >= s->nseg) {
		diag_warn("spool %s: damaged record %llu in the segment being "
			  "written", s->cfg.dir, (unsigned long long)s->read_id);
		fail_status(s, EXIT_RUNTIME);
		return;
	}
	uint64_t end = s->segs[i + 1].first;
	diag_warn("spool %s: damaged record %llu: %llu records lost", s->cfg.dir,
		  (unsigned long long)s->read_id,
		  (unsigned long long)(end - s->read_id));
	s->dropped += end - s->read_id;
	for (; s->read_id < end; s->read_id++) {
		ring_room(s);
		slot_of(s, s->read_id)->acked = true;
	}
	s->rseg = end;
	s->roff = 0;
	ack_advance(s);	/* never to rest on a lost record (it has no place) */
}

static bool next_disk(struct spool *s, uint64_t *id, const void **p, size_t *n)
{
	for (;;) {
		if (s->status || s->read_id >= s->next_id)
			return false;
		size_t i = seg_index(s, s->rseg);
		if (i < s->nseg && s->roff >= s->segs[i].size && i + 1 < s->nseg) {
			s->rseg = s->segs[i + 1].first;	/* on to the next file */
			s->roff = 0;
			continue;
		}
		if (i == s->nseg) {
			/* Its file went (all acked) while the reader stood at
			 * its end: go on at the segment read_id starts. */
			i = seg_index(s, s->read_id);
			if (i == s->nseg) {
				diag_warn("spool %s: record %llu is missing",
					  s->cfg.dir,
					  (unsigned long long)s->read_id);
				fail_status(s, EXIT_RUNTIME);
				return false;
			}
			s->rseg = s->read_id;
			s->roff = 0;
		}
		if (s->rfd < 0 || s->rfd_seg != s->rseg) {
			if (s->rfd >= 0)
				close(s->rfd);
			s->rfd = seg_open(s, s->rseg, O_RDONLY);
			s->rfd_seg = s->rseg;
			if (s->rfd < 0)
				return false;	/* said */
		}
		uint32_t len;
		uint64_t fid;
		if (!frame_at(s, s->rfd, s->roff, s->segs[i].size, true, &fid, &len) ||
		    fid != s->read_id) {
			skip_damaged(s, i);
			continue;
		}
		ring_room(s);
		struct slot *sl = slot_of(s, s->read_id);
		sl->acked = false;
		sl->seg = s->rseg;
		sl->off = s->roff;
		sl->len = len;
		s->roff += FRAME_HDR + len;
		*id = s->read_id++;
		*p = s->rbuf;
		*n = len;
		return true;
	}
}

bool spool_next(struct spool *s, uint64_t *id, const void **p, size_t *n)
{
	if (!s->mem)
		return next_disk(s, id, p, n);
	if (s->read_id >= s->next_id)
		return false;
	struct slot *sl = slot_of(s, s->read_id);
	*id = s->read_id++;
	*p = sl->buf;
	*n = sl->len;
	return true;
}

void spool_rewind(struct spool *s)
{
	if (s->read_id == s->ack_id)
		return;
	if (!s->mem) {
		struct slot *sl = slot_of(s, s->ack_id);
		s->rseg = sl->seg;
		s->roff = sl->off;
	}
	s->read_id = s->ack_id;
}

void spool_ack(struct spool *s, uint64_t id)
{
	if (id < s->ack_id || id >= s->read_id)
		return;
	slot_of(s, id)->acked = true;
	ack_advance(s);
}

int spool_status(const struct spool *s)
{
	return s->status;
}

uint64_t spool_pending(const struct spool *s)
{
	return s->next_id - s->ack_id;
}

/* Disk: where ack_id's frame starts; trim() keeps its segment first. A
 * record read has its place in the ring; else the reader stands at it,
 * or at the end of a segment gone (ack_id then starts segs[0]). */
static uint64_t ack_offset(const struct spool *s)
{
	if (s->ack_id < s->read_id)
		return slot_of(s, s->ack_id)->off;
	return s->rseg == s->segs[0].first ? s->roff : 0;
}

uint64_t spool_pending_bytes(const struct spool *s)
{
	if (s->mem)
		return s->mem_bytes;
	if (!s->nseg)
		return 0;	/* failed before it had a segment */
	/* The frames from ack_id's to the end, less their headers. */
	uint64_t frames = s->total - ack_offset(s);
	uint64_t hdrs = FRAME_HDR * spool_pending(s);
	return frames > hdrs ? frames - hdrs : 0;
}

uint64_t spool_unacked_read(const struct spool *s)
{
	return s->read_id - s->ack_id;
}

uint64_t spool_dropped(const struct spool *s)
{
	return s->dropped;
}

void spool_tick(struct spool *s, int64_t now)
{
	if (s->mem || s->status)
		return;
	if (s->dirty && s->cfg.sync == SPOOL_SYNC_INTERVAL &&
	    now - s->last_sync >= SYNC_EVERY_MS) {
		fdatasync(s->wfd);
		s->dirty = false;
		s->last_sync = now;
	}
	if (s->ack_dirty && now - s->last_ack >= ACK_EVERY_MS) {
		write_ack(s);
		s->last_ack = now;
	}
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (!s->mem) {
		if (s->dirty && s->cfg.sync != SPOOL_SYNC_NEVER)
			fdatasync(s->wfd);
		if (s->wfd >= 0)	/* opened: its acks are worth keeping */
			write_ack(s);
		close(s->wfd);
		if (s->rfd >= 0)
			close(s->rfd);
		close(s->lockfd);
		close(s->dirfd);
	}
	if (s->mem)
		for (uint64_t i = 0; i < s->ringcap; i++)
			free(s->ring[i].buf);
	free(s->ring);
	free(s->segs);
	free(s->rbuf);
	free(s);
}

/* ---- the publishers' options ---- */

/* A bad argument: why (size n), and false. */
static bool spool_bad(const char *arg, const char *opt, const char *want,
		      char *why, size_t n)
{
	snprintf(why, n, "invalid argument '%s' for %s: expected %s", arg, opt,
		 want);
	return false;
}

bool spool_arg_queue(const char *arg, uint64_t *v, char *why, size_t n)
{
	char *end;
	errno = 0;
	*v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || !*v || arg[0] == '-' || *v > 100000000)
		return spool_bad(arg, "--queue", "1 to 100000000", why, n);
	return true;
}

bool spool_arg_max(const char *arg, uint64_t *v, char *why, size_t n)
{
	if (size_parse(arg, v) < 0 || *v < 65536)
		return spool_bad(arg, "--spool-max", "a size of at least 64k", why,
				 n);
	return true;
}

/* arg's index among words (NULL-ended): the enum value they name. */
static int spool_word(const char *arg, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(arg, words[i]))
			return i;
	return -1;
}

bool spool_arg_full(const char *arg, enum spool_full *v, char *why, size_t n)
{
	static const char *const words[] = { "block", "drop-oldest", NULL };
	int i = spool_word(arg, words);
	if (i < 0)
		return spool_bad(arg, "--spool-full", "block or drop-oldest", why,
				 n);
	*v = (enum spool_full)i;
	return true;
}

bool spool_arg_sync(const char *arg, enum spool_sync *v, char *why, size_t n)
{
	/* in the order of enum spool_sync */
	static const char *const words[] = { "interval", "always", "never", NULL };
	int i = spool_word(arg, words);
	if (i < 0)
		return spool_bad(arg, "--fsync", "always, interval or never", why,
				 n);
	*v = (enum spool_sync)i;
	return true;
}
