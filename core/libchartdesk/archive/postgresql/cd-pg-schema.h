/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server's schema, one migration per version (as cd-archive-schema.h):
 * migration N takes the server from schema_version N-1 to N in one
 * transaction. Version 1 holds the SQLite archive's tables up to its
 * schema 8 with the same meaning, and the stations' deliveries.
 *
 * Times and dates stay text (ISO 8601, as the stations wrote them), so a
 * delivered row and its audit entries read exactly as in the spool and the
 * stations' audit chains still verify.
 */
#pragma once

static const gchar *const cd_pg_migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE meta ("
  "  key text PRIMARY KEY,"
  "  value text NOT NULL);"
  "INSERT INTO meta (key, value) VALUES ('archive-id', md5(random()::text || clock_timestamp()::text));"

  /* a station delivers its spool; its name is unique in the hospital */
  "CREATE TABLE stations ("
  "  name text PRIMARY KEY,"
  "  first_delivery text NOT NULL,"
  "  last_delivery text,"
  "  spool_archive_id text,"  /* the spool's meta archive-id, when it has one */
  "  patients_updated text);" /* the newest spool patient `updated` delivered */

  "CREATE TABLE batches ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  station text NOT NULL REFERENCES stations (name),"
  "  source_batch_id bigint NOT NULL," /* the batch's id in the station's spool */
  "  started text NOT NULL,"
  "  finished text,"
  "  actor text NOT NULL,"
  "  workflow text NOT NULL,"
  "  inputs text NOT NULL,"
  "  status text NOT NULL DEFAULT 'running',"
  "  report text,"
  "  workflow_origin text,"
  "  options text,"
  "  audit_anchor text,"
  "  UNIQUE (station, source_batch_id));"

  "CREATE TABLE files ("
  "  sha256 text PRIMARY KEY,"
  "  path text NOT NULL,"
  "  size bigint NOT NULL,"
  "  pages integer NOT NULL,"
  "  batch_id bigint NOT NULL REFERENCES batches (id),"
  "  added text NOT NULL);"

  /* the MPI: one row per MRN, the newest `updated` wins */
  "CREATE TABLE patients ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  mrn text NOT NULL UNIQUE,"
  "  family text,"
  "  given text,"
  "  middle text,"
  "  dob text,"
  "  sex text,"
  "  merged_into text,"
  "  source text,"
  "  updated text NOT NULL);"

  "CREATE TABLE documents ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  batch_id bigint NOT NULL REFERENCES batches (id),"
  "  patient_mrn text,"
  "  status text NOT NULL CHECK (status IN ('filed', 'review')),"
  "  type text,"
  "  type_confidence double precision,"
  "  date text,"
  "  title text,"
  "  created text NOT NULL);"
  "CREATE INDEX documents_patient ON documents (patient_mrn, date);"
  "CREATE INDEX documents_type ON documents (type, date);"
  "CREATE INDEX documents_date ON documents (date);"

  /* images in the database, addressed (and de-duplicated) by content hash */
  "CREATE TABLE images ("
  "  sha256 text PRIMARY KEY,"
  "  format text NOT NULL,"
  "  width integer NOT NULL,"
  "  height integer NOT NULL,"
  "  depth integer NOT NULL,"
  "  xres integer,"
  "  yres integer,"
  "  data bytea NOT NULL);"

  "CREATE TABLE pages ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  batch_id bigint NOT NULL REFERENCES batches (id),"
  "  document_id bigint REFERENCES documents (id),"
  "  seq integer,"
  "  kind text NOT NULL CHECK (kind IN ('page', 'blank', 'cover', 'separator', 'failed')),"
  "  reason text,"
  "  source_path text NOT NULL,"
  "  source_page integer NOT NULL,"
  "  source_sha256 text,"
  "  xres integer,"
  "  yres integer,"
  "  image_sha256 text REFERENCES images (sha256),"
  "  rotation integer NOT NULL DEFAULT 0,"
  "  skew double precision NOT NULL DEFAULT 0,"
  "  text text,"
  "  words text,"
  "  confidence double precision,"
  "  problems text,"
  "  facts text,"
  "  created text NOT NULL,"
  "  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(text, ''))) STORED);"
  /* the same page of the same file is on the server once, whichever
   * station scanned it */
  "CREATE UNIQUE INDEX pages_source ON pages (source_sha256, source_page)"
  "  WHERE source_sha256 IS NOT NULL AND source_page >= 0;"
  "CREATE INDEX pages_document ON pages (document_id, seq);"
  "CREATE INDEX pages_image ON pages (image_sha256) WHERE image_sha256 IS NOT NULL;"
  "CREATE INDEX pages_tsv ON pages USING gin (tsv);"

  "CREATE TABLE review ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  document_id bigint REFERENCES documents (id),"
  "  page_id bigint REFERENCES pages (id),"
  "  reason text NOT NULL,"
  "  created text NOT NULL,"
  "  resolved text,"
  "  resolved_by text,"
  "  resolution text,"
  "  assignee text,"
  "  assigned text);"
  "CREATE INDEX review_open ON review (resolved, id);"

  /* The audit log: the stations' chains, copied verbatim (station and
   * source_id set), and the server's own chain (station NULL) of the reads
   * made on the server. Append-only. */
  "CREATE TABLE audit ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  station text REFERENCES stations (name),"
  "  source_id bigint,"
  "  ts text NOT NULL,"
  "  actor text NOT NULL,"
  "  action text NOT NULL,"
  "  object text NOT NULL,"
  "  detail text NOT NULL,"
  "  prev_hash text NOT NULL,"
  "  hash text NOT NULL,"
  "  scheme integer NOT NULL DEFAULT 0,"
  "  UNIQUE (station, source_id));"
  "CREATE FUNCTION cd_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
  "  $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;"
  "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit"
  "  FOR EACH ROW EXECUTE FUNCTION cd_audit_append_only();"
  "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
  "  FOR EACH STATEMENT EXECUTE FUNCTION cd_audit_append_only();"

  /* the delivery keys: a spool's document (or page set aside) is on the
   * server once; `duplicate`: another station had delivered its pages */
  "CREATE TABLE deliveries ("
  "  station text NOT NULL REFERENCES stations (name),"
  "  source_document_id bigint NOT NULL,"
  "  document_id bigint REFERENCES documents (id),"
  "  outcome text NOT NULL CHECK (outcome IN ('stored', 'partial', 'duplicate')),"
  "  delivered text NOT NULL,"
  "  PRIMARY KEY (station, source_document_id));"
  "CREATE TABLE page_deliveries ("
  "  station text NOT NULL REFERENCES stations (name),"
  "  source_page_id bigint NOT NULL,"
  "  page_id bigint REFERENCES pages (id),"
  "  outcome text NOT NULL CHECK (outcome IN ('stored', 'duplicate')),"
  "  delivered text NOT NULL,"
  "  PRIMARY KEY (station, source_page_id));",

  /* 1 → 2: changes after delivery. `revision` is the spool's
   * document_changes number the server document (or page set aside,
   * whose number is that of -its page id) was last brought to (0: as first
   * delivered); `merged`: the spool document was merged into
   * another and its server document removed. A station's
   * `changes_delivered` is the highest number every change up to which is
   * on the server, where its next pass starts reading the spool. */
  "ALTER TABLE deliveries ADD COLUMN revision bigint NOT NULL DEFAULT 0;"
  "ALTER TABLE deliveries DROP CONSTRAINT deliveries_outcome_check;"
  "ALTER TABLE deliveries ADD CONSTRAINT deliveries_outcome_check"
  "  CHECK (outcome IN ('stored', 'partial', 'duplicate', 'merged'));"
  "CREATE INDEX deliveries_document ON deliveries (document_id);"
  "ALTER TABLE page_deliveries ADD COLUMN revision bigint NOT NULL DEFAULT 0;"
  "ALTER TABLE stations ADD COLUMN changes_delivered bigint NOT NULL DEFAULT 0;",

  /* 2 → 3: the patient finder (the web workstation's every short search
   * asks it) reads indexes, not the whole MPI: MRN in any case, date of
   * birth, and the name prefixes as cd-pg-read.c's candidates ask for them
   * (lower-cased, text_pattern_ops for LIKE 'prefix%'); and a chart's
   * merged MRNs */
  "CREATE INDEX patients_mrn_lower ON patients (lower(mrn));"
  "CREATE INDEX patients_dob ON patients (dob);"
  "CREATE INDEX patients_family_prefix ON patients (lower(family) text_pattern_ops);"
  "CREATE INDEX patients_given_prefix ON patients (lower(given) text_pattern_ops);"
  "CREATE INDEX patients_merged_into ON patients (merged_into) WHERE merged_into IS NOT NULL;",

  /* 3 → 4: the audit listing (`chartdesk audit list|export
   * postgresql://…`, the web workstation's audit screen) reads indexes,
   * not the whole log (cd-pg-audit.c's listing states the conditions each
   * serves): newest first and the days by (time, id); the user as the
   * actor itself, `USER (…` by prefix and `… for USER` as a prefix of the
   * reversed actor; the patient through the MRNs an entry's detail names
   * (cd_audit_mrns(): a detail that is not JSON names none, so an altered
   * entry can never fail an insert) and through the objects its documents
   * and pages are named by. */
  "CREATE INDEX audit_ts ON audit (ts, id);"
  "CREATE INDEX audit_actor ON audit (actor text_pattern_ops);"
  "CREATE INDEX audit_actor_reversed ON audit (reverse(actor) text_pattern_ops);"
  "CREATE INDEX audit_object ON audit (object, station);"
  "CREATE FUNCTION cd_audit_mrns(detail text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS"
  "  $$DECLARE j jsonb; BEGIN j := detail::jsonb;"
  "  RETURN array_remove(ARRAY[j->>'mrn', j->'detail'->>'mrn'], NULL);"
  "  EXCEPTION WHEN others THEN RETURN '{}'::text[]; END$$;"
  "CREATE INDEX audit_mrns ON audit USING gin (cd_audit_mrns(detail));",

  /* 4 → 5: retention on the server (cd-pg-retention.c). Legal holds
   * placed on the server, with the SQLite archive's meaning (a patient,
   * merges followed, or one document; released, never deleted or edited).
   * A tombstone for each server document a station's destruction emptied:
   * what it was (patient, type, date, pages), when, by whom and under
   * which policy (the station's retention run, its plan and policy
   * checksums, its certificate's), append-only. Triggers keep a destroyed
   * document destroyed, as in SQLite. */
  "CREATE TABLE legal_holds ("
  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  kind text NOT NULL CHECK (kind IN ('patient', 'document')),"
  "  mrn text,"                                     /* kind patient */
  "  document_id bigint REFERENCES documents (id)," /* kind document */
  "  reason text NOT NULL,"
  "  matter text,"
  "  placed_by text NOT NULL,"
  "  placed_at text NOT NULL,"
  "  released_by text,"
  "  released_at text,"
  "  release_reason text,"
  "  CHECK ((kind = 'patient' AND mrn IS NOT NULL) OR (kind = 'document' AND document_id IS NOT NULL)));"
  "CREATE INDEX legal_holds_mrn ON legal_holds (mrn) WHERE released_at IS NULL;"
  "CREATE INDEX legal_holds_document ON legal_holds (document_id) WHERE released_at IS NULL;"
  "CREATE FUNCTION cd_legal_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
  "  IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'a legal hold is released, never deleted'; END IF;"
  "  IF OLD.released_at IS NOT NULL OR NEW.released_at IS NULL OR NEW.kind IS DISTINCT FROM OLD.kind"
  "    OR NEW.mrn IS DISTINCT FROM OLD.mrn OR NEW.document_id IS DISTINCT FROM OLD.document_id"
  "    OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.matter IS DISTINCT FROM OLD.matter"
  "    OR NEW.placed_by IS DISTINCT FROM OLD.placed_by OR NEW.placed_at IS DISTINCT FROM OLD.placed_at THEN"
  "    RAISE EXCEPTION 'a legal hold can only be released, once'; END IF;"
  "  RETURN NEW; END$$;"
  "CREATE TRIGGER legal_holds_guard BEFORE UPDATE OR DELETE ON legal_holds"
  "  FOR EACH ROW EXECUTE FUNCTION cd_legal_holds_guard();"
  /* the MRN a patient's documents are filed under now: merges followed */
  "CREATE FUNCTION cd_mrn_survivor(start text) RETURNS text LANGUAGE sql STABLE AS $$"
  "  WITH RECURSIVE chain (mrn, depth) AS (SELECT start, 0 UNION ALL SELECT p.merged_into, c.depth + 1"
  "    FROM chain c JOIN patients p ON p.mrn = c.mrn WHERE p.merged_into IS NOT NULL AND c.depth < 64)"
  "  SELECT mrn FROM chain ORDER BY depth DESC LIMIT 1 $$;"

  "CREATE TABLE tombstones ("
  "  document_id bigint PRIMARY KEY REFERENCES documents (id),"
  "  station text NOT NULL REFERENCES stations (name)," /* whose destruction */
  "  source_document_id bigint NOT NULL,"               /* the document in its spool */
  "  source_run_id bigint NOT NULL,"                    /* the spool's retention run */
  "  patient_mrn text,"
  "  type text,"
  "  date text,"
  "  last_service text,"
  "  keep_until text,"
  "  rule text,"
  "  pages integer NOT NULL,"
  "  created text,"
  "  destroyed_at text NOT NULL,"
  "  destroyed_by text NOT NULL," /* the run's approver, who carried it out */
  "  planned_by text NOT NULL,"   /* who made the plan */
  "  two_person boolean NOT NULL,"
  "  method text NOT NULL,"
  "  plan_sha256 text NOT NULL,"
  "  policy_sha256 text NOT NULL,"
  "  certificate_sha256 text,"
  "  delivered text NOT NULL);"
  "CREATE TRIGGER tombstones_append_only BEFORE UPDATE OR DELETE ON tombstones"
  "  FOR EACH ROW EXECUTE FUNCTION cd_audit_append_only();"
  "CREATE FUNCTION cd_destroyed_guard() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
  "  IF TG_TABLE_NAME = 'documents' THEN"
  "    IF EXISTS (SELECT 1 FROM tombstones WHERE document_id = OLD.id) THEN"
  "      RAISE EXCEPTION 'a destroyed document cannot be deleted: its tombstone stays'; END IF;"
  "    RETURN OLD; END IF;"
  "  IF TG_OP = 'INSERT' THEN"
  "    IF NEW.document_id IS NOT NULL AND EXISTS (SELECT 1 FROM tombstones WHERE document_id = NEW.document_id) THEN"
  "      RAISE EXCEPTION 'a destroyed document takes no pages'; END IF;"
  "  ELSIF EXISTS (SELECT 1 FROM tombstones WHERE document_id = OLD.document_id) AND (NEW.text IS NOT NULL"
  "    OR NEW.words IS NOT NULL OR NEW.image_sha256 IS NOT NULL OR NEW.facts IS NOT NULL"
  "    OR NEW.document_id IS DISTINCT FROM OLD.document_id) THEN"
  "    RAISE EXCEPTION 'a destroyed page stays empty'; END IF;"
  "  RETURN NEW; END$$;"
  "CREATE TRIGGER destroyed_document_no_delete BEFORE DELETE ON documents"
  "  FOR EACH ROW EXECUTE FUNCTION cd_destroyed_guard();"
  "CREATE TRIGGER destroyed_pages_stay_empty BEFORE INSERT OR UPDATE ON pages"
  "  FOR EACH ROW EXECUTE FUNCTION cd_destroyed_guard();",

  /* 5 → 6: the RUM index holds the pages' copies of their document's
   * type beside the words (cd-pg-search.c, "pages_rum_filters"), so a
   * ranked search with a type intersects it in the index and ranks the
   * pages of that type only. The index stays optional (the
   * `rum` extension): a server that had the one-column index gets the new
   * one in its place; one without it is left as it was, and
   * cd_pg_search_prepare() makes the new one when it can. */
  "DO $$BEGIN"
  "  IF to_regclass('pages_rum') IS NOT NULL AND (SELECT count(*) FROM pg_attribute WHERE"
  "    attrelid = 'pages'::regclass AND attname IN ('doc_type', 'doc_date') AND NOT attisdropped) = 2 THEN"
  "    DROP INDEX pages_rum;"
  "    CREATE INDEX pages_rum_filters ON pages"
  "      USING rum (tsv rum_tsvector_ops, doc_type rum_text_ops);"
  "  END IF;"
  "END$$;",

  /* 6 → 7: the pages' GIN index holds, beside the words, each page's
   * keys: its range of 1,024 page ids (`id / 1024` as text) and its copy
   * of its document's type (`t:` and the type). A recent window
   * (cd-pg-search.c, cd_pg_search_window()) asks the index for the words
   * on the newest ranges only, and of one type: GIN intersects the keys'
   * posting lists with the words' and skips the older postings, so the
   * window reads the postings and rows of its ranges, not of the archive
   * (the words' whole posting lists were 202 ms for two common words at
   * 1 M pages). It serves every other search on the words as the
   * one-column index did, which it replaces. The pages' copies of type
   * and date are made here when the server never had them (their
   * triggers and backfill stay cd_pg_search_prepare()'s). */
  "ALTER TABLE pages ADD COLUMN IF NOT EXISTS doc_type text, ADD COLUMN IF NOT EXISTS doc_date text;"
  "DROP INDEX IF EXISTS pages_tsv;"
  "CREATE INDEX pages_tsv_keys ON pages USING gin (tsv, (ARRAY[(id / 1024)::text, 't:' || doc_type]));"
  /* the planner's statistics of the keys (an expression's are the
   * index's), for the share of pages a set of ranges holds */
  "ANALYZE pages;",
};
