/*
 * YAML into a position-keeping tree, with libyaml's event API.  The event
 * API (rather than yaml_parser_load) lets us see anchors, aliases and
 * explicit tags and refuse them, and bound the nesting as it happens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "caps.h"
#include "yamldoc.h"

struct ybuild {
	const char	*name;
	const char	*text;
	size_t		 len;
	struct strvec	*errors;
	struct ydoc	*doc;
	struct ynode	*stack[MAX_CONFIG_DEPTH];
	size_t		 depth;
	int		 ndocs;
	int		 failed;
};

#define REFUSED "(anchors, aliases and tags are not supported)"

static void yerr(struct ybuild *b, struct ymark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
yerr(struct ybuild *b, struct ymark m, const char *fmt, ...)
{
	char msg[MAX_ERROR];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strvec_pushf(b->errors, "%s:%u:%u: %s", b->name, m.line, m.col, msg);
	b->failed = 1;
}

static struct ymark
mark_of(yaml_mark_t m)
{
	struct ymark ym = { (unsigned)m.line + 1, (unsigned)m.column + 1 };

	return ym;
}

/* line:col of byte offset off, columns counted in characters. */
static struct ymark
mark_at_offset(const char *text, size_t len, size_t off)
{
	struct ymark m = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.col = 1;
		} else if ((text[i] & 0xc0) != 0x80 && text[i] != '\r')
			m.col++;
	}
	return m;
}

/* The offset of the first byte that is not valid UTF-8, or len. */
static size_t
utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	unsigned lo, hi;

	while (i < len) {
		unsigned c = s[i];

		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c == 0xe0 || c == 0xed || (c >= 0xe1 && c <= 0xef)) {
			n = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;	/* no overlong */
			hi = c == 0xed ? 0x9f : 0xbf;	/* no surrogate */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;	/* <= U+10FFFF */
		} else
			return i;
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

static struct ynode *
node_new(struct ybuild *b, enum ynode_type type, const yaml_event_t *ev)
{
	struct ynode *n;

	if (++b->doc->nnodes > MAX_CONFIG_NODES) {
		yerr(b, mark_of(ev->start_mark), "too many YAML nodes "
		    "(more than %d)", MAX_CONFIG_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->start = mark_of(ev->start_mark);
	n->end = mark_of(ev->end_mark);
	return n;
}

/* Hangs n under the innermost open collection, or makes it the root. */
static void
node_attach(struct ybuild *b, struct ynode *n)
{
	struct ynode *p;

	if (b->depth == 0) {
		b->doc->root = n;
		return;
	}
	p = b->stack[b->depth - 1];
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 8;
		p->items = xreallocarray(p->items, p->alloc, sizeof(*p->items));
	}
	p->items[p->n++] = n;
}

static void
node_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
}

/* Anchors and tags are refused; the node is still built. */
static void
check_props(struct ybuild *b, const yaml_event_t *ev, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	if (anchor != NULL)
		yerr(b, mark_of(ev->start_mark), "anchor '&%s' not allowed "
		    REFUSED, (const char *)anchor);
	if (tag != NULL)
		yerr(b, mark_of(ev->start_mark), "tag '%s' not allowed "
		    REFUSED, (const char *)tag);
}

static int
on_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	struct ynode *n;

	check_props(b, ev, ev->data.scalar.anchor,
	    ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit ?
	    NULL : ev->data.scalar.tag);
	if ((n = node_new(b, YNODE_SCALAR, ev)) == NULL)
		return -1;
	n->len = ev->data.scalar.length;
	n->str = xmalloc(n->len + 1);	/* not strndup: it may hold a NUL */
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	node_attach(b, n);
	return 0;
}

static int
on_open(struct ybuild *b, const yaml_event_t *ev, enum ynode_type type)
{
	struct ynode *n;

	if (type == YNODE_SEQ)
		check_props(b, ev, ev->data.sequence_start.anchor,
		    ev->data.sequence_start.implicit ? NULL :
		    ev->data.sequence_start.tag);
	else
		check_props(b, ev, ev->data.mapping_start.anchor,
		    ev->data.mapping_start.implicit ? NULL :
		    ev->data.mapping_start.tag);
	if (b->depth == MAX_CONFIG_DEPTH) {
		yerr(b, mark_of(ev->start_mark), "nested deeper than %d levels",
		    MAX_CONFIG_DEPTH);
		return -1;
	}
	if ((n = node_new(b, type, ev)) == NULL)
		return -1;
	node_attach(b, n);
	b->stack[b->depth++] = n;
	return 0;
}

static int
on_close(struct ybuild *b, const yaml_event_t *ev)
{
	if (b->depth == 0)
		return -1;	/* libyaml never does this */
	b->stack[--b->depth]->end = mark_of(ev->end_mark);
	return 0;
}

static int
on_alias(struct ybuild *b, const yaml_event_t *ev)
{
	struct ynode *n;

	yerr(b, mark_of(ev->start_mark), "alias '*%s' not allowed " REFUSED,
	    (const char *)ev->data.alias.anchor);
	if ((n = node_new(b, YNODE_SCALAR, ev)) == NULL)
		return -1;
	n->str = xstrdup("");
	n->plain = true;
	node_attach(b, n);
	return 0;
}

/* 1: the stream ended, 0: go on, -1: stop. */
static int
on_event(struct ybuild *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->ndocs++ == 0)
			return 0;
		yerr(b, mark_of(ev->start_mark), "more than one YAML document "
		    "(a config is a single mapping)");
		return -1;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_close(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_STREAM_END_EVENT:
		b->doc->end = mark_of(ev->end_mark);
		return 1;
	default:
		return 0;
	}
}

static void
libyaml_error(struct ybuild *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	struct ymark m, c;

	if (p->error == YAML_READER_ERROR) {
		m = mark_at_offset(b->text, b->len, p->problem_offset);
		yerr(b, m, "malformed YAML: %s", problem);
	} else if (p->error == YAML_MEMORY_ERROR) {
		m = mark_of(p->mark);
		yerr(b, m, "out of memory while parsing YAML");
	} else if (p->context != NULL) {
		m = mark_of(p->problem_mark);
		c = mark_of(p->context_mark);
		yerr(b, m, "malformed YAML: %s (%s at %u:%u)", problem,
		    p->context, c.line, c.col);
	} else
		yerr(b, mark_of(p->problem_mark), "malformed YAML: %s",
		    problem);
}

static int
ydoc_events(struct ybuild *b)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int r = -1, done = 0;

	if (!yaml_parser_initialize(&p)) {
		yerr(b, (struct ymark){ 1, 1 }, "cannot initialise libyaml");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)b->text,
	    b->len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			libyaml_error(b, &p);
			goto out;
		}
		done = on_event(b, &ev);
		yaml_event_delete(&ev);
		if (done == -1)
			goto out;
	}
	r = 0;
 out:
	yaml_parser_delete(&p);
	return r;
}

int
ydoc_parse(struct ydoc *doc, const char *name, const char *text, size_t len,
    struct strvec *errors)
{
	struct ybuild b = { name, text, len, errors, doc, { NULL }, 0, 0, 0 };
	size_t bad;

	memset(doc, 0, sizeof(*doc));
	if (len > MAX_CONFIG_SIZE) {
		strvec_pushf(errors, "%s: too large (%zu bytes, at most %d)",
		    name, len, MAX_CONFIG_SIZE);
		return -1;
	}
	if ((bad = utf8_check((const unsigned char *)text, len)) != len) {
		yerr(&b, mark_at_offset(text, len, bad), "not valid UTF-8 "
		    "(byte 0x%02x at offset %zu)", (unsigned char)text[bad],
		    bad);
		return -1;
	}
	if (ydoc_events(&b) == -1 || b.failed) {
		ydoc_release(doc);
		return -1;
	}
	return 0;
}

void
ydoc_release(struct ydoc *doc)
{
	node_free(doc->root);
	memset(doc, 0, sizeof(*doc));
}

bool
ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YNODE_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

const char *
ynode_kind(const struct ynode *n)
{
	if (n->type == YNODE_SEQ)
		return "a list";
	if (n->type == YNODE_MAP)
		return "a mapping";
	return ynode_is_null(n) ? "null" : "a string";
}
