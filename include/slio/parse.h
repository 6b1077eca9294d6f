/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict parsers for numbers, sizes and durations: the only way SLiteIO turns
 * text (config, CLI flags, command output, JSON strings) into integers.
 *
 * All of them reject NULL, the empty string, leading/trailing whitespace,
 * signs where none is allowed, and trailing garbage with -EINVAL, and values
 * that do not fit (or lie outside [min, max]) with -ERANGE. Numbers are
 * decimal only. *ret is written only on success.
 *
 * Sizes follow Kubernetes resource quantities:
 *   decimal suffixes  k=10^3  M=10^6  G=10^9  T=10^12  P=10^15  E=10^18
 *   binary suffixes   Ki=2^10 Mi=2^20 Gi=2^30 Ti=2^40  Pi=2^50  Ei=2^60
 * no suffix means bytes. "K" (capital) is rejected because it is ambiguous
 * (use "k" or "Ki"); so are "B", "KB", "KiB" and exponents ("1e3").
 * A fraction is allowed ("1.5Gi") if the result is a whole number of bytes.
 *
 * Durations are one or more <number><unit> groups ("1h30m", "1.5s"), units
 * us, ms, s, m, h, d; the result is in microseconds and must be whole.
 * A bare "0" is accepted; any other number needs a unit.
 *
 * Text itself is checked one UTF-8 sequence at a time with slio_utf8_seq().
 */
#ifndef SLIO_PARSE_H
#define SLIO_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"

int slio_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) _must_check_;
int slio_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret) _must_check_;
int slio_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret) _must_check_;

/* Bytes from a Kubernetes-style quantity ("512", "4k", "10Mi", "1.5Gi"). */
int slio_parse_size(const char *s, uint64_t *ret_bytes) _must_check_;

/* Buffer large enough for any slio_format_size() result ("18446744073709551615" + NUL). */
#define SLIO_FORMAT_SIZE_MAX 24
/*
 * Human-readable size with binary units: exact multiples print exactly and
 * parse back to the same value ("10Gi", "512"); others print with one
 * decimal, rounded down, prefixed with "~" ("~1.3Gi"). Returns buf.
 */
const char *slio_format_size(uint64_t bytes, char buf[static SLIO_FORMAT_SIZE_MAX]);

/* Microseconds from a duration ("30s", "100ms", "1h30m", "1.5s"). */
int slio_parse_duration_us(const char *s, uint64_t *ret_us) _must_check_;
/*
 * The same, or a bare whole number counted in units of bare_unit_us microseconds
 * ("500" with 1000: 500 ms). For options whose older spelling named the unit
 * (slio-tgt's --pdu-timeout-ms 500), so that they take "2s" too. bare_unit_us > 0.
 */
int slio_parse_duration_unit_us(const char *s, uint64_t bare_unit_us,
                                uint64_t *ret_us) _must_check_;

/*
 * Length (1 to 4) of the one well-formed UTF-8 sequence s starts with, its
 * code point in *ret_cp (when not NULL); 0 when s does not start one: a
 * stray continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF or a truncated sequence. Reads no further than the first byte that
 * is not a continuation, so never past a NUL. A NUL itself is a sequence of
 * length 1 (U+0000): callers stop at it.
 */
size_t slio_utf8_seq(const char *s, uint32_t *ret_cp);

#endif
