use super::*;

const NOW: i64 = 1_800_000_000;

fn id(s: &str) -> ClientId {
    ClientId::from_stored(s.into())
}

fn consent(client: &str, name: &str, scopes: &[&str], at: i64) -> StoredConsent {
    StoredConsent {
        client_id: id(client),
        client_name: name.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        granted_at: at,
    }
}

fn family(client: &str, name: &str, scope: &str, issued: i64) -> StoredFamily {
    StoredFamily {
        client_id: id(client),
        client_name: name.into(),
        scope: scope.into(),
        family_issued_at: issued,
        expires_at: NOW + 3600,
        grant_revoked: false,
    }
}

fn active() -> SubjectStanding {
    SubjectStanding::Active { tokens_revoked_at: None }
}

fn facts(consents: Vec<StoredConsent>, families: Vec<StoredFamily>) -> PortalFacts {
    PortalFacts { consents, families, standing: active() }
}

fn names(portals: &[ConnectedPortal]) -> Vec<&str> {
    portals.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn a_consent_alone_connects_a_portal_that_cannot_keep_you_signed_in() {
    let list =
        connected(&facts(vec![consent("c1", "Permit helper", &["openid", "email"], NOW - 50)], vec![]), NOW);
    assert_eq!(
        list,
        vec![ConnectedPortal {
            client_id: id("c1"),
            name: "Permit helper".into(),
            scopes: vec!["openid".into(), "email".into()],
            since: NOW - 50,
            keeps_signed_in: false,
        }]
    );
}

#[test]
fn a_live_refresh_family_connects_a_first_party_portal() {
    let list = connected(&facts(vec![], vec![family("c2", "311", "openid offline_access", NOW - 10)]), NOW);
    assert_eq!(list.len(), 1);
    assert!(list[0].keeps_signed_in);
    assert_eq!(list[0].scopes, vec!["openid", "offline_access"]);
    assert_eq!(list[0].since, NOW - 10);
}

#[test]
fn consent_and_families_of_one_client_merge_into_one_entry() {
    let list = connected(
        &facts(
            vec![consent("c1", "Helper", &["openid", "email"], NOW - 5)],
            vec![
                family("c1", "Helper", "openid email offline_access", NOW - 100),
                family("c1", "Helper", "openid profile offline_access", NOW - 20),
            ],
        ),
        NOW,
    );
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p.scopes, vec!["openid", "email", "offline_access", "profile"]);
    assert_eq!(p.since, NOW - 100, "the earliest of the consent and the families");
    assert!(p.keeps_signed_in);
}

#[test]
fn expired_revoked_and_voided_families_do_not_connect() {
    let expired = StoredFamily { expires_at: NOW, ..family("c1", "A", "openid", NOW - 10) };
    let revoked = StoredFamily { grant_revoked: true, ..family("c2", "B", "openid", NOW - 10) };
    let before_reset = family("c3", "C", "openid", NOW - 100);
    let after_reset = family("c4", "D", "openid", NOW - 10);
    let f = PortalFacts {
        consents: vec![],
        families: vec![expired, revoked, before_reset, after_reset],
        standing: SubjectStanding::Active { tokens_revoked_at: Some(NOW - 50) },
    };
    assert_eq!(names(&connected(&f, NOW)), vec!["D"]);
}

#[test]
fn a_family_without_a_live_token_leaves_a_consented_portal_listed_but_not_signed_in() {
    let revoked =
        StoredFamily { grant_revoked: true, ..family("c1", "Helper", "openid offline_access", NOW - 9) };
    let list = connected(&facts(vec![consent("c1", "Helper", &["openid"], NOW - 5)], vec![revoked]), NOW);
    assert_eq!(list.len(), 1);
    assert!(!list[0].keeps_signed_in);
    assert_eq!(list[0].scopes, vec!["openid"]);
    assert_eq!(list[0].since, NOW - 5);
}

#[test]
fn a_locked_account_keeps_its_portals_and_a_deleted_one_has_none() {
    let f = |standing| PortalFacts {
        consents: vec![consent("c1", "Helper", &["openid"], NOW)],
        families: vec![family("c2", "311", "openid offline_access", NOW - 9)],
        standing,
    };
    let locked = connected(&f(SubjectStanding::Locked), NOW);
    assert_eq!(names(&locked), vec!["311", "Helper"]);
    assert!(locked[0].keeps_signed_in);
    assert!(connected(&f(SubjectStanding::Unknown), NOW).is_empty());
}

#[test]
fn portals_are_sorted_by_name_ignoring_case_then_by_id() {
    let list = connected(
        &facts(
            vec![
                consent("z", "water bills", &["openid"], NOW),
                consent("b", "Business licensing", &["openid"], NOW),
                consent("a", "Business licensing", &["openid"], NOW),
            ],
            vec![family("m", "Atl311", "openid offline_access", NOW)],
        ),
        NOW,
    );
    assert_eq!(names(&list), vec!["Atl311", "Business licensing", "Business licensing", "water bills"]);
    assert_eq!(list[1].client_id, id("a"));
}

#[test]
fn scopes_are_described_in_the_consent_pages_words_each_once() {
    let p = ConnectedPortal {
        client_id: id("c"),
        name: "Helper".into(),
        scopes: vec!["openid".into(), "email".into(), "custom:a".into(), "custom:b".into()],
        since: NOW,
        keeps_signed_in: false,
    };
    assert_eq!(
        p.described_scopes(),
        vec![
            "Know who you are when you sign in",
            "See your email address",
            "Use other information in your account"
        ]
    );
}
