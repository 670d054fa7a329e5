/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The cleanup stages on real scans: the committed samples (skewed,
 * upside down, sideways, faded grey, yellowed colour with a dark border,
 * a speckled duplex back) and pages derived from them at test time
 * (turned, skewed by a known angle, specks and holes added), each held to
 * what the stage must achieve.
 */
#include <math.h>

#include <chartdesk.h>
#include <glib/gstdio.h>

static inline void
box_unref(BOX *box)
{
  boxDestroy(&box);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BOX, box_unref)

static CdRegistry *registry;

static CdPageStage *
make_stage(const gchar *name, const gchar *first_property, ...)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, name, &error);
  CdPageStage *stage;
  va_list args;

  g_assert_no_error(error);
  va_start(args, first_property);
  stage = CD_PAGE_STAGE(g_object_new_valist(type, first_property, args));
  va_end(args);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  return stage;
}

static void
run(CdPageStage *stage, CdPage *page)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
  g_assert_no_error(error);
}

static gchar *
sample_path(const gchar *name)
{
  return g_test_build_filename(G_TEST_DIST, "samples", name, NULL);
}

/* The sample's ground truth record for one page. */
static JsonObject *
truth(const gchar *name, gint index)
{
  g_autofree gchar *path = sample_path("ground-truth.jsonl");
  g_autofree gchar *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = json_from_string(lines[i], NULL);
    JsonObject *o = node != NULL ? json_node_get_object(node) : NULL;
    if (o != NULL && g_strcmp0(json_object_get_string_member(o, "path"), name) == 0 &&
        json_object_get_int_member(o, "page") == index)
      return json_object_ref(o);
  }
  g_assert_not_reached();
}

static CdPage *
page_from_pix(PIX *pix, gint dpi)
{
  CdPage *page = cd_page_new("test", 0, NULL);

  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, dpi, dpi);
  return page;
}

static CdPage *
sample_page(const gchar *name, gint index)
{
  g_autofree gchar *path = sample_path(name);
  g_autoptr(JsonObject) t = truth(name, index);
  PIX *pix = g_str_has_suffix(name, ".tif") ? pixReadTiff(path, index) : pixRead(path);

  g_assert_nonnull(pix);
  return page_from_pix(pix, (gint) json_object_get_int_member(t, "dpi"));
}

/* A sample page made bilevel, as the workflow's first stage does. */
static CdPage *
bilevel_sample_page(const gchar *name, gint index)
{
  g_autoptr(CdPageStage) binarize = make_stage("binarize", NULL);
  CdPage *page = sample_page(name, index);

  run(binarize, page);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(page)), ==, 1);
  return page;
}

static gdouble
fact_double(CdPage *page, const gchar *key)
{
  g_autoptr(GVariant) v = cd_page_get_fact(page, key);

  g_assert_nonnull(v);
  return g_variant_get_double(v);
}

static gint
fact_int(CdPage *page, const gchar *key)
{
  g_autoptr(GVariant) v = cd_page_get_fact(page, key);

  g_assert_nonnull(v);
  return g_variant_get_int32(v);
}

static gchar *
fact_string(CdPage *page, const gchar *key)
{
  g_autoptr(GVariant) v = cd_page_get_fact(page, key);

  g_assert_nonnull(v);
  return g_variant_dup_string(v, NULL);
}

/* The share of the truth's words (lowercase, outer punctuation stripped,
 * as a multiset) that @text contains: the benchmark's measure. */
static gdouble
word_recall(const gchar *truth_text, const gchar *text)
{
  g_autoptr(GHashTable) have = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree gchar *lower_text = g_utf8_strdown(text, -1);
  g_autofree gchar *lower_truth = g_utf8_strdown(truth_text, -1);
  g_auto(GStrv) got = g_strsplit_set(lower_text, " \t\n\f", -1);
  g_auto(GStrv) want = g_strsplit_set(lower_truth, " \t\n\f", -1);
  guint n = 0, found = 0;

  for (guint i = 0; got[i] != NULL; i++) {
    gchar *w = g_strstrip(g_strdelimit(got[i], ".,;:!?\"'()[]{}<>*", ' '));
    if (*w != '\0')
      g_hash_table_insert(have, g_strdup(w), GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(have, w)) + 1));
  }
  for (guint i = 0; want[i] != NULL; i++) {
    gchar *w = g_strstrip(g_strdelimit(want[i], ".,;:!?\"'()[]{}<>*", ' '));
    guint count;
    if (*w == '\0')
      continue;
    n++;
    count = GPOINTER_TO_UINT(g_hash_table_lookup(have, w));
    if (count > 0) {
      found++;
      g_hash_table_insert(have, g_strdup(w), GUINT_TO_POINTER(count - 1));
    }
  }
  return n > 0 ? (gdouble) found / n : 1.0;
}

static gdouble
ocr_recall(CdPage *page, const gchar *name, gint index)
{
  g_autoptr(CdPageStage) ocr = make_stage("tesseract", NULL);
  g_autoptr(JsonObject) t = truth(name, index);

  run(ocr, page);
  return word_recall(json_object_get_string_member(t, "text"), cd_page_get_text(page));
}

/* The public test material (../shared/data), or NULL with the test marked
 * skipped when it is absent. */
static gchar *
shared_path(const gchar *relative)
{
  const gchar *root = g_getenv("CD_SHARED_DATA");
  g_autofree gchar *path = root != NULL ? g_build_filename(root, relative, NULL)
                                        : g_test_build_filename(G_TEST_DIST, "..", "shared", "data", relative, NULL);

  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_autofree gchar *msg = g_strdup_printf("%s not found (public test material is absent)", path);
    g_test_skip(msg);
    return NULL;
  }
  return g_steal_pointer(&path);
}

/* A page as the files source reads it from @path (its first page). */
static CdPage *
file_page(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "files", &error);
  g_autoptr(CdSource) source = NULL;
  const gchar *inputs[] = { path, NULL };
  CdPage *page;

  g_assert_no_error(error);
  source = CD_SOURCE(g_object_new(type, NULL));
  g_assert_true(cd_stage_start(CD_STAGE(source), &error));
  g_assert_no_error(error);
  g_assert_true(cd_source_open(source, inputs, &error));
  g_assert_no_error(error);
  page = cd_source_next(source, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(page);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
  return page;
}

/* A FUNSD form as the files source reads it (the PNGs carry no
 * resolution), or NULL when the shared data is absent. */
static CdPage *
funsd_page(const gchar *name)
{
  g_autofree gchar *rel = g_strdup_printf("funsd/testing_data/images/%s.png", name);
  g_autofree gchar *path = shared_path(rel);

  return path != NULL ? file_page(path) : NULL;
}

/* A page whose resolution the scan did not record, as the files source
 * makes it: 300 dpi assumed, and the page says so. */
static CdPage *
untagged_page(PIX *pix)
{
  CdPage *page = page_from_pix(pix, 300);

  cd_page_set_fact(page, "files.resolution-assumed", g_variant_new_boolean(TRUE));
  return page;
}

/* ------------------------------------------------------------------ deskew */

/* A level page turned 4 degrees either way comes back within 0.3 degrees,
 * and the page is level afterwards. */
static void
test_deskew_four_degrees(void)
{
  g_autoptr(CdPageStage) deskew = make_stage("deskew", NULL);
  const gdouble angles[] = { 4.0, -4.0 };

  for (guint i = 0; i < G_N_ELEMENTS(angles); i++) {
    g_autoptr(CdPage) level = sample_page("07-emergency-consent.tif", 1);
    /* Leptonica turns clockwise for a positive angle: the text then leans
     * the other way, which the page records as a negative skew */
    PIX *turned = pixRotate(cd_page_get_pix(level), (l_float32) (-angles[i] * G_PI / 180.0), L_ROTATE_AREA_MAP,
                            L_BRING_IN_WHITE, 0, 0);
    g_autoptr(CdPage) page = page_from_pix(turned, 300);

    run(deskew, page);
    g_assert_cmpfloat_with_epsilon(cd_page_get_skew(page), angles[i], 0.3);
    /* measured again, the corrected page is level */
    cd_page_set_skew(page, 0.0);
    run(deskew, page);
    g_assert_cmpfloat_with_epsilon(fact_double(page, "deskew.measured"), 0.0, 0.15);
  }
}

/* The range: a page turned 10 degrees is found and corrected. */
static void
test_deskew_ten_degrees(void)
{
  g_autoptr(CdPageStage) deskew = make_stage("deskew", NULL);
  g_autoptr(CdPage) level = sample_page("07-emergency-consent.tif", 1);
  PIX *turned =
      pixRotate(cd_page_get_pix(level), (l_float32) (10.0 * G_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
  g_autoptr(CdPage) page = page_from_pix(turned, 300);

  run(deskew, page);
  g_assert_cmpfloat_with_epsilon(cd_page_get_skew(page), -10.0, 0.3);
}

/* The skew of a scanned sample matches its ground truth, and a grey page is
 * deskewed without being made bilevel. */
static void
test_deskew_samples(void)
{
  g_autoptr(CdPageStage) deskew = make_stage("deskew", NULL);
  g_autoptr(CdPage) bilevel = sample_page("07-emergency-consent.tif", 0);
  g_autoptr(CdPage) grey = sample_page("03-history-physical-faded.tif", 0);
  g_autoptr(JsonObject) t1 = truth("07-emergency-consent.tif", 0);
  g_autoptr(JsonObject) t2 = truth("03-history-physical-faded.tif", 0);

  run(deskew, bilevel);
  g_assert_cmpfloat_with_epsilon(cd_page_get_skew(bilevel), json_object_get_double_member(t1, "skew"), 0.3);
  run(deskew, grey);
  g_assert_cmpfloat_with_epsilon(cd_page_get_skew(grey), json_object_get_double_member(t2, "skew"), 0.3);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(grey)), ==, 8);
}

/* A page without text lines (a blank back) is not rotated. */
static void
test_deskew_no_lines(void)
{
  g_autoptr(CdPageStage) deskew = make_stage("deskew", NULL);
  g_autoptr(CdPage) page = sample_page("01-discharge-progress.tif", 1);

  run(deskew, page);
  g_assert_cmpfloat(cd_page_get_skew(page), ==, 0.0);
}

/* ------------------------------------------------------------------ orient */

/* The upside-down sample comes back upright and is then read correctly. */
static void
test_orient_upside_down(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  g_autoptr(CdPage) page = sample_page("02-cover-operative.tif", 1);

  run(orient, page);
  g_assert_cmpint(cd_page_get_rotation(page), ==, 180);
  g_assert_cmpfloat(ocr_recall(page, "02-cover-operative.tif", 1), >=, 0.95);
  g_assert_nonnull(strstr(cd_page_get_text(page), "cholecystectomy"));
}

/* The sideways sample, and a level page turned each way, come back upright. */
static void
test_orient_sideways(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  g_autoptr(CdPage) sideways = sample_page("06-nursing-sideways.png", 0);
  g_autoptr(CdPage) level = sample_page("07-emergency-consent.tif", 1);
  gint xres = 0, yres = 0;

  run(orient, sideways);
  g_assert_cmpint(cd_page_get_rotation(sideways), ==, 90);
  g_assert_cmpint(pixGetHeight(cd_page_get_pix(sideways)), >, pixGetWidth(cd_page_get_pix(sideways)));

  for (gint quads = 0; quads < 4; quads++) {
    g_autoptr(CdPage) page = page_from_pix(pixRotateOrth(cd_page_get_pix(level), quads), 300);
    g_autoptr(PIX) back = NULL;
    l_int32 same = 0;

    cd_page_set_resolution(page, 300, 200); /* the axes swap with the turn */
    run(orient, page);
    g_assert_cmpint(cd_page_get_rotation(page), ==, (360 - quads * 90) % 360);
    back = pixClone(cd_page_get_pix(page));
    pixEqual(back, cd_page_get_pix(level), &same);
    g_assert_true(same);
    cd_page_get_resolution(page, &xres, &yres);
    g_assert_cmpint(xres, ==, quads % 2 == 0 ? 300 : 200);
  }
}

/* Upright pages are decided by the cheap test alone: no OSD is paid. */
static void
test_orient_upright_is_cheap(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  const gchar *names[] = { "01-discharge-progress.tif", "07-emergency-consent.tif" };

  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(CdPage) page = sample_page(names[i], 0);
    g_autofree gchar *method = NULL;

    run(orient, page);
    method = fact_string(page, "orient.method");
    g_assert_cmpstr(method, ==, "leptonica");
    g_assert_cmpint(cd_page_get_rotation(page), ==, 0);
  }
}

/* Without OSD, Leptonica's test alone turns the upside-down sample upright;
 * the sideways sample it is unsure of is left as it is, never turned the
 * wrong way (this is why OSD is asked). */
static void
test_orient_without_osd(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", "osd", FALSE, NULL);
  g_autoptr(CdPage) upside_down = sample_page("02-cover-operative.tif", 1);
  g_autoptr(CdPage) sideways = sample_page("06-nursing-sideways.png", 0);
  g_autofree gchar *method = NULL;

  run(orient, upside_down);
  g_assert_cmpint(cd_page_get_rotation(upside_down), ==, 180);
  run(orient, sideways);
  method = fact_string(sideways, "orient.method");
  if (cd_page_get_rotation(sideways) == 0)
    g_assert_cmpstr(method, ==, "unsure");
  else
    g_assert_cmpint(cd_page_get_rotation(sideways), ==, 90);
}

/* A page without text (a blank back) is left as it is, marked unsure. */
static void
test_orient_unsure(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  g_autoptr(CdPage) page = sample_page("01-discharge-progress.tif", 1);
  g_autofree gchar *method = NULL;

  run(orient, page);
  method = fact_string(page, "orient.method");
  g_assert_cmpstr(method, ==, "unsure");
  g_assert_cmpint(cd_page_get_rotation(page), ==, 0);
}

/* The FUNSD forms that Leptonica's quick test takes for upright when they
 * are turned a quarter (up/down signal 5 to 9, and a weaker sideways one) */
static const gchar *const funsd_fooling[] = { "87093315_87093318", "87594142_87594144", "93106788" };

/* A portrait page scanned sideways (a landscape image) comes back upright,
 * turned either way: generated fixtures and real forms. */
static void
test_orient_landscape_portrait(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  g_autoptr(CdPage) level = sample_page("01-discharge-progress.tif", 0);

  for (gint quads = 1; quads < 4; quads += 2) {
    g_autoptr(CdPage) page = page_from_pix(pixRotateOrth(cd_page_get_pix(level), quads), 300);
    run(orient, page);
    g_assert_cmpint(cd_page_get_rotation(page), ==, 360 - quads * 90);
  }
  for (guint i = 0; i < G_N_ELEMENTS(funsd_fooling); i++) {
    g_autoptr(CdPage) form = funsd_page(funsd_fooling[i]);
    if (form == NULL)
      return;
    for (gint quads = 1; quads < 4; quads += 2) {
      g_autoptr(CdPage) page = untagged_page(pixRotateOrth(cd_page_get_pix(form), quads));
      g_autofree gchar *method = NULL;
      run(orient, page);
      method = fact_string(page, "orient.method");
      g_test_message("%s turned %d: rotation %d (%s)", funsd_fooling[i], quads * 90, cd_page_get_rotation(page),
                     method);
      g_assert_cmpint(cd_page_get_rotation(page), ==, 360 - quads * 90);
    }
  }
}

/* Upright pages are never turned over: every FUNSD test form (real 1980s
 * and 1990s office scans at about 100 dpi, without a resolution tag) and
 * the generated samples' upright pages stay as they are. */
static void
test_orient_upright_forms(void)
{
  g_autoptr(CdPageStage) orient = make_stage("orient", NULL);
  const struct {
    const gchar *name;
    gint index;
  } samples[] = { { "01-discharge-progress.tif", 0 }, { "03-history-physical-faded.tif", 0 },
                  { "04-radiology-colour.tif", 0 },   { "05-lab-fax-200dpi.tif", 0 },
                  { "07-emergency-consent.tif", 0 },  { "07-emergency-consent.tif", 1 } };
  g_autofree gchar *folder = NULL;
  g_autoptr(GDir) dir = NULL;
  const gchar *name;
  guint forms = 0;

  for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
    g_autoptr(CdPage) page = sample_page(samples[i].name, samples[i].index);
    run(orient, page);
    g_assert_cmpint(cd_page_get_rotation(page), ==, 0);
  }
  folder = shared_path("funsd/testing_data/images");
  if (folder == NULL)
    return;
  dir = g_dir_open(folder, 0, NULL);
  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *path = g_build_filename(folder, name, NULL);
    g_autoptr(CdPage) page = NULL;
    if (!g_str_has_suffix(name, ".png"))
      continue;
    page = file_page(path);
    run(orient, page);
    if (cd_page_get_rotation(page) != 0)
      g_test_message("%s turned %d", name, cd_page_get_rotation(page));
    g_assert_cmpint(cd_page_get_rotation(page), ==, 0);
    forms++;
  }
  g_assert_cmpuint(forms, ==, 50);
}

/* Without OSD data the stage refuses to start, naming the package. */
static void
test_orient_missing_osd(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "orient", &error);
  g_autoptr(CdStage) stage = g_object_new(type, "datapath", "/nonexistent", NULL);

  g_assert_false(cd_stage_start(stage, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "tesseract-ocr-osd"));
}

/* ---------------------------------------------------------------- binarize */

/* Faded toner on grey paper becomes bilevel and is read as well as ever. */
static void
test_binarize_faded(void)
{
  g_autoptr(CdPage) page = bilevel_sample_page("03-history-physical-faded.tif", 1);

  g_assert_cmpint(fact_int(page, "binarize.from-depth"), ==, 8);
  g_assert_cmpfloat(ocr_recall(page, "03-history-physical-faded.tif", 1), >=, 0.97);
}

/* A yellowed colour page becomes bilevel: no yellow background is left
 * as ink (the page is mostly white). */
static void
test_binarize_colour(void)
{
  g_autoptr(CdPage) page = bilevel_sample_page("04-radiology-colour.tif", 0);
  l_float32 fract = 1.0f;

  g_assert_cmpint(fact_int(page, "binarize.from-depth"), ==, 32);
  pixForegroundFraction(cd_page_get_pix(page), &fract);
  g_assert_cmpfloat(fract, <, 0.12);
}

/* With min-dpi, a 200 dpi fax page is resampled to 300 dpi; by default it
 * is left as it is. */
static void
test_binarize_fax(void)
{
  g_autoptr(CdPageStage) binarize = make_stage("binarize", "min-dpi", 300, NULL);
  g_autoptr(CdPageStage) plain = make_stage("binarize", NULL);
  g_autoptr(CdPage) page = sample_page("05-lab-fax-200dpi.tif", 0);
  g_autoptr(CdPage) as_is = sample_page("05-lab-fax-200dpi.tif", 0);
  gint xres = 0, yres = 0;

  run(plain, as_is);
  g_assert_cmpint(pixGetWidth(cd_page_get_pix(as_is)), ==, 1700);
  run(binarize, page);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(page)), ==, 1);

  cd_page_get_resolution(page, &xres, &yres);
  g_assert_cmpint(xres, ==, 300);
  g_assert_cmpint(fact_int(page, "binarize.resampled-from"), ==, 200);
  g_assert_cmpint(pixGetWidth(cd_page_get_pix(page)), ==, 2550);
}

/* An unknown method is refused before any page. */
static void
test_binarize_bad_method(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "binarize", &error);
  g_autoptr(CdStage) stage = g_object_new(type, "method", "magic", NULL);

  g_assert_false(cd_stage_start(stage, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
}

/* ------------------------------------------------------------------- clean */

static void
add_disc(PIX *pix, gint cx, gint cy, gint r)
{
  for (gint y = -r; y <= r; y++)
    for (gint x = -r; x <= r; x++)
      if (x * x + y * y <= r * r)
        pixSetPixel(pix, cx + x, cy + y, 1);
}

/* Specks away from text go; full stops, commas, colons, i dots and an
 * apostrophe beside the letters all stay, pixel for pixel. */
static void
test_clean_specks_not_punctuation(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  L_BMF *font = bmfCreate(NULL, 20);
  PIX *text = pixCreate(1300, 400, 1);
  g_autoptr(PIX) original = NULL;
  g_autoptr(CdPage) page = NULL;
  g_autoptr(PIX) diff = NULL;
  l_int32 width = 0, overflow = 0, same = 0, left = 0;
  const gint specks[][3] = { { 60, 30, 2 }, { 400, 200, 3 }, { 900, 230, 4 }, { 1250, 370, 1 }, { 700, 370, 3 } };

  g_assert_nonnull(font);
  pixSetTextline(text, font, "Dr. Smith: 12.5 mg, b.i.d.; O'Brien", 1, 40, 120, &width, &overflow);
  bmfDestroy(&font);
  /* smaller print, where a comma is as small as a speck */
  font = bmfCreate(NULL, 8);
  pixSetTextline(text, font, "Jones, William A.; left, right: 4.7 mg/dl, 1947-05-12", 1, 40, 300, &width, &overflow);
  bmfDestroy(&font);
  original = pixCopy(NULL, text);
  for (guint i = 0; i < G_N_ELEMENTS(specks); i++)
    add_disc(text, specks[i][0], specks[i][1], specks[i][2]);
  page = page_from_pix(text, 300);

  run(clean, page);
  g_assert_cmpint(fact_int(page, "clean.specks"), ==, G_N_ELEMENTS(specks));
  pixEqual(cd_page_get_pix(page), original, &same);
  diff = pixXor(NULL, cd_page_get_pix(page), original);
  pixCountPixels(diff, &left, NULL);
  g_assert_cmpint(left, ==, 0);
  g_assert_true(same);
}

/* The punched-hole shadows of the faded sample are removed, and nothing
 * dark is left where they were. */
static void
test_clean_holes(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  g_autoptr(CdPage) page = bilevel_sample_page("03-history-physical-faded.tif", 0);
  g_autoptr(BOX) strip = boxCreate(0, 0, 150, 3300);
  g_autoptr(PIX) left = NULL;
  l_int32 ink = 0;

  run(clean, page);
  g_assert_cmpint(fact_int(page, "clean.holes"), ==, 3);
  left = pixClipRectangle(cd_page_get_pix(page), strip, NULL);
  pixCountPixels(left, &ink, NULL);
  g_assert_cmpint(ink, <, 200);
}

/* The dark border of the colour sample is removed, the text is not. */
static void
test_clean_border(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  g_autoptr(CdPage) page = bilevel_sample_page("04-radiology-colour.tif", 0);
  g_autoptr(BOX) strip = boxCreate(0, 0, 40, 3300);
  g_autoptr(PIX) left = NULL;
  l_int32 ink = 0;

  run(clean, page);
  g_assert_cmpint(fact_int(page, "clean.borders"), >=, 1);
  left = pixClipRectangle(cd_page_get_pix(page), strip, NULL);
  pixCountPixels(left, &ink, NULL);
  g_assert_cmpint(ink, ==, 0);
  g_assert_cmpfloat(ocr_recall(page, "04-radiology-colour.tif", 0), >=, 0.97);
}

/* On a grey page the noise is painted white and the page stays grey. */
static void
test_clean_grey(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  g_autoptr(CdPage) page = sample_page("03-history-physical-faded.tif", 0);

  run(clean, page);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(page)), ==, 8);
  g_assert_cmpint(fact_int(page, "clean.holes"), ==, 3);
}

/* Draws the rules of a table over @pix: a rule under every text line,
 * touching the letters' feet, and a frame whose left side is the page's
 * left edge, so the grid and every letter standing on it are one mark
 * that touches the edge, as a table scanned to the paper's edge is. */
static void
draw_table(PIX *pix)
{
  g_autoptr(NUMA) rows = pixCountPixelsByRow(pix, NULL);
  gint w = pixGetWidth(pix), h = pixGetHeight(pix), top = -1, bottom = -1, run_start = -1;

  for (gint y = 0; y < h; y++) {
    l_float32 v = 0.0f;
    numaGetFValue(rows, y, &v);
    if (v > 0 && run_start < 0)
      run_start = y;
    if ((v == 0 || y == h - 1) && run_start >= 0) {
      if (y - run_start >= 12) { /* a text line, not a speck */
        pixRasterop(pix, 0, y, w - 60, 4, PIX_SET, NULL, 0, 0);
        if (top < 0)
          top = run_start - 10;
        bottom = y + 4;
      }
      run_start = -1;
    }
  }
  g_assert_cmpint(top, >=, 0);
  pixRasterop(pix, 0, top, 4, bottom - top, PIX_SET, NULL, 0, 0);
  pixRasterop(pix, w - 64, top, 4, bottom - top, PIX_SET, NULL, 0, 0);
  pixRasterop(pix, 0, top, w - 60, 4, PIX_SET, NULL, 0, 0);
}

/* A table ruled to the page's edge keeps its text through cleanup: its
 * grid is not taken for a dark border, and the page reads as well after
 * the stage as before it. */
static void
test_clean_table(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  g_autoptr(CdPage) page = bilevel_sample_page("07-emergency-consent.tif", 1);
  g_autoptr(CdPage) before = NULL;
  g_autoptr(PIX) ruled = pixCopy(NULL, cd_page_get_pix(page));
  gdouble recall_before, recall_after;

  draw_table(ruled);
  before = page_from_pix(pixCopy(NULL, ruled), 300);
  cd_page_set_pix(page, g_steal_pointer(&ruled));
  recall_before = ocr_recall(before, "07-emergency-consent.tif", 1);
  run(clean, page);
  recall_after = ocr_recall(page, "07-emergency-consent.tif", 1);
  g_test_message("word recall before cleanup %.3f, after %.3f", recall_before, recall_after);
  g_assert_cmpint(fact_int(page, "clean.borders"), ==, 0);
  g_assert_cmpint(fact_int(page, "clean.ruled"), >=, 1);
  g_assert_cmpfloat(recall_before, >=, 0.8);
  g_assert_cmpfloat(recall_after, >=, recall_before - 0.01);
}

/* A cleanup that makes a page read worse is undone for that page: with
 * specks set as large as letters, the stage would wipe the text, and the
 * check (a band read before and after) leaves the page as it was. Without
 * the check the same stage does the harm, so it is the check that helps. */
static void
test_clean_undo(void)
{
  g_autoptr(CdPageStage) checked = make_stage("clean", "speck-size", 0.25, NULL);
  g_autoptr(CdPageStage) unchecked = make_stage("clean", "speck-size", 0.25, "check", FALSE, NULL);
  g_autoptr(CdPage) page = bilevel_sample_page("01-discharge-progress.tif", 0);
  g_autoptr(CdPage) harmed = bilevel_sample_page("01-discharge-progress.tif", 0);
  g_autoptr(PIX) original = pixCopy(NULL, cd_page_get_pix(page));
  g_autoptr(GVariant) undone = NULL;
  l_int32 same = 0;

  run(checked, page);
  undone = cd_page_get_fact(page, "clean.undone");
  g_assert_nonnull(undone);
  g_assert_true(g_variant_get_boolean(undone));
  g_assert_cmpfloat(fact_double(page, "clean.read-after"), <, fact_double(page, "clean.read-before"));
  pixEqual(cd_page_get_pix(page), original, &same);
  g_assert_true(same);
  g_assert_cmpfloat(ocr_recall(page, "01-discharge-progress.tif", 0), >=, 0.95);

  run(unchecked, harmed);
  g_assert_cmpfloat(ocr_recall(harmed, "01-discharge-progress.tif", 0), <, 0.8);
}

/* The check reads only risky pages: a page of known resolution with a few
 * specks is not read, the same speckled page without a resolution (its
 * sizes then uncertain) is, so the cost stays on the pages that need it. */
static void
test_clean_check_only_risky(void)
{
  g_autoptr(CdPageStage) clean = make_stage("clean", NULL);
  g_autoptr(CdPage) page = bilevel_sample_page("01-discharge-progress.tif", 0);
  g_autoptr(CdPage) risky = NULL;
  g_autoptr(GVariant) read = NULL;

  risky = untagged_page(pixCopy(NULL, cd_page_get_pix(page)));
  run(clean, page);
  g_assert_cmpint(fact_int(page, "clean.specks"), >, 0);
  read = cd_page_get_fact(page, "clean.read-before");
  g_assert_null(read);
  run(clean, risky);
  g_assert_cmpint(fact_int(risky, "clean.specks"), >, 0);
  g_assert_cmpfloat(fact_double(risky, "clean.read-before"), >, 0.0);
}

/* ------------------------------------------------------------- resolution */

/* A page saved without a resolution tag gets its resolution estimated from
 * its letters' height, within 20%, recorded on the page, and the stages
 * judge sizes by it: a 300 dpi page, and the same page at 150 dpi. */
static void
test_resolution_untagged(void)
{
  g_autoptr(CdPageStage) binarize = make_stage("binarize", NULL);
  g_autoptr(CdPage) sample = sample_page("01-discharge-progress.tif", 0);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp("cd-cleanup-dpi-XXXXXX", &error);
  const gint dpis[] = { 300, 150 };

  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(dpis); i++) {
    g_autofree gchar *path = g_strdup_printf("%s/page-%d.png", dir, dpis[i]);
    g_autoptr(PIX) pix = dpis[i] == 300 ? pixClone(cd_page_get_pix(sample)) : pixScaleToGray2(cd_page_get_pix(sample));
    g_autoptr(CdPage) page = NULL;
    g_autoptr(GVariant) assumed = NULL;
    gint xres = 0, yres = 0;

    /* pixSetResolution() leaves a 0 unset */
    pixSetXRes(pix, 0);
    pixSetYRes(pix, 0);
    g_assert_cmpint(pixWrite(path, pix, IFF_PNG), ==, 0);
    page = file_page(path);
    cd_page_get_resolution(page, &xres, &yres);
    g_test_message("%s: read at %d x %d dpi", path, xres, yres);
    assumed = cd_page_get_fact(page, "files.resolution-assumed");
    g_assert_nonnull(assumed); /* the file really has no tag */
    run(binarize, page);
    cd_page_get_resolution(page, &xres, &yres);
    g_test_message("%d dpi page saved untagged: estimated %d", dpis[i], xres);
    g_assert_cmpint(xres, >=, dpis[i] * 0.8);
    g_assert_cmpint(xres, <=, dpis[i] * 1.2);
    g_assert_cmpint(yres, ==, xres);
    g_assert_cmpint(fact_int(page, "resolution.estimated"), ==, xres);
    g_unlink(path);
  }
  g_rmdir(dir);
}

/* A resolution tag that cannot be true (72 dpi on a 2550 x 3300 scan: a
 * page 46 inches tall) is replaced by the estimate too; a believable one
 * is kept. */
static void
test_resolution_implausible(void)
{
  g_autoptr(CdPageStage) binarize = make_stage("binarize", NULL);
  g_autoptr(CdPage) page = sample_page("03-history-physical-faded.tif", 0);
  g_autoptr(CdPage) kept = sample_page("05-lab-fax-200dpi.tif", 0);
  gint xres = 0, yres = 0;

  cd_page_set_resolution(page, 72, 72);
  run(binarize, page);
  cd_page_get_resolution(page, &xres, &yres);
  g_assert_cmpint(xres, >=, 240);
  g_assert_cmpint(xres, <=, 360);
  run(binarize, kept);
  cd_page_get_resolution(kept, &xres, &yres);
  g_assert_cmpint(xres, ==, 200);
  g_assert_null(cd_page_get_fact(kept, "resolution.estimated"));
}

/* ------------------------------------------------------------------- blank */

static CdPage *
blank_back(void)
{
  return sample_page("01-discharge-progress.tif", 1);
}

/* The speckled duplex back of the samples is blank, with the reason. */
static void
test_blank_duplex_back(void)
{
  g_autoptr(CdPageStage) blank = make_stage("blank", NULL);
  g_autoptr(CdPage) page = blank_back();

  run(blank, page);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_BLANK);
  g_assert_true(g_str_has_prefix(cd_page_get_reason(page), "blank: "));
}

/* More specks, a dust blot, punched holes and a border shadow do not make
 * a page: still blank. */
static void
test_blank_with_noise(void)
{
  g_autoptr(CdPageStage) blank = make_stage("blank", NULL);
  g_autoptr(CdPage) page = blank_back();
  PIX *pix = cd_page_get_pix(page);
  GRand *rand = g_rand_new_with_seed(7);

  for (gint i = 0; i < 300; i++)
    add_disc(pix, g_rand_int_range(rand, 10, 2540), g_rand_int_range(rand, 10, 3290), g_rand_int_range(rand, 1, 5));
  g_rand_free(rand);
  add_disc(pix, 1200, 1600, 10);
  for (gint i = 0; i < 3; i++)
    add_disc(pix, 105, 660 + i * 990, 42);
  pixRasterop(pix, 0, 0, 40, 3300, PIX_SET, NULL, 0, 0);

  run(blank, page);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_BLANK);
}

/* A signature alone is not blank. */
static void
test_blank_signature(void)
{
  g_autoptr(CdPageStage) blank = make_stage("blank", NULL);
  g_autoptr(CdPage) page = blank_back();
  PTA *pta = ptaCreate(0);
  GRand *rand = g_rand_new_with_seed(3);

  for (gint i = 0; i < 30; i++)
    ptaAddPt(pta, 450 + i * 18, 2400 + g_rand_double_range(rand, -60, 60));
  g_rand_free(rand);
  pixRenderPolyline(cd_page_get_pix(page), pta, 4, L_SET_PIXELS, 0);
  ptaDestroy(&pta);

  run(blank, page);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
  g_assert_cmpint(fact_int(page, "blank.marks"), >=, 1);
}

/* One short line of small writing ("Seen, JD") is not blank. */
static void
test_blank_short_line(void)
{
  g_autoptr(CdPageStage) blank = make_stage("blank", NULL);
  g_autoptr(CdPage) page = blank_back();
  L_BMF *font = bmfCreate(NULL, 10);
  l_int32 width = 0, overflow = 0;

  pixSetTextline(cd_page_get_pix(page), font, "Seen, JD", 1, 1000, 1500, &width, &overflow);
  bmfDestroy(&font);

  run(blank, page);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
}

/* No page of the samples with content is taken for blank, whatever its
 * depth (bilevel, grey, colour, 200 dpi, turned). */
static void
test_blank_content_pages(void)
{
  g_autoptr(CdPageStage) blank = make_stage("blank", NULL);
  const struct {
    const gchar *name;
    gint index;
  } pages[] = { { "01-discharge-progress.tif", 0 }, { "02-cover-operative.tif", 0 },
                { "02-cover-operative.tif", 1 },    { "03-history-physical-faded.tif", 1 },
                { "04-radiology-colour.tif", 0 },   { "05-lab-fax-200dpi.tif", 0 },
                { "06-nursing-sideways.png", 0 },   { "07-emergency-consent.tif", 1 } };

  for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
    g_autoptr(CdPage) page = sample_page(pages[i].name, pages[i].index);
    run(blank, page);
    g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
  }
}

/* ------------------------------------------------------------ end to end */

/* chart-intake runs the cleanup stages by default: the export shows the
 * blank back as a blank record with its reason, the upside-down page
 * turned 180 and read, skew and confidence on every page. */
static void
test_chart_intake_export(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp("cd-cleanup-XXXXXX", &error);
  g_autofree gchar *archive = g_build_filename(dir, "a.archive", NULL);
  g_autofree gchar *chartdesk = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *in1 = sample_path("01-discharge-progress.tif");
  g_autofree gchar *in2 = sample_path("02-cover-operative.tif");
  g_autofree gchar *out = NULL;
  g_auto(GStrv) lines = NULL;
  gint status = -1;
  gboolean saw_blank = FALSE, saw_turned = FALSE;
  guint pages = 0;

  g_assert_no_error(error);
  {
    const gchar *argv[] = { chartdesk, "ingest", "--quiet", archive, in1, in2, NULL };
    g_assert_true(
        g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
  }
  {
    const gchar *argv[] = { chartdesk, "export", "--json", archive, NULL };
    g_assert_true(
        g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
  }
  lines = g_strsplit(out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = json_from_string(lines[i], NULL);
    JsonObject *o = node != NULL ? json_node_get_object(node) : NULL;
    JsonArray *list;
    if (o == NULL)
      continue;
    if (json_object_has_member(o, "kind") && g_strcmp0(json_object_get_string_member(o, "kind"), "blank") == 0) {
      JsonObject *src = json_object_get_object_member(o, "source");
      g_assert_true(g_str_has_suffix(json_object_get_string_member(src, "path"), "01-discharge-progress.tif"));
      g_assert_cmpint(json_object_get_int_member(src, "page"), ==, 1);
      g_assert_true(g_str_has_prefix(json_object_get_string_member(o, "reason"), "blank: "));
      g_assert_true(json_object_get_null_member(o, "confidence"));
      saw_blank = TRUE;
      continue;
    }
    if (!json_object_has_member(o, "pages"))
      continue;
    list = json_object_get_array_member(o, "pages");
    for (guint j = 0; j < json_array_get_length(list); j++) {
      JsonObject *p = json_array_get_object_element(list, j);
      JsonObject *src = json_object_get_object_member(p, "source");
      JsonObject *facts = json_object_get_object_member(p, "facts");
      pages++;
      g_assert_false(json_object_get_null_member(p, "confidence"));
      g_assert_cmpfloat(json_object_get_double_member(p, "confidence"), >, 50.0);
      g_assert_true(json_object_has_member(p, "skew"));
      g_assert_true(json_object_has_member(facts, "orient.method"));
      g_assert_true(json_object_has_member(facts, "deskew.measured"));
      g_assert_cmpstr(json_object_get_object_member(p, "image") != NULL
                          ? json_object_get_string_member(json_object_get_object_member(p, "image"), "format")
                          : NULL,
                      ==, "tiff-g4");
      if (g_str_has_suffix(json_object_get_string_member(src, "path"), "02-cover-operative.tif") &&
          json_object_get_int_member(src, "page") == 1) {
        g_assert_cmpint(json_object_get_int_member(p, "rotation"), ==, 180);
        g_assert_nonnull(strstr(json_object_get_string_member(p, "text"), "cholecystectomy"));
        saw_turned = TRUE;
      }
    }
  }
  g_assert_true(saw_blank);
  g_assert_true(saw_turned);
  g_assert_cmpuint(pages, ==, 4); /* 6 pages: one blank back, one cover sheet */
  g_unlink(archive);
  {
    g_autofree gchar *wal = g_strconcat(archive, "-wal", NULL);
    g_autofree gchar *shm = g_strconcat(archive, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
  }
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_test_add_func("/chartdesk/cleanup/deskew/four-degrees", test_deskew_four_degrees);
  g_test_add_func("/chartdesk/cleanup/deskew/ten-degrees", test_deskew_ten_degrees);
  g_test_add_func("/chartdesk/cleanup/deskew/samples", test_deskew_samples);
  g_test_add_func("/chartdesk/cleanup/deskew/no-lines", test_deskew_no_lines);
  g_test_add_func("/chartdesk/cleanup/orient/upside-down", test_orient_upside_down);
  g_test_add_func("/chartdesk/cleanup/orient/sideways", test_orient_sideways);
  g_test_add_func("/chartdesk/cleanup/orient/upright-is-cheap", test_orient_upright_is_cheap);
  g_test_add_func("/chartdesk/cleanup/orient/without-osd", test_orient_without_osd);
  g_test_add_func("/chartdesk/cleanup/orient/unsure", test_orient_unsure);
  g_test_add_func("/chartdesk/cleanup/orient/missing-osd", test_orient_missing_osd);
  g_test_add_func("/chartdesk/cleanup/orient/landscape-portrait", test_orient_landscape_portrait);
  g_test_add_func("/chartdesk/cleanup/orient/upright-forms", test_orient_upright_forms);
  g_test_add_func("/chartdesk/cleanup/binarize/faded", test_binarize_faded);
  g_test_add_func("/chartdesk/cleanup/binarize/colour", test_binarize_colour);
  g_test_add_func("/chartdesk/cleanup/binarize/fax", test_binarize_fax);
  g_test_add_func("/chartdesk/cleanup/binarize/bad-method", test_binarize_bad_method);
  g_test_add_func("/chartdesk/cleanup/clean/specks-not-punctuation", test_clean_specks_not_punctuation);
  g_test_add_func("/chartdesk/cleanup/clean/holes", test_clean_holes);
  g_test_add_func("/chartdesk/cleanup/clean/border", test_clean_border);
  g_test_add_func("/chartdesk/cleanup/clean/grey", test_clean_grey);
  g_test_add_func("/chartdesk/cleanup/clean/table", test_clean_table);
  g_test_add_func("/chartdesk/cleanup/clean/undo", test_clean_undo);
  g_test_add_func("/chartdesk/cleanup/clean/check-only-risky", test_clean_check_only_risky);
  g_test_add_func("/chartdesk/cleanup/resolution/untagged", test_resolution_untagged);
  g_test_add_func("/chartdesk/cleanup/resolution/implausible", test_resolution_implausible);
  g_test_add_func("/chartdesk/cleanup/blank/duplex-back", test_blank_duplex_back);
  g_test_add_func("/chartdesk/cleanup/blank/with-noise", test_blank_with_noise);
  g_test_add_func("/chartdesk/cleanup/blank/signature", test_blank_signature);
  g_test_add_func("/chartdesk/cleanup/blank/short-line", test_blank_short_line);
  g_test_add_func("/chartdesk/cleanup/blank/content-pages", test_blank_content_pages);
  g_test_add_func("/chartdesk/cleanup/chart-intake/export", test_chart_intake_export);
  return g_test_run();
}
