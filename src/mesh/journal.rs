//! The words of the journal: what an entry did and how it ended. They are its wire format, in
//! the journal ConfigMap and the local file alike, which users' scripts and other cockpits
//! read, so each stays exactly the word it has always been (`move-tag`, `ok`, ...).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a journal entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JournalAction {
    Migrate,
    Revert,
    MoveTag,
    Restart,
    Advance,
    TakeOver,
    /// A note on a wave: started, stopped, paused, finished.
    Wave,
    /// The fleet's phases, recorded on the primary.
    Fleet,
    /// A word this version does not know, written by another version of the cockpit. It is
    /// kept as read, so appending to a shared journal never drops what others wrote.
    Other(String),
}

impl JournalAction {
    pub fn as_str(&self) -> &str {
        match self {
            JournalAction::Migrate => "migrate",
            JournalAction::Revert => "revert",
            JournalAction::MoveTag => "move-tag",
            JournalAction::Restart => "restart",
            JournalAction::Advance => "advance",
            JournalAction::TakeOver => "take-over",
            JournalAction::Wave => "wave",
            JournalAction::Fleet => "fleet",
            JournalAction::Other(word) => word,
        }
    }
}

impl From<String> for JournalAction {
    fn from(word: String) -> JournalAction {
        match word.as_str() {
            "migrate" => JournalAction::Migrate,
            "revert" => JournalAction::Revert,
            "move-tag" => JournalAction::MoveTag,
            "restart" => JournalAction::Restart,
            "advance" => JournalAction::Advance,
            "take-over" => JournalAction::TakeOver,
            "wave" => JournalAction::Wave,
            "fleet" => JournalAction::Fleet,
            _ => JournalAction::Other(word),
        }
    }
}

impl From<JournalAction> for String {
    fn from(action: JournalAction) -> String {
        match action {
            JournalAction::Other(word) => word,
            known => known.as_str().to_string(),
        }
    }
}

impl fmt::Display for JournalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a journalled write ended: `ok`, `intent` (about to be sent), or the error's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JournalResult {
    Ok,
    /// Written just before the request is sent, with the exact body.
    Intent,
    Failed(String),
}

impl JournalResult {
    pub fn as_str(&self) -> &str {
        match self {
            JournalResult::Ok => "ok",
            JournalResult::Intent => "intent",
            JournalResult::Failed(why) => why,
        }
    }

    pub fn is_ok(&self) -> bool {
        *self == JournalResult::Ok
    }
}

impl From<String> for JournalResult {
    fn from(word: String) -> JournalResult {
        match word.as_str() {
            "ok" => JournalResult::Ok,
            "intent" => JournalResult::Intent,
            _ => JournalResult::Failed(word),
        }
    }
}

impl From<JournalResult> for String {
    fn from(result: JournalResult) -> String {
        match result {
            JournalResult::Failed(why) => why,
            known => known.as_str().to_string(),
        }
    }
}

impl fmt::Display for JournalResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::records::JournalEntry;

    /// Lines as earlier versions wrote them to the local file (one JSON object per line).
    const OLD_LINES: [&str; 4] = [
        r#"{"at":"2026-11-24T21:30:00.123456789Z","who":"alice@laptop","action":"move-tag","target":"tag/default","change":{"from":"1-24-0","patch":[{"op":"replace","path":"/metadata/labels/istio.io~1rev","value":"1-25-0"}],"to":"1-25-0"},"result":"intent","dry_run":false}"#,
        r#"{"at":"2026-11-24T21:30:01Z","who":"alice@laptop","action":"move-tag","target":"tag/default","change":{"from":"1-24-0","to":"1-25-0"},"result":"ok","dry_run":false}"#,
        r#"{"at":"2026-11-24T21:31:00Z","who":"system:admin","action":"revert","target":"namespace/shop","change":null,"result":"changed since the preview: namespace shop now has {}","dry_run":true,"why":"rollback trigger: shop: p99 latency 400 ms"}"#,
        r#"{"at":"2026-11-24T21:32:00Z","who":"bob@desk","action":"resize","target":"pool/a","change":{},"result":"ok","dry_run":false}"#,
    ];

    #[test]
    fn an_old_entry_parses_and_is_written_back_byte_for_byte() {
        for line in OLD_LINES {
            let entry: JournalEntry = serde_json::from_str(line).expect(line);
            assert_eq!(serde_json::to_string(&entry).unwrap(), line);
        }
        // The ConfigMap keeps them as one JSON array.
        let array = format!("[{}]", OLD_LINES.join(","));
        let entries: Vec<JournalEntry> = serde_json::from_str(&array).unwrap();
        assert_eq!(serde_json::to_string(&entries).unwrap(), array);
    }

    #[test]
    fn the_words_are_read_as_kinds() {
        let read = |line: &str| serde_json::from_str::<JournalEntry>(line).unwrap();
        let intent = read(OLD_LINES[0]);
        assert_eq!(
            (intent.action, intent.result),
            (JournalAction::MoveTag, JournalResult::Intent)
        );
        assert!(read(OLD_LINES[1]).result.is_ok());
        let refused = read(OLD_LINES[2]);
        assert_eq!(refused.action, JournalAction::Revert);
        assert_eq!(
            refused.result,
            JournalResult::Failed("changed since the preview: namespace shop now has {}".into())
        );
        assert_eq!(
            read(OLD_LINES[3]).action,
            JournalAction::Other("resize".into())
        );
    }

    #[test]
    fn every_known_word_reads_back_as_itself() {
        for action in [
            JournalAction::Migrate,
            JournalAction::Revert,
            JournalAction::MoveTag,
            JournalAction::Restart,
            JournalAction::Advance,
            JournalAction::TakeOver,
            JournalAction::Wave,
            JournalAction::Fleet,
        ] {
            let word = action.to_string();
            assert_eq!(JournalAction::from(word.clone()), action, "{word}");
        }
        for result in [JournalResult::Ok, JournalResult::Intent] {
            assert_eq!(JournalResult::from(result.to_string()), result);
        }
    }
}
