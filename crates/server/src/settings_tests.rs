//! Settings: layering, naming of bad keys, and the shipped file against the defaults.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gatehouse.toml")
}

#[test]
fn no_file_and_no_env_gives_the_contract_defaults() {
    let s = Settings::load(None, env(&[("PATH", "/bin")])).unwrap();
    assert_eq!(s.bind, "127.0.0.1:8080");
    assert_eq!(s.issuer, "http://127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite://data/gatehouse.db");
    assert_eq!(s.tokens.code_ttl, 60);
}

#[test]
fn environment_overrides_file_and_nests_with_double_underscore() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:9000\"\n[passwords.argon2]\nmemory_kib = 4096\n").unwrap();
    let s = Settings::load(
        Some(&file),
        env(&[
            ("GATEHOUSE_ISSUER", "https://id.atlanta.example"),
            ("GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB", "1024"),
            ("GATEHOUSE_DATABASE_URL", "postgres://u:p@127.0.0.1:5432/g"),
        ]),
    )
    .unwrap();
    assert_eq!(s.bind, "127.0.0.1:9000");
    assert_eq!(s.issuer, "https://id.atlanta.example");
    assert_eq!(s.passwords.argon2.memory_kib, 1024);
    assert_eq!(s.database_url, "postgres://u:p@127.0.0.1:5432/g");
}

#[test]
fn unknown_keys_are_named() {
    let e = Settings::load(None, env(&[("GATEHOUSE_PASSWORDS__COLOUR", "blue")])).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("passwords.colour") && text.contains("unknown setting"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.toml");
    std::fs::write(&file, "[tokens]\ncode_tll = 60\n").unwrap();
    let text = Settings::load(Some(&file), env(&[])).unwrap_err().to_string();
    assert!(text.contains("tokens.code_tll") && text.contains("g.toml"), "{text}");
}

#[test]
fn invalid_values_are_named() {
    for (key, value, named) in [
        ("GATEHOUSE_BIND", "nowhere", "bind"),
        ("GATEHOUSE_ISSUER", "http://id.example.org", "issuer"),
        ("GATEHOUSE_ISSUER", "https://id.example.org/?x=1", "issuer"),
        ("GATEHOUSE_DATABASE_URL", "mysql://x", "database_url"),
        ("GATEHOUSE_TOKENS__CODE_TTL", "-5", "tokens.code_ttl"),
        ("GATEHOUSE_TOKENS__CODE_TTL", "soon", "tokens.code_ttl"),
        ("GATEHOUSE_KEYS__ACCESS_TOKEN_ALG", "HS256", "keys.access_token_alg"),
        ("GATEHOUSE_LOG__FORMAT", "xml", "log.format"),
        ("GATEHOUSE_METRICS__TOKEN", "short", "metrics.token"),
        ("GATEHOUSE_METRICS__ENABLED", "maybe", "metrics.enabled"),
    ] {
        let text = Settings::load(None, env(&[(key, value)])).unwrap_err().to_string();
        assert!(text.starts_with(&format!("setting {named}")), "{key}={value}: {text}");
    }
    let text = Settings::load(Some(Path::new("/nonexistent/g.toml")), env(&[])).unwrap_err().to_string();
    assert!(text.contains("/nonexistent/g.toml"), "{text}");
}

/// The shipped file documents every setting with its default value, and nothing else.
#[test]
fn shipped_config_matches_the_defaults_key_for_key() {
    let from_file = Settings::load(Some(&shipped()), env(&[])).unwrap();
    let file_json = serde_json::to_value(&from_file).unwrap();
    let defaults = serde_json::to_value(Settings::load(None, env(&[])).unwrap()).unwrap();
    assert_eq!(file_json, defaults, "config/gatehouse.toml and the defaults differ");

    let text = std::fs::read_to_string(shipped()).unwrap();
    let table = {
        use figment::Provider;
        let mut data = Toml::string(&text).data().unwrap();
        data.remove(&figment::Profile::Default).unwrap()
    };
    let mut in_file = Vec::new();
    toml_keys::flatten("", &table, &mut in_file);
    let mut in_struct = Vec::new();
    json_keys("", &defaults, &mut in_struct);
    in_file.sort();
    in_struct.sort();
    assert_eq!(in_file, in_struct, "every setting must appear in config/gatehouse.toml");
    for key in &in_struct {
        let env_name = format!("GATEHOUSE_{}", key.replace('.', "__").to_uppercase());
        assert!(text.contains(&env_name), "config/gatehouse.toml does not name {env_name}");
    }
}

fn json_keys(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    if let serde_json::Value::Object(map) = v {
        for (k, v) in map {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if v.is_object() {
                json_keys(&key, v, out);
            } else {
                out.push(key);
            }
        }
    }
}

mod toml_keys {
    pub use figment::value::Dict as Table;

    pub fn flatten(prefix: &str, t: &Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                figment::value::Value::Dict(_, d) => flatten(&key, d, out),
                _ => out.push(key),
            }
        }
    }
}

#[test]
fn metrics_settings_load_and_the_token_stays_out_of_debug_output() {
    let token = "a-scrape-token-long-enough";
    let s = Settings::load(
        None,
        env(&[("GATEHOUSE_METRICS__ENABLED", "false"), ("GATEHOUSE_METRICS__TOKEN", token)]),
    )
    .unwrap();
    assert!(!s.metrics.enabled);
    assert_eq!(s.metrics.token, token);
    let debug = format!("{s:?}");
    assert!(!debug.contains(token) && debug.contains("<redacted>"), "{debug}");
}

/// The production template loads once its secrets come from the environment, and says what
/// production needs: PostgreSQL, an https issuer, SMTP, JSON logs, a metrics token.
#[test]
fn example_config_is_a_valid_production_template() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gatehouse.example.toml");
    let secrets = [
        ("GATEHOUSE_DATABASE_URL", "postgres://gatehouse:pw@db.internal:5432/gatehouse"),
        ("GATEHOUSE_KEYS__MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("GATEHOUSE_MAIL__SMTP_URL", "smtp://u:p@relay.example:587?tls=required"),
        ("GATEHOUSE_METRICS__TOKEN", "0123456789abcdef0123456789abcdef"),
    ];
    let s = Settings::load(Some(&example), env(&secrets)).unwrap();
    assert!(s.issuer.starts_with("https://"));
    assert!(s.database_url.starts_with("postgres://"));
    assert_eq!((s.mail.transport.as_str(), s.log.format.as_str()), ("smtp", "json"));
    assert!(s.metrics.enabled && !s.metrics.token.is_empty());

    // Without its secrets the file alone does not quietly run: no relay is a start-up error.
    let text = Settings::load(Some(&example), env(&[])).unwrap_err().to_string();
    assert!(text.contains("mail.smtp_url"), "{text}");
}

#[test]
fn federation_providers_come_from_the_environment() {
    let s = Settings::load(
        None,
        env(&[
            ("GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID", "g-client"),
            ("GATEHOUSE_FEDERATION__GOOGLE__ISSUER", "http://127.0.0.1:9999"),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__LABEL", "City ID"),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__ISSUER", "https://id.city.example"),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__CLIENT_ID", "c-client"),
            ("GATEHOUSE_ACCOUNTS__METHOD_BINDING", "link-verified-email"),
        ]),
    )
    .unwrap();
    let providers = s.federation.providers().unwrap();
    assert_eq!(providers.len(), 2);
    assert_eq!(
        (providers[0].name.as_str(), providers[0].issuer.as_str()),
        ("google", "http://127.0.0.1:9999")
    );
    assert_eq!(providers[0].scopes, ["openid", "email", "profile"]);
    assert_eq!((providers[1].name.as_str(), providers[1].label.as_str()), ("city", "City ID"));
    assert_eq!(s.accounts.method_binding, "link-verified-email");
}

#[test]
fn bad_federation_settings_are_named() {
    for (key, value, named) in [
        ("GATEHOUSE_ACCOUNTS__METHOD_BINDING", "anything", "accounts.method_binding"),
        ("GATEHOUSE_FEDERATION__HTTP_TIMEOUT_SECS", "0", "federation.http_timeout_secs"),
        ("GATEHOUSE_FEDERATION__OIDC__CITY__CLIENT_ID", "c", "federation.oidc.city.label"),
        ("GATEHOUSE_FEDERATION__APPLE__CLIENT_ID", "gov.atlanta.id", "federation.apple.team_id"),
        ("GATEHOUSE_FEDERATION__FACEBOOK__CLIENT_ID", "1234", "federation.facebook.client_secret"),
    ] {
        let text = Settings::load(None, env(&[(key, value)])).unwrap_err().to_string();
        assert!(text.starts_with(&format!("setting {named}")), "{key}={value}: {text}");
    }
}

#[test]
fn facebook_comes_from_the_environment_between_microsoft_and_generic_providers() {
    let s = Settings::load(
        None,
        env(&[
            ("GATEHOUSE_FEDERATION__FACEBOOK__CLIENT_ID", "1234"),
            ("GATEHOUSE_FEDERATION__FACEBOOK__CLIENT_SECRET", "app-secret"),
            ("GATEHOUSE_FEDERATION__FACEBOOK__GRAPH_URL", "http://127.0.0.1:9999/v19.0"),
            ("GATEHOUSE_FEDERATION__MICROSOFT__CLIENT_ID", "m"),
        ]),
    )
    .unwrap();
    let names: Vec<_> = s.federation.providers().unwrap().into_iter().map(|p| p.label).collect();
    assert_eq!(names, ["Microsoft", "Facebook"]);
    assert!(!format!("{s:?}").contains("app-secret"));
}

#[test]
fn trusted_proxies_and_limits_load_from_the_environment_and_bad_ones_are_named() {
    let s = Settings::load(
        None,
        env(&[
            ("GATEHOUSE_HTTP__TRUSTED_PROXIES", "[\"10.0.0.0/8\", \"192.0.2.5\"]"),
            ("GATEHOUSE_LIMITS__TOKEN_PER_IP_PER_MINUTE", "0"),
        ]),
    )
    .unwrap();
    assert_eq!(s.http.trusted_proxies, ["10.0.0.0/8", "192.0.2.5"]);
    assert_eq!(s.limits.token_per_ip_per_minute, 0);
    let bad = Settings::load(None, env(&[("GATEHOUSE_HTTP__TRUSTED_PROXIES", "[\"proxy.internal\"]")]));
    assert!(bad.unwrap_err().to_string().starts_with("setting http.trusted_proxies:"));
    assert_eq!(s.http.client_ip_header, "x-forwarded-for");
    let forwarded = Settings::load(None, env(&[("GATEHOUSE_HTTP__CLIENT_IP_HEADER", "Forwarded")]));
    assert_eq!(forwarded.unwrap().http.client_ip_header, "Forwarded");
    let bad = Settings::load(None, env(&[("GATEHOUSE_HTTP__CLIENT_IP_HEADER", "x-real-ip")])).unwrap_err();
    assert!(bad.to_string().starts_with("setting http.client_ip_header:"), "{bad}");
    assert!(bad.to_string().contains("x-forwarded-for or forwarded"), "{bad}");
    let cache = Settings::load(None, env(&[("GATEHOUSE_DATABASE__CLIENT_CACHE_SECS", "0")])).unwrap();
    assert_eq!(cache.database.client_cache_secs, 0);
    let bad = Settings::load(None, env(&[("GATEHOUSE_LIMITS__SIGN_IN_PER_ACCOUNT_WINDOW_SECS", "0")]));
    assert!(bad.unwrap_err().to_string().contains("limits.sign_in_per_account_window_secs"));
}

#[test]
fn session_idle_timeouts_default_load_from_the_environment_and_a_negative_one_is_named() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!((s.sessions.idle_ttl, s.sessions.persistent_idle_ttl), (1800, 0));
    assert_eq!(s.sessions.idle(), identity::IdleTimeout { ttl: 1800, persistent_ttl: 0 });

    let s = Settings::load(
        None,
        env(&[("GATEHOUSE_SESSIONS__IDLE_TTL", "0"), ("GATEHOUSE_SESSIONS__PERSISTENT_IDLE_TTL", "604800")]),
    )
    .unwrap();
    assert_eq!(s.sessions.idle(), identity::IdleTimeout { ttl: 0, persistent_ttl: 604_800 });

    for key in ["idle_ttl", "persistent_idle_ttl"] {
        let var = format!("GATEHOUSE_SESSIONS__{}", key.to_uppercase());
        let text = Settings::load(None, env(&[(&var, "-1")])).unwrap_err().to_string();
        assert!(text.starts_with(&format!("setting sessions.{key}")), "{text}");
        assert!(text.contains("-1") && !text.contains('\n'), "one clear line: {text}");
    }
}
