DROP INDEX codes_subject_client;
DROP INDEX refresh_tokens_subject_client;
