-- Browser sessions of the operations page (`GET /`). The API token is entered once on the
-- login form and exchanged for a random session id held in an HttpOnly, SameSite=Strict
-- cookie, so no script on the page can read either. Only the SHA-256 of the session id is
-- stored (a leaked table opens nothing); the token's hash is kept so that every request
-- re-checks the token: revoking it ends its sessions at once.
CREATE TABLE ui_sessions (
    id_sha256    text        PRIMARY KEY,
    token_sha256 text        NOT NULL,
    -- Sent back in every form of the page and compared on every POST (CSRF).
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX ui_sessions_expires_at_idx ON ui_sessions (expires_at);
