//! `gatehouse user import FILE.csv`: accounts an operator brings from a legacy system, to be
//! claimed when their owners sign up with the same email. The header names the columns:
//! `email` (required), `given_name`, `family_name`, `name`, `phone_number`; any other column is
//! an attribute (a legacy license-account number, …) that clients registered with `--claim NAME`
//! receive at userinfo. Every row is checked before anything is written: a bad file changes
//! nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use identity::{AccountId, Email, ImportedAccount};

const STANDARD: [&str; 5] = ["email", "given_name", "family_name", "name", "phone_number"];

/// Parses and checks the whole file; the error is one line naming the file, line and problem.
pub fn read(path: &Path, now: i64) -> Result<Vec<ImportedAccount>, String> {
    let file = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read {file}: {e}"))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if !headers.iter().any(|h| h == "email") {
        return Err(format!("{file}: the header has no email column"));
    }
    for h in headers.iter().filter(|h| !STANDARD.contains(&h.as_str())) {
        if !oauth::client::is_extra_claim_name(h) {
            return Err(format!(
                "{file}: column {h:?} cannot be a claim name: use lower-case letters, digits and _"
            ));
        }
    }
    let mut seen = HashSet::new();
    let mut accounts = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("{file} line {line}: {e}"))?;
        let mut value = BTreeMap::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            if !v.is_empty() {
                value.insert(h.clone(), v.to_owned());
            }
        }
        let raw = value.remove("email").unwrap_or_default();
        let email = Email::parse(&raw).map_err(|e| format!("{file} line {line}: {e}"))?;
        if !seen.insert(email.clone()) {
            return Err(format!("{file} line {line}: {email} appears twice in the file"));
        }
        accounts.push(ImportedAccount {
            id: AccountId::generate(),
            email,
            given_name: value.remove("given_name"),
            family_name: value.remove("family_name"),
            name: value.remove("name"),
            phone_number: value.remove("phone_number"),
            attributes: value,
            created_at: now,
        });
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("legacy.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn standard_columns_and_attributes_are_read() {
        let (_d, path) = file(
            "Email,given_name,family_name,phone_number,license_account\n Betty@X.org ,Betty,Rubble,404-555-0100,LIC-42\nfred@x.org,,,,\n",
        );
        let accounts = read(&path, 7).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].email.as_str(), "betty@x.org");
        assert_eq!(accounts[0].phone_number.as_deref(), Some("404-555-0100"));
        assert_eq!(accounts[0].attributes.get("license_account").map(String::as_str), Some("LIC-42"));
        assert!(accounts[1].attributes.is_empty() && accounts[1].given_name.is_none());
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_line() {
        let (_d, path) = file("email\na@x.org\nnot-an-email\n");
        assert!(read(&path, 0).unwrap_err().contains("line 3"));
        let (_d, path) = file("email\na@x.org\nA@x.org\n");
        assert!(read(&path, 0).unwrap_err().contains("twice"));
        let (_d, path) = file("name\nBetty\n");
        assert!(read(&path, 0).unwrap_err().contains("no email column"));
        let (_d, path) = file("email,sub\na@x.org,x\n");
        assert!(read(&path, 0).unwrap_err().contains("\"sub\""));
        assert!(read(Path::new("/nonexistent.csv"), 0).unwrap_err().contains("/nonexistent.csv"));
    }
}
