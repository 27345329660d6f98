/* item.c - validation of item input and JSON of stored items. */
#include "item.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "field 'name' is required" */
static int fail(char *msg, size_t cap, const char *field, const char *problem)
{
    snprintf(msg, cap, "field '%s' %s", field, problem);
    return -1;
}

static int parse_name(const json_t *doc, item_input *out, char *msg, size_t cap)
{
    const json_t *v = json_object_get(doc, "name");
    if (!v || json_is_null(v))
        return fail(msg, cap, "name", "is required");
    if (!json_is_string(v))
        return fail(msg, cap, "name", "must be a string");
    out->name = json_string_value(v);
    out->name_len = json_string_length(v);
    if (out->name_len == 0)
        return fail(msg, cap, "name", "must not be empty");
    if (out->name_len > ITEM_NAME_MAX_BYTES) {
        snprintf(msg, cap, "field 'name' must be at most %d bytes", ITEM_NAME_MAX_BYTES);
        return -1;
    }
    return 0;
}

static int parse_price(const json_t *doc, item_input *out, char *msg, size_t cap)
{
    const json_t *v = json_object_get(doc, "price");
    if (!v || json_is_null(v))
        return fail(msg, cap, "price", "is required");
    if (!json_is_number(v)) /* integer or real; true/false are not numbers */
        return fail(msg, cap, "price", "must be a number");
    out->price = json_number_value(v);
    if (out->price < 0)
        return fail(msg, cap, "price", "must be >= 0");
    return 0;
}

static int parse_tags(const json_t *doc, item_input *out, char *msg, size_t cap)
{
    const json_t *v = json_object_get(doc, "tags");
    if (!v || json_is_null(v)) {
        out->tags_json = strdup("[]");
        return out->tags_json ? 0 : fail(msg, cap, "tags", "could not be stored: out of memory");
    }
    if (!json_is_array(v))
        return fail(msg, cap, "tags", "must be an array of strings");
    if (json_array_size(v) > ITEM_TAGS_MAX) {
        snprintf(msg, cap, "field 'tags' must have at most %d elements", ITEM_TAGS_MAX);
        return -1;
    }
    size_t i;
    const json_t *tag;
    json_array_foreach(v, i, tag)
    {
        if (!json_is_string(tag)) {
            snprintf(msg, cap, "field 'tags[%zu]' must be a string", i);
            return -1;
        }
    }
    out->tags_json = json_dumps(v, JSON_COMPACT);
    return out->tags_json ? 0 : fail(msg, cap, "tags", "could not be stored: out of memory");
}

int item_input_parse(const json_t *doc, item_input *out, char *msg, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(doc)) {
        snprintf(msg, cap, "the body must be a JSON object");
        return -1;
    }
    if (parse_name(doc, out, msg, cap) || parse_price(doc, out, msg, cap) || parse_tags(doc, out, msg, cap)) {
        item_input_free(out);
        return -1;
    }
    return 0;
}

void item_input_free(item_input *in)
{
    free(in->tags_json);
    in->tags_json = NULL;
}

json_t *item_to_json(int64_t id, const char *name, double price, const char *tags_json)
{
    json_t *tags = tags_json ? json_loads(tags_json, 0, NULL) : NULL;
    if (!json_is_array(tags)) { /* not written by this service: show it as empty */
        json_decref(tags);
        tags = json_array();
    }
    return json_pack("{s:I, s:s, s:f, s:o}", "id", (json_int_t)id, "name", name ? name : "", "price", price,
                     "tags", tags);
}
