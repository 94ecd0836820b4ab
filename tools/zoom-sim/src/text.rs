//! The text files of a recording (VTT transcript, chat log, timeline JSON),
//! written deterministically from the meeting's participants so that a site
//! builder or search index has real words to work with. Only formats are
//! modelled here; nothing is served from this module.

use serde_json::json;

use crate::content::{content_key, fill_with_key};

const LINES: &[&str] = &[
    "Good morning, everyone. Let's get started with the roadmap.",
    "The archive job finished overnight without any retries.",
    "Can you share your screen so we can look at the numbers?",
    "We moved the storage bucket to the new region last week.",
    "I think the retention policy should stay at three years.",
    "Let's take that offline and follow up by email.",
    "The customer asked whether transcripts are searchable.",
    "Downloads are now verified against the announced size.",
    "Next item: the budget for the second quarter.",
    "Thanks, that's all from my side.",
    "Could you repeat the last point? The audio cut out.",
    "We should document the failure modes before the release.",
];

const CHAT: &[&str] = &[
    "Here is the link to the planning doc.",
    "+1",
    "Sorry, joining from my phone today.",
    "Can we record the Q&A as well?",
    "Slides are in the shared folder.",
    "Thanks all!",
];

/// A small deterministic chooser: the `n`th choice of a text file.
struct Picker {
    key: u64,
    n: u64,
}

impl Picker {
    fn new(seed: u64, name: &str) -> Picker {
        Picker {
            key: content_key(seed, name),
            n: 0,
        }
    }

    fn below(&mut self, bound: u64) -> u64 {
        let mut word = [0u8; 8];
        fill_with_key(self.key, self.n * 8, &mut word);
        self.n += 1;
        u64::from_le_bytes(word) % bound.max(1)
    }
}

fn clock(secs: u64, millis: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        millis
    )
}

/// A WebVTT transcript covering `duration_secs`, spoken by `speakers`.
pub(crate) fn transcript(seed: u64, name: &str, speakers: &[String], duration_secs: u64) -> String {
    let mut pick = Picker::new(seed, name);
    let mut out = String::from("WEBVTT\n");
    let mut at = 2u64;
    let mut cue = 1;
    while at + 6 < duration_secs.max(60) && cue <= 400 {
        let length = 3 + pick.below(6);
        let speaker = &speakers[pick.below(speakers.len() as u64) as usize];
        let line = LINES[pick.below(LINES.len() as u64) as usize];
        let start_ms = pick.below(1000);
        out.push_str(&format!(
            "\n{cue}\n{} --> {}\n{speaker}: {line}\n",
            clock(at, start_ms),
            clock(at + length, pick.below(1000)),
        ));
        at += length + 1 + pick.below(20);
        cue += 1;
    }
    out
}

/// A chat log in Zoom's `HH:MM:SS From <name> to Everyone:` form.
pub(crate) fn chat(seed: u64, name: &str, speakers: &[String], duration_secs: u64) -> String {
    let mut pick = Picker::new(seed, name);
    let mut out = String::new();
    let mut at = 30u64;
    while at < duration_secs.max(60) && out.len() < 64 * 1024 {
        let speaker = &speakers[pick.below(speakers.len() as u64) as usize];
        let message = CHAT[pick.below(CHAT.len() as u64) as usize];
        out.push_str(&format!(
            "{:02}:{:02}:{:02} From {speaker} to Everyone:\n\t{message}\n",
            at / 3600,
            at / 60 % 60,
            at % 60
        ));
        at += 60 + pick.below(400);
    }
    out
}

/// A timeline JSON: who was on screen from when.
pub(crate) fn timeline(
    seed: u64,
    name: &str,
    speakers: &[(String, String)],
    duration_secs: u64,
) -> String {
    let mut pick = Picker::new(seed, name);
    let mut entries = Vec::new();
    let mut at = 0u64;
    while at < duration_secs.max(60) && entries.len() < 500 {
        let (speaker, email) = &speakers[pick.below(speakers.len() as u64) as usize];
        entries.push(json!({
            "ts": clock(at, pick.below(1000)),
            "users": [{
                "username": speaker,
                "multiple_people": false,
                "user_id": (16_778_240 + pick.below(1024)).to_string(),
                "zoom_userid": "",
                "email_address": email,
            }],
        }));
        at += 20 + pick.below(180);
    }
    json!({ "timeline": entries }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_is_webvtt_and_deterministic() {
        let speakers = vec!["Ada Lovelace".to_owned(), "Alan Turing".to_owned()];
        let a = transcript(1, "m/t", &speakers, 600);
        assert!(a.starts_with("WEBVTT\n\n1\n00:00:02."), "{a}");
        assert!(a.contains(" --> "));
        assert_eq!(a, transcript(1, "m/t", &speakers, 600));
        assert_ne!(a, transcript(2, "m/t", &speakers, 600));
    }
}
