-- A refresh token family keeps the upstream provider that authenticated the End-User (the ID
-- token's `idp`), beside the `auth_time` and `amr` it already keeps: OIDC Core §12.2, a
-- refreshed ID token describes the original authentication. NULL: a local sign-in.
ALTER TABLE refresh_tokens ADD COLUMN idp TEXT;
