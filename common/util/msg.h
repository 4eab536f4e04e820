/*
 * Typed, length-prefixed messages over a socket, in the manner of
 * OpenBSD's imsg: what the agent and its privilege-separated fetcher say
 * to each other.
 *
 *	frame	= type:u32 len:u32 field*		(big-endian; len
 *						   counts the fields' bytes)
 *	field	= tag:u16 len:u32 byte[len]
 *
 * A frame is at most MAX_MSG_SIZE bytes; a tag appears at most once; a
 * frame holds at most MAX_MSG_FIELDS fields.  The parser checks all of it
 * before anything is read out, and the getters check each value's shape
 * (strings hold no NUL and fit; numbers are exactly 8 bytes).
 */
#ifndef NIXPULL_MSG_H
#define NIXPULL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "err.h"

#define MSG_HEADER	8

struct msg {
	struct buf	 b;		/* the whole frame, header first */
};

struct msg_field {
	uint16_t		 tag;
	uint32_t		 len;
	const unsigned char	*data;
};

/* A parsed frame; points into the bytes it was parsed from. */
struct msg_view {
	uint32_t		 type;
	size_t			 nfields;
	struct msg_field	 f[MAX_MSG_FIELDS];
};

/* Frames read from a stream, one at a time. */
struct msg_reader {
	unsigned char	 buf[MAX_MSG_SIZE];
	size_t		 len;
};

void	msg_init(struct msg *m, uint32_t type);
void	msg_release(struct msg *m);
void	msg_put(struct msg *m, uint16_t tag, const void *data, size_t len);
/* NULL adds nothing: the getter then finds the field missing. */
void	msg_put_str(struct msg *m, uint16_t tag, const char *s);
void	msg_put_u64(struct msg *m, uint16_t tag, uint64_t v);
/* Writes the whole frame (retrying short writes and EINTR). */
int	msg_send(int fd, const struct msg *m, struct err *e);

/* Checks and splits one complete frame (header included). */
int	msg_parse(const unsigned char *data, size_t len, struct msg_view *v,
	    struct err *e);
const struct msg_field *msg_get(const struct msg_view *v, uint16_t tag);
/* Missing fields: -1 when required, else 0 with out left as it is. */
int	msg_get_str(const struct msg_view *v, uint16_t tag, char *out,
	    size_t outsz, bool required, struct err *e);
int	msg_get_u64(const struct msg_view *v, uint16_t tag, uint64_t *out,
	    bool required, struct err *e);
int	msg_get_bool(const struct msg_view *v, uint16_t tag, bool *out,
	    struct err *e);
/* Exactly len bytes. */
int	msg_get_fixed(const struct msg_view *v, uint16_t tag, void *out,
	    size_t len, bool required, struct err *e);

/*
 * Reads one frame from fd, waiting until deadline (time_monotonic_ms(), 0:
 * forever).  1: a frame, parsed into v (valid until the next read); 0: the
 * peer closed the socket between frames; -1: error, a malformed frame or
 * the peer closed it inside one; -2: the deadline passed (e says so).
 */
int	msg_read(int fd, struct msg_reader *r, uint64_t deadline,
	    struct msg_view *v, struct err *e);

#endif
