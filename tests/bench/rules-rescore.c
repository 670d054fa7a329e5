/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `rules-rescore RULES EXPORT`: the `rules` classifier of the classify
 * plugin, with the rules file RULES, on every document of a `chartdesk
 * export --json` file, as the engine would run it: each page's text and
 * the page facts the rules read (`boundary.title`, the title the header
 * stage took by layout). Prints one JSON object per document, in the
 * export's order: {"type": share, ...} as the engine records a
 * classifier's shares (scores over max(1, their sum)), {} for "don't
 * know". Not a test: `bench.py types --rules` runs it to score other rules
 * on exported charts without OCR'ing them again.
 */
#include <chartdesk.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

static CdDocument *
document_from(JsonObject *record)
{
  JsonArray *pages = json_object_get_array_member(record, "pages");
  CdDocument *document = cd_document_new();

  for (guint i = 0; i < json_array_get_length(pages); i++) {
    JsonObject *p = json_array_get_object_element(pages, i);
    JsonObject *facts = json_object_has_member(p, "facts") ? json_object_get_object_member(p, "facts") : NULL;
    g_autoptr(CdPage) page = cd_page_new("export", i, "0000");
    if (json_object_has_member(p, "text") && !json_object_get_null_member(p, "text"))
      cd_page_set_text(page, json_object_get_string_member(p, "text"));
    if (facts != NULL && json_object_has_member(facts, "boundary.title") &&
        JSON_NODE_HOLDS_VALUE(json_object_get_member(facts, "boundary.title")))
      cd_page_set_fact(page, "boundary.title",
                       g_variant_new_string(json_object_get_string_member(facts, "boundary.title")));
    cd_document_add_page(document, page);
  }
  return document;
}

gint
main(gint argc, gchar **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdClassifier) rules = NULL;
  g_autofree gchar *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GType type;

  if (argc != 3) {
    g_printerr("usage: %s RULES EXPORT.jsonl\n", argv[0]);
    return 2;
  }
  taxonomy = cd_taxonomy_new_default(&error);
  if (taxonomy == NULL || !g_file_get_contents(argv[2], &contents, NULL, &error)) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  type = cd_registry_find_stage(registry, "rules", &error);
  if (type == G_TYPE_INVALID) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  rules = CD_CLASSIFIER(g_object_new(type, "rules", argv[1], NULL));
  cd_classifier_set_taxonomy(rules, taxonomy);
  if (!cd_stage_start(CD_STAGE(rules), &error)) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  lines = g_strsplit(contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(CdDocument) document = NULL;
    g_autoptr(GPtrArray) scores = NULL;
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonNode) out = NULL;
    g_autofree gchar *json = NULL;
    JsonObject *record;
    gdouble sum = 0;

    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    if (node == NULL) {
      g_printerr("%s: line %u: %s\n", argv[2], i + 1, error->message);
      return 1;
    }
    record = json_node_get_object(node);
    if (!json_object_has_member(record, "pages"))
      continue; /* a loose page, no document */
    document = document_from(record);
    scores = cd_classifier_classify(rules, document, NULL, &error);
    if (scores == NULL) {
      g_printerr("%s: line %u: %s\n", argv[2], i + 1, error->message);
      return 1;
    }
    for (guint s = 0; s < scores->len; s++)
      sum += ((CdLabelScore *) g_ptr_array_index(scores, s))->score;
    b = json_builder_new();
    json_builder_begin_object(b);
    for (guint s = 0; s < scores->len; s++) {
      CdLabelScore *score = g_ptr_array_index(scores, s);
      json_builder_set_member_name(b, score->label);
      json_builder_add_double_value(b, score->score / MAX(1.0, sum));
    }
    json_builder_end_object(b);
    out = json_builder_get_root(b);
    json = json_to_string(out, FALSE);
    printf("%s\n", json);
  }
  cd_stage_stop(CD_STAGE(rules));
  return 0;
}
