/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The archive's schema, one migration per version. Migration N takes an
 * archive from user_version N-1 to N; each runs in one transaction with the
 * user_version bump, so an archive is never half-migrated. Never edit a
 * migration that has shipped: add the next one.
 */
#pragma once

static const gchar *const cd_archive_migrations[] = {
  /* 0 → 1: the first schema */
  "CREATE TABLE meta ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL);"

  "CREATE TABLE batches ("
  "  id INTEGER PRIMARY KEY,"
  "  started TEXT NOT NULL,"
  "  finished TEXT,"
  "  actor TEXT NOT NULL,"
  "  workflow TEXT NOT NULL,"
  "  inputs TEXT NOT NULL,"                   /* JSON array of what the user named */
  "  status TEXT NOT NULL DEFAULT 'running'," /* running, finished, cancelled, failed */
  "  report TEXT);"                           /* JSON, see CdBatch */

  /* a file is listed once all its pages are recorded: the fast path of
   * "already archived" */
  "CREATE TABLE files ("
  "  sha256 TEXT PRIMARY KEY,"
  "  path TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  pages INTEGER NOT NULL,"
  "  batch_id INTEGER NOT NULL REFERENCES batches (id),"
  "  added TEXT NOT NULL);"

  "CREATE TABLE patients ("
  "  id INTEGER PRIMARY KEY,"
  "  mrn TEXT NOT NULL UNIQUE,"
  "  family TEXT,"
  "  given TEXT,"
  "  middle TEXT,"
  "  dob TEXT," /* YYYY-MM-DD */
  "  sex TEXT,"
  "  merged_into TEXT," /* surviving MRN after an A40 merge */
  "  source TEXT,"      /* csv, fhir, hl7 */
  "  updated TEXT NOT NULL);"

  "CREATE TABLE documents ("
  "  id INTEGER PRIMARY KEY,"
  "  batch_id INTEGER NOT NULL REFERENCES batches (id),"
  "  patient_mrn TEXT,"
  "  status TEXT NOT NULL CHECK (status IN ('filed', 'review')),"
  "  type TEXT,"
  "  type_confidence REAL,"
  "  date TEXT,"
  "  title TEXT,"
  "  created TEXT NOT NULL);"
  "CREATE INDEX documents_patient ON documents (patient_mrn, date);"
  "CREATE INDEX documents_type ON documents (type, date);"
  "CREATE INDEX documents_date ON documents (date);"

  /* stored page images are immutable and addressed by their content hash */
  "CREATE TABLE images ("
  "  sha256 TEXT PRIMARY KEY,"
  "  format TEXT NOT NULL," /* tiff-g4, jpeg */
  "  width INTEGER NOT NULL,"
  "  height INTEGER NOT NULL,"
  "  depth INTEGER NOT NULL,"
  "  xres INTEGER,"
  "  yres INTEGER,"
  "  data BLOB NOT NULL);"

  "CREATE TABLE pages ("
  "  id INTEGER PRIMARY KEY,"
  "  batch_id INTEGER NOT NULL REFERENCES batches (id),"
  "  document_id INTEGER REFERENCES documents (id),"
  "  seq INTEGER," /* 0-based position in the document */
  "  kind TEXT NOT NULL CHECK (kind IN ('page', 'blank', 'cover', 'separator', 'failed')),"
  "  reason TEXT,"
  "  source_path TEXT NOT NULL,"
  "  source_page INTEGER NOT NULL," /* -1 for a whole unreadable file */
  "  source_sha256 TEXT,"
  "  xres INTEGER,"
  "  yres INTEGER,"
  "  image_sha256 TEXT REFERENCES images (sha256),"
  "  rotation INTEGER NOT NULL DEFAULT 0,"
  "  skew REAL NOT NULL DEFAULT 0,"
  "  text TEXT,"
  "  words TEXT," /* JSON [[x, y, w, h, conf, line, text], ...] */
  "  confidence REAL,"
  "  problems TEXT," /* JSON array of strings */
  "  facts TEXT,"    /* JSON object */
  "  created TEXT NOT NULL);"
  "CREATE UNIQUE INDEX pages_source ON pages (source_sha256, source_page)"
  "  WHERE source_sha256 IS NOT NULL AND source_page >= 0;"
  "CREATE INDEX pages_document ON pages (document_id, seq);"

  "CREATE VIRTUAL TABLE pages_fts USING fts5 ("
  "  text, content = 'pages', content_rowid = 'id',"
  "  tokenize = 'unicode61 remove_diacritics 2');"
  /* every page has an index row, NULL text included: FTS5 counts rows, and
   * its content check fails when the index and the table disagree */
  "CREATE TRIGGER pages_fts_insert AFTER INSERT ON pages BEGIN"
  "  INSERT INTO pages_fts (rowid, text) VALUES (new.id, new.text);"
  "END;"
  "CREATE TRIGGER pages_fts_delete AFTER DELETE ON pages BEGIN"
  "  INSERT INTO pages_fts (pages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
  "END;"
  "CREATE TRIGGER pages_fts_update AFTER UPDATE OF text ON pages BEGIN"
  "  INSERT INTO pages_fts (pages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
  "  INSERT INTO pages_fts (rowid, text) VALUES (new.id, new.text);"
  "END;"

  "CREATE TABLE review ("
  "  id INTEGER PRIMARY KEY,"
  "  document_id INTEGER REFERENCES documents (id),"
  "  page_id INTEGER REFERENCES pages (id),"
  "  reason TEXT NOT NULL,"
  "  created TEXT NOT NULL,"
  "  resolved TEXT,"
  "  resolved_by TEXT,"
  "  resolution TEXT);"
  "CREATE INDEX review_open ON review (resolved, id);"

  /* append-only, each entry chained to the one before by its hash */
  "CREATE TABLE audit ("
  "  id INTEGER PRIMARY KEY,"
  "  ts TEXT NOT NULL,"
  "  actor TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  object TEXT NOT NULL,"
  "  detail TEXT NOT NULL,"
  "  prev_hash TEXT NOT NULL,"
  "  hash TEXT NOT NULL);"
  "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
  "  SELECT RAISE (ABORT, 'the audit log is append-only');"
  "END;"
  "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
  "  SELECT RAISE (ABORT, 'the audit log is append-only');"
  "END;",

  /* 1 → 2: trained classifier models, versioned per name; a version is
   * never rewritten, a new one is added */
  "CREATE TABLE models ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  version INTEGER NOT NULL,"
  "  created TEXT NOT NULL,"
  "  actor TEXT NOT NULL,"
  "  params TEXT NOT NULL," /* JSON: algorithm, parameters, documents per type */
  "  metrics TEXT,"         /* JSON: evaluation figures, when measured */
  "  data BLOB NOT NULL,"
  "  UNIQUE (name, version));",

  /* 2 → 3: chartdeskd's journal. A batch queued through the service records
   * how to run it again, so that it resumes after a crash or a restart. */
  "ALTER TABLE batches ADD COLUMN workflow_origin TEXT;" /* the workflow file; NULL for command-line batches */
  "ALTER TABLE batches ADD COLUMN options TEXT;",        /* JSON: {"set": {"stage.option": "value"}, "workers": N} */

  /* 3 → 4: the keyed audit chain (cd-archive-audit.c). Entries written
   * before keep their plain SHA-256 chain (scheme 0) and are sealed by the
   * first keyed entry; the archive gets a random id, covered by every MAC;
   * each batch's journal row keeps an anchor of the log; an insert that
   * would replace an entry is refused (INSERT OR REPLACE deletes without
   * firing the delete trigger). */
  "ALTER TABLE audit ADD COLUMN scheme INTEGER NOT NULL DEFAULT 0;" /* 0: plain SHA-256, 1: HMAC-SHA256 */
  "INSERT OR IGNORE INTO meta (key, value) VALUES ('archive-id', lower(hex(randomblob(16))));"
  "ALTER TABLE batches ADD COLUMN audit_anchor TEXT;" /* JSON: {"archive", "entry", "mac", "anchor_mac"} */
  "CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit"
  "  WHEN new.id <= (SELECT max(id) FROM audit) BEGIN"
  "  SELECT RAISE (ABORT, 'the audit log is append-only');"
  "END;",

  /* 4 → 5: the web workstation's saved searches (issue 15), one user's
   * own, by the login of the principal that saved them */
  "CREATE TABLE saved_searches ("
  "  id INTEGER PRIMARY KEY,"
  "  owner TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  query TEXT NOT NULL," /* JSON: {"q", "mrn", "type", "from", "to", "status"} */
  "  created TEXT NOT NULL,"
  "  UNIQUE (owner, name));",
};
