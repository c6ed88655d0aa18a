/*
 * A small JSON reader and writer for the JSON-lines protocol, enough for op
 * objects: every value kind, string escapes (\uXXXX to UTF-8), depth-limited,
 * numbers kept as their text so 64-bit values are read exactly.
 */
#ifndef LINUX_IOVA_JSON_H
#define LINUX_IOVA_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	bool b;                 /* J_BOOL */
	char *text;             /* J_NUM: the literal; J_STR: the decoded string (NUL-terminated) */
	size_t len;             /* J_ARR/J_OBJ: element count; J_STR: byte length */
	struct jval *items;     /* J_ARR/J_OBJ: the elements */
	char **keys;            /* J_OBJ: the keys, parallel to items */
};

/* Parses one document; NULL with a message in err (position included) on bad input. */
struct jval *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(struct jval *v);
/* The member named key of an object, or NULL. */
const struct jval *json_get(const struct jval *obj, const char *key);

/* Output line builder: starts "{", members appended with commas, ended by jw_end(). */
struct jw {
	char *buf;
	size_t len, cap;
	bool first;
};
void jw_begin(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *value);
void jw_hex(struct jw *w, const char *key, uint64_t value);
void jw_uint(struct jw *w, const char *key, uint64_t value);
void jw_bool(struct jw *w, const char *key, bool value);
/* Raw JSON value (an already built array or object). */
void jw_raw(struct jw *w, const char *key, const char *json);
/* Appends a JSON string literal (quoted, escaped) to the buffer. */
void jw_quote(struct jw *w, const char *s);
void jw_append(struct jw *w, const char *s, size_t n);
/* Closes the object, writes the line to stdout and flushes; frees the buffer. */
void jw_end(struct jw *w);

#endif
