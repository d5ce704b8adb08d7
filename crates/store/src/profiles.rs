//! Changing and deleting an account from the profile pages (`identity::ProfileStore`).

use diesel::prelude::*;
use identity::{Account, AccountId, ProfileStore, ProfileUpdate};

use crate::Store;
use crate::accounts::AccountRow;
use crate::logout::now_secs;
use crate::schema::{accounts, codes, sessions};

impl ProfileStore for Store {
    fn update_profile(
        &self,
        account: &AccountId,
        update: &ProfileUpdate,
        now: i64,
    ) -> Result<Option<Account>, identity::StoreError> {
        let id = account.as_str();
        // The update first, then the read (SQLite: write before reading, see `transaction`).
        let row = self.transaction(|c| {
            let changed = diesel::update(accounts::table.find(id))
                .set((
                    accounts::name.eq(update.name.as_deref()),
                    accounts::given_name.eq(update.given_name.as_deref()),
                    accounts::family_name.eq(update.family_name.as_deref()),
                    accounts::phone_number.eq(update.phone_number.as_deref()),
                    accounts::updated_at.eq(now),
                ))
                .execute(c)?;
            if changed == 0 {
                return Ok(None);
            }
            Ok(accounts::table.find(id).select(AccountRow::as_select()).first(c).optional()?)
        })?;
        Ok(row.map(Account::from))
    }

    /// Sessions, one-time codes, the lockout row and the password history go by `ON DELETE
    /// CASCADE` (SQLite enforces it: `foreign_keys = ON` on every connection). Authorization
    /// codes name the account only as their `subject`, so they are deleted here: a code issued a
    /// moment before must not yield tokens for an account that no longer exists.
    fn delete_account(&self, account: &AccountId) -> Result<bool, identity::StoreError> {
        let id = account.as_str();
        let deleted = self.transaction(|c| {
            diesel::delete(codes::table.filter(codes::subject.eq(id))).execute(c)?;
            // The sessions would go by cascade; ended here, their relying parties hear of it
            // (Back-Channel Logout §2.5).
            let ended: Vec<String> = diesel::delete(sessions::table.filter(sessions::account_id.eq(id)))
                .returning(sessions::id)
                .get_results(c)?;
            crate::logout::queue_logouts_in(c, &ended, now_secs())?;
            Ok(diesel::delete(accounts::table.find(id)).execute(c)?)
        })?;
        Ok(deleted == 1)
    }
}
