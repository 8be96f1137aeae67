-- 0004_api_tokens.sql - API tokens (`fora token create|list|revoke`).
--
-- Only a SHA-256 hash of each token is stored: a leaked database does not
-- leak usable tokens.  `prefix` (the first characters, which carry no
-- secret worth guessing) lets an operator recognise a token in listings.
-- Tokens are revoked, never deleted, so the audit columns survive.

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    role         text NOT NULL CHECK (role IN ('read', 'admin')),
    hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
