-- The operators' API: who may call it (tokens), what they did (audit log), and the business
-- data they maintain (mappings, settings).

-- Minted API tokens. Only the SHA-256 of the secret is stored: a leaked table opens nothing.
CREATE TABLE api_tokens (
    id             uuid PRIMARY KEY,
    -- Shown in the audit log as the actor, so it names a person or a script.
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    secret_sha256  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    CONSTRAINT api_tokens_name_key UNIQUE (name),
    CONSTRAINT api_tokens_secret_sha256_key UNIQUE (secret_sha256)
);

-- Every action taken through the API (and automatic resolutions), with who and when.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    note         text
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);

-- Magento value -> SAP B1 value, one table for every kind; the value's shape per kind is
-- validated by the domain before it is stored.
CREATE TABLE mappings (
    kind        text NOT NULL,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Business settings: one row, the whole document replaced on every change.
CREATE TABLE settings (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL
);

-- Cursor paging of the orders list (newest first) and the exception filter by SKU.
CREATE INDEX orders_newest_idx ON orders (created_at DESC, increment_id DESC);
CREATE INDEX exceptions_skus_idx ON exceptions USING gin (skus);
