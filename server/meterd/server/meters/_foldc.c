/* The ingest fold's hot loop in C (meters/fold.py, ``Folder.fold``): the same reads and the same
 * accumulators, built in the same order, as the pure-Python loop it stands in for. Anything the inline
 * reads do not cover goes back to Python: a meter whose value needs MeterReader (``read_slow``), and an
 * event whose data orjson cannot parse or whose time is beyond 64 bits (``slow_event``, which runs the
 * pure-Python loop on that one event). tests/unit/test_meter_fold.py holds both to identical output.
 *
 * fold_loop(events, by_type, texts, group_text, read_slow, slow_event, loads, accs, distincts,
 *           meters_seen, text_int, number_int, nanos, minute_us)
 *   events      iterable of (seq, type, subject, time_us, data text or None)
 *   by_type     {event type: [(meter_num, kind, group names tuple or None, value name or None, meter)]}
 *   texts       {group values tuple: group text} (read; misses go through group_text)
 *   accs        {meter_num: {(subject, groups text, minute): [count, sum, min, max, time, seq, latest]}}
 *   distincts   {meter_num: {(subject, groups text, minute, value)}}
 *   meters_seen {meter_num: meter}
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum { K_COUNT = 0, K_SUM = 1, K_MIN = 2, K_MAX = 3, K_LATEST = 4, K_DISTINCT = 5 };

static PyObject *ONE;

/* Per-fold constants. */
typedef struct {
    PyObject *texts, *group_text, *read_slow, *loads, *accs, *distincts, *meters_seen, *nanos;
    long long text_int, number_int;
} Ctx;

/* The group text of a meter whose group paths are member names (a new reference, or NULL without error
 * when the fast path does not apply: an unhashable or non-string value; NULL with an error on failure). */
static PyObject *group_text_of(Ctx *c, PyObject *parsed, PyObject *names, int *failed) {
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    PyObject *raw = PyTuple_New(n);
    if (raw == NULL) { *failed = 1; return NULL; }
    int all_text = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyDict_GetItemWithError(parsed, PyTuple_GET_ITEM(names, i));
        if (v == NULL) {
            if (PyErr_Occurred()) { Py_DECREF(raw); *failed = 1; return NULL; }
            v = Py_None;
        }
        if (v != Py_None && !PyUnicode_CheckExact(v)) all_text = 0;
        Py_INCREF(v);
        PyTuple_SET_ITEM(raw, i, v);
    }
    PyObject *text = PyDict_GetItemWithError(c->texts, raw);
    if (text != NULL) {
        Py_INCREF(text);
        Py_DECREF(raw);
        return text;
    }
    if (PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {  /* an object or array: the reader's business */
            PyErr_Clear();
            Py_DECREF(raw);
            return NULL;
        }
        Py_DECREF(raw);
        *failed = 1;
        return NULL;
    }
    if (!all_text) { Py_DECREF(raw); return NULL; }
    text = PyObject_CallOneArg(c->group_text, raw);
    Py_DECREF(raw);
    if (text == NULL) *failed = 1;
    else if (text == Py_None) {  /* a NUL in a value: the reader's business (it refuses it) */
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

/* value in (-bound, bound) for an exact int; -1 on error. */
static int int_within(PyObject *value, long long bound, int *within) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) return -1;
    *within = !overflow && v > -bound && v < bound;
    return 0;
}

/* Adds one reading to its meter's accumulators (steals nothing). 0, or -1 with an error. */
static int accumulate(Ctx *c, PyObject *meter, PyObject *num, int kind, PyObject *subject, PyObject *text,
                      PyObject *minute, PyObject *number, PyObject *time_us, PyObject *seq) {
    if (kind == K_DISTINCT) {
        PyObject *set = PyDict_GetItemWithError(c->distincts, num);
        if (set == NULL) {
            if (PyErr_Occurred()) return -1;
            set = PySet_New(NULL);
            if (set == NULL) return -1;
            int r = PyDict_SetItem(c->distincts, num, set);
            Py_DECREF(set);  /* the dict holds it */
            if (r < 0 || PyDict_SetItem(c->meters_seen, num, meter) < 0) return -1;
        }
        PyObject *item = PyTuple_Pack(4, subject, text, minute, number);
        if (item == NULL) return -1;
        int r = PySet_Add(set, item);
        Py_DECREF(item);
        return r;
    }
    PyObject *meter_accs = PyDict_GetItemWithError(c->accs, num);
    if (meter_accs == NULL) {
        if (PyErr_Occurred()) return -1;
        meter_accs = PyDict_New();
        if (meter_accs == NULL) return -1;
        int r = PyDict_SetItem(c->accs, num, meter_accs);
        Py_DECREF(meter_accs);
        if (r < 0 || PyDict_SetItem(c->meters_seen, num, meter) < 0) return -1;
    }
    PyObject *key = PyTuple_Pack(3, subject, text, minute);
    if (key == NULL) return -1;
    PyObject *acc = PyDict_GetItemWithError(meter_accs, key);
    if (acc == NULL) {
        if (PyErr_Occurred()) { Py_DECREF(key); return -1; }
        acc = PyList_New(7);
        if (acc == NULL) { Py_DECREF(key); return -1; }
        PyObject *items[7] = {ONE, number, number, number, time_us, seq, number};
        for (int i = 0; i < 7; i++) {
            Py_INCREF(items[i]);
            PyList_SET_ITEM(acc, i, items[i]);
        }
        int r = PyDict_SetItem(meter_accs, key, acc);
        Py_DECREF(acc);
        Py_DECREF(key);
        return r;
    }
    Py_DECREF(key);
    PyObject *count = PyNumber_Add(PyList_GET_ITEM(acc, 0), ONE);
    if (count == NULL) return -1;
    PyList_SetItem(acc, 0, count);  /* steals count, drops the old one */
    if (kind == K_SUM) {
        PyObject *sum = PyNumber_Add(PyList_GET_ITEM(acc, 1), number);
        if (sum == NULL) return -1;
        PyList_SetItem(acc, 1, sum);
    } else if (kind == K_MAX || kind == K_MIN) {
        int at = kind == K_MAX ? 3 : 2;
        int better = PyObject_RichCompareBool(number, PyList_GET_ITEM(acc, at), kind == K_MAX ? Py_GT : Py_LT);
        if (better < 0) return -1;
        if (better) {
            Py_INCREF(number);
            PyList_SetItem(acc, at, number);
        }
    } else if (kind == K_LATEST) {
        /* (time_us, seq) > (acc[4], acc[5]), as tuples compare */
        int later;
        int same_time = PyObject_RichCompareBool(time_us, PyList_GET_ITEM(acc, 4), Py_EQ);
        if (same_time < 0) return -1;
        if (same_time) later = PyObject_RichCompareBool(seq, PyList_GET_ITEM(acc, 5), Py_GT);
        else later = PyObject_RichCompareBool(time_us, PyList_GET_ITEM(acc, 4), Py_GT);
        if (later < 0) return -1;
        if (later) {
            Py_INCREF(time_us);
            PyList_SetItem(acc, 4, time_us);
            Py_INCREF(seq);
            PyList_SetItem(acc, 5, seq);
            Py_INCREF(number);
            PyList_SetItem(acc, 6, number);
        }
    }
    return 0;
}

/* One event whose data orjson parsed: every meter of its type. 0, or -1 with an error. */
static int fold_event(Ctx *c, PyObject *meters, PyObject *seq, PyObject *subject, PyObject *time_us,
                      PyObject *minute, PyObject *data, PyObject *parsed) {
    int is_dict = PyDict_CheckExact(parsed);
    PyObject *last_names = NULL, *last_text = NULL;  /* last_text owned (may be NULL: None) */
    PyObject *cache = NULL;                          /* [exact parse] for read_slow, made when needed */
    int rc = -1;
    Py_ssize_t n = PyList_GET_SIZE(meters);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *spec = PyList_GET_ITEM(meters, i);
        PyObject *num = PyTuple_GET_ITEM(spec, 0);
        int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(spec, 1));
        PyObject *names = PyTuple_GET_ITEM(spec, 2);
        PyObject *value_name = PyTuple_GET_ITEM(spec, 3);
        PyObject *meter = PyTuple_GET_ITEM(spec, 4);
        PyObject *text = NULL, *number = NULL;  /* owned */
        if (names != Py_None && is_dict) {
            if (names == last_names) {
                text = last_text;
                Py_XINCREF(text);
            } else {
                int failed = 0;
                text = group_text_of(c, parsed, names, &failed);
                if (failed) goto done;
                Py_XDECREF(last_text);
                last_names = names;
                last_text = text;
                Py_XINCREF(last_text);
            }
            if (text != NULL && kind != K_COUNT) {
                PyObject *value = PyDict_GetItemWithError(parsed, value_name);
                if (value == NULL && PyErr_Occurred()) { Py_DECREF(text); goto done; }
                int within = 0;
                if (value != NULL && PyLong_CheckExact(value)) {
                    if (int_within(value, c->text_int, &within) < 0) { Py_DECREF(text); goto done; }
                }
                if (within) {
                    int small = 0;
                    if (kind != K_DISTINCT && int_within(value, c->number_int, &small) < 0) {
                        Py_DECREF(text);
                        goto done;
                    }
                    if (kind == K_DISTINCT) number = PyObject_Str(value);
                    else if (!small) Py_CLEAR(text);  /* the reader's error */
                    else if (kind == K_SUM) number = PyNumber_Multiply(value, c->nanos);
                    else number = PyFloat_FromDouble(PyLong_AsDouble(value));
                    if (text != NULL && number == NULL) { Py_DECREF(text); goto done; }
                } else if (value != NULL && PyUnicode_CheckExact(value) && kind == K_DISTINCT
                           && PyUnicode_FindChar(value, 0, 0, PyUnicode_GET_LENGTH(value), 1) == -1) {
                    /* (a NUL in the value goes to the reader, which refuses it) */
                    number = value;
                    Py_INCREF(number);
                } else {
                    Py_CLEAR(text);
                }
            }
        }
        if (text == NULL) {
            if (cache == NULL) {
                cache = PyList_New(0);
                if (cache == NULL) goto done;
            }
            PyObject *got = PyObject_CallFunctionObjArgs(c->read_slow, seq, meter, data, cache, NULL);
            if (got == NULL) goto done;
            if (got == Py_None) {  /* an error, recorded */
                Py_DECREF(got);
                continue;
            }
            text = PyTuple_GET_ITEM(got, 0);
            number = PyTuple_GET_ITEM(got, 1);
            Py_INCREF(text);
            Py_INCREF(number);
            Py_DECREF(got);
        }
        int r = accumulate(c, meter, num, kind, subject, text, minute, number == NULL ? Py_None : number,
                           time_us, seq);
        Py_DECREF(text);
        Py_XDECREF(number);
        if (r < 0) goto done;
    }
    rc = 0;
done:
    Py_XDECREF(last_text);
    Py_XDECREF(cache);
    return rc;
}

static PyObject *fold_loop(PyObject *self, PyObject *args) {
    PyObject *events, *by_type, *slow_event, *minute_obj;
    Ctx c;
    if (!PyArg_ParseTuple(args, "OO!O!OOOOO!O!O!LLOO", &events, &PyDict_Type, &by_type, &PyDict_Type, &c.texts,
                          &c.group_text, &c.read_slow, &slow_event, &c.loads, &PyDict_Type, &c.accs,
                          &PyDict_Type, &c.distincts, &PyDict_Type, &c.meters_seen, &c.text_int,
                          &c.number_int, &c.nanos, &minute_obj))
        return NULL;
    long long minute_us = PyLong_AsLongLong(minute_obj);
    if (minute_us <= 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "minute_us must be positive");
        return NULL;
    }
    PyObject *it = PyObject_GetIter(events);
    if (it == NULL) return NULL;
    PyObject *event;
    while ((event = PyIter_Next(it)) != NULL) {
        if (!PyTuple_CheckExact(event) || PyTuple_GET_SIZE(event) != 5) {
            PyErr_SetString(PyExc_TypeError, "events must be 5-tuples");
            goto fail;
        }
        PyObject *seq = PyTuple_GET_ITEM(event, 0), *type = PyTuple_GET_ITEM(event, 1);
        PyObject *subject = PyTuple_GET_ITEM(event, 2), *time_us = PyTuple_GET_ITEM(event, 3);
        PyObject *data = PyTuple_GET_ITEM(event, 4);
        PyObject *meters = PyDict_GetItemWithError(by_type, type);
        if (meters == NULL) {
            if (PyErr_Occurred()) goto fail;
            Py_DECREF(event);
            continue;
        }
        if (!PyList_CheckExact(meters)) {
            PyErr_SetString(PyExc_TypeError, "by_type values must be lists");
            goto fail;
        }
        if (PyList_GET_SIZE(meters) == 0) {
            Py_DECREF(event);
            continue;
        }
        int overflow = 0;
        long long t = PyLong_Check(time_us) ? PyLong_AsLongLongAndOverflow(time_us, &overflow) : 0;
        if (t == -1 && PyErr_Occurred()) goto fail;
        PyObject *parsed = NULL;
        if (PyLong_Check(time_us) && !overflow) {
            if (data == Py_None) {
                parsed = Py_None;
                Py_INCREF(parsed);
            } else {
                parsed = PyObject_CallOneArg(c.loads, data);
                if (parsed == NULL) {
                    if (!PyErr_ExceptionMatches(PyExc_Exception)) goto fail;
                    PyErr_Clear();  /* the pure loop sorts out why (a number beyond orjson, or an error) */
                }
            }
        }
        if (parsed == NULL) {
            PyObject *r = PyObject_CallOneArg(slow_event, event);
            if (r == NULL) goto fail;
            Py_DECREF(r);
            Py_DECREF(event);
            continue;
        }
        long long rem = t % minute_us;
        if (rem < 0) rem += minute_us;
        PyObject *minute = PyLong_FromLongLong(t - rem);
        if (minute == NULL) { Py_DECREF(parsed); goto fail; }
        int r = fold_event(&c, meters, seq, subject, time_us, minute, data, parsed);
        Py_DECREF(minute);
        Py_DECREF(parsed);
        if (r < 0) goto fail;
        Py_DECREF(event);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(event);
    Py_DECREF(it);
    return NULL;
}


/* -- rows -------------------------------------------------------------------------------------------- */

static long long floor_start(long long t, long long unit) {
    long long rem = t % unit;
    if (rem < 0) rem += unit;
    return t - rem;
}

/* The values after a row's key, by kind, appended to ``row`` from index ``at`` (see fold._VALUES). */
static int set_values(PyObject *row, Py_ssize_t at, int kind, PyObject *acc, PyObject *nanos) {
    PyObject **a = ((PyListObject *)acc)->ob_item;
    Py_INCREF(a[0]);
    PyTuple_SET_ITEM(row, at, a[0]);
    if (kind == K_SUM) {
        PyObject *units = PyNumber_FloorDivide(a[1], nanos);
        if (units == NULL) return -1;
        PyTuple_SET_ITEM(row, at + 1, units);
        PyObject *rest = PyNumber_Remainder(a[1], nanos);
        if (rest == NULL) return -1;
        PyTuple_SET_ITEM(row, at + 2, rest);
    } else if (kind == K_MIN || kind == K_MAX) {
        PyObject *v = a[kind == K_MIN ? 2 : 3];
        Py_INCREF(v);
        PyTuple_SET_ITEM(row, at + 1, v);
    } else if (kind == K_LATEST) {
        int from[3] = {6, 4, 5};
        for (int i = 0; i < 3; i++) {
            Py_INCREF(a[from[i]]);
            PyTuple_SET_ITEM(row, at + 1 + i, a[from[i]]);
        }
    }
    return 0;
}

static Py_ssize_t values_width(int kind) {
    return kind == K_SUM ? 3 : kind == K_LATEST ? 4 : kind == K_COUNT ? 1 : 2;
}

/* r merged with a (fold._MERGE): r is a list of our own. */
static int merge(PyObject *r, PyObject *a, int kind) {
    PyObject **ra = ((PyListObject *)r)->ob_item, **aa = ((PyListObject *)a)->ob_item;
    PyObject *count = PyNumber_Add(ra[0], aa[0]);
    if (count == NULL) return -1;
    Py_SETREF(ra[0], count);
    if (kind == K_SUM) {
        PyObject *sum = PyNumber_Add(ra[1], aa[1]);
        if (sum == NULL) return -1;
        Py_SETREF(ra[1], sum);
    } else if (kind == K_MIN || kind == K_MAX) {
        int at = kind == K_MIN ? 2 : 3;
        int better = PyObject_RichCompareBool(aa[at], ra[at], kind == K_MIN ? Py_LT : Py_GT);
        if (better < 0) return -1;
        if (better) {
            Py_INCREF(aa[at]);
            Py_SETREF(ra[at], aa[at]);
        }
    } else if (kind == K_LATEST) {
        int later, same = PyObject_RichCompareBool(aa[4], ra[4], Py_EQ);
        if (same < 0) return -1;
        later = same ? PyObject_RichCompareBool(aa[5], ra[5], Py_GT) : PyObject_RichCompareBool(aa[4], ra[4], Py_GT);
        if (later < 0) return -1;
        if (later) {
            for (int i = 4; i < 7; i++) {
                Py_INCREF(aa[i]);
                Py_SETREF(ra[i], aa[i]);
            }
        }
    }
    return 0;
}

/* Adds acc into rolled[(groups, t)] (a copy when new). */
static int roll_into(PyObject *rolled, PyObject *groups, long long t, PyObject *acc, int kind) {
    PyObject *t_obj = PyLong_FromLongLong(t);
    if (t_obj == NULL) return -1;
    PyObject *key = PyTuple_Pack(2, groups, t_obj);
    Py_DECREF(t_obj);
    if (key == NULL) return -1;
    PyObject *r = PyDict_GetItemWithError(rolled, key);
    int rc;
    if (r == NULL) {
        if (PyErr_Occurred()) { Py_DECREF(key); return -1; }
        PyObject *copy = PyList_GetSlice(acc, 0, PyList_GET_SIZE(acc));
        if (copy == NULL) { Py_DECREF(key); return -1; }
        rc = PyDict_SetItem(rolled, key, copy);
        Py_DECREF(copy);
    } else {
        rc = merge(r, acc, kind);
    }
    Py_DECREF(key);
    return rc;
}

/* All-subject rows of one level: (num, t, groups, *values). */
static PyObject *level_rows(PyObject *num, PyObject *rolled, int kind, PyObject *nanos) {
    PyObject *rows = PyList_New(0);
    if (rows == NULL) return NULL;
    Py_ssize_t pos = 0, width = values_width(kind);
    PyObject *key, *acc;
    while (PyDict_Next(rolled, &pos, &key, &acc)) {
        PyObject *row = PyTuple_New(3 + width);
        if (row == NULL) goto fail;
        Py_INCREF(num);
        PyTuple_SET_ITEM(row, 0, num);
        PyObject *t = PyTuple_GET_ITEM(key, 1), *groups = PyTuple_GET_ITEM(key, 0);
        Py_INCREF(t);
        PyTuple_SET_ITEM(row, 1, t);
        Py_INCREF(groups);
        PyTuple_SET_ITEM(row, 2, groups);
        if (set_values(row, 3, kind, acc, nanos) < 0 || PyList_Append(rows, row) < 0) {
            Py_DECREF(row);
            goto fail;
        }
        Py_DECREF(row);
    }
    return rows;
fail:
    Py_DECREF(rows);
    return NULL;
}

/* rows_of(num, kind, accs, subjects, nanos, hour_us, day_us) -> (sub rows, [minute, hour, day rows]):
 * fold._rows_of's rows in the same order; (num, subject) pairs added to the set ``subjects``. */
static PyObject *rows_of(PyObject *self, PyObject *args) {
    PyObject *num, *accs, *subjects, *nanos;
    int kind;
    long long hour_us, day_us;
    if (!PyArg_ParseTuple(args, "OiO!O!OLL", &num, &kind, &PyDict_Type, &accs, &PySet_Type, &subjects, &nanos,
                          &hour_us, &day_us))
        return NULL;
    PyObject *sub = PyList_New(0), *levels[3] = {PyDict_New(), PyDict_New(), PyDict_New()}, *result = NULL;
    PyObject *level_lists[3] = {NULL, NULL, NULL};
    if (sub == NULL || levels[0] == NULL || levels[1] == NULL || levels[2] == NULL) goto done;
    Py_ssize_t pos = 0, width = values_width(kind);
    PyObject *key, *acc;
    while (PyDict_Next(accs, &pos, &key, &acc)) {
        PyObject *subject = PyTuple_GET_ITEM(key, 0), *groups = PyTuple_GET_ITEM(key, 1);
        PyObject *minute = PyTuple_GET_ITEM(key, 2);
        PyObject *pair = PyTuple_Pack(2, num, subject);
        if (pair == NULL) goto done;
        int r = PySet_Add(subjects, pair);
        Py_DECREF(pair);
        if (r < 0) goto done;
        long long m = PyLong_AsLongLong(minute);
        if (m == -1 && PyErr_Occurred()) goto done;
        PyObject *day = PyLong_FromLongLong(floor_start(m, day_us));
        if (day == NULL) goto done;
        PyObject *row = PyTuple_New(5 + width);
        if (row == NULL) { Py_DECREF(day); goto done; }
        PyObject *head[5] = {num, day, subject, minute, groups};
        for (int i = 0; i < 5; i++) {
            Py_INCREF(head[i]);
            PyTuple_SET_ITEM(row, i, head[i]);
        }
        Py_DECREF(day);
        if (set_values(row, 5, kind, acc, nanos) < 0 || PyList_Append(sub, row) < 0) {
            Py_DECREF(row);
            goto done;
        }
        Py_DECREF(row);
        if (roll_into(levels[0], groups, m, acc, kind) < 0) goto done;
    }
    /* hours from minutes, days from hours (fewer entries at each step), as fold._rows_of */
    long long units[3] = {0, hour_us, day_us};
    for (int level = 1; level < 3; level++) {
        pos = 0;
        while (PyDict_Next(levels[level - 1], &pos, &key, &acc)) {
            long long t = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
            if (t == -1 && PyErr_Occurred()) goto done;
            if (roll_into(levels[level], PyTuple_GET_ITEM(key, 0), floor_start(t, units[level]), acc, kind) < 0)
                goto done;
        }
    }
    for (int level = 0; level < 3; level++) {
        level_lists[level] = level_rows(num, levels[level], kind, nanos);
        if (level_lists[level] == NULL) goto done;
    }
    result = Py_BuildValue("(O[OOO])", sub, level_lists[0], level_lists[1], level_lists[2]);
done:
    Py_XDECREF(sub);
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(levels[i]);
        Py_XDECREF(level_lists[i]);
    }
    return result;
}

/* distinct_rows_of(num, distinct, subjects, hour_us, day_us) -> (sub rows, [minute, hour, day rows]):
 * fold._distinct_rows_of's rows in the same order (the level rows are lists of sets filled in the same
 * order, so they list in the same order). */
static PyObject *distinct_rows_of(PyObject *self, PyObject *args) {
    PyObject *num, *distinct, *subjects;
    long long hour_us, day_us;
    if (!PyArg_ParseTuple(args, "OO!O!LL", &num, &PySet_Type, &distinct, &PySet_Type, &subjects, &hour_us, &day_us))
        return NULL;
    PyObject *sub = PyList_New(0), *sets[3] = {PySet_New(NULL), PySet_New(NULL), PySet_New(NULL)};
    PyObject *lists[3] = {NULL, NULL, NULL}, *result = NULL, *it = NULL, *item;
    if (sub == NULL || sets[0] == NULL || sets[1] == NULL || sets[2] == NULL) goto done;
    it = PyObject_GetIter(distinct);
    if (it == NULL) goto done;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *subject = PyTuple_GET_ITEM(item, 0), *groups = PyTuple_GET_ITEM(item, 1);
        PyObject *minute = PyTuple_GET_ITEM(item, 2), *value = PyTuple_GET_ITEM(item, 3);
        long long m = PyLong_AsLongLong(minute);
        PyObject *hour = NULL, *day = NULL, *row = NULL;
        int ok = 0;
        if (m == -1 && PyErr_Occurred()) goto next;
        PyObject *pair = PyTuple_Pack(2, num, subject);
        if (pair == NULL) goto next;
        int r = PySet_Add(subjects, pair);
        Py_DECREF(pair);
        if (r < 0) goto next;
        hour = PyLong_FromLongLong(floor_start(m, hour_us));
        day = PyLong_FromLongLong(floor_start(m, day_us));
        if (hour == NULL || day == NULL) goto next;
        row = PyTuple_Pack(6, num, day, subject, minute, groups, value);
        if (row == NULL || PyList_Append(sub, row) < 0) goto next;
        PyObject *times[3] = {minute, hour, day};
        for (int i = 0; i < 3; i++) {
            PyObject *level_row = PyTuple_Pack(4, num, times[i], groups, value);
            if (level_row == NULL) goto next;
            r = PySet_Add(sets[i], level_row);
            Py_DECREF(level_row);
            if (r < 0) goto next;
        }
        ok = 1;
    next:
        Py_XDECREF(hour);
        Py_XDECREF(day);
        Py_XDECREF(row);
        Py_DECREF(item);
        if (!ok) goto done;
    }
    if (PyErr_Occurred()) goto done;
    for (int i = 0; i < 3; i++) {
        lists[i] = PySequence_List(sets[i]);
        if (lists[i] == NULL) goto done;
    }
    result = Py_BuildValue("(O[OOO])", sub, lists[0], lists[1], lists[2]);
done:
    Py_XDECREF(it);
    Py_XDECREF(sub);
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(sets[i]);
        Py_XDECREF(lists[i]);
    }
    return result;
}

/* merge_rows(row_lists, k, kind) -> rows: fold._merge_rows in C (rows (*key, *values), k key columns). */
static PyObject *merge_rows(PyObject *self, PyObject *args) {
    PyObject *lists;
    Py_ssize_t k;
    int kind;
    if (!PyArg_ParseTuple(args, "O!ni", &PyList_Type, &lists, &k, &kind)) return NULL;
    PyObject *merged = PyDict_New(), *result = NULL;
    if (merged == NULL) return NULL;
    for (Py_ssize_t li = 0; li < PyList_GET_SIZE(lists); li++) {
        PyObject *rows = PyList_GET_ITEM(lists, li);
        if (!PyList_CheckExact(rows)) { PyErr_SetString(PyExc_TypeError, "row lists must be lists"); goto done; }
        for (Py_ssize_t ri = 0; ri < PyList_GET_SIZE(rows); ri++) {
            PyObject *row = PyList_GET_ITEM(rows, ri);
            if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) < k + 1) {
                PyErr_SetString(PyExc_TypeError, "rows must be tuples of a key and values");
                goto done;
            }
            PyObject *key = PyTuple_GetSlice(row, 0, k);
            if (key == NULL) goto done;
            PyObject *r = PyDict_GetItemWithError(merged, key);
            if (r == NULL) {
                int rc = PyErr_Occurred() ? -1 : PyDict_SetItem(merged, key, row);
                Py_DECREF(key);
                if (rc < 0) goto done;
                continue;
            }
            Py_ssize_t n = PyTuple_GET_SIZE(r);
            PyObject *out = PyTuple_New(n);
            if (out == NULL) { Py_DECREF(key); goto done; }
            for (Py_ssize_t i = 0; i < k; i++) {
                Py_INCREF(PyTuple_GET_ITEM(r, i));
                PyTuple_SET_ITEM(out, i, PyTuple_GET_ITEM(r, i));
            }
            int ok = 0;
            PyObject *count = PyNumber_Add(PyTuple_GET_ITEM(r, k), PyTuple_GET_ITEM(row, k));
            if (count == NULL) goto merged_one;
            PyTuple_SET_ITEM(out, k, count);
            if (kind == K_SUM) {  /* units and nanos add apart, as the upserts add them */
                for (Py_ssize_t i = k + 1; i < k + 3; i++) {
                    PyObject *sum = PyNumber_Add(PyTuple_GET_ITEM(r, i), PyTuple_GET_ITEM(row, i));
                    if (sum == NULL) goto merged_one;
                    PyTuple_SET_ITEM(out, i, sum);
                }
            } else if (kind == K_MIN || kind == K_MAX) {
                PyObject *a = PyTuple_GET_ITEM(row, k + 1), *b = PyTuple_GET_ITEM(r, k + 1);
                int better = PyObject_RichCompareBool(a, b, kind == K_MIN ? Py_LT : Py_GT);
                if (better < 0) goto merged_one;
                PyObject *v = better ? a : b;
                Py_INCREF(v);
                PyTuple_SET_ITEM(out, k + 1, v);
            } else if (kind == K_LATEST) {
                PyObject *t1 = PyTuple_GET_ITEM(row, k + 2), *t0 = PyTuple_GET_ITEM(r, k + 2);
                int later, same = PyObject_RichCompareBool(t1, t0, Py_EQ);
                if (same < 0) goto merged_one;
                later = same ? PyObject_RichCompareBool(PyTuple_GET_ITEM(row, k + 3), PyTuple_GET_ITEM(r, k + 3), Py_GT)
                             : PyObject_RichCompareBool(t1, t0, Py_GT);
                if (later < 0) goto merged_one;
                PyObject *from = later ? row : r;
                for (Py_ssize_t i = k + 1; i < k + 4; i++) {
                    Py_INCREF(PyTuple_GET_ITEM(from, i));
                    PyTuple_SET_ITEM(out, i, PyTuple_GET_ITEM(from, i));
                }
            }
            ok = PyDict_SetItem(merged, key, out) == 0;
        merged_one:
            Py_DECREF(out);  /* a partly filled tuple holds NULLs: tuple dealloc skips them */
            Py_DECREF(key);
            if (!ok) goto done;
        }
    }
    result = PyDict_Values(merged);
done:
    Py_DECREF(merged);
    return result;
}

static PyMethodDef methods[] = {
    {"fold_loop", fold_loop, METH_VARARGS, "The ingest fold's loop over events (see meters/fold.py)."},
    {"rows_of", rows_of, METH_VARARGS, "One meter's rows from its accumulators (see fold._rows_of)."},
    {"merge_rows", merge_rows, METH_VARARGS, "Rows of several folds with the rows of one key merged."},
    {"distinct_rows_of", distinct_rows_of, METH_VARARGS, "A UNIQUE_COUNT meter's rows (see fold._distinct_rows_of)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_foldc", "The ingest fold's hot loop in C.", -1, methods};

PyMODINIT_FUNC PyInit__foldc(void) {
    ONE = PyLong_FromLong(1);
    if (ONE == NULL) return NULL;
    return PyModule_Create(&module);
}
