/*
 * cases.h - the one list of conformance cases, in the order they run. Each
 * area's file defines its cases; main.c turns the list into the group
 * cmocka runs. A new case is a function in its area's file and a line here.
 */
#ifndef CONF_CASES_H
#define CONF_CASES_H

#define CONF_CASES(X)                           \
    X(roundtrip_null)                           \
    X(roundtrip_bool)                           \
    X(roundtrip_int64)                          \
    X(roundtrip_double)                         \
    X(roundtrip_double_special)                 \
    X(roundtrip_text)                           \
    X(roundtrip_text_1mb)                       \
    X(roundtrip_blob)                           \
    X(text_nul_and_invalid_utf8)                \
    X(conversions_basic)                        \
    X(conversions_int64_rules)                  \
    X(conversions_double_rules)                 \
    X(conversions_bool_rules)                   \
    X(conversions_bool_as_text)                 \
    X(integrity_unique)                         \
    X(integrity_foreign_key)                    \
    X(integrity_not_null)                       \
    X(integrity_check)                          \
    X(error_syntax)                             \
    X(error_undefined)                          \
    X(error_same_mistake)                       \
    X(tx_commit_persists)                       \
    X(tx_rollback_discards)                     \
    X(tx_close_rolls_back)                      \
    X(tx_savepoint_rollback_inner)              \
    X(tx_savepoint_commit_inner_rollback_outer) \
    X(tx_depth_and_misuse)                      \
    X(txfailed_next_statement_and_commit)       \
    X(txfailed_rollback_recovers)               \
    X(txfailed_savepoint_recovers)              \
    X(txfailed_commit_of_failed_savepoint)      \
    X(returning)                                \
    X(rows_affected)                            \
    X(last_insert_id)                           \
    X(placeholders_in_literals_and_comments)    \
    X(param_count_mismatch)                     \
    X(stream_100k)                              \
    X(stream_close_early)                       \
    X(stream_statement_while_cursor_open)       \
    X(columns_names_and_range)                  \
    X(transact)                                 \
    X(tx_read_only)                             \
    X(session_read_only)                        \
    X(tx_serializable)                          \
    X(tx_isolation_levels)                      \
    X(concurrent_sessions_isolation)            \
    X(concurrent_writers)                       \
    X(many_parameters)                          \
    X(column_pointers_stay_valid)               \
    X(param_type_strictness)                    \
    X(undeclared_types_and_dialect)             \
    X(statement_timeout)                        \
    X(batch_array)                              \
    X(batch_callback)                           \
    X(cancel_from_another_thread)               \
    X(types_timestamp_roundtrip)                \
    X(types_date_time_roundtrip)                \
    X(types_datetime_range)                     \
    X(types_time_zone_offsets)                  \
    X(types_order_and_compare)                  \
    X(types_numeric)                            \
    X(types_numeric_digits)                     \
    X(types_uuid)                               \
    X(types_json)                               \
    X(types_undeclared)                         \
    X(types_batch)                              \
    X(types_async)                              \
    X(types_refused)

#define CONF_DECLARE(name) void name(void **state);
CONF_CASES(CONF_DECLARE)
#undef CONF_DECLARE

#endif
