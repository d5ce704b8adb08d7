-- An account's codes and refresh tokens, looked up by their subject: "Connected portals" in the
-- profile lists and removes them per account (store/src/portals.rs), and deleting an account
-- removes them. Without these, each is a scan of the whole table.
CREATE INDEX refresh_tokens_subject_client ON refresh_tokens (subject, client_id);
CREATE INDEX codes_subject_client ON codes (subject, client_id);
