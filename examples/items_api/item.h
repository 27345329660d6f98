/*
 * item.h - the item resource: validating a request's JSON and building the
 * JSON of a stored item. No database and no HTTP here.
 */
#ifndef ITEMS_API_ITEM_H
#define ITEMS_API_ITEM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ITEM_NAME_MAX_BYTES 200
#define ITEM_TAGS_MAX 100

/* A validated item from a request body. */
typedef struct item_input {
    const char *name; /* borrowed from the JSON document it was parsed from */
    size_t name_len;
    double price;
    char *tags_json; /* owned: the tags as a compact JSON array, "[]" when absent */
} item_input;

/*
 * Validates {"name": str, "price": number >= 0, "tags"?: [str]} (other
 * fields are ignored). Returns 0, or -1 with a message for the client in msg.
 * On success free the input with item_input_free; the document must outlive it.
 */
int item_input_parse(const json_t *doc, item_input *out, char *msg, size_t cap);
void item_input_free(item_input *in);

/* {"id", "name", "price", "tags"}; tags_json is the stored JSON text. NULL
 * when out of memory. */
json_t *item_to_json(int64_t id, const char *name, double price, const char *tags_json);

#endif
