/* checks/nordic.py's readings() in C: the same readings of a national-id candidate, tuple for tuple
 * (tests/test_identifiers.py holds the two to identical output on every digit string it draws).
 * The rules and why they are so are documented in nordic.py; this file only mirrors them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_AGE 120
#define NEEDS_CONTEXT 0.45 /* nordic.NEEDS_CONTEXT */
#define HAND_TYPED ' '

static PyObject *K_SE, *K_SAMO, *K_DK, *K_NO, *K_NO_D, *K_NO_H, *K_FI, *K_IS;
static PyObject *V_REAL, *V_TEST, *EMPTY;
static PyObject *N_SE_TEST, *N_DK_TEST, *N_NO_FH, *N_NO_TENOR, *N_NO_H, *N_FI_TEST, *N_IS_KERFI, *N_IS_NOCHECK;

typedef struct {
    int y, m, d;
} Day;

static int num(const char *s, int k)
{
    int v = 0;
    for (int i = 0; i < k; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int all_digits(const char *s, int k)
{
    for (int i = 0; i < k; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int floor_mod(int a, int b)
{
    int r = a % b;
    return r < 0 ? r + b : r;
}

static int plausible_birth(int year, int month, int day, Day today)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month - 1] + (month == 2 && leap))
        return 0;
    if (year > today.y || (year == today.y && (month > today.m || (month == today.m && day > today.d))))
        return 0;
    return year >= today.y - MAX_AGE;
}

static int century_for(int yy, Day today, int hundred_plus)
{
    int year = today.y - floor_mod(today.y - yy, 100);
    return hundred_plus ? year - 100 : year;
}

static int luhn_ok(const char *digits, int k)
{
    static const int dbl[] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    int total = 0;
    for (int i = 0; i < k; i++) {
        int d = digits[k - 1 - i] - '0';
        total += (i & 1) ? dbl[d] : d;
    }
    return total % 10 == 0;
}

/* sum of the first k digits times their weights */
static int weighted(const char *digits, const int *w, int k)
{
    int sum = 0;
    for (int i = 0; i < k; i++)
        sum += (digits[i] - '0') * w[i];
    return sum;
}

static PyObject *reading(PyObject *kind, PyObject *verdict, PyObject *normalised, double strength, PyObject *note)
{
    /* steals the reference to normalised */
    if (normalised == NULL)
        return NULL;
    PyObject *t = Py_BuildValue("(OOOdO)", kind, verdict, normalised, strength, note);
    Py_DECREF(normalised);
    return t;
}

/* Each validator returns a new reading, Py_None (borrowed, not this id) or NULL on an error. */
static PyObject *se(const char *head, int hl, char sep, const char *tail, int tl, Day today, PyObject *tests)
{
    if (tl != 4 || !all_digits(tail, 4) || !(sep == 0 || sep == '-' || sep == '+' || sep == HAND_TYPED))
        return Py_None;
    const char *rest;
    int year = -1;
    if (hl == 8) {
        if (sep == '+')
            return Py_None;
        year = num(head, 4);
        rest = head + 2;
    } else {
        rest = head;
    }
    int yy = num(rest, 2), mm = num(rest + 2, 2), dd = num(rest + 4, 2);
    if (mm >= 20)
        return Py_None;
    if (tail[0] == '0' && tail[1] == '0' && tail[2] == '0')
        return Py_None;
    char ten[10];
    memcpy(ten, rest, 6);
    memcpy(ten + 6, tail, 4);
    if (!luhn_ok(ten, 10))
        return Py_None;
    int coordination = dd > 60, day = coordination ? dd - 60 : dd;
    if (year < 0)
        year = century_for(yy, today, sep == '+');
    if (coordination && (mm == 0 || day == 0)) {
        if (!(year <= today.y && year >= today.y - MAX_AGE))
            return Py_None;
    } else if (!plausible_birth(year, mm, day, today)) {
        return Py_None;
    }
    char norm[13];
    if (year < 0 || year > 9999)
        return Py_None;
    snprintf(norm, sizeof norm, "%04d%02d%02d%.4s", year, mm, dd, tail);
    PyObject *kind = coordination ? K_SAMO : K_SE;
    PyObject *normalised = PyUnicode_FromStringAndSize(norm, 12);
    if (normalised == NULL)
        return NULL;
    int listed = PySet_Contains(tests, normalised);
    if (listed == 0 && hl == 6) {
        PyObject *short_form = PyUnicode_FromStringAndSize(norm + 2, 10);
        if (short_form == NULL) {
            Py_DECREF(normalised);
            return NULL;
        }
        listed = PySet_Contains(tests, short_form);
        Py_DECREF(short_form);
    }
    if (listed < 0) {
        Py_DECREF(normalised);
        return NULL;
    }
    if (listed)
        return reading(kind, V_TEST, normalised, 1.0, N_SE_TEST);
    if (sep == HAND_TYPED)
        return reading(kind, V_REAL, normalised, NEEDS_CONTEXT, EMPTY);
    return reading(kind, V_REAL, normalised, coordination ? 0.6 : 0.9, EMPTY);
}

static PyObject *dk(const char *head, int hl, char sep, const char *tail, int tl, Day today)
{
    static const int w[] = {4, 3, 2, 7, 6, 5, 4, 3, 2, 1};
    if (hl != 6 || tl != 4 || !all_digits(tail, 4) || !(sep == 0 || sep == '-' || sep == HAND_TYPED))
        return Py_None;
    int dd = num(head, 2), mm = num(head + 2, 2), yy = num(head + 4, 2), c7 = tail[0] - '0', year;
    if (c7 <= 3)
        year = 1900 + yy;
    else if (c7 == 4 || c7 == 9)
        year = yy <= 36 ? 2000 + yy : 1900 + yy;
    else
        year = yy <= 57 ? 2000 + yy : 1800 + yy;
    if (!plausible_birth(year, mm, dd, today))
        return Py_None;
    char digits[10];
    memcpy(digits, head, 6);
    memcpy(digits + 6, tail, 4);
    PyObject *normalised = PyUnicode_FromStringAndSize(digits, 10);
    if (sep == HAND_TYPED)
        return reading(K_DK, V_REAL, normalised, NEEDS_CONTEXT, EMPTY);
    int mod11 = weighted(digits, w, 10) % 11 == 0;
    if (!mod11 && tail[1] == '9' &&
        ((tail[2] == '8' && tail[3] == '9') || (tail[2] == '9' && (tail[3] == '0' || tail[3] == '5' || tail[3] == '6'))))
        return reading(K_DK, V_REAL, normalised, 0.2, N_DK_TEST);
    return reading(K_DK, V_REAL, normalised, mod11 ? 0.6 : 0.4, EMPTY);
}

static int no_year(int yy, int ind)
{
    if (ind <= 499)
        return 1900 + yy;
    if (ind <= 749 && yy >= 54)
        return 1800 + yy;
    if (yy <= 39)
        return 2000 + yy;
    if (ind >= 900)
        return 1900 + yy;
    return -1;
}

static PyObject *no(const char *head, int hl, char sep, const char *tail, int tl, Day today)
{
    static const int w1[] = {3, 7, 6, 1, 8, 9, 4, 5, 2}, w2[] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    if (hl != 6 || tl != 5 || !all_digits(tail, 5) || !(sep == 0 || sep == HAND_TYPED || sep == '-'))
        return Py_None;
    char digits[11];
    memcpy(digits, head, 6);
    memcpy(digits + 6, tail, 5);
    int r1 = (weighted(digits, w1, 9) + digits[9] - '0') % 11, r2 = (weighted(digits, w2, 10) + digits[10] - '0') % 11;
    if (r2 != 0 || r1 > 3)
        return Py_None;
    int relaxed_in_force = today.y >= 2032; /* nordic.NO_RELAXED_FROM */
    int by_context = sep != 0 || (r1 != 0 && !relaxed_in_force);
    int dd = num(digits, 2), mm = num(digits + 2, 2), yy = num(digits + 4, 2), ind = num(digits + 6, 3);
    PyObject *kind = K_NO, *verdict = V_REAL, *note = EMPTY;
    if (dd >= 80)
        return reading(K_NO, V_REAL, PyUnicode_FromStringAndSize(digits, 11), NEEDS_CONTEXT, N_NO_FH);
    if (mm > 80) {
        mm -= 80;
        verdict = V_TEST;
        note = N_NO_TENOR;
    } else if (mm > 40) {
        mm -= 40;
        kind = K_NO_H;
        verdict = V_TEST;
        note = N_NO_H;
    }
    if (dd > 40) {
        dd -= 40;
        if (kind == K_NO)
            kind = K_NO_D;
    }
    int year = no_year(yy, ind);
    if (year < 0) {
        if (kind != K_NO_D)
            return Py_None;
        year = century_for(yy, today, 0);
    }
    if (!plausible_birth(year, mm, dd, today))
        return Py_None;
    return reading(kind, verdict, PyUnicode_FromStringAndSize(digits, 11),
                   by_context ? NEEDS_CONTEXT : r1 == 0 ? 0.95 : 0.8, note);
}

static PyObject *fi(const char *head, int hl, char sep, const char *tail, int tl, Day today)
{
    static const char check[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    int century;
    switch (sep) {
    case '+': century = 1800; break;
    case '-': case 'Y': case 'X': case 'W': case 'V': case 'U': century = 1900; break;
    case 'A': case 'B': case 'C': case 'D': case 'E': case 'F': century = 2000; break;
    default: return Py_None;
    }
    if (hl != 6 || tl != 4 || !all_digits(tail, 3))
        return Py_None;
    long n = (long)num(head, 6) * 1000 + num(tail, 3);
    char q = tail[3] >= 'a' && tail[3] <= 'z' ? tail[3] - 32 : tail[3]; /* often typed in lower case */
    if (check[n % 31] != q)
        return Py_None;
    int zzz = num(tail, 3);
    if (zzz < 2)
        return Py_None;
    if (!plausible_birth(century + num(head + 4, 2), num(head + 2, 2), num(head, 2), today))
        return Py_None;
    char norm[11];
    memcpy(norm, head, 6);
    norm[6] = sep;
    memcpy(norm + 7, tail, 3);
    norm[10] = q;
    PyObject *normalised = PyUnicode_FromStringAndSize(norm, 11);
    if (zzz >= 900)
        return reading(K_FI, V_TEST, normalised, 1.0, N_FI_TEST);
    return reading(K_FI, V_REAL, normalised, 0.9, EMPTY);
}

static PyObject *is_(const char *head, int hl, char sep, const char *tail, int tl, Day today)
{
    static const int w[] = {3, 2, 7, 6, 5, 4, 3, 2};
    if (hl != 6 || tl != 4 || !all_digits(tail, 4) || !(sep == 0 || sep == '-'))
        return Py_None;
    char digits[10];
    memcpy(digits, head, 6);
    memcpy(digits + 6, tail, 4);
    if (digits[0] >= '8')
        return reading(K_IS, V_REAL, PyUnicode_FromStringAndSize(digits, 10), NEEDS_CONTEXT, N_IS_KERFI);
    int check = 11 - weighted(digits, w, 8) % 11;
    if (check == 11)
        check = 0;
    int c = digits[9] - '0', century = c == 8 ? 1800 : c == 9 ? 1900 : c == 0 ? 2000 : -1;
    if (century < 0)
        return Py_None;
    int dd = num(head, 2);
    if (dd > 40)
        return Py_None;
    if (!plausible_birth(century + num(head + 4, 2), num(head + 2, 2), dd, today))
        return Py_None;
    if (check != digits[8] - '0') /* issued since 18 Feb 2026 without a computed check digit */
        return reading(K_IS, V_REAL, PyUnicode_FromStringAndSize(digits, 10), NEEDS_CONTEXT, N_IS_NOCHECK);
    return reading(K_IS, V_REAL, PyUnicode_FromStringAndSize(digits, 10), 0.85, EMPTY);
}

/* append a validator's answer to out unless it is None; 0 on an error */
static int add(PyObject *out, PyObject *r)
{
    if (r == NULL)
        return 0;
    if (r == Py_None)
        return 1;
    int rc = PyList_Append(out, r);
    Py_DECREF(r);
    return rc == 0;
}

PyDoc_STRVAR(readings_doc, "readings(value, year, month, day, swedish_tests) -> ((head, sep, tail), [reading, ...])\n"
                           "or None: nordic.readings, compiled");

static PyObject *readings(PyObject *self, PyObject *args)
{
    PyObject *value, *tests;
    Day today;
    if (!PyArg_ParseTuple(args, "UiiiO!:readings", &value, &today.y, &today.m, &today.d, &PyFrozenSet_Type, &tests))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    if (!PyUnicode_IS_ASCII(value) || n < 7 || n > 16)
        Py_RETURN_NONE; /* candidates are ASCII, 10 to 14 characters */
    const char *v = (const char *)PyUnicode_DATA(value);
    int hl, tl;
    char sep;
    if (all_digits(v, (int)n)) {
        if (n == 10 || n == 11)
            hl = 6;
        else if (n == 12)
            hl = 8;
        else
            Py_RETURN_NONE;
        sep = 0;
        tl = (int)n - hl;
    } else {
        hl = (v[6] >= '0' && v[6] <= '9') ? 8 : 6;
        if (hl >= n)
            Py_RETURN_NONE;
        sep = v[hl];
        tl = (int)n - hl - 1;
    }
    if (!all_digits(v, hl))
        Py_RETURN_NONE; /* never from the candidate pass; the arithmetic below assumes digits */
    const char *head = v, *tail = v + hl + (sep ? 1 : 0);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    int ok;
    if (hl == 8)
        ok = add(out, se(head, hl, sep, tail, tl, today, tests));
    else if (tl == 5)
        ok = add(out, no(head, hl, sep, tail, tl, today));
    else
        ok = add(out, se(head, hl, sep, tail, tl, today, tests)) && add(out, fi(head, hl, sep, tail, tl, today)) &&
             add(out, dk(head, hl, sep, tail, tl, today)) && add(out, is_(head, hl, sep, tail, tl, today));
    if (!ok) {
        Py_DECREF(out);
        return NULL;
    }
    if (PyList_GET_SIZE(out) == 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    PyObject *parts = Py_BuildValue("(s#s#s#)", head, (Py_ssize_t)hl, &sep, (Py_ssize_t)(sep ? 1 : 0), tail,
                                    (Py_ssize_t)tl);
    if (parts == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, parts, out);
    Py_DECREF(parts);
    Py_DECREF(out);
    return result;
}

static PyMethodDef methods[] = {
    {"readings", readings, METH_VARARGS, readings_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "checks._nordic", "Nordic national-id validators, compiled.", -1, methods,
};

static PyObject *intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

PyMODINIT_FUNC PyInit__nordic(void)
{
    K_SE = intern("se.personnummer");
    K_SAMO = intern("se.samordningsnummer");
    K_DK = intern("dk.cpr");
    K_NO = intern("no.fodselsnummer");
    K_NO_D = intern("no.dnummer");
    K_NO_H = intern("no.hnummer");
    K_FI = intern("fi.hetu");
    K_IS = intern("is.kennitala");
    V_REAL = intern("real");
    V_TEST = intern("test");
    EMPTY = intern("");
    N_SE_TEST = intern("official test number (Skatteverket)");
    N_DK_TEST = intern("possible test number (MedCom test-CPR range)");
    N_NO_FH = intern("FH-number (no birth date encoded)");
    N_NO_TENOR = intern("synthetic test number (Skatteetaten Tenor, month + 80)");
    N_NO_H = intern("not a population-register number (H-number or NAV synthetic, month + 40)");
    N_FI_TEST = intern("temporary/test number (individual number 900-999)");
    N_IS_KERFI = intern("kerfiskennitala (system number, no check digit)");
    N_IS_NOCHECK = intern("kennitala without a check digit (issued since 2026)");
    if (!K_SE || !K_SAMO || !K_DK || !K_NO || !K_NO_D || !K_NO_H || !K_FI || !K_IS || !V_REAL || !V_TEST || !EMPTY ||
        !N_SE_TEST || !N_DK_TEST || !N_NO_FH || !N_NO_TENOR || !N_NO_H || !N_FI_TEST ||
        !N_IS_KERFI || !N_IS_NOCHECK)
        return NULL;
    return PyModule_Create(&module);
}
