/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The sane source against SANE's own virtual scanner, the `test` backend of
 * sane-backends, configured by tests/sane.d (SANE_CONFIG_DIR, set in meson):
 * real SANE calls, real frames, real feeder ends and device errors.
 */
#include "cd-engine.h"
#include "cd-test-util.h"
#include <glib/gstdio.h>
#include <string.h>

static CdRegistry *registry;

/* The test scanner keeps its options from one session to the next in a
 * process: every source here starts from the same picture and no forced
 * error, then adds the test's own device options. */
static CdSource *
make_source(const gchar *const *device_options, const gchar *first_property, ...)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "sane", &error);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  g_auto(GStrv) options = NULL;
  CdSource *source;
  va_list args;

  g_assert_no_error(error);
  g_strv_builder_add_many(builder, "read-return-value=Default", "test-picture=Solid black", "hand-scanner=no",
                          "read-delay=no", NULL);
  if (device_options != NULL)
    g_strv_builder_addv(builder, (const gchar **) device_options);
  options = g_strv_builder_end(builder);
  va_start(args, first_property);
  source = CD_SOURCE(g_object_new_valist(type, first_property, args));
  va_end(args);
  g_object_set(source, "device-options", options, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(source), &error));
  g_assert_no_error(error);
  return source;
}

/* Every page of a session: pages and failed records, in order. */
static GPtrArray *
scan_all(CdSource *source, const gchar *const *inputs, GError **error)
{
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func(g_object_unref);
  CdPage *page;

  if (!cd_source_open(source, inputs, error))
    return NULL;
  while ((page = cd_source_next(source, NULL, error)) != NULL) {
    g_ptr_array_add(pages, page);
    g_assert_cmpuint(pages->len, <, 100);
  }
  if (error != NULL && *error != NULL)
    return NULL;
  return g_steal_pointer(&pages);
}

static const gchar *const test0[] = { "test:0", NULL };

/* The device list finds both virtual scanners with vendor, model and type. */
static void
test_sane_devices(void)
{
  g_autoptr(CdSource) source = make_source(NULL, NULL, NULL);
  g_auto(GStrv) devices = NULL;

  g_object_get(source, "devices", &devices, NULL);
  g_assert_nonnull(devices);
  g_assert_cmpuint(g_strv_length(devices), ==, 2);
  g_assert_cmpstr(devices[0], ==, "test:0\tNoname\tfrontend-tester\tvirtual device");
  g_assert_true(g_str_has_prefix(devices[1], "test:1\t"));
}

/* One flatbed page in grey at 150 dpi: 8 bits, the scan area's size in
 * pixels, the resolution stamped, the solid black test picture, and no
 * second page from the glass. */
static void
test_sane_flatbed_gray(void)
{
  g_autoptr(CdSource) source =
      make_source(NULL, "source", "flatbed", "resolution", 150, "page-size", "80x100", "mode", 1 /* gray */, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pages = scan_all(source, test0, &error);
  CdPage *page;
  PIX *pix;
  gint xres = 0, yres = 0;
  l_float32 mean = 255;
  g_autoptr(GVariant) device = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(pages->len, ==, 1);
  page = g_ptr_array_index(pages, 0);
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
  pix = cd_page_get_pix(page);
  g_assert_nonnull(pix);
  g_assert_cmpint(pixGetDepth(pix), ==, 8);
  /* 80 × 100 mm at 150 dpi */
  g_assert_cmpint(ABS(pixGetWidth(pix) - 472), <=, 1);
  g_assert_cmpint(ABS(pixGetHeight(pix) - 591), <=, 1);
  cd_page_get_resolution(page, &xres, &yres);
  g_assert_cmpint(xres, ==, 150);
  g_assert_cmpint(yres, ==, 150);
  pixGetAverageMasked(pix, NULL, 0, 0, 1, L_MEAN_ABSVAL, &mean);
  g_assert_cmpfloat(mean, <, 1.0);
  g_assert_true(g_str_has_prefix(cd_page_get_source_path(page), "sane:test:0/"));
  g_assert_cmpint(cd_page_get_source_page(page), ==, 0);
  g_assert_cmpuint(strlen(cd_page_get_source_sha256(page)), ==, 64);
  device = cd_page_get_fact(page, "sane.device");
  g_assert_cmpstr(g_variant_get_string(device, NULL), ==, "test:0");
}

/* Lineart on a device that has no lineart mode (the test scanner offers
 * grey at one bit): a 1 bpp page where SANE's black is Leptonica's black. */
static void
test_sane_lineart(void)
{
  const gchar *const black[] = { "test-picture=Solid black", NULL };
  const gchar *const white[] = { "test-picture=Solid white", NULL };
  g_autoptr(CdSource) a =
      make_source(black, "source", "flatbed", "resolution", 100, "page-size", "50x60", "mode", 0, NULL);
  g_autoptr(CdSource) b =
      make_source(white, "source", "flatbed", "resolution", 100, "page-size", "50x60", "mode", 0, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dark = scan_all(a, test0, &error);
  g_autoptr(GPtrArray) light = NULL;
  PIX *pix;
  l_int32 count = -1;

  g_assert_no_error(error);
  g_assert_cmpuint(dark->len, ==, 1);
  pix = cd_page_get_pix(g_ptr_array_index(dark, 0));
  g_assert_cmpint(pixGetDepth(pix), ==, 1);
  pixCountPixels(pix, &count, NULL);
  g_assert_cmpint(count, ==, pixGetWidth(pix) * pixGetHeight(pix));

  light = scan_all(b, test0, &error);
  g_assert_no_error(error);
  pix = cd_page_get_pix(g_ptr_array_index(light, 0));
  g_assert_cmpint(pixGetDepth(pix), ==, 1);
  pixCountPixels(pix, &count, NULL);
  g_assert_cmpint(count, ==, 0);
}

/* Colour is 32 bpp; the colour pattern comes out the same from a one-pass
 * scan (interleaved RGB) and a three-pass scan (red, green, blue frames). */
static void
test_sane_color(void)
{
  const gchar *const one[] = { "test-picture=Color pattern", NULL };
  const gchar *const three[] = { "test-picture=Color pattern", "three-pass=yes", NULL };
  g_autoptr(CdSource) a =
      make_source(one, "source", "flatbed", "resolution", 75, "page-size", "60x40", "mode", 2, NULL);
  g_autoptr(CdSource) b =
      make_source(three, "source", "flatbed", "resolution", 75, "page-size", "60x40", "mode", 2, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) p1 = scan_all(a, test0, &error);
  g_autoptr(GPtrArray) p3 = NULL;
  PIX *pix1, *pix3;
  l_int32 same = 0, ncolors = 0;

  g_assert_no_error(error);
  p3 = scan_all(b, test0, &error);
  g_assert_no_error(error);
  pix1 = cd_page_get_pix(g_ptr_array_index(p1, 0));
  pix3 = cd_page_get_pix(g_ptr_array_index(p3, 0));
  g_assert_cmpint(pixGetDepth(pix1), ==, 32);
  g_assert_cmpint(pixGetDepth(pix3), ==, 32);
  pixNumColors(pix1, 1, &ncolors);
  g_assert_cmpint(ncolors, >, 4);
  pixEqual(pix1, pix3, &same);
  g_assert_true(same);
}

/* A PIX from binary PGM or PPM (P5, P6), 16-bit samples cut to their most
 * significant byte (PNM stores them big-endian). Read here, not by
 * Leptonica, whose 16-bit PNM reading is not what is under test. */
static PIX *
pix_from_pnm(const guint8 *data, gsize len)
{
  guint values[3] = { 0 };
  gboolean color;
  gsize pos = 2, bytes;
  PIX *pix;

  g_assert_cmpuint(len, >, 2);
  g_assert_true(data[0] == 'P' && (data[1] == '5' || data[1] == '6'));
  color = data[1] == '6';
  for (guint i = 0; i < 3; i++) {
    while (pos < len && (g_ascii_isspace(data[pos]) || data[pos] == '#')) {
      if (data[pos] == '#')
        while (pos < len && data[pos] != '\n')
          pos++;
      else
        pos++;
    }
    while (pos < len && g_ascii_isdigit(data[pos]))
      values[i] = values[i] * 10 + (data[pos++] - '0');
  }
  pos++; /* the one white space before the samples */
  bytes = values[2] > 255 ? 2 : 1;
  g_assert_cmpuint(len - pos, >=, (gsize) values[0] * values[1] * (color ? 3 : 1) * bytes);
  pix = pixCreate(values[0], values[1], color ? 32 : 8);
  for (guint y = 0; y < values[1]; y++) {
    for (guint x = 0; x < values[0]; x++) {
      const guint8 *px = data + pos + ((gsize) y * values[0] + x) * (color ? 3 : 1) * bytes;
      if (color)
        pixSetRGBPixel(pix, x, y, px[0], px[bytes], px[2 * bytes]);
      else
        pixSetPixel(pix, x, y, px[0]);
    }
  }
  return pix;
}

/* The page SANE's own frontend, scanimage, makes of the same scan, or NULL
 * when scanimage is not installed. */
static PIX *
scanimage_reference(const gchar *mode, const gchar *depth)
{
  g_autofree gchar *scanimage = g_find_program_in_path("scanimage");
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;

  if (scanimage == NULL)
    return NULL;
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, scanimage, "-d",
                          "test:0", "--mode", mode, "--depth", depth, "--test-picture", "Color pattern", "--resolution",
                          "75", "-l", "0", "-t", "0", "-x", "60", "-y", "40", "--format=pnm", NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate(proc, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  return pix_from_pnm(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
}

/* Grey and colour at 8 and 16 bits per sample come out as the page
 * scanimage makes of the same scan: sample order, channel order and 16-bit
 * byte order are SANE's. */
static void
test_sane_like_scanimage(void)
{
  const gchar *const modes[] = { "Gray", "Color" };
  const gchar *const depths[] = { "8", "16" };

  for (guint m = 0; m < G_N_ELEMENTS(modes); m++) {
    for (guint d = 0; d < G_N_ELEMENTS(depths); d++) {
      g_autofree gchar *depth = g_strdup_printf("depth=%s", depths[d]);
      const gchar *const options[] = { "test-picture=Color pattern", depth, NULL };
      g_autoptr(CdSource) source = make_source(options, "source", "flatbed", "resolution", 75, "page-size", "60x40",
                                               "mode", m == 0 ? 1 : 2, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) pages = scan_all(source, test0, &error);
      PIX *ours, *theirs = scanimage_reference(modes[m], depths[d]);
      l_int32 same = 0;

      if (theirs == NULL) {
        g_test_skip("scanimage (sane-utils) is not installed");
        return;
      }
      g_assert_no_error(error);
      ours = cd_page_get_pix(g_ptr_array_index(pages, 0));
      g_assert_cmpint(pixGetDepth(ours), ==, m == 0 ? 8 : 32);
      pixEqual(ours, theirs, &same);
      g_assert_true(same);
      pixDestroy(&theirs);
    }
  }
}

/* The feeder runs to its end: the test scanner's holds 10 sheets, and all
 * come out as pages 0..9 of one session, then the end without an error. */
static void
test_sane_adf_to_the_end(void)
{
  g_autoptr(CdSource) source = make_source(NULL, "source", "adf", "resolution", 50, "page-size", "40x40", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pages = scan_all(source, test0, &error);
  const gchar *path, *sha;

  g_assert_no_error(error);
  g_assert_cmpuint(pages->len, ==, 10);
  path = cd_page_get_source_path(g_ptr_array_index(pages, 0));
  sha = cd_page_get_source_sha256(g_ptr_array_index(pages, 0));
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
    g_assert_cmpint(cd_page_get_source_page(page), ==, (gint) i);
    g_assert_cmpstr(cd_page_get_source_path(page), ==, path);
    g_assert_cmpstr(cd_page_get_source_sha256(page), ==, sha);
  }
}

/* max-pages stops a session early; a second session of the same paper is a
 * new input (another identity), never a duplicate of the first. */
static void
test_sane_max_pages_and_sessions(void)
{
  g_autoptr(CdSource) source =
      make_source(NULL, "source", "adf", "resolution", 50, "page-size", "40x40", "max-pages", 3, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) first = scan_all(source, test0, &error);
  g_autoptr(GPtrArray) second = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(first->len, ==, 3);
  second = scan_all(source, test0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(second->len, ==, 3);
  g_assert_cmpstr(cd_page_get_source_sha256(g_ptr_array_index(first, 0)), !=,
                  cd_page_get_source_sha256(g_ptr_array_index(second, 0)));
}

/* An empty feeder before the first page is an error naming the device. */
static void
test_sane_adf_empty_at_start(void)
{
  const gchar *const empty[] = { "read-return-value=SANE_STATUS_NO_DOCS", NULL };
  g_autoptr(CdSource) source = make_source(empty, "source", "adf", "resolution", 50, "page-size", "40x40", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pages = scan_all(source, test0, &error);

  g_assert_null(pages);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "no documents in the feeder of scanner test:0"));
}

/* A jam, an open cover or an I/O error is a failed page naming the device
 * and the page, and ends the session without an error. */
static void
test_sane_device_errors(void)
{
  const struct {
    const gchar *status;
    const gchar *reason;
  } cases[] = {
    { "SANE_STATUS_JAMMED", "scanner test:0: paper jam in the document feeder;" },
    { "SANE_STATUS_COVER_OPEN", "scanner test:0: the scanner cover is open;" },
    { "SANE_STATUS_IO_ERROR", "scanner test:0: input/output error" },
    { "SANE_STATUS_DEVICE_BUSY", "scanner test:0: the scanner is busy;" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *opt = g_strdup_printf("read-return-value=%s", cases[i].status);
    const gchar *const options[] = { opt, NULL };
    g_autoptr(CdSource) source = make_source(options, "source", "adf", "resolution", 50, "page-size", "40x40", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) pages = scan_all(source, test0, &error);
    CdPage *page;

    g_assert_no_error(error);
    g_assert_cmpuint(pages->len, ==, 1);
    page = g_ptr_array_index(pages, 0);
    g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_FAILED);
    g_assert_cmpint(cd_page_get_source_page(page), ==, 0);
    g_assert_true(g_str_has_prefix(cd_page_get_reason(page), cases[i].reason));
    g_assert_null(cd_page_get_pix(page));
  }
}

static gpointer
cancel_thread(gpointer data)
{
  g_usleep(G_USEC_PER_SEC * 3 / 10);
  g_cancellable_cancel(data);
  return NULL;
}

/* Cancelling (Ctrl-C) stops a feeder mid-batch: with pages that take 0.2 s
 * each, a cancel after 0.3 s ends the session with the cancellation long
 * before the feeder's 10 pages. */
static void
test_sane_cancel(void)
{
  const gchar *const slow[] = { "read-delay=yes", "read-delay-duration=200000", NULL };
  g_autoptr(CdSource) source = make_source(slow, "source", "adf", "resolution", 50, "page-size", "40x40", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  GThread *thread;
  CdPage *page;
  guint n = 0;

  g_assert_true(cd_source_open(source, test0, &error));
  thread = g_thread_new("cancel", cancel_thread, cancellable);
  while ((page = cd_source_next(source, cancellable, &error)) != NULL) {
    g_object_unref(page);
    n++;
  }
  g_thread_join(thread);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint(n, <, 10);
}

/* The test scanner has no duplex feeder: asking for one says so, with the
 * sources it has; an unknown device and an unknown option are named. */
static void
test_sane_refusals(void)
{
  const gchar *const bad[] = { "no-such-option=1", NULL };
  const gchar *const missing[] = { "test:9", NULL };
  g_autoptr(CdSource) duplex = make_source(NULL, "source", "adf-duplex", NULL);
  g_autoptr(CdSource) plain = make_source(NULL, NULL, NULL);
  g_autoptr(CdSource) opts = make_source(bad, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pages = scan_all(duplex, test0, &error);

  g_assert_null(pages);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED);
  g_assert_nonnull(strstr(error->message,
                          "scanner test:0 has no duplex document feeder; its sources are: Flatbed, Automatic "
                          "Document Feeder"));
  g_clear_error(&error);

  pages = scan_all(plain, missing, &error);
  g_assert_null(pages);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "test:9"));
  g_clear_error(&error);

  pages = scan_all(opts, test0, &error);
  g_assert_null(pages);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "no option 'no-such-option'"));
}

/* A page size that is not one is refused when the stage starts. */
static void
test_sane_bad_page_size(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "sane", &error);
  g_autoptr(CdStage) stage = g_object_new(type, "page-size", "quarto", NULL);

  g_assert_false(cd_stage_start(stage, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_assert_nonnull(strstr(error->message, "'quarto'"));
}

/* The device option empty: the first device found; several devices given:
 * one session each, in order. A hand scanner (no height known up front)
 * still gives whole pages. */
static void
test_sane_default_and_several_devices(void)
{
  const gchar *const hand[] = { "hand-scanner=yes", NULL };
  const gchar *const both[] = { "default", "test:1", NULL };
  g_autoptr(CdSource) source = make_source(hand, "resolution", 50, "page-size", "40x40", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pages = scan_all(source, both, &error);
  g_autoptr(GVariant) d0 = NULL;
  g_autoptr(GVariant) d1 = NULL;

  g_assert_no_error(error);
  /* auto: the feeder of each device */
  g_assert_cmpuint(pages->len, ==, 20);
  d0 = cd_page_get_fact(g_ptr_array_index(pages, 0), "sane.device");
  d1 = cd_page_get_fact(g_ptr_array_index(pages, 10), "sane.device");
  g_assert_cmpstr(g_variant_get_string(d0, NULL), ==, "test:0");
  g_assert_cmpstr(g_variant_get_string(d1, NULL), ==, "test:1");
  g_assert_cmpint(cd_page_get_source_page(g_ptr_array_index(pages, 10)), ==, 0);
  /* a hand scanner is 11 cm wide (216 pixels at 50 dpi) and says its height
   * only at the end */
  g_assert_cmpint(ABS(pixGetWidth(cd_page_get_pix(g_ptr_array_index(pages, 0))) - 216), <=, 1);
  g_assert_cmpint(pixGetHeight(cd_page_get_pix(g_ptr_array_index(pages, 0))), >, 0);
}

static gchar *
tmpdir(void)
{
  g_autoptr(GError) error = NULL;
  gchar *dir = g_dir_make_tmp("cd-sane-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static void
rm_archive(const gchar *dir)
{
  const gchar *suffixes[] = { "", "-wal", "-shm", "-journal" };
  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree gchar *path = g_strdup_printf("%s/scan.archive%s", dir, suffixes[i]);
    g_unlink(path);
  }
  g_rmdir(dir);
}

static CdBatch *
run_workflow(CdArchive *archive, const gchar *device_options, guint max_pages)
{
  g_autofree gchar *data =
      g_strdup_printf("[workflow]\n"
                      "name=scan-test\n"
                      "source=sane\n"
                      "workers=1\n"
                      "[sane]\n"
                      "device=test:0\n"
                      "source=adf\n"
                      "resolution=50\n"
                      "page-size=40x40\n"
                      "max-pages=%u\n"
                      "device-options=read-return-value=Default;hand-scanner=no;read-delay=no;test-picture=Grid;%s\n",
                      max_pages, device_options);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) workflow = cd_workflow_new_from_data(registry, data, "test", &error);
  g_autoptr(CdPipeline) pipeline = NULL;
  const gchar *const inputs[] = { NULL };
  CdBatch *batch;

  g_assert_no_error(error);
  pipeline = cd_pipeline_new(workflow, archive);
  batch = cd_pipeline_run(pipeline, inputs, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(batch);
  g_assert_cmpstr(cd_batch_get_status(batch), ==, "finished");
  return batch;
}

/* A whole batch through the engine into a real archive: the scanned pages
 * are stored with their scanner provenance and image; scanning the same
 * paper again stores it again (a new session, not a duplicate); a jam is a
 * failed page in the report and the archive, and the batch still finishes. */
static void
test_sane_pipeline(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *path = g_build_filename(dir, "scan.archive", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_autoptr(CdBatch) first = NULL;
  g_autoptr(CdBatch) again = NULL;
  g_autoptr(CdBatch) jammed = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_auto(GStrv) lines = NULL;
  guint pages = 0, failed = 0;

  g_assert_no_error(error);
  first = run_workflow(archive, "", 4);
  g_assert_cmpuint(cd_batch_get_pages_in(first), ==, 4);
  g_assert_cmpuint(cd_batch_get_documents(first), ==, 1);
  g_assert_cmpuint(cd_batch_get_count(first, CD_BATCH_OUTCOME_FAILED), ==, 0);
  again = run_workflow(archive, "", 4);
  g_assert_cmpuint(cd_batch_get_pages_in(again), ==, 4);
  g_assert_cmpuint(cd_batch_get_count(again, CD_BATCH_OUTCOME_DUPLICATE), ==, 0);
  jammed = run_workflow(archive, "read-return-value=SANE_STATUS_JAMMED", 4);
  g_assert_cmpuint(cd_batch_get_pages_in(jammed), ==, 1);
  g_assert_cmpuint(cd_batch_get_count(jammed, CD_BATCH_OUTCOME_FAILED), ==, 1);

  g_assert_true(cd_archive_export_jsonl(archive, out, FALSE, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_output_stream_write_all(out, "", 1, NULL, NULL, &error));
  g_assert_true(g_output_stream_close(out, NULL, &error));
  lines = g_strsplit(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *o;
    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    o = json_node_get_object(node);
    if (json_object_has_member(o, "pages")) {
      JsonArray *a = json_object_get_array_member(o, "pages");
      for (guint j = 0; j < json_array_get_length(a); j++) {
        JsonObject *p = json_array_get_object_element(a, j);
        JsonObject *src = json_object_get_object_member(p, "source");
        JsonObject *image = json_object_get_object_member(p, "image");
        JsonObject *facts = json_object_get_object_member(p, "facts");
        g_assert_true(g_str_has_prefix(json_object_get_string_member(src, "path"), "sane:test:0/"));
        g_assert_cmpint(json_object_get_int_member(src, "page"), ==, j);
        /* 40 mm at 50 dpi */
        g_assert_cmpint(ABS(json_object_get_int_member(image, "width") - 79), <=, 1);
        g_assert_cmpstr(json_object_get_string_member(facts, "sane.device"), ==, "test:0");
        pages++;
      }
    } else {
      g_assert_cmpstr(json_object_get_string_member(o, "kind"), ==, "failed");
      g_assert_nonnull(strstr(json_object_get_string_member(o, "reason"), "paper jam"));
      failed++;
    }
  }
  g_assert_cmpuint(pages, ==, 8);
  g_assert_cmpuint(failed, ==, 1);

  g_clear_object(&archive);
  rm_archive(dir);
}

/* Runs chartdesk; returns its exit status. */
static gint G_GNUC_NULL_TERMINATED
chartdesk(gchar **out, gchar **err, const gchar *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_auto(CdTestRun) r = { 0 };
  va_list ap;

  va_start(ap, first);
  for (const gchar *a = first; a != NULL; a = va_arg(ap, const gchar *))
    g_ptr_array_add(args, (gpointer) a);
  va_end(ap);
  g_ptr_array_add(args, NULL);
  cd_test_chartdesk_v(&r, (const gchar *const *) args->pdata);
  if (out != NULL)
    *out = g_steal_pointer(&r.out);
  if (err != NULL)
    *err = g_steal_pointer(&r.err);
  return r.status;
}

/* The operator's view: `chartdesk scanners` lists the test scanners, and
 * `chartdesk ingest --workflow scan-intake` scans a feeder into an archive
 * (exit 0), or reports a jam naming the scanner (exit 3). */
static void
test_sane_cli(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *path = g_build_filename(dir, "scan.archive", NULL);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status;

  status = chartdesk(&out, &err, "scanners", NULL);
  g_assert_cmpint(status, ==, 0);
  g_assert_nonnull(strstr(out, "test:0 "));
  g_assert_nonnull(strstr(out, "frontend-tester"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);

  status = chartdesk(&out, &err, "ingest", "--quiet", "--workflow", "scan-intake", "--set", "sane.resolution=50",
                     "--set", "sane.page-size=60x60", "--set", "sane.max-pages=3", "--set",
                     "sane.device-options=read-return-value=Default;test-picture=Solid white", path, "test:1", NULL);
  g_assert_cmpint(status, ==, 0);
  g_assert_nonnull(strstr(out, "3 pages in"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);

  /* a page that fits in the test backend's pipe: its reader then ends by
   * itself before the jam is cancelled */
  status = chartdesk(&out, &err, "ingest", "--quiet", "--workflow", "scan-intake", "--set", "sane.resolution=50",
                     "--set", "sane.page-size=40x40", "--set",
                     "sane.device-options=read-return-value=SANE_STATUS_JAMMED", path, "test:1", NULL);
  g_assert_cmpint(status, ==, 3);
  g_assert_nonnull(strstr(out, "scanner test:1: paper jam in the document feeder"));
  g_assert_nonnull(strstr(err, "scanner test:1, page 1: paper jam"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);

  rm_archive(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_assert_nonnull(g_getenv("SANE_CONFIG_DIR"));
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);

  g_test_add_func("/chartdesk/sane/devices", test_sane_devices);
  g_test_add_func("/chartdesk/sane/flatbed-gray", test_sane_flatbed_gray);
  g_test_add_func("/chartdesk/sane/lineart", test_sane_lineart);
  g_test_add_func("/chartdesk/sane/color", test_sane_color);
  g_test_add_func("/chartdesk/sane/like-scanimage", test_sane_like_scanimage);
  g_test_add_func("/chartdesk/sane/adf-to-the-end", test_sane_adf_to_the_end);
  g_test_add_func("/chartdesk/sane/max-pages-and-sessions", test_sane_max_pages_and_sessions);
  g_test_add_func("/chartdesk/sane/adf-empty-at-start", test_sane_adf_empty_at_start);
  g_test_add_func("/chartdesk/sane/device-errors", test_sane_device_errors);
  g_test_add_func("/chartdesk/sane/cancel", test_sane_cancel);
  g_test_add_func("/chartdesk/sane/refusals", test_sane_refusals);
  g_test_add_func("/chartdesk/sane/bad-page-size", test_sane_bad_page_size);
  g_test_add_func("/chartdesk/sane/default-and-several-devices", test_sane_default_and_several_devices);
  g_test_add_func("/chartdesk/sane/pipeline", test_sane_pipeline);
  g_test_add_func("/chartdesk/sane/cli", test_sane_cli);

  {
    gint status = g_test_run();
    g_object_unref(registry);
    return status;
  }
}
