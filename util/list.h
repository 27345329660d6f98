/*
 * list.h - intrusive lists: doubly-linked ones, where a node links through two of its
 * own fields (named at each use, so one struct can be on several lists),
 * and the list is a pointer to its first node; and queues (below).
 */
#ifndef DBAL_UTIL_LIST_H
#define DBAL_UTIL_LIST_H

#include <stddef.h>

/* Puts n at the front of the list `head`. */
#define DBAL__LIST_PUSH(head, n, prev, next) \
    do {                                     \
        (n)->prev = NULL;                    \
        (n)->next = (head);                  \
        if (head)                            \
            (head)->prev = (n);              \
        (head) = (n);                        \
    } while (0)

/* Takes n out of the list `head`; its links are cleared. */
#define DBAL__LIST_REMOVE(head, n, prev, next) \
    do {                                       \
        if ((n)->prev)                         \
            (n)->prev->next = (n)->next;       \
        else                                   \
            (head) = (n)->next;                \
        if ((n)->next)                         \
            (n)->next->prev = (n)->prev;       \
        (n)->prev = (n)->next = NULL;          \
    } while (0)

/* Queues: a singly-linked list with a pointer to its last node too, so
 * that appending is O(1). Puts n at the end; `next` is its link field. */
#define DBAL__QUEUE_APPEND(head, tail, n, next) \
    do {                                        \
        (n)->next = NULL;                       \
        if (tail)                               \
            (tail)->next = (n);                 \
        else                                    \
            (head) = (n);                       \
        (tail) = (n);                           \
    } while (0)

#endif
