/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small JSON helpers of the web API's routes, which reshape the archive's
 * JSON into the contract's.
 */
#include "config.h"

#include "cd-web-private.h"

/* @name as a copy of @obj's @member, or null when @obj lacks it. */
void
cd_web_json_add_copy(JsonBuilder *b, const gchar *name, JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

  json_builder_set_member_name(b, name);
  if (node != NULL)
    json_builder_add_value(b, json_node_copy(node));
  else
    json_builder_add_null_value(b);
}

/* @obj's @member if it is a string; NULL otherwise, @obj NULL included. */
const gchar *
cd_web_json_string(JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

  if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

/* @obj's @member if it is an object, else NULL. */
JsonObject *
cd_web_json_object(JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* Parses stored JSON text; NULL for NULL or text that is not JSON. */
JsonNode *
cd_web_json_parse(const gchar *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  if (text == NULL || !json_parser_load_from_data(parser, text, -1, NULL))
    return NULL;
  return json_node_copy(json_parser_get_root(parser));
}
