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

  /* 4 → 5: retention, legal holds and certified destruction (issue 17,
   * cd-archive-retention.c). Holds are released, never deleted or edited;
   * a destroyed document keeps its documents row (patient, type, date) and
   * its pages' rows, emptied of image and text, so ids are never reused and
   * the audit log's references still resolve; its tombstone records what it
   * was. Triggers keep a destroyed document destroyed. */
  "CREATE TABLE legal_holds ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  kind TEXT NOT NULL CHECK (kind IN ('patient', 'document', 'search')),"
  "  mrn TEXT,"            /* kind patient */
  "  document_id INTEGER," /* kind document */
  "  query TEXT,"          /* kind search: JSON {"text", "mrn", "type", "types", "from", "to"} */
  "  reason TEXT NOT NULL,"
  "  matter TEXT,"
  "  placed_by TEXT NOT NULL,"
  "  placed_at TEXT NOT NULL,"
  "  released_by TEXT,"
  "  released_at TEXT,"
  "  release_reason TEXT);"
  "CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds BEGIN"
  "  SELECT RAISE (ABORT, 'a legal hold is released, never deleted');"
  "END;"
  "CREATE TRIGGER legal_holds_release_once BEFORE UPDATE ON legal_holds"
  "  WHEN old.released_at IS NOT NULL OR new.released_at IS NULL OR new.kind IS NOT old.kind"
  "  OR new.mrn IS NOT old.mrn OR new.document_id IS NOT old.document_id OR new.query IS NOT old.query"
  "  OR new.reason IS NOT old.reason OR new.matter IS NOT old.matter OR new.placed_by IS NOT old.placed_by"
  "  OR new.placed_at IS NOT old.placed_at BEGIN"
  "  SELECT RAISE (ABORT, 'a legal hold can only be released, once');"
  "END;"

  "CREATE TABLE retention_runs ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  destroyed_at TEXT NOT NULL,"
  "  as_of TEXT NOT NULL,"         /* the day the rules were applied for */
  "  plan TEXT NOT NULL,"          /* the plan file's JSON, as approved */
  "  plan_sha256 TEXT NOT NULL,"
  "  policy_sha256 TEXT NOT NULL,"
  "  made_by TEXT NOT NULL,"       /* who made the plan (its audit entry's actor) */
  "  made_at TEXT NOT NULL,"
  "  approved_by TEXT NOT NULL,"   /* who approved and carried it out */
  "  two_person INTEGER NOT NULL,"
  "  method TEXT NOT NULL,"
  "  documents INTEGER NOT NULL,"
  "  pages INTEGER NOT NULL,"
  "  refused TEXT NOT NULL,"       /* JSON [{"document", "why"}] */
  "  certificate BLOB,"            /* the PDF */
  "  certificate_sha256 TEXT,"
  "  audit_first INTEGER,"         /* the run's audit entries */
  "  audit_last INTEGER,"
  "  bytes_before INTEGER,"
  "  bytes_after INTEGER);"
  "CREATE TRIGGER retention_runs_no_delete BEFORE DELETE ON retention_runs BEGIN"
  "  SELECT RAISE (ABORT, 'a destruction run is never deleted');"
  "END;"

  "CREATE TABLE tombstones ("
  "  document_id INTEGER PRIMARY KEY REFERENCES documents (id),"
  "  run_id INTEGER NOT NULL REFERENCES retention_runs (id),"
  "  patient_mrn TEXT,"
  "  type TEXT,"
  "  date TEXT,"
  "  last_service TEXT,"
  "  keep_until TEXT,"
  "  rule TEXT,"
  "  pages INTEGER NOT NULL,"
  "  image_sha256 TEXT NOT NULL," /* JSON array, in page order */
  "  created TEXT,"               /* when the document was archived */
  "  batch_id INTEGER,"
  "  destroyed_at TEXT NOT NULL);"
  "CREATE TRIGGER tombstones_no_update BEFORE UPDATE ON tombstones BEGIN"
  "  SELECT RAISE (ABORT, 'a tombstone is never changed');"
  "END;"
  "CREATE TRIGGER tombstones_no_delete BEFORE DELETE ON tombstones BEGIN"
  "  SELECT RAISE (ABORT, 'a tombstone is never deleted');"
  "END;"
  "CREATE TRIGGER destroyed_document_no_delete BEFORE DELETE ON documents"
  "  WHEN old.id IN (SELECT document_id FROM tombstones) BEGIN"
  "  SELECT RAISE (ABORT, 'a destroyed document cannot be deleted: its tombstone stays');"
  "END;"
  "CREATE TRIGGER destroyed_document_frozen BEFORE UPDATE OF status, type, date, title ON documents"
  "  WHEN old.id IN (SELECT document_id FROM tombstones) AND (new.status IS NOT old.status"
  "  OR new.type IS NOT old.type OR new.date IS NOT old.date OR new.title IS NOT NULL) BEGIN"
  "  SELECT RAISE (ABORT, 'a destroyed document cannot be changed');"
  "END;"
  "CREATE TRIGGER destroyed_document_no_pages BEFORE INSERT ON pages"
  "  WHEN new.document_id IN (SELECT document_id FROM tombstones) BEGIN"
  "  SELECT RAISE (ABORT, 'a destroyed document takes no pages');"
  "END;"
  "CREATE TRIGGER destroyed_pages_stay_empty BEFORE UPDATE ON pages"
  "  WHEN old.document_id IN (SELECT document_id FROM tombstones) AND (new.text IS NOT NULL"
  "  OR new.words IS NOT NULL OR new.image_sha256 IS NOT NULL OR new.facts IS NOT NULL"
  "  OR new.document_id IS NOT old.document_id) BEGIN"
  "  SELECT RAISE (ABORT, 'a destroyed page stays empty');"
  "END;"
  "CREATE INDEX legal_holds_mrn ON legal_holds (mrn) WHERE released_at IS NULL;"
  /* destruction asks, per image, whether another page still uses it */
  "CREATE INDEX pages_image ON pages (image_sha256) WHERE image_sha256 IS NOT NULL;"
  "CREATE INDEX tombstones_run ON tombstones (run_id);",
  /* 5 → 6: release of information (cd-archive-roi.c). Requests, the
   * documents and redactions they name, the packet released (its manifest
   * and the PDF's SHA-256), and the accounting of disclosures. No foreign
   * keys to documents or pages: a destroyed document must not be kept by,
   * nor take with it, the record that it was disclosed. Disclosures and
   * packets are never updated or deleted (45 CFR 164.528 asks for six
   * years; nothing here ever purges them). */
  "CREATE TABLE roi_requests ("
  "  id INTEGER PRIMARY KEY,"
  "  patient_mrn TEXT NOT NULL,"
  "  requester TEXT NOT NULL,"
  "  recipient_name TEXT NOT NULL,"
  "  recipient_address TEXT,"
  "  purpose TEXT NOT NULL,"
  "  authorisation TEXT NOT NULL," /* the authorisation reference, or the legal basis */
  "  requested_by TEXT,"           /* YYYY-MM-DD the requester needs it by */
  "  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'released', 'cancelled')),"
  "  cancel_reason TEXT,"
  "  created TEXT NOT NULL,"
  "  created_by TEXT NOT NULL,"
  "  approved TEXT,"
  "  approved_by TEXT,"
  "  released TEXT,"
  "  released_by TEXT,"
  "  cancelled TEXT,"
  "  cancelled_by TEXT);"
  "CREATE INDEX roi_requests_patient ON roi_requests (patient_mrn);"
  "CREATE TABLE roi_request_documents ("
  "  request_id INTEGER NOT NULL REFERENCES roi_requests (id),"
  "  document_id INTEGER NOT NULL,"
  "  seq INTEGER NOT NULL," /* order in the packet */
  "  selection TEXT NOT NULL," /* JSON: how it was picked, {"id"} or {"type", "from", "to"} */
  "  added TEXT NOT NULL,"
  "  added_by TEXT NOT NULL,"
  "  PRIMARY KEY (request_id, document_id));"
  "CREATE TABLE roi_redactions ("
  "  id INTEGER PRIMARY KEY,"
  "  request_id INTEGER NOT NULL REFERENCES roi_requests (id),"
  "  page_id INTEGER NOT NULL,"
  "  kind TEXT NOT NULL CHECK (kind IN ('rect', 'words')),"
  "  pattern TEXT,"       /* the words' regular expression */
  "  rects TEXT NOT NULL," /* JSON [[x, y, w, h], ...] in the stored image's pixels */
  "  created TEXT NOT NULL,"
  "  created_by TEXT NOT NULL);"
  "CREATE INDEX roi_redactions_request ON roi_redactions (request_id, page_id);"
  "CREATE TABLE roi_packets ("
  "  request_id INTEGER PRIMARY KEY REFERENCES roi_requests (id),"
  "  created TEXT NOT NULL,"
  "  manifest TEXT NOT NULL," /* JSON: what the packet is made of, enough to make it again */
  "  pdf_sha256 TEXT NOT NULL,"
  "  pages INTEGER NOT NULL,"
  "  bates_first TEXT NOT NULL,"
  "  bates_last TEXT NOT NULL);"
  "CREATE TABLE disclosures ("
  "  id INTEGER PRIMARY KEY,"
  "  patient_mrn TEXT NOT NULL,"
  "  disclosed TEXT NOT NULL," /* when, ISO 8601 */
  "  recipient_name TEXT NOT NULL,"
  "  recipient_address TEXT,"
  "  description TEXT NOT NULL,"
  "  purpose TEXT NOT NULL,"
  "  authorisation TEXT,"
  "  request_id INTEGER REFERENCES roi_requests (id),"
  "  actor TEXT NOT NULL);"
  "CREATE INDEX disclosures_patient ON disclosures (patient_mrn, disclosed);"
  "CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures BEGIN"
  "  SELECT RAISE (ABORT, 'disclosures are kept as recorded');"
  "END;"
  "CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures BEGIN"
  "  SELECT RAISE (ABORT, 'disclosures are kept as recorded');"
  "END;"
  "CREATE TRIGGER roi_packets_no_update BEFORE UPDATE ON roi_packets BEGIN"
  "  SELECT RAISE (ABORT, 'a released packet is kept as recorded');"
  "END;"
  "CREATE TRIGGER roi_packets_no_delete BEFORE DELETE ON roi_packets BEGIN"
  "  SELECT RAISE (ABORT, 'a released packet is kept as recorded');"
  "END;"
  "CREATE TRIGGER roi_requests_no_delete BEFORE DELETE ON roi_requests BEGIN"
  "  SELECT RAISE (ABORT, 'requests are kept; cancel one instead');"
  "END;",

  /* 6 → 7: the web workstation's saved searches (issue 15), one user's
   * own, by the login of the principal that saved them */
  "CREATE TABLE saved_searches ("
  "  id INTEGER PRIMARY KEY,"
  "  owner TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  query TEXT NOT NULL," /* JSON: {"q", "mrn", "type", "from", "to", "status"} */
  "  created TEXT NOT NULL,"
  "  UNIQUE (owner, name));",
  /* 7 → 8: who is working a review item (issue 15's queue shows the
   * assignee): taken by an indexer, released, or taken over — each audited */
  "ALTER TABLE review ADD COLUMN assignee TEXT;" /* the principal working it; NULL: nobody */
  "ALTER TABLE review ADD COLUMN assigned TEXT;", /* since when */
  /* 8 → 9: finding a patient by MRN, date of birth or the start of a name
   * through indexes (the web workstation looks for patients on every short
   * search; a scan of a hospital's index of millions was seconds). NOCASE,
   * as the search is: LIKE uses these for a prefix */
  "CREATE INDEX patients_mrn_nocase ON patients (mrn COLLATE NOCASE);"
  "CREATE INDEX patients_dob ON patients (dob);"
  "CREATE INDEX patients_family ON patients (family COLLATE NOCASE);"
  "CREATE INDEX patients_given ON patients (given COLLATE NOCASE);",
  /* 9 → 10: a page's document by the page's id, without its row (issue
   * 18). A search whose words drive checks each match's document; a page
   * row holds its text and word boxes, a few to a database page, so each
   * check was a database page read. This index holds only the id and the
   * document, hundreds to a database page, and SQLite keeps it up to date
   * with the table itself (cd-archive-search.c names it: INDEXED BY) */
  "CREATE INDEX pages_document_of ON pages (id, document_id);",

  /* 10 → 11: changes after delivery (issue 18, part 2). Every
   * change to a committed document (a review decision, split, merge, type,
   * patient, an MPI merge refiling it, its review items) gives it the next
   * number of one counter, by trigger, so no code path that changes a
   * document can forget to: a station's delivery sends the documents whose
   * number the server has not seen, in that order. A document removed (a
   * merge) keeps its row. Inserts are not changes: a new document is
   * delivered as new. The review items of a page set aside (an unreadable
   * page rescanned) count as changes of `-page id`. */
  "CREATE TABLE document_changes ("
  "  document_id INTEGER PRIMARY KEY," /* no foreign key: a removed document keeps its row */
  "  seq INTEGER NOT NULL);"
  "CREATE UNIQUE INDEX document_changes_seq ON document_changes (seq);"
  "CREATE TRIGGER document_changes_update AFTER UPDATE ON documents BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT NEW.id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE NEW.id IS NOT NULL; END;"
  "CREATE TRIGGER document_changes_delete AFTER DELETE ON documents BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT OLD.id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE OLD.id IS NOT NULL; END;"
  "CREATE TRIGGER document_changes_pages AFTER UPDATE OF document_id, seq ON pages "
  "  WHEN OLD.document_id IS NOT NEW.document_id OR OLD.seq IS NOT NEW.seq BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT OLD.document_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE OLD.document_id IS NOT NULL; "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT NEW.document_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE NEW.document_id IS NOT NULL; END;"
  "CREATE TRIGGER document_changes_review_insert AFTER INSERT ON review BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT NEW.document_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE NEW.document_id IS NOT NULL; "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT -NEW.page_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) "
  "  WHERE NEW.document_id IS NULL AND NEW.page_id IS NOT NULL; END;"
  "CREATE TRIGGER document_changes_review_update AFTER UPDATE ON review BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT OLD.document_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE OLD.document_id IS NOT NULL; "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT NEW.document_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE NEW.document_id IS NOT NULL; "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT -NEW.page_id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) "
  "  WHERE NEW.document_id IS NULL AND NEW.page_id IS NOT NULL; END;",

  /* 11 → 12: a page's content changed after delivery (issue 18, part 2,
   * second pass): its text, word boxes, facts, problems, confidence, image
   * or its rotation and skew. Counted as a change of its document (or of
   * `-page id` for a page set aside), like the 10 → 11 triggers, so every
   * writer is covered: retention's destruction of a document's pages
   * today, a redaction or a rescan replacing an image tomorrow. */
  "CREATE TRIGGER document_changes_page_content AFTER UPDATE OF text, words, facts, problems, confidence, "
  "  image_sha256, rotation, skew ON pages "
  "  WHEN OLD.text IS NOT NEW.text OR OLD.words IS NOT NEW.words OR OLD.facts IS NOT NEW.facts "
  "  OR OLD.problems IS NOT NEW.problems OR OLD.confidence IS NOT NEW.confidence "
  "  OR OLD.image_sha256 IS NOT NEW.image_sha256 OR OLD.rotation IS NOT NEW.rotation OR OLD.skew IS NOT NEW.skew "
  "  BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT coalesce(NEW.document_id, -NEW.id), "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes); END;",

  /* 12 → 13: filtered searches at ten million pages (issue 18, part 1).
   *
   * Each document carries the range of its page ids and how many pages it
   * has, kept by trigger so that every writer is covered (ingest, a split
   * or merge moving pages, a page deleted). The documents' indexes hold
   * them, so a search reads the pages of the documents its filters leave
   * from those indexes alone: a document whose pages are consecutive ids
   * (n_pages = last_page - first_page + 1: the ingest stores a document's
   * pages together) is its range; only another is looked up page by page.
   * Before, a search read every filtered document's pages from
   * pages_document, one seek into a 10 M-row index a document.
   *
   * The documents waiting in review get a partial index of their own, by
   * date: a `--status review` search reads them alone, where it walked
   * every document of its dates. Searches name the status as a literal
   * for SQLite to use it.
   *
   * Maintaining the ranges is an UPDATE of a document, which is not a
   * change of the document for delivery: document_changes_update now
   * names the columns that are. */
  "ALTER TABLE documents ADD COLUMN first_page INTEGER;"
  "ALTER TABLE documents ADD COLUMN last_page INTEGER;"
  "ALTER TABLE documents ADD COLUMN n_pages INTEGER NOT NULL DEFAULT 0;"
  "DROP TRIGGER document_changes_update;"
  "CREATE TRIGGER document_changes_update AFTER UPDATE OF id, batch_id, patient_mrn, status, type, type_confidence, "
  "  date, title, created ON documents BEGIN "
  "  INSERT OR REPLACE INTO document_changes (document_id, seq) SELECT NEW.id, "
  "  (SELECT coalesce(max(seq), 0) + 1 FROM document_changes) WHERE NEW.id IS NOT NULL; END;"
  "UPDATE documents SET (first_page, last_page, n_pages) = "
  "  (SELECT min(id), max(id), count(*) FROM pages WHERE document_id = documents.id);"
  "CREATE TRIGGER documents_pages_insert AFTER INSERT ON pages WHEN NEW.document_id IS NOT NULL BEGIN "
  "  UPDATE documents SET first_page = min(coalesce(first_page, NEW.id), NEW.id), "
  "  last_page = max(coalesce(last_page, NEW.id), NEW.id), n_pages = n_pages + 1 WHERE id = NEW.document_id; END;"
  "CREATE TRIGGER documents_pages_delete AFTER DELETE ON pages WHEN OLD.document_id IS NOT NULL BEGIN "
  "  UPDATE documents SET (first_page, last_page, n_pages) = "
  "  (SELECT min(id), max(id), count(*) FROM pages WHERE document_id = OLD.document_id) "
  "  WHERE id = OLD.document_id; END;"
  "CREATE TRIGGER documents_pages_move AFTER UPDATE OF document_id ON pages "
  "  WHEN OLD.document_id IS NOT NEW.document_id BEGIN "
  "  UPDATE documents SET (first_page, last_page, n_pages) = "
  "  (SELECT min(id), max(id), count(*) FROM pages WHERE document_id = documents.id) "
  "  WHERE id IN (OLD.document_id, NEW.document_id); END;"
  "DROP INDEX documents_patient;"
  "CREATE INDEX documents_patient ON documents (patient_mrn, date, type, status, first_page, last_page, n_pages);"
  "DROP INDEX documents_type;"
  "CREATE INDEX documents_type ON documents (type, date, status, first_page, last_page, n_pages);"
  "DROP INDEX documents_date;"
  "CREATE INDEX documents_date ON documents (date, type, status, first_page, last_page, n_pages);"
  "CREATE INDEX documents_review ON documents (date, type, first_page, last_page, n_pages) WHERE status = 'review';",
};
