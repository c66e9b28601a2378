//! OSC 52: the escape sequence that asks the terminal to set its clipboard. It travels with
//! the screen's bytes, so it works over SSH and, with `set-clipboard on`, inside tmux.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// `ESC ] 52 ; c ; <base64 of text> BEL`: the clipboard (`c`) set to `text`.
pub fn sequence(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", STANDARD.encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_goes_base64_encoded_between_the_osc_52_brackets() {
        assert_eq!(sequence("payments"), "\x1b]52;c;cGF5bWVudHM=\x07");
        assert_eq!(
            sequence("kubectl --context sim-admin get namespace a -o yaml"),
            "\x1b]52;c;a3ViZWN0bCAtLWNvbnRleHQgc2ltLWFkbWluIGdldCBuYW1lc3BhY2UgYSAtbyB5YW1s\x07"
        );
        assert_eq!(sequence(""), "\x1b]52;c;\x07");
    }
}
