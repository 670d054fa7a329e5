/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The chart splitter on the paperless-ngx barcode samples (PDF and TIFF,
 * used in place: they are GPL-3.0 and never copied here), run as a batch
 * through CdPipeline with the files source, the barcode stage and the chart
 * splitter, without OCR. The separator pages found and the documents formed
 * are checked against barcodes_ground_truth.json.
 */
#include "cd-engine.h"
#include <glib/gstdio.h>
#include <unistd.h>
#include "cd-test-util.h"

static CdRegistry *registry;

/* The payloads configured as separators besides the default PATCHT: the
 * non-default separator strings the ground truth was made with. */
static const gchar *const custom_separators[] = { "CUSTOM BARCODE", "ADAR-NEXTDOC", NULL };

/* What one input file became: its separator pages and its documents (each
 * a list of page indices), and the payloads read on each page. */
typedef struct {
  GArray *separators;   /* of gint, in order */
  GArray *covers;       /* of gint: pages set aside as cover sheets */
  GPtrArray *reasons;   /* the covers' reasons */
  GPtrArray *documents; /* of GArray of gint */
  GHashTable *payloads; /* page index → GHashTable set of payloads */
  GHashTable *readings; /* set of "symbology/payload" */
} Outcome;

static Outcome *
outcome_new(void)
{
  Outcome *o = g_new0(Outcome, 1);
  o->separators = g_array_new(FALSE, FALSE, sizeof(gint));
  o->covers = g_array_new(FALSE, FALSE, sizeof(gint));
  o->reasons = g_ptr_array_new_with_free_func(g_free);
  o->documents = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
  o->payloads = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_hash_table_unref);
  o->readings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return o;
}

static void
outcome_free(Outcome *o)
{
  g_array_unref(o->separators);
  g_array_unref(o->covers);
  g_ptr_array_unref(o->reasons);
  g_ptr_array_unref(o->documents);
  g_hash_table_unref(o->payloads);
  g_hash_table_unref(o->readings);
  g_free(o);
}

static Outcome *
outcome_for(GHashTable *outcomes, const gchar *path)
{
  g_autofree gchar *base = g_path_get_basename(path);
  Outcome *o = g_hash_table_lookup(outcomes, base);

  if (o == NULL) {
    o = outcome_new();
    g_hash_table_insert(outcomes, g_steal_pointer(&base), o);
  }
  return o;
}

/* Records a page of the export: its payloads; returns its file and index. */
static Outcome *
note_page(GHashTable *outcomes, JsonObject *page, gint *index)
{
  JsonObject *source = json_object_get_object_member(page, "source");
  JsonObject *facts = json_object_get_object_member(page, "facts");
  Outcome *o = outcome_for(outcomes, json_object_get_string_member(source, "path"));
  GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

  *index = (gint) json_object_get_int_member(source, "page");
  if (facts != NULL && json_object_has_member(facts, "barcode.symbols")) {
    JsonArray *symbols = json_object_get_array_member(facts, "barcode.symbols");
    for (guint i = 0; i < json_array_get_length(symbols); i++) {
      JsonObject *symbol = json_array_get_object_element(symbols, i);
      const gchar *payload = json_object_get_string_member(symbol, "payload");
      g_hash_table_add(set, g_strdup(payload));
      g_hash_table_add(o->readings,
                       g_strdup_printf("%s/%s", json_object_get_string_member(symbol, "symbology"), payload));
    }
  }
  g_hash_table_insert(o->payloads, GINT_TO_POINTER(*index), set);
  return o;
}

/* Runs the batch over @input (a file or folder) with @chart_options as the
 * chart splitter's group (NULL: separators PATCHT and the custom strings),
 * and reads back, from the archive's export,
 * what each file became. */
static GHashTable *
run_batch(const gchar *input, const gchar *chart_options, const gchar *tmp)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *custom = g_strjoinv(";", (gchar **) custom_separators);
  g_autofree gchar *separators = chart_options == NULL ? g_strdup_printf("separators=PATCHT;%s\n", custom) : NULL;
  g_autofree gchar *data =
      g_strdup_printf("[workflow]\nname=separators\nsource=files\npage-stages=barcode\nsplitter=chart\nworkers=2\n"
                      "[files]\nresolution=200\n"
                      "[chart]\n%s%s",
                      separators != NULL ? separators : "", chart_options != NULL ? chart_options : "");
  g_autoptr(CdWorkflow) workflow = cd_workflow_new_from_data(registry, data, "separators.workflow", &error);
  g_autofree gchar *name = g_path_get_basename(input);
  g_autofree gchar *archive_name = g_strconcat(name, ".archive", NULL);
  g_autofree gchar *archive_path = g_build_filename(tmp, archive_name, NULL);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  g_autoptr(CdBatch) batch = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_autoptr(GHashTable) outcomes =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) outcome_free);
  g_auto(GStrv) lines = NULL;
  const gchar *inputs[] = { input, NULL };

  g_assert_no_error(error);
  archive = cd_archive_open(archive_path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  pipeline = cd_pipeline_new(workflow, archive);
  batch = cd_pipeline_run(pipeline, inputs, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_FAILED), ==, 0);

  g_assert_true(cd_archive_export_jsonl(archive, out, FALSE, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_output_stream_write_all(out, "", 1, NULL, NULL, &error));
  g_assert_true(g_output_stream_close(out, NULL, &error));
  lines = g_strsplit(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *record;
    gint index;

    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    record = json_node_get_object(node);
    if (json_object_has_member(record, "pages")) {
      JsonArray *pages = json_object_get_array_member(record, "pages");
      GArray *doc = g_array_new(FALSE, FALSE, sizeof(gint));
      Outcome *o = NULL;
      for (guint k = 0; k < json_array_get_length(pages); k++) {
        Outcome *of = note_page(outcomes, json_array_get_object_element(pages, k), &index);
        g_assert_true(o == NULL || o == of); /* documents never span files */
        o = of;
        g_array_append_val(doc, index);
      }
      g_assert_nonnull(o);
      g_ptr_array_add(o->documents, doc);
    } else {
      Outcome *o = note_page(outcomes, record, &index);
      if (g_strcmp0(json_object_get_string_member(record, "kind"), "separator") == 0)
        g_array_append_val(o->separators, index);
      if (g_strcmp0(json_object_get_string_member(record, "kind"), "cover") == 0) {
        g_array_append_val(o->covers, index);
        g_ptr_array_add(o->reasons, g_strdup(json_object_get_string_member(record, "reason")));
      }
    }
  }
  return g_steal_pointer(&outcomes);
}

/* The separators the ground truth expects under our configuration: the
 * expectation made with one of our separator strings if there is one,
 * else the default one. Separators paperless keeps in the document (ASN
 * and tag barcodes) split there only; ours are set aside, so only those
 * it drops are taken. */
static GArray *
expected_separators(JsonObject *expect, gboolean *exact_docs)
{
  GArray *pages = g_array_new(FALSE, FALSE, sizeof(gint));
  JsonObject *seps = NULL;
  g_autoptr(GList) members = json_object_get_members(expect);

  *exact_docs = FALSE;
  for (guint i = 0; custom_separators[i] != NULL; i++) {
    g_autofree gchar *key = g_strdup_printf("separators_with_CONSUMER_BARCODE_STRING=%s", custom_separators[i]);
    if (json_object_has_member(expect, key))
      seps = json_object_get_object_member(expect, key);
  }
  if (seps == NULL && json_object_has_member(expect, "separators")) {
    seps = json_object_get_object_member(expect, "separators");
    *exact_docs = TRUE;
  }
  if (seps == NULL && json_object_has_member(expect, "separators_with_ASN_enabled"))
    seps = json_object_get_object_member(expect, "separators_with_ASN_enabled");
  if (seps == NULL) {
    /* separate_pages({1:False,2:False}): the pages named in the key */
    for (GList *l = members; l != NULL; l = l->next) {
      const gchar *key = l->data;
      if (g_str_has_prefix(key, "separate_pages({")) {
        g_auto(GStrv) parts = g_strsplit_set(key + strlen("separate_pages({"), ":,}", -1);
        for (guint k = 0; parts[k] != NULL && parts[k + 1] != NULL; k += 2) {
          gint page = atoi(parts[k]);
          if (g_strcmp0(g_strstrip(parts[k + 1]), "False") == 0)
            g_array_append_val(pages, page);
        }
        *exact_docs = TRUE;
      }
    }
    return pages;
  }
  {
    g_autoptr(GList) keys = json_object_get_members(seps);
    for (GList *l = keys; l != NULL; l = l->next) {
      gint page = atoi(l->data);
      if (!json_object_get_boolean_member(seps, l->data))
        g_array_append_val(pages, page);
    }
  }
  return pages;
}

static gint
compare_int(gconstpointer a, gconstpointer b)
{
  return *(const gint *) a - *(const gint *) b;
}

static gchar *
ints_to_string(GArray *a)
{
  GString *s = g_string_new("[");
  for (guint i = 0; i < a->len; i++)
    g_string_append_printf(s, "%s%d", i > 0 ? " " : "", g_array_index(a, gint, i));
  g_string_append_c(s, ']');
  return g_string_free(s, FALSE);
}

/* For every sample file of the ground truth: the pages set aside as
 * separators are exactly those expected (patch T sheets read by their bars
 * or their Code 39, PATCHT in QR, the configured strings in Code 128, Code
 * 39 and QR; the deliberately unreadable one is not a separator); the
 * documents are the runs of pages between them, each page in exactly one;
 * and where the ground truth gives a document count, it is met. Every
 * payload zbarimg read at 200 dpi is read too. */
static void
test_separators_samples(void)
{
  g_autofree gchar *truth_path = cd_test_shared_data("paperless-ngx/barcodes_ground_truth.json");
  g_autofree gchar *dir = cd_test_shared_data("paperless-ngx/barcodes");
  g_autofree gchar *tmp = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GHashTable) outcomes = NULL;
  g_autoptr(GList) files = NULL;
  JsonObject *truth;
  guint checked = 0, with_separators = 0, with_counts = 0;

  if (truth_path == NULL || dir == NULL)
    return;
  g_assert_true(json_parser_load_from_file(parser, truth_path, &error));
  g_assert_no_error(error);
  truth = json_node_get_object(json_parser_get_root(parser));
  tmp = g_dir_make_tmp("chartdesk-separators-XXXXXX", &error);
  g_assert_no_error(error);
  outcomes = run_batch(dir, NULL, tmp);

  files = json_object_get_members(truth);
  for (GList *l = files; l != NULL; l = l->next) {
    const gchar *name = l->data;
    JsonObject *entry, *decoded;
    g_autoptr(GArray) want = NULL;
    g_autoptr(GArray) want_docs = g_array_new(FALSE, FALSE, sizeof(gint));
    g_autofree gchar *got_s = NULL;
    g_autofree gchar *want_s = NULL;
    Outcome *o;
    gboolean exact_docs = FALSE;
    gint n_pages = 0, n_docs = -1, run = 0;

    if (name[0] == '_')
      continue;
    entry = json_object_get_object_member(truth, name);
    decoded = json_object_get_object_member(entry, "zbar_decoded_per_page_0idx");
    o = g_hash_table_lookup(outcomes, name);
    g_assert_nonnull(o);
    n_pages = (gint) json_object_get_size(decoded);

    want = expected_separators(json_object_get_object_member(entry, "paperless_test_expectation"), &exact_docs);
    g_array_sort(want, compare_int);
    g_array_sort(o->separators, compare_int);
    got_s = ints_to_string(o->separators);
    want_s = ints_to_string(want);
    g_test_message("%s: separators %s, expected %s; %u documents", name, got_s, want_s, o->documents->len);
    g_assert_cmpstr(got_s, ==, want_s);
    with_separators += want->len > 0;

    /* documents: the runs of pages between separators, in order */
    for (gint p = 0, s = 0; p <= n_pages; p++) {
      gboolean sep = s < (gint) want->len && g_array_index(want, gint, s) == p;
      if (p == n_pages || sep) {
        if (run > 0)
          g_array_append_val(want_docs, run);
        run = 0;
        s += sep;
      } else {
        run++;
      }
    }
    g_assert_cmpuint(o->documents->len, ==, want_docs->len);
    for (guint d = 0, first = 0; d < o->documents->len; d++) {
      GArray *doc = g_ptr_array_index(o->documents, d);
      g_assert_cmpuint(doc->len, ==, (guint) g_array_index(want_docs, gint, d));
      for (guint k = 1; k < doc->len; k++)
        g_assert_cmpint(g_array_index(doc, gint, k), ==, g_array_index(doc, gint, k - 1) + 1);
      g_assert_cmpint(g_array_index(doc, gint, 0), >=, (gint) first);
      first = g_array_index(doc, gint, doc->len - 1) + 1;
    }
    /* the document count paperless asserts, where it splits as we do */
    if (exact_docs) {
      JsonObject *expect = json_object_get_object_member(entry, "paperless_test_expectation");
      g_autoptr(GList) keys = json_object_get_members(expect);
      for (GList *k = keys; k != NULL; k = k->next) {
        if (g_strcmp0(k->data, "n_docs") == 0 || g_str_has_prefix(k->data, "separate_pages("))
          n_docs = (gint) json_object_get_int_member(expect, k->data);
      }
      if (n_docs >= 0) {
        g_assert_cmpint((gint) o->documents->len, ==, n_docs);
        with_counts++;
      }
    }

    /* every page once, and what zbarimg read is read */
    g_assert_cmpuint(g_hash_table_size(o->payloads), ==, (guint) n_pages);
    for (gint p = 0; p < n_pages; p++) {
      g_autofree gchar *key = g_strdup_printf("%d", p);
      JsonArray *read = json_object_get_array_member(decoded, key);
      GHashTable *ours = g_hash_table_lookup(o->payloads, GINT_TO_POINTER(p));
      g_assert_nonnull(ours);
      for (guint k = 0; k < json_array_get_length(read); k++) {
        const gchar *payload = json_array_get_string_element(read, k);
        if (!g_hash_table_contains(ours, payload))
          g_test_message("%s page %d: %s not read", name, p, payload);
        g_assert_true(g_hash_table_contains(ours, payload));
      }
    }
    checked++;
  }
  g_assert_cmpuint(checked, ==, 26);
  g_assert_cmpuint(with_separators, >=, 12);
  g_assert_cmpuint(with_counts, ==, 2);

  /* the patch T sheets are read by their bars too, not only as Code 39;
   * PATCHT in a QR code is a separator as well */
  g_assert_true(g_hash_table_contains(((Outcome *) g_hash_table_lookup(outcomes, "barcode-fax-image.pdf"))->readings,
                                      "patch/PATCHT"));
  g_assert_true(g_hash_table_contains(((Outcome *) g_hash_table_lookup(outcomes, "split-by-asn-2.pdf"))->readings,
                                      "patch/PATCHT"));
  g_assert_true(g_hash_table_contains(((Outcome *) g_hash_table_lookup(outcomes, "patch-code-t-qr.pdf"))->readings,
                                      "QR-Code/PATCHT"));
  cd_test_rm_rf(tmp);
}

/* A barcode matching cover-pattern on a page with little else is a patient
 * cover sheet: with the pattern set to paperless's ASN labels, every page
 * where paperless splits on an ASN (and the first, which it never splits
 * at) is kept out of documents as a cover record naming its number, and
 * the pages between covers form the documents. The ASN too large for the
 * pattern is no cover. */
static void
test_separators_cover_pattern(void)
{
  g_autofree gchar *truth_path = cd_test_shared_data("paperless-ngx/barcodes_ground_truth.json");
  g_autofree gchar *asn = cd_test_shared_data("paperless-ngx/barcodes/split-by-asn-1.pdf");
  g_autofree gchar *too_large = cd_test_shared_data("paperless-ngx/barcodes/barcode-128-asn-too-large.pdf");
  g_autofree gchar *tmp = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GHashTable) outcomes = NULL;
  g_autoptr(GHashTable) other = NULL;
  g_autoptr(GArray) want = g_array_new(FALSE, FALSE, sizeof(gint));
  g_autoptr(GList) keys = NULL;
  g_autofree gchar *got_s = NULL;
  g_autofree gchar *want_s = NULL;
  JsonObject *expect;
  JsonArray *tags;
  Outcome *o;
  gint zero = 0;

  if (truth_path == NULL || asn == NULL || too_large == NULL)
    return;
  g_assert_true(json_parser_load_from_file(parser, truth_path, &error));
  expect = json_object_get_object_member(
      json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "split-by-asn-1.pdf"),
      "paperless_test_expectation");
  g_array_append_val(want, zero);
  keys = json_object_get_members(json_object_get_object_member(expect, "separators_with_ASN_enabled"));
  for (GList *l = keys; l != NULL; l = l->next) {
    gint page = atoi(l->data);
    g_array_append_val(want, page);
  }
  g_array_sort(want, compare_int);

  tmp = g_dir_make_tmp("chartdesk-covers-XXXXXX", &error);
  g_assert_no_error(error);
  outcomes = run_batch(asn, "cover-pattern=^ASN(?<mrn>[0-9]{5})$\n", tmp);
  o = g_hash_table_lookup(outcomes, "split-by-asn-1.pdf");
  g_assert_nonnull(o);
  got_s = ints_to_string(o->covers);
  want_s = ints_to_string(want);
  g_assert_cmpstr(got_s, ==, want_s);
  g_assert_cmpuint(o->separators->len, ==, 0);
  /* the numbers paperless reads as ASNs are the covers' MRNs, in order */
  tags = json_object_get_array_member(expect, "asn_tags");
  g_assert_cmpuint(o->reasons->len, ==, json_array_get_length(tags));
  for (guint i = 0; i < o->reasons->len; i++) {
    g_autofree gchar *reason = g_strdup_printf("cover sheet for MRN %s", json_array_get_string_element(tags, i));
    g_assert_cmpstr(g_ptr_array_index(o->reasons, i), ==, reason);
  }
  /* documents: the runs between covers (pages 1; 4-5; 7; 9) */
  g_assert_cmpuint(o->documents->len, ==, 4);
  g_assert_cmpuint(((GArray *) g_ptr_array_index(o->documents, 1))->len, ==, 2);
  g_assert_cmpint(g_array_index((GArray *) g_ptr_array_index(o->documents, 1), gint, 0), ==, 4);

  other = run_batch(too_large, "cover-pattern=^ASN(?<mrn>[0-9]{5})$\n", tmp);
  o = g_hash_table_lookup(other, "barcode-128-asn-too-large.pdf");
  g_assert_cmpuint(o->covers->len, ==, 0);
  g_assert_cmpuint(o->documents->len, ==, 1);
  cd_test_rm_rf(tmp);
}

/* With the splitter's default separators (PATCHT only), a custom string
 * splits nothing, as paperless's default expectation says, while PATCHT in
 * a QR code and a patch T sheet still do. */
static void
test_separators_default(void)
{
  const gchar *const names[] = { "barcode-39-custom.pdf", "patch-code-t-qr.pdf", "patch-code-t-middle.pdf", NULL };
  g_autofree gchar *truth_path = cd_test_shared_data("paperless-ngx/barcodes_ground_truth.json");
  g_autofree gchar *dir = cd_test_shared_data("paperless-ngx/barcodes");
  g_autofree gchar *tmp = NULL;
  g_autofree gchar *input = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *truth;

  if (truth_path == NULL || dir == NULL)
    return;
  g_assert_true(json_parser_load_from_file(parser, truth_path, &error));
  truth = json_node_get_object(json_parser_get_root(parser));
  tmp = g_dir_make_tmp("chartdesk-default-XXXXXX", &error);
  g_assert_no_error(error);
  /* the three files, side by side in a folder of their own */
  input = g_build_filename(tmp, "in", NULL);
  g_assert_cmpint(g_mkdir(input, 0700), ==, 0);
  for (guint i = 0; names[i] != NULL; i++) {
    g_autofree gchar *from = g_build_filename(dir, names[i], NULL);
    g_autofree gchar *to = g_build_filename(input, names[i], NULL);
    g_assert_cmpint(symlink(from, to), ==, 0);
  }
  {
    g_autoptr(GHashTable) outcomes = run_batch(input, "", tmp);
    for (guint i = 0; names[i] != NULL; i++) {
      JsonObject *expect =
          json_object_get_object_member(json_object_get_object_member(truth, names[i]), "paperless_test_expectation");
      JsonObject *seps = json_object_has_member(expect, "separators_default")
                             ? json_object_get_object_member(expect, "separators_default")
                             : json_object_get_object_member(expect, "separators");
      Outcome *o = g_hash_table_lookup(outcomes, names[i]);
      g_assert_nonnull(o);
      g_test_message("%s: %u separators, %u expected", names[i], o->separators->len, json_object_get_size(seps));
      g_assert_cmpuint(o->separators->len, ==, json_object_get_size(seps));
    }
  }
  cd_test_rm_rf(tmp);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_test_add_func("/chartdesk/identity/separator-samples", test_separators_samples);
  g_test_add_func("/chartdesk/identity/cover-pattern-samples", test_separators_cover_pattern);
  g_test_add_func("/chartdesk/identity/default-separators-samples", test_separators_default);
  return g_test_run();
}
