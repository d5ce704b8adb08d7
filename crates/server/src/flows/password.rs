//! Password sign-in: email → account (or none) → one argon2 verification on the hash pool.
//! An unknown email and a wrong password take the same path, time and answer.

use identity::{AccountStore, Email, SignIn};

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<SignIn, Failure> {
    let account = match Email::parse(email) {
        Ok(email) => state.db(move |s| s.find_account_by_email(&email)).await?,
        Err(_) => None,
    };
    Ok(identity::sign_in_with_password(&state.hash_pool, account, password).await)
}
