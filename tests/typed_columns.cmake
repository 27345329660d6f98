# The typed column slots of driver ABI 5 against the general path.
# Included from tests/CMakeLists.txt after static_drivers.cmake, whose
# dbal_add_linked_drivers_test it uses.
#
#   test_typed_columns   both in-tree drivers linked in and registered as
#                        three views each: their own table (ABI 5, typed
#                        slots counted), the table claiming ABI 4, and one
#                        whose size ends before the typed slots. Every
#                        getter on every value of a table of many types
#                        gives the same value and the same error through
#                        each, and through the asynchronous API's buffered
#                        rows (SQLite). PostgreSQL when DBAL_TEST_PG_URL is
#                        set (binary and text rows).

dbal_add_linked_drivers_test(test_typed_columns)
