-- Order pipeline: one-time seeds. A seed (the starter mappings that make a fresh install post
-- against the SAP B1 simulator's default seed) is applied once per database: its row here says
-- it happened, so an admin who later deletes every mapping does not get them back on restart.
CREATE TABLE one_time_seeds (
    name        text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
