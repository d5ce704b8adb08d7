use super::*;

fn settings() -> MailSettings {
    MailSettings {
        service_name: "Community Access".into(),
        support_contact: "ATL311.com or 404-546-0311".into(),
        ..MailSettings::default()
    }
}

const LINK: &str = "https://id.example.org/reset/Zm9vYmFyYmF6";

/// Every message, built with the same recipient and link-or-code.
fn all(to: &str, link: &str) -> Vec<OutgoingMessage> {
    let s = settings();
    vec![
        password_reset(&s, to, link, 60),
        unlock_account(&s, to, link, 60),
        verify_email(&s, to, link, 60),
        sign_in_code(&s, to, link, 10),
        password_changed(&s, to, PasswordChangedBy::Profile, AT, link),
    ]
}

/// 2026-12-08 01:30:00 UTC.
const AT: i64 = 1_796_693_400;

#[test]
fn password_reset_has_its_subject_button_validity_and_ignore_note() {
    let m = password_reset(&settings(), "betty@example.org", LINK, 60);
    assert_eq!(m.subject, "Reset your password");
    assert_eq!(m.to, "betty@example.org");
    for part in [&m.text, &m.html] {
        assert!(part.contains("Reset password"), "{part}");
        assert!(part.contains("expires in 1 hour"), "{part}");
        assert!(part.contains("If you did not ask, ignore this email"), "{part}");
    }
    assert!(m.html.contains(&format!(r#"<a href="{LINK}""#)), "{}", m.html);
}

#[test]
fn unlock_and_verify_have_their_subjects_and_buttons() {
    let unlock = unlock_account(&settings(), "betty@example.org", LINK, 60);
    assert_eq!(unlock.subject, "Unlock your account");
    assert!(unlock.html.contains(">Unlock account</a>"), "{}", unlock.html);
    assert!(unlock.text.contains("Unlock account"));

    let verify = verify_email(&settings(), "betty@example.org", LINK, 1440);
    assert_eq!(verify.subject, "Verify your email address");
    assert!(verify.html.contains(">Verify email</a>"), "{}", verify.html);
    assert!(verify.text.contains("expires in 24 hours"), "{}", verify.text);
}

#[test]
fn sign_in_code_shows_the_code_on_its_own_and_not_in_the_subject() {
    let m = sign_in_code(&settings(), "betty@example.org", "482913", 10);
    assert_eq!(m.subject, "Your sign-in code");
    assert!(m.text.lines().any(|l| l.trim() == "482913"), "{}", m.text);
    assert!(m.html.contains("font-size:32px;font-weight:bold;letter-spacing:6px;\">482913</p>"));
    assert!(m.text.contains("expires in 10 minutes"));
}

#[test]
fn password_changed_says_when_and_how_and_offers_forgot_password() {
    for (by, how) in [
        (PasswordChangedBy::Profile, "in your profile"),
        (PasswordChangedBy::ResetLink, "with a password reset link"),
    ] {
        let m = password_changed(&settings(), "betty@example.org", by, AT, LINK);
        assert_eq!(m.subject, "Your password was changed");
        for part in [&m.text, &m.html] {
            assert!(part.contains(&format!("was changed {how} on 8 December 2026 at 01:30 UTC")), "{part}");
            assert!(part.contains("Forgot password?"), "{part}");
            assert!(part.contains("If you did not, someone else may know your password"), "{part}");
            assert!(part.contains("ATL311.com or 404-546-0311"), "{part}");
        }
        assert!(m.html.contains(&format!(r#"<a href="{LINK}""#)), "{}", m.html);
    }
}

#[test]
fn dates_read_as_people_say_them() {
    assert_eq!(date_words(0), "1 January 1970 at 00:00 UTC");
    assert_eq!(date_words(AT + 59), "8 December 2026 at 01:30 UTC");
    assert_eq!(date_words(i64::MAX), "an unknown date");
}

#[test]
fn link_or_code_is_in_both_parts_of_every_message() {
    for m in all("betty@example.org", LINK) {
        assert!(m.text.contains(LINK), "{}: {}", m.subject, m.text);
        assert!(m.html.contains(LINK), "{}: {}", m.subject, m.html);
    }
}

#[test]
fn every_message_carries_support_contact_service_name_and_recipient() {
    let s = MailSettings {
        service_name: "Atlanta Sign-In".into(),
        support_contact: "help@atl.example or 555-0100".into(),
        ..MailSettings::default()
    };
    for m in [
        password_reset(&s, "betty@example.org", LINK, 60),
        unlock_account(&s, "betty@example.org", LINK, 60),
        verify_email(&s, "betty@example.org", LINK, 60),
        sign_in_code(&s, "betty@example.org", "123456", 10),
        password_changed(&s, "betty@example.org", PasswordChangedBy::ResetLink, AT, LINK),
    ] {
        for part in [&m.text, &m.html] {
            assert!(part.contains("help@atl.example or 555-0100"), "{}", m.subject);
            assert!(part.contains("Atlanta Sign-In"), "{}", m.subject);
            assert!(part.contains("betty@example.org"), "{}", m.subject);
            assert!(!part.contains("Community Access"), "{}: default leaked", m.subject);
        }
    }
}

#[test]
fn html_escapes_a_hostile_recipient_and_link() {
    let to = "<script>alert(1)</script>@example.org";
    let link = r#"https://id.example.org/x?a=1&b="><img src=x onerror=alert(2)>"#;
    for m in all(to, link) {
        assert!(!m.html.contains("<script>"), "{}", m.html);
        assert!(!m.html.contains("<img"), "{}", m.html);
        assert!(!m.html.contains(r#""><img"#), "{}", m.html);
        assert!(m.html.contains("&#60;script&#62;alert(1)&#60;/script&#62;@example.org"));
        assert!(m.html.contains("x?a=1&#38;b=&#34;&#62;&#60;img src=x"), "{}", m.html);
        // The text part is not HTML: it keeps the link exactly, so it can be copied.
        assert!(m.text.contains(link), "{}", m.text);
    }
}

#[test]
fn support_contact_and_service_name_are_escaped_too() {
    let s = MailSettings {
        service_name: "A & B <City>".into(),
        support_contact: "<b>call</b>".into(),
        ..MailSettings::default()
    };
    let m = password_reset(&s, "betty@example.org", LINK, 60);
    assert!(m.html.contains("A &#38; B &#60;City&#62;"), "{}", m.html);
    assert!(!m.html.contains("<b>call</b>"), "{}", m.html);
    assert!(m.text.contains("A & B <City>"));
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(duration_words(60), "1 hour");
    assert_eq!(duration_words(120), "2 hours");
    assert_eq!(duration_words(90), "90 minutes");
    assert_eq!(duration_words(15), "15 minutes");
    assert_eq!(duration_words(1), "1 minute");
    assert_eq!(duration_words(0), "1 minute");
}
