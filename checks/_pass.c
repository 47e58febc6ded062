/* The identifier check's candidate pass in C: what checks/identifiers.py's CANDIDATES pattern finds,
 * match for match (Python's re with re.ASCII is the reference; tests/test_identifiers_engine.py holds
 * them to identical output). It reads the str's own storage (1, 2 or 4 bytes a character), so
 * nothing is encoded or copied and offsets are character offsets.
 *
 * CANDIDATES, one branch per group, tried in this order at each position (leftmost first, as re does):
 *   1 card    \d{4}(?: \x20\d{4}\x20\d{4}\x20\d{1,4} | -\d{4}-\d{4}-\d{1,4} | \d{9,15} )
 *   2 id      \d{4}\d{2}(?:\d{2})?[-+\x20A-FU-Y]?\d{3}[\dA-Y]\d?
 *   3 masked  \d{4}(?: \d{2}(?:\d{2})?[-+]?M{4} | M{2}-?M{4} )          M = [Xx*#?•]
 *   4 masked  M{6}[-+]?\d{4}
 *   5 IBAN    CC\d{2}(?:\x20?[A-Z0-9]{4}){2,7}(?:\x20?[A-Z0-9]{1,4})?  CC = a listed country code
 *   6 spaced  \d{2}\x20\d{2}\x20\d{2}\x20\d{3}\x20\d{2}                        (a hand-typed Norwegian id)
 * (The card branch's trailing lazy group of the pattern never takes anything: nothing follows it.)
 * labels() finds the label words of the identifiers that have no form of their own (checks/labelled.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define BULLET 0x2022

/* character classes, indexed by the character for c < 256 */
enum { DIGIT = 1, MASK = 2, UPAN = 4, IDSEP = 8, IDTAIL = 16, START = 32 };
static unsigned char cls[256];
/* IBAN country codes: a bit per (first letter, second letter) */
static unsigned char iban_cc[26][26];

static int configured;

/* Context words, in the order they are tried at a position; the first that matches wins. */
#define MAX_WORDS 96
#define MAX_WORD 32
typedef struct {
    Py_UCS4 ch[MAX_WORD];
    int len, group;
} Word;
static Word words[MAX_WORDS];
static int nwords;
static unsigned char word_start[256]; /* folded first characters of the words */

/* Label words, in the order they are tried; one of up to SHORT_LABEL characters must end where the word does,
 * a longer one is a stem (udlændingenummer, udlændingenummeret). */
#define MAX_LABELS 32
#define SHORT_LABEL 4
static Word labels_[MAX_LABELS];
static int nlabels;
static unsigned char label_start[256];
#if defined(__SSE2__)
/* the distinct first three letters of the labels, for the sixteen-at-a-time scan (none: it is not used) */
#define MAX_TRIPLES 8
static __m128i triples[MAX_TRIPLES][3];
#endif
static int ntriples;

/* Lower case for ASCII and Latin-1 capitals; the words are lower case in that range. */
static inline Py_UCS4 fold(Py_UCS4 c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7))
        return c + 32;
    return c;
}

/* what the pattern's look-behind (?<![^\W\d_]) calls a letter */
static inline int is_letter(Py_UCS4 c)
{
    return Py_UNICODE_ISALNUM(c) && !Py_UNICODE_ISDECIMAL(c);
}

static void init_classes(const char *codes)
{
    memset(cls, 0, sizeof cls);
    memset(iban_cc, 0, sizeof iban_cc);
    for (int c = '0'; c <= '9'; c++)
        cls[c] |= DIGIT | UPAN | IDTAIL | START;
    for (const char *m = "Xx*#?"; *m; m++)
        cls[(unsigned char)*m] |= MASK | START;
    for (int c = 'A'; c <= 'Z'; c++)
        cls[c] |= UPAN;
    for (int c = 'A'; c <= 'Y'; c++)
        cls[c] |= IDTAIL;
    for (int c = 'a'; c <= 'y'; c++) /* a Finnish check character typed in lower case */
        cls[c] |= IDTAIL;
    for (const char *s = "-+ ABCDEFUVWXY"; *s; s++)
        cls[(unsigned char)*s] |= IDSEP;
    for (const char *p = codes; p[0] && p[1]; p += 2) {
        iban_cc[p[0] - 'A'][p[1] - 'A'] = 1;
        cls[(unsigned char)p[0]] |= START;
    }
    configured = 1;
}

/* Read (lower-case word, group < 31) pairs into dst and mark their first characters in starts; the count, or -1
 * with an exception set. Label words must also begin with a-z (the vector scans compare ASCII letters). */
static int read_words(PyObject *list, Word *dst, int max, unsigned char *starts, int labels)
{
    Py_ssize_t count = PyList_GET_SIZE(list);
    if (count > max) {
        PyErr_SetString(PyExc_ValueError, "too many words");
        return -1;
    }
    memset(starts, 0, 256);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *word;
        int group;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "Ui:configure", &word, &group))
            return -1;
        Py_ssize_t wl = PyUnicode_GET_LENGTH(word);
        if (wl < 1 || wl > MAX_WORD || group < 0 || group > 30) {
            PyErr_SetString(PyExc_ValueError, "a word must have 1-32 characters and a group below 31");
            return -1;
        }
        for (Py_ssize_t j = 0; j < wl; j++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(word, j);
            if (fold(c) != c || c >= 256 || (labels && j == 0 && (c < 'a' || c > 'z'))) {
                PyErr_SetString(PyExc_ValueError, "words must be lower case Latin-1 (labels starting with a-z)");
                return -1;
            }
            dst[i].ch[j] = c;
        }
        dst[i].len = (int)wl;
        dst[i].group = group;
        starts[dst[i].ch[0]] = 1;
    }
    return (int)count;
}

PyDoc_STRVAR(configure_doc,
             "configure(codes, words) -- the IBAN country codes (capital pairs run together) and the context words:\n"
             "(lower-case word, group number < 31) pairs in the order they are tried");

static PyObject *configure(PyObject *self, PyObject *args)
{
    const char *codes;
    Py_ssize_t len;
    PyObject *list;
    if (!PyArg_ParseTuple(args, "s#O!:configure", &codes, &len, &PyList_Type, &list))
        return NULL;
    for (Py_ssize_t i = 0; i < len; i++)
        if (len % 2 || codes[i] < 'A' || codes[i] > 'Z') {
            PyErr_SetString(PyExc_ValueError, "IBAN country codes must be pairs of capital letters");
            return NULL;
        }
    int count = read_words(list, words, MAX_WORDS, word_start, 0);
    if (count < 0)
        return NULL;
    nwords = count;
    init_classes(codes);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(configure_labels_doc, "configure_labels(words) -- the label words: (lower-case word, group) pairs in the order\n"
                                   "they are tried");

static PyObject *configure_labels(PyObject *self, PyObject *args)
{
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O!:configure_labels", &PyList_Type, &list))
        return NULL;
    int count = read_words(list, labels_, MAX_LABELS, label_start, 1);
    if (count < 0)
        return NULL;
    nlabels = count;
    ntriples = 0;
#if defined(__SSE2__)
    unsigned char seen[MAX_LABELS][3];
    for (int k = 0; k < nlabels && ntriples >= 0; k++) {
        int ascii = labels_[k].len >= 3;
        for (int j = 0; ascii && j < 3; j++)
            ascii = labels_[k].ch[j] >= 'a' && labels_[k].ch[j] <= 'z';
        if (!ascii) {
            ntriples = -1; /* a label whose first three characters are not all a-z: one by one */
            break;
        }
        int known = 0;
        for (int m = 0; m < ntriples && !known; m++)
            known = !memcmp(seen[m], (unsigned char[3]){labels_[k].ch[0], labels_[k].ch[1], labels_[k].ch[2]}, 3);
        if (known)
            continue;
        if (ntriples == MAX_TRIPLES) {
            ntriples = -1;
            break;
        }
        for (int j = 0; j < 3; j++) {
            seen[ntriples][j] = (unsigned char)labels_[k].ch[j];
            triples[ntriples][j] = _mm_set1_epi8((char)labels_[k].ch[j]);
        }
        ntriples++;
    }
    if (ntriples < 0)
        ntriples = 0;
#endif
    Py_RETURN_NONE;
}

PyDoc_STRVAR(context_doc, "context(text, start, end, window) -> bit mask of the groups of the context words in\n"
                          "text[start - window:end + window]");

static PyObject *context(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t s, e, w;
    if (!PyArg_ParseTuple(args, "Unnn:context", &text, &s, &e, &w))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t lo = s - w < 0 ? 0 : s - w, hi = e + w > n ? n : e + w;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    long mask = 0;
    Py_ssize_t i = lo;
    while (i < hi) {
        Py_UCS4 c = fold(PyUnicode_READ(kind, data, i));
        if (c >= 256 || !word_start[c] || (i > lo && is_letter(fold(PyUnicode_READ(kind, data, i - 1))))) {
            i++;
            continue;
        }
        int hit = -1;
        for (int k = 0; k < nwords && hit < 0; k++) {
            int len = words[k].len;
            if (words[k].ch[0] != c || i + len > hi)
                continue;
            int j = 1;
            while (j < len && fold(PyUnicode_READ(kind, data, i + j)) == words[k].ch[j])
                j++;
            if (j == len)
                hit = k;
        }
        if (hit < 0) {
            i++;
            continue;
        }
        mask |= 1L << words[hit].group;
        i += words[hit].len;
    }
    return PyLong_FromLong(mask);
}

/* the label word starting at i (not after a letter), or -1 */
static int label_at(int kind, const void *data, Py_ssize_t n, Py_ssize_t i)
{
    Py_UCS4 c = fold(PyUnicode_READ(kind, data, i));
    if (c >= 256 || !label_start[c] || (i > 0 && is_letter(fold(PyUnicode_READ(kind, data, i - 1)))))
        return -1;
    for (int k = 0; k < nlabels; k++) {
        int len = labels_[k].len, j = 1;
        if (labels_[k].ch[0] != c || i + len > n)
            continue;
        while (j < len && fold(PyUnicode_READ(kind, data, i + j)) == labels_[k].ch[j])
            j++;
        if (j < len)
            continue;
        if (len <= SHORT_LABEL && i + len < n && is_letter(fold(PyUnicode_READ(kind, data, i + len))))
            continue;
        return k;
    }
    return -1;
}

/* append (start, end, group) of the label word at i, if one stands there; 0 on a memory error */
static int add_label(PyObject *out, int kind, const void *data, Py_ssize_t n, Py_ssize_t i)
{
    int k = label_at(kind, data, n, i);
    if (k < 0)
        return 1;
    PyObject *item = Py_BuildValue("(nni)", i, i + labels_[k].len, labels_[k].group);
    if (item == NULL || PyList_Append(out, item) < 0) {
        Py_XDECREF(item);
        return 0;
    }
    Py_DECREF(item);
    return 1;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
/* The sixteen-at-a-time scan below, thirty-two at a time where the processor has AVX2: from i, while a whole
 * block and two characters after it lie below hi and n; returns where it stopped, or -1 on a memory error. */
__attribute__((target("avx2"))) static Py_ssize_t labels_avx2(const unsigned char *t, Py_ssize_t i, Py_ssize_t n,
                                                            Py_ssize_t hi, PyObject *out)
{
    const __m256i low = _mm256_set1_epi8(0x20), a = _mm256_set1_epi8('a'), span = _mm256_set1_epi8(25);
    const __m256i high = _mm256_set1_epi8((char)0xBF), times = _mm256_set1_epi8((char)0xD7);
    const __m256i divide = _mm256_set1_epi8((char)0xF7), nul = _mm256_setzero_si256();
    __m256i first[MAX_TRIPLES], second[MAX_TRIPLES], third[MAX_TRIPLES];
    unsigned char bytes[16];
    for (int k = 0; k < ntriples; k++) {
        _mm_storeu_si128((__m128i *)bytes, triples[k][0]);
        first[k] = _mm256_set1_epi8((char)bytes[0]);
        _mm_storeu_si128((__m128i *)bytes, triples[k][1]);
        second[k] = _mm256_set1_epi8((char)bytes[0]);
        _mm_storeu_si128((__m128i *)bytes, triples[k][2]);
        third[k] = _mm256_set1_epi8((char)bytes[0]);
    }
    while (i + 34 <= n && i + 32 <= hi) {
        __m256i c0 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(t + i)), low);
        __m256i c1 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(t + i + 1)), low);
        __m256i hit = nul;
        for (int k = 0; k < ntriples; k++)
            hit = _mm256_or_si256(hit, _mm256_and_si256(_mm256_cmpeq_epi8(c0, first[k]), _mm256_cmpeq_epi8(c1, second[k])));
        unsigned bits = (unsigned)_mm256_movemask_epi8(hit);
        if (bits) {
            __m256i c2 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(t + i + 2)), low);
            __m256i prev = _mm256_loadu_si256((const __m256i *)(t + i - 1));
            hit = nul;
            for (int k = 0; k < ntriples; k++)
                hit = _mm256_or_si256(hit, _mm256_and_si256(_mm256_cmpeq_epi8(c0, first[k]),
                                                            _mm256_and_si256(_mm256_cmpeq_epi8(c1, second[k]),
                                                                             _mm256_cmpeq_epi8(c2, third[k]))));
            __m256i ascii = _mm256_cmpeq_epi8(_mm256_subs_epu8(_mm256_sub_epi8(_mm256_or_si256(prev, low), a), span), nul);
            __m256i latin = _mm256_andnot_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(prev, times), _mm256_cmpeq_epi8(prev, divide)),
                _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_subs_epu8(prev, high), nul), _mm256_set1_epi8((char)0xFF)));
            bits = (unsigned)_mm256_movemask_epi8(hit) & ~(unsigned)_mm256_movemask_epi8(_mm256_or_si256(ascii, latin));
        }
        while (bits) {
            Py_ssize_t at = i + __builtin_ctz(bits);
            bits &= bits - 1;
            if (!add_label(out, PyUnicode_1BYTE_KIND, t, n, at))
                return -1;
        }
        i += 32;
    }
    return i;
}
#endif

PyDoc_STRVAR(labels_doc, "labels(text, lo, hi) -> [(start, end, group), ...] of the label words starting in [lo, hi)");

static PyObject *labels(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "Unn:labels", &text, &lo, &hi))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (lo < 0)
        lo = 0;
    if (hi > n)
        hi = n;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL || nlabels == 0)
        return out;
    Py_ssize_t i = lo;
#if defined(__SSE2__)
    if (kind == PyUnicode_1BYTE_KIND && ntriples > 0) {
        /* Sixteen at a time: the first three letters of a label (any case) after a character that is no
         * letter of ASCII or Latin-1's upper half; what passes is looked at one by one (label_at). */
        const unsigned char *t = (const unsigned char *)data;
        const __m128i low = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a'), span = _mm_set1_epi8(25);
        const __m128i high = _mm_set1_epi8((char)0xBF), times = _mm_set1_epi8((char)0xD7);
        const __m128i divide = _mm_set1_epi8((char)0xF7), nul = _mm_setzero_si128();
        for (; i < hi && i < 1; i++)
            if (!add_label(out, kind, data, n, i)) {
                Py_DECREF(out);
                return NULL;
            }
#ifdef HAVE_AVX2_PATH
        if (__builtin_cpu_supports("avx2") && (i = labels_avx2(t, i, n, hi, out)) < 0) {
            Py_DECREF(out);
            return NULL;
        }
#endif
        while (i + 18 <= n && i + 16 <= hi) {
            __m128i prev = _mm_loadu_si128((const __m128i *)(t + i - 1));
            __m128i c0 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(t + i)), low);
            __m128i c1 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(t + i + 1)), low);
            __m128i hit = nul;
            for (int k = 0; k < ntriples; k++) /* the first two letters; the third below, where they match */
                hit = _mm_or_si128(hit, _mm_and_si128(_mm_cmpeq_epi8(c0, triples[k][0]), _mm_cmpeq_epi8(c1, triples[k][1])));
            int bits = _mm_movemask_epi8(hit);
            if (bits) {
                __m128i c2 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(t + i + 2)), low);
                hit = nul;
                for (int k = 0; k < ntriples; k++)
                    hit = _mm_or_si128(hit, _mm_and_si128(_mm_cmpeq_epi8(c0, triples[k][0]),
                                                          _mm_and_si128(_mm_cmpeq_epi8(c1, triples[k][1]),
                                                                        _mm_cmpeq_epi8(c2, triples[k][2]))));
                bits = _mm_movemask_epi8(hit);
            }
            if (bits) {
                __m128i ascii = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(_mm_or_si128(prev, low), a), span), nul);
                __m128i latin = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(prev, times), _mm_cmpeq_epi8(prev, divide)),
                                                 _mm_xor_si128(_mm_cmpeq_epi8(_mm_subs_epu8(prev, high), nul),
                                                               _mm_set1_epi8((char)0xFF)));
                bits &= ~_mm_movemask_epi8(_mm_or_si128(ascii, latin));
            }
            while (bits) {
                Py_ssize_t at = i + __builtin_ctz(bits);
                bits &= bits - 1;
                if (!add_label(out, kind, data, n, at)) {
                    Py_DECREF(out);
                    return NULL;
                }
            }
            i += 16;
        }
    }
#endif
    for (; i < hi; i++)
        if (!add_label(out, kind, data, n, i)) {
            Py_DECREF(out);
            return NULL;
        }
    return out;
}

#define CLS(c) ((c) < 256 ? cls[(c)] : ((c) == BULLET ? (MASK | START) : 0))

/* One matcher per storage width. */
#define SUFFIX ucs1
#define CHAR Py_UCS1
#include "_pass_impl.h"
#undef SUFFIX
#undef CHAR
#define SUFFIX ucs2
#define CHAR Py_UCS2
#include "_pass_impl.h"
#undef SUFFIX
#undef CHAR
#define SUFFIX ucs4
#define CHAR Py_UCS4
#include "_pass_impl.h"
#undef SUFFIX
#undef CHAR

PyDoc_STRVAR(find_doc, "find(text, lo, hi) -> [(start, end, group), ...] of the bounded candidates starting in [lo, hi)");

static PyObject *find(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "Unn:find", &text, &lo, &hi))
        return NULL;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "checks._pass.configure() was not called");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (lo < 0)
        lo = 0;
    if (hi > n)
        hi = n;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const void *data = PyUnicode_DATA(text);
    int ok;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        ok = scan_ucs1((const Py_UCS1 *)data, n, lo, hi, out);
        break;
    case PyUnicode_2BYTE_KIND:
        ok = scan_ucs2((const Py_UCS2 *)data, n, lo, hi, out);
        break;
    default:
        ok = scan_ucs4((const Py_UCS4 *)data, n, lo, hi, out);
    }
    if (!ok) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* E-mail: the local part is the run of [A-Za-z0-9._%+-] (at most 64) before an '@'; the domain is
 * identifiers._EMAIL_DOMAIN as re matches it: label (\.label)* \.[A-Za-z]{2,24}, where a label is
 * [A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?. Of a label's possible ends at most one is followed by
 * a '.', so re's backtracking comes down to: follow the labels while a '.' follows, and end at the last
 * '.' that two or more letters follow. */
static inline int ascii_alnum(Py_UCS4 c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int ascii_alpha(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int local_char(Py_UCS4 c)
{
    return ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

#define READ(i) ((i) < n ? PyUnicode_READ(kind, data, (i)) : 0)

/* the end of the label at i that a '.' follows, or -1 */
static Py_ssize_t label_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t i)
{
    Py_ssize_t k = 0;
    while (k < 62 && i + 1 + k < n && (ascii_alnum(READ(i + 1 + k)) || READ(i + 1 + k) == '-'))
        k++;
    for (Py_ssize_t j = k; j >= k - 1 && j >= 0; j--)
        if (ascii_alnum(READ(i + 1 + j)) && READ(i + 2 + j) == '.')
            return i + 2 + j;
    return READ(i + 1) == '.' ? i + 1 : -1;
}

static Py_ssize_t domain_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t i)
{
    Py_ssize_t end = -1;
    while (ascii_alnum(READ(i))) {
        Py_ssize_t dot = label_end(kind, data, n, i);
        if (dot < 0)
            break;
        Py_ssize_t letters = 0;
        while (letters < 24 && ascii_alpha(READ(dot + 1 + letters)))
            letters++;
        if (letters >= 2)
            end = dot + 1 + letters;
        i = dot + 1;
    }
    return end;
}

PyDoc_STRVAR(emails_doc, "emails(text, lo, hi) -> [(start, end), ...] of the e-mail addresses starting in [lo, hi)");

static PyObject *emails(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "Unn:emails", &text, &lo, &hi))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t at = lo < n ? PyUnicode_FindChar(text, '@', lo < 0 ? 0 : lo, n, 1) : -1;
    while (at >= 0) {
        Py_ssize_t s = at, floor = at - 64 < 0 ? 0 : at - 64;
        while (s > floor && local_char(READ(s - 1)))
            s--;
        Py_ssize_t e = s < at ? domain_end(kind, data, n, at + 1) : -1;
        if (e >= 0) {
            while (s < at && (READ(s) == '.' || READ(s) == '-'))
                s++;
            Py_UCS4 after = READ(e);
            if (s < at && lo <= s && s < hi && !(e < n && (Py_UNICODE_ISALNUM(after) || after == '@'))) {
                PyObject *item = Py_BuildValue("(nn)", s, e);
                if (item == NULL || PyList_Append(out, item) < 0) {
                    Py_XDECREF(item);
                    Py_DECREF(out);
                    return NULL;
                }
                Py_DECREF(item);
            }
        }
        if (at >= hi)
            break;
        at = at + 1 < n ? PyUnicode_FindChar(text, '@', at + 1, n, 1) : -1;
        if (at == -2) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

#undef READ

static PyMethodDef methods[] = {
    {"find", find, METH_VARARGS, find_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {"context", context, METH_VARARGS, context_doc},
    {"configure_labels", configure_labels, METH_VARARGS, configure_labels_doc},
    {"labels", labels, METH_VARARGS, labels_doc},
    {"emails", emails, METH_VARARGS, emails_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "checks._pass", "The identifier check's candidate pass, compiled.", -1, methods,
};

PyMODINIT_FUNC PyInit__pass(void)
{
    /* The IBAN country codes come from checks/identifiers.py, which hands them over once. */
    return PyModule_Create(&module);
}
