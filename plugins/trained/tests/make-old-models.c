/* Build against libchartdesk of commit 1ff1067 and run as
 *   make-old-models train.jsonl test.jsonl OUTDIR > old-models.txt (after the header line)
 * (not built by meson: its output is the fixture). */
/* One-off: trains models with Chartdesk at commit 1ff1067 (formats 1 and 2)
 * on plugins/trained/tests/train.jsonl and records their predictions. */
#include <chartdesk.h>
#include <stdio.h>
static void
load(const char *path, GPtrArray *texts, GPtrArray *labels)
{
  gchar *data;
  g_file_get_contents(path, &data, NULL, NULL);
  gchar **lines = g_strsplit(data, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!lines[i][0])
      continue;
    JsonNode *n = json_from_string(lines[i], NULL);
    JsonObject *o = json_node_get_object(n);
    g_ptr_array_add(labels, g_strdup(json_object_get_string_member(o, "label")));
    g_ptr_array_add(texts, g_strdup(json_object_get_string_member(o, "text")));
  }
}
int
main(int argc, char **argv)
{
  GPtrArray *tr = g_ptr_array_new(), *trl = g_ptr_array_new(), *te = g_ptr_array_new(), *tel = g_ptr_array_new();
  load(argv[1], tr, trl);
  load(argv[2], te, tel);
  for (int headings = 0; headings <= 1; headings++) {
    CdTextModel *m = g_object_new(CD_TYPE_TEXT_MODEL, "hash-bits", 12, "headings", headings, NULL);
    GError *e = NULL;
    if (!cd_text_model_train(m, tr, trl, NULL, &e)) {
      fprintf(stderr, "%s\n", e->message);
      return 1;
    }
    GBytes *b = cd_text_model_to_bytes(m, &e);
    gchar *name = g_strdup_printf("model-format%d.bin", headings + 1);
    gchar *path = g_build_filename(argv[3], name, NULL);
    g_file_set_contents(path, g_bytes_get_data(b, NULL), g_bytes_get_size(b), NULL);
    for (guint i = 0; i < te->len; i++) {
      GPtrArray *s = cd_text_model_predict(m, g_ptr_array_index(te, i));
      CdLabelScore *top = g_ptr_array_index(s, 0);
      printf("%s\t%d\t%u\t%s\t%.6f\n", name, headings + 1, i, top->label, top->score);
    }
  }
  return 0;
}
