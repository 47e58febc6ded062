/* The candidate matcher for one storage width: included by _pass.c with CHAR and SUFFIX defined. */

#define PASTE2(a, b) a##_##b
#define PASTE(a, b) PASTE2(a, b)
#define FN(name) PASTE(name, SUFFIX)

/* class of t[i], 0 past the end */
static inline unsigned FN(at)(const CHAR *t, Py_ssize_t n, Py_ssize_t i)
{
    return i < n ? CLS(t[i]) : 0;
}

static inline int FN(is)(const CHAR *t, Py_ssize_t n, Py_ssize_t i, Py_UCS4 ch)
{
    return i < n && t[i] == ch;
}

/* k characters of class `want` from i */
static inline int FN(run)(const CHAR *t, Py_ssize_t n, Py_ssize_t i, int k, unsigned want)
{
    if (i + k > n)
        return 0;
    for (int j = 0; j < k; j++)
        if (!(CLS(t[i + j]) & want))
            return 0;
    return 1;
}

/* how many characters of class `want` from i, at most max */
static inline Py_ssize_t FN(span)(const CHAR *t, Py_ssize_t n, Py_ssize_t i, int max, unsigned want)
{
    Py_ssize_t j = 0;
    while (j < max && i + j < n && (CLS(t[i + j]) & want))
        j++;
    return j;
}

#define AT(i) FN(at)(t, n, (i))
#define IS(i, ch) FN(is)(t, n, (i), (ch))
#define RUN(i, k, want) FN(run)(t, n, (i), (k), (want))
#define SPAN(i, max, want) FN(span)(t, n, (i), (max), (want))

/* mask characters that may stand for digits on either side of a value (X and x do not: words have them) */
static inline int FN(digit_mask)(Py_UCS4 c)
{
    return c == '*' || c == '#' || c == '?' || c == BULLET;
}

/* The candidate is not part of a longer run of letters, digits or masked digits. */
static inline int FN(bounded)(const CHAR *t, Py_ssize_t n, Py_ssize_t s, Py_ssize_t e)
{
    if (s > 0 && (Py_UNICODE_ISALNUM(t[s - 1]) || FN(digit_mask)(t[s - 1])))
        return 0;
    return !(e < n && (Py_UNICODE_ISALNUM(t[e]) || FN(digit_mask)(t[e])));
}

/* End of the candidate starting at p (its group in *group), or 0 when none starts there. */
static Py_ssize_t FN(match)(const CHAR *t, Py_ssize_t n, Py_ssize_t p, int *group)
{
    if (RUN(p, 4, DIGIT)) {
        Py_ssize_t q = p + 4;
        *group = 1; /* card: grouped by spaces or hyphens, or one run */
        for (int g = 0; g < 2; g++) {
            Py_UCS4 sep = g ? '-' : ' ';
            if (IS(q, sep) && RUN(q + 1, 4, DIGIT) && IS(q + 5, sep) && RUN(q + 6, 4, DIGIT) && IS(q + 10, sep) &&
                (AT(q + 11) & DIGIT))
                return q + 11 + SPAN(q + 11, 4, DIGIT);
        }
        Py_ssize_t k = SPAN(q, 15, DIGIT);
        if (k >= 9)
            return q + k;
        if (RUN(q, 2, DIGIT)) {
            *group = 2; /* national id: YYMMDD or YYYYMMDD, a separator or century sign, the rest */
            for (int two = 1; two >= 0; two--) {
                if (two && !RUN(q + 2, 2, DIGIT))
                    continue;
                Py_ssize_t r = q + 2 + 2 * two;
                for (int sep = 1; sep >= 0; sep--) {
                    if (sep && !(AT(r) & IDSEP))
                        continue;
                    Py_ssize_t s = r + sep;
                    if (RUN(s, 3, DIGIT) && (AT(s + 3) & IDTAIL))
                        return s + 4 + ((AT(s + 4) & DIGIT) ? 1 : 0);
                }
            }
            *group = 3; /* a date with its serial masked */
            for (int two = 1; two >= 0; two--) {
                if (two && !RUN(q + 2, 2, DIGIT))
                    continue;
                Py_ssize_t r = q + 2 + 2 * two;
                for (int sep = 1; sep >= 0; sep--) {
                    if (sep && !(IS(r, '-') || IS(r, '+')))
                        continue;
                    if (RUN(r + sep, 4, MASK))
                        return r + sep + 4;
                }
            }
        }
        *group = 3; /* four digits, then the rest of the date and the serial masked */
        if (RUN(q, 2, MASK)) {
            if (IS(q + 2, '-') && RUN(q + 3, 4, MASK))
                return q + 7;
            if (RUN(q + 2, 4, MASK))
                return q + 6;
        }
        return 0;
    }
    if (RUN(p, 6, MASK)) {
        *group = 4; /* the date masked, the serial shown */
        Py_ssize_t r = p + 6;
        if ((IS(r, '-') || IS(r, '+')) && RUN(r + 1, 4, DIGIT))
            return r + 5;
        if (RUN(r, 4, DIGIT))
            return r + 4;
    }
    if (p + 1 < n && t[p] >= 'A' && t[p] <= 'Z' && t[p + 1] >= 'A' && t[p + 1] <= 'Z' &&
        iban_cc[t[p] - 'A'][t[p + 1] - 'A'] && RUN(p + 2, 2, DIGIT)) {
        *group = 5; /* IBAN: groups of four, a shorter last group */
        Py_ssize_t r = p + 4;
        int groups = 0;
        while (groups < 7) {
            if (IS(r, ' ') && RUN(r + 1, 4, UPAN))
                r += 5;
            else if (RUN(r, 4, UPAN))
                r += 4;
            else
                break;
            groups++;
        }
        if (groups < 2)
            return 0;
        if (IS(r, ' ') && (AT(r + 1) & UPAN))
            return r + 1 + SPAN(r + 1, 4, UPAN);
        return r + SPAN(r, 4, UPAN);
    }
    return 0;
}

/* End of a Norwegian id typed as DD MM YY NNN NN starting at p, or 0 (group 6) */
static Py_ssize_t FN(spaced)(const CHAR *t, Py_ssize_t n, Py_ssize_t p)
{
    if (RUN(p, 2, DIGIT) && IS(p + 2, ' ') && RUN(p + 3, 2, DIGIT) && IS(p + 5, ' ') && RUN(p + 6, 2, DIGIT) &&
        IS(p + 8, ' ') && RUN(p + 9, 3, DIGIT) && IS(p + 12, ' ') && RUN(p + 13, 2, DIGIT))
        return p + 15;
    return 0;
}

/* the first position from p (below hi) where a candidate may start, or hi */
static inline Py_ssize_t FN(next_start)(const CHAR *t, Py_ssize_t p, Py_ssize_t hi)
{
    /* Stops come every few characters where digits are dense: look at the next ones one by one first. */
    for (Py_ssize_t end = p + 16 < hi ? p + 16 : hi; p < end; p++)
        if (CLS(t[p]) & START)
            return p;
#if defined(__SSE2__)
    if (sizeof(CHAR) == 1) {
        /* Sixteen characters at a time: digits, capitals and the mask characters stop the skip; the
         * loop below then sorts out the capitals that start no IBAN country code. */
        const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), cap = _mm_set1_epi8('A');
        const __m128i caps = _mm_set1_epi8(25), nul = _mm_setzero_si128();
        const __m128i x = _mm_set1_epi8('x'), star = _mm_set1_epi8('*'), hash = _mm_set1_epi8('#');
        const __m128i qm = _mm_set1_epi8('?');
        while (p + 16 <= hi) {
            __m128i v = _mm_loadu_si128((const __m128i *)(t + p));
            __m128i hit = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, zero), nine), nul);
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, cap), caps), nul));
            hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(v, x), _mm_cmpeq_epi8(v, star)));
            hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(v, hash), _mm_cmpeq_epi8(v, qm)));
            int bits = _mm_movemask_epi8(hit);
            while (bits) {
                Py_ssize_t i = p + __builtin_ctz(bits);
                if (CLS(t[i]) & START)
                    return i;
                bits &= bits - 1;
            }
            p += 16;
        }
    }
#endif
    while (p < hi && !(CLS(t[p]) & START))
        p++;
    return p;
}

/* append (start, end, group) to out; 0 on a memory error */
static int FN(append)(PyObject *out, Py_ssize_t s, Py_ssize_t e, int group)
{
    PyObject *item = Py_BuildValue("(nni)", s, e, group);
    if (item == NULL || PyList_Append(out, item) < 0) {
        Py_XDECREF(item);
        return 0;
    }
    Py_DECREF(item);
    return 1;
}

/* Append (start, end, group) of every candidate starting in [lo, hi) to out; 0 on a memory error. */
static int FN(scan)(const CHAR *t, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi, PyObject *out)
{
    Py_ssize_t p = lo;
    while (p < hi) {
        p = FN(next_start)(t, p, hi);
        if (p >= hi)
            break;
        unsigned c = CLS(t[p]);
        if (c & DIGIT) {
            /* Every digit-led candidate has four digits and then a separator, a mask or two more digits:
             * four digits followed by anything else, or five, start none. */
            Py_ssize_t k = SPAN(p, 6, DIGIT);
            if (k < 4) {
                /* re tries every position: the last two digits of a short run may start DD MM YY NNN NN */
                Py_ssize_t q = p + k - 2, e = k >= 2 && IS(p + k, ' ') ? FN(spaced)(t, n, q) : 0;
                if (e && FN(bounded)(t, n, q, e) && !FN(append)(out, q, e, 6))
                    return 0;
                p = e ? e : p + k;
                continue;
            }
            if (k == 5 || (k == 4 && !(IS(p + 4, ' ') || IS(p + 4, '-') || (AT(p + 4) & MASK)))) {
                p += k == 5 ? 1 : 4;
                continue;
            }
        }
        int group = 0;
        Py_ssize_t e = FN(match)(t, n, p, &group);
        if (!e) {
            p++;
            continue;
        }
        if ((group != 5 && !FN(bounded)(t, n, p, e)) || (group == 2 && p > 0 && t[p - 1] == '+')) {
            p = e; /* consumed, as re's finditer consumes it, but not a candidate */
            continue;
        }
        if (!FN(append)(out, p, e, group))
            return 0;
        p = e;
    }
    return 1;
}

#undef AT
#undef IS
#undef RUN
#undef SPAN
#undef FN
#undef PASTE
#undef PASTE2
