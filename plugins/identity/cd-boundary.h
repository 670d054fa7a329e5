/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Evidence that a page starts a document, read from the page alone (its
 * word boxes, ink and header facts), for the `chart` splitter's learned
 * boundary model.
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_FACT_BOUNDARY_PAGE "boundary.page"     /* a{sd}: the page's own evidence */
#define CD_FACT_BOUNDARY_TITLE "boundary.title"   /* s: the line taken for a title by layout */
#define CD_FACT_CHART_FEATURES "chart.features"   /* a{sd}: every feature the splitter weighed */
#define CD_FACT_CHART_P_START "chart.p-start"     /* d: probability that the page starts a document */
#define CD_FACT_CHART_UNCERTAIN "chart.uncertain" /* s: why the boundary at this page is uncertain */

GVariant *cd_boundary_page_features(CdPage *page, gchar **title_words, gchar **title_line);

G_END_DECLS
