//! The `gatehouse` command line: parse, load settings, call one operation in the `server`
//! crate, print JSON or one line saying what to fix.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::commands::{self, CommandError};
use server::{AccountRegistration, ClientRegistration, Settings};

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "An OpenID Connect provider for city portals")]
struct Cli {
    /// A TOML settings file; GATEHOUSE_* environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process; boxing would only add noise")]
enum Command {
    /// Run the provider.
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Delete expired and spent rows now (every node also does so on a schedule, see
    /// [maintenance] in config/gatehouse.toml), then exit.
    Purge,
    /// Register, list and delete clients (portals).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Create and list accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// End browser sessions: one account's, or every account's.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Inspect and rotate signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The admin API's credential.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a new random admin token and its SHA-256: give the token to operators, put the
    /// hash in admin.token_sha256 (GATEHOUSE_ADMIN__TOKEN_SHA256).
    Token,
}

#[derive(Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process; boxing would only add noise")]
enum ClientCommand {
    /// Register a client; prints its client_id and (unless --public) its client_secret once.
    Create {
        #[arg(long)]
        name: String,
        /// Required for the authorization_code grant (the default).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where the portal may ask to be sent after an RP-initiated logout (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where gatehouse POSTs a logout token when a session the portal took part in ends
        /// (OpenID Connect Back-Channel Logout; https, or http on loopback).
        #[arg(long = "backchannel-logout-uri")]
        backchannel_logout_uri: Option<String>,
        /// A public client (a single-page or native app): no secret, PKCE only.
        #[arg(long)]
        public: bool,
        /// authorization_code (the default), refresh_token (with authorization_code; refresh
        /// tokens for the offline_access scope), client_credentials (confidential clients).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// ID token signing algorithm: RS256 (default) or ES256.
        #[arg(long = "id-token-alg")]
        id_token_signed_response_alg: Option<String>,
        /// An imported account attribute this client may receive as a claim (repeatable).
        #[arg(long = "claim")]
        extra_claims: Vec<String>,
        /// An RFC 8707 resource (an absolute URI) this client may ask client_credentials
        /// tokens for, and whose tokens it may introspect (repeatable).
        #[arg(long = "audience")]
        audiences: Vec<String>,
        /// Refresh token idle lifetime for this client, seconds (default: the setting
        /// tokens.refresh_token_idle_ttl).
        #[arg(long = "refresh-idle-ttl", value_name = "SECONDS")]
        refresh_token_idle_ttl: Option<i64>,
        /// Refresh token absolute lifetime for this client, seconds (default: the setting
        /// tokens.refresh_token_absolute_ttl).
        #[arg(long = "refresh-absolute-ttl", value_name = "SECONDS")]
        refresh_token_absolute_ttl: Option<i64>,
        /// Not a city portal: citizens are asked to allow it access (consent) before it signs
        /// them in.
        #[arg(long = "third-party")]
        third_party: bool,
        /// Accept only pushed authorization requests (RFC 9126, POST /par) from this client.
        #[arg(long = "require-par")]
        require_par: bool,
        /// How the client authenticates at the token endpoint (OIDC Core §9):
        /// client_secret_basic (default; client_secret_post works too), client_secret_jwt,
        /// private_key_jwt (with --jwks or --jwks-uri), none (--public).
        #[arg(long = "auth-method", value_name = "METHOD")]
        auth_method: Option<String>,
        /// private_key_jwt: a file holding the client's public keys as a JWKS document.
        #[arg(long = "jwks", value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
        /// private_key_jwt: the URL where the client publishes its JWKS (https).
        #[arg(long = "jwks-uri", value_name = "URL")]
        jwks_uri: Option<String>,
    },
    List,
    Delete {
        client_id: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; prints its id.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email_verified: bool,
    },
    List,
    /// Import accounts from a CSV file (header: email, given_name, family_name, name,
    /// phone_number, and any extra attribute columns); they are claimed by signing up.
    Import {
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum SessionCommand {
    /// End every session of one account (--email), or of every account (--all); portals are
    /// told by back-channel logout. Tokens are not revoked and no account is locked.
    End {
        /// The account whose sessions end.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        email: Option<String>,
        /// Every session of every account (incident response).
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Every signing key: pending (published, not signing yet), active, retired (published
    /// until the tokens it signed expire) or expired.
    List,
    /// Start a rotation: a new key is published now and signs after keys.publish_lead_secs,
    /// when the current one retires.
    Rotate {
        /// Only this algorithm (RS256 or ES256); both by default.
        #[arg(long)]
        alg: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Admin(AdminCommand::Token) = cli.command {
        // Needs no settings: it only makes a random token.
        return print(Ok(commands::admin_token()));
    }
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    server::startup::init_logging(&settings);
    let result = match cli.command {
        Command::Serve => match server::block_on(server::startup::serve(settings)) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => Err(CommandError::from(e)),
        },
        Command::Migrate => commands::migrate(&settings),
        Command::Purge => commands::purge(&settings),
        Command::Client(ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            public,
            grant_types,
            scopes,
            id_token_signed_response_alg,
            extra_claims,
            audiences,
            refresh_token_idle_ttl,
            refresh_token_absolute_ttl,
            third_party,
            require_par,
            auth_method,
            jwks,
            jwks_uri,
        }) => match jwks.as_deref().map(commands::read_jwks).transpose() {
            Err(e) => Err(e),
            Ok(jwks) => commands::client_create(
                &settings,
                ClientRegistration {
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    backchannel_logout_uri,
                    public,
                    grant_types,
                    scopes,
                    id_token_signed_response_alg,
                    extra_claims,
                    audiences,
                    refresh_token_idle_ttl,
                    refresh_token_absolute_ttl,
                    third_party,
                    require_par,
                    token_endpoint_auth_method: auth_method,
                    jwks,
                    jwks_uri,
                },
            ),
        },
        Command::Client(ClientCommand::List) => commands::client_list(&settings),
        Command::Client(ClientCommand::Delete { client_id }) => {
            commands::client_delete(&settings, &client_id)
        }
        Command::User(UserCommand::Create { email, password, name, email_verified }) => server::block_on(
            commands::user_create(&settings, AccountRegistration { email, password, name, email_verified }),
        ),
        Command::User(UserCommand::List) => commands::user_list(&settings),
        Command::User(UserCommand::Import { file }) => commands::user_import(&settings, &file),
        Command::Session(SessionCommand::End { email: Some(email), .. }) => {
            commands::sessions_end_of(&settings, &email)
        }
        Command::Session(SessionCommand::End { email: None, .. }) => commands::sessions_end_all(&settings),
        Command::Admin(AdminCommand::Token) => Ok(commands::admin_token()),
        Command::Keys(KeysCommand::List) => commands::keys_list(&settings),
        Command::Keys(KeysCommand::Rotate { alg }) => commands::keys_rotate(&settings, alg.as_deref()),
    };
    print(result)
}

/// Prints a command's JSON, or its one-line error.
fn print(result: Result<serde_json::Value, CommandError>) -> ExitCode {
    match result {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("gatehouse: {error}");
    ExitCode::FAILURE
}
