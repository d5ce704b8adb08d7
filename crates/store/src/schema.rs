//! The tables, as both migration folders create them (`migrations/sqlite`, `migrations/postgres`).
//! Only SQL types both backends share: times are unix seconds, lists are JSON text.

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        sealed_private_key -> Binary,
        created_at -> BigInt,
        activates_at -> BigInt,
        retires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        email_verified -> Bool,
        name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        tokens_revoked_at -> Nullable<BigInt>,
        imported -> Bool,
        first_method -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_hash -> Text,
        account_id -> Text,
        auth_time -> BigInt,
        amr -> Text,
        persistent -> Bool,
        created_at -> BigInt,
        expires_at -> BigInt,
        idp -> Nullable<Text>,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        grant_types -> Text,
        scopes -> Text,
        token_endpoint_auth_method -> Text,
        id_token_signed_response_alg -> Text,
        created_at -> BigInt,
        extra_claims -> Text,
        refresh_token_idle_ttl -> Nullable<BigInt>,
        refresh_token_absolute_ttl -> Nullable<BigInt>,
        audiences -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        first_party -> Bool,
        require_pushed_authorization_requests -> Bool,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        sealed_secret -> Nullable<Binary>,
    }
}

diesel::table! {
    client_assertion_jtis (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        subject -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        auth_time -> BigInt,
        amr -> Text,
        session_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        idp -> Nullable<Text>,
        claims -> Nullable<Text>,
    }
}

diesel::table! {
    grant_claims (grant_id) {
        grant_id -> Text,
        claims -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    consents (account_id, client_id) {
        account_id -> Text,
        client_id -> Text,
        scopes -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    pushed_requests (uri_hash) {
        uri_hash -> Text,
        client_id -> Text,
        params -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        subject -> Text,
        scope -> Text,
        session_id -> Text,
        auth_time -> BigInt,
        amr -> Text,
        family_issued_at -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        idp -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_grants (grant_id) {
        grant_id -> Text,
        revoked_at -> BigInt,
    }
}

diesel::table! {
    lockouts (account_id) {
        account_id -> Text,
        failures -> Integer,
        window_started_at -> Nullable<BigInt>,
        locked_until -> Nullable<BigInt>,
        operator_locked -> Bool,
    }
}

diesel::table! {
    one_time_codes (code_hash) {
        code_hash -> Text,
        account_id -> Text,
        purpose -> Text,
        kind -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        tries -> Integer,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_history (id) {
        id -> BigInt,
        account_id -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        sent_at -> Nullable<BigInt>,
    }
}

// No foreign key to accounts: events outlive a deleted account.
diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> BigInt,
        account_id -> Nullable<Text>,
        kind -> Text,
        ip -> Nullable<Text>,
        detail -> Text,
        client_id -> Nullable<Text>,
    }
}

diesel::table! {
    registrations (code_hash) {
        code_hash -> Text,
        email -> Text,
        given_name -> Text,
        family_name -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    account_attributes (account_id, name) {
        account_id -> Text,
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        window_started_at -> BigInt,
        count -> Integer,
        last_at -> BigInt,
    }
}

diesel::table! {
    federated_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        account_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    session_clients (session_id, client_id) {
        session_id -> Text,
        client_id -> Text,
        subject -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    federation_flows (state_hash) {
        state_hash -> Text,
        provider -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        continue_to -> Text,
        keep_signed_in -> Bool,
        binding_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    backchannel_logouts (id) {
        id -> Text,
        client_id -> Text,
        subject -> Text,
        session_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(federated_identities -> accounts (account_id));
diesel::joinable!(account_attributes -> accounts (account_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(lockouts -> accounts (account_id));
diesel::joinable!(one_time_codes -> accounts (account_id));
diesel::joinable!(password_history -> accounts (account_id));
diesel::joinable!(codes -> clients (client_id));
diesel::joinable!(refresh_tokens -> clients (client_id));
diesel::joinable!(session_clients -> clients (client_id));
diesel::joinable!(backchannel_logouts -> clients (client_id));
diesel::joinable!(consents -> clients (client_id));
diesel::joinable!(pushed_requests -> clients (client_id));
diesel::joinable!(client_assertion_jtis -> clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    signing_keys,
    accounts,
    sessions,
    clients,
    codes,
    refresh_tokens,
    revoked_grants,
    lockouts,
    one_time_codes,
    password_history,
    outbox,
    federated_identities,
    session_clients,
    backchannel_logouts,
    grant_claims,
    consents
);
