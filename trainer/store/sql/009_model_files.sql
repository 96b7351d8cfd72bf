-- 009_model_files.sql - model files in the database (docs/schema.md, section 5.16;
-- docs/operations.md, "Model files in the database").
--
-- A version's checkpoint (and its drift reference) is inserted in the same transaction as the
-- registry commit that registers the version, so a version is never without its file nor a file
-- without its version; the ranking's and the A/B test's reports (Markdown and pictures) follow
-- once written. Every host loads a version from here through a local cache keyed by checksum, so
-- hosts that share the database need no shared file system. `name` is relative ("v1.2.ckpt",
-- "reports/rank-2024-04-01.png"); crc32 and size are those of `bytes`, checked on every read.
-- bytea rather than large objects: a row and its bytes are one thing (deleted, dumped, replicated
-- and rolled back together; no orphans, no lo_unlink); a checkpoint is a few MB, far below
-- bytea's 1 GB. STORAGE EXTERNAL: out of line without trying to compress float weights and PNGs.

CREATE TABLE model_files (
    family     text NOT NULL DEFAULT 'default',  -- model family (one today)
    name       text NOT NULL CHECK (name <> '' AND name !~ '(^/|\.\./|^\.\.$)'),
    kind       text NOT NULL CHECK (kind IN ('checkpoint', 'reference', 'report', 'picture')),
    bytes      bytea NOT NULL,
    crc32      bigint NOT NULL CHECK (crc32 BETWEEN 0 AND 4294967295),
    size       bigint NOT NULL CHECK (size = octet_length(bytes)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (family, name)
);
ALTER TABLE model_files ALTER COLUMN bytes SET STORAGE EXTERNAL;
