//! `rdsdeck tour --list`: the chapters as the binary ships them and as a team extends them, and a
//! chapter with a mistake named with its file and the mistake (exit 2, nothing started).

mod common;

use common::CleanHome;

#[test]
fn tour_list_prints_every_chapter_and_a_teams_own() {
    let home = CleanHome::new();
    let out = home.cmd().args(["tour", "--list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("7 chapters"), "{text}");
    assert!(text.contains("3. A token instead of a password [token, 30-token.toml]"), "{text}");
    assert!(text.contains("· Sign a token  — t: sign a token"), "{text}");
    // A team's chapter, added by its own id, and one that replaces a built-in by id.
    home.write("config/rdsdeck/tour/35-ours.toml", "id = \"ours\"\ntitle = \"Our runbook\"\n[[steps]]\ntitle = \"Page the DBA\"\ntext = \"Call {user}'s owner.\"\n");
    home.write("config/rdsdeck/tour/60-bootstrap.toml", "id = \"bootstrap\"\ntitle = \"Our bootstrap\"\n[[steps]]\ntitle = \"Ask first\"\naction = \"bootstrap-plan\"\ntext = \"Read the plan.\"\n");
    let out = home.cmd().args(["tour", "--list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("8 chapters"), "{text}");
    let ours = text.find("Our runbook").unwrap();
    assert!(text.find("A token instead").unwrap() < ours && ours < text.find("A login with a token").unwrap(), "ordered by file name: {text}");
    assert!(text.contains("Our bootstrap") && !text.contains("users without passwords"), "{text}");
    // A mistake: named with the file, exit 2.
    home.write("config/rdsdeck/tour/99-bad.toml", "id = \"bad\"\ntitle = \"Bad\"\n[[steps]]\ntitle = \"x\"\ntext = \"y\"\naction = \"teleport\"\n");
    let out = home.cmd().args(["tour", "--list"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("99-bad.toml") && err.contains("teleport"), "{err}");
}
