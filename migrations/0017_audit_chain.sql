-- The tamper-evident trail: rows are sealed after they commit, in order, each with a sequence
-- number and an HMAC over its content and the previous row's MAC (see sigra/src/audit/chain.rs).
-- One head row keeps the last seal and the anchor the retention cleanup moves.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN chain_mac TEXT;
CREATE UNIQUE INDEX audit_events_chain_seq_key ON audit_events (chain_seq);
CREATE INDEX audit_events_unsealed_idx ON audit_events (id) WHERE chain_seq IS NULL;

CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY,
    sealed_seq BIGINT NOT NULL,
    sealed_mac TEXT NOT NULL,
    anchor_seq BIGINT NOT NULL,
    anchor_mac TEXT NOT NULL,
    key_check TEXT NOT NULL
);
INSERT INTO audit_chain (id, sealed_seq, sealed_mac, anchor_seq, anchor_mac, key_check)
VALUES (1, 0, '', 0, '', '');
