/*
 * A YAML document read with libyaml's event API into a small tree that keeps
 * every node's position, so that callers can say file:line:col.  Anchors,
 * aliases, tags and more than one document are refused; input must be UTF-8
 * and stays within MAX_CONFIG_SIZE, MAX_CONFIG_DEPTH and MAX_CONFIG_NODES.
 */
#ifndef NIXPULL_YAMLDOC_H
#define NIXPULL_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ymark {
	unsigned	 line;	/* 1-based */
	unsigned	 col;	/* 1-based, in characters */
};

struct ynode {
	enum ynode_type	 type;
	struct ymark	 start;
	struct ymark	 end;
	char		*str;	/* scalar: NUL-terminated value */
	size_t		 len;	/* scalar: length (may hold a NUL) */
	bool		 plain;	/* scalar: unquoted, so "null"/"~" is null */
	struct ynode	**items;	/* seq: items; map: key, value, key, ... */
	size_t		 n;	/* number of items (map: 2 x pairs) */
	size_t		 alloc;
};

struct ydoc {
	struct ynode	*root;	/* NULL: an empty stream */
	struct ymark	 end;	/* the end of the stream */
	size_t		 nnodes;
};

/*
 * Parses text into doc.  On failure returns -1 with one "name:line:col: what"
 * per problem appended to errors, and doc holds nothing.
 */
int	ydoc_parse(struct ydoc *doc, const char *name, const char *text,
	    size_t len, struct strvec *errors);
void	ydoc_release(struct ydoc *doc);
/* A plain empty, "~" or "null"/"Null"/"NULL" scalar (YAML 1.2 core). */
bool	ynode_is_null(const struct ynode *n);
/* "a string", "a list", "a mapping" or "null", for type errors. */
const char *ynode_kind(const struct ynode *n);

#endif
