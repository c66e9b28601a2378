//! The dialogs of the drive: the exact change to confirm, a question, or a result to read;
//! and the keys while one is open.

use crossterm::event::KeyCode;

use super::{Command, dry_note, notice, queue};
use crate::app::effects::Effects;
use crate::app::keymap::KeyAction;
use crate::app::state::State;
use crate::app::wave::{self, WaveRun};

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// The exact change; `y` applies it. `restart_with` lists namespaces `Y` also restarts.
    Confirm {
        title: String,
        lines: Vec<String>,
        command: Command,
        restart_with: Vec<String>,
    },
    /// Several changes at once (reverting the namespaces a rollback trigger names); `y`
    /// applies them all, one after another.
    ConfirmAll {
        title: String,
        lines: Vec<String>,
        commands: Vec<Command>,
    },
    /// A refusal or a result to read; any key closes it.
    Info { title: String, lines: Vec<String> },
    /// A wave (`M`): `y` starts it, paced; it carries every migration it previewed.
    ConfirmWave {
        title: String,
        lines: Vec<String>,
        run: WaveRun,
    },
    /// A wave paused on unknown triggers: typing `expected` (the phase's name) goes on.
    ContinueWave {
        title: String,
        lines: Vec<String>,
        expected: String,
        typed: String,
    },
    /// Several moved tags could go back: a number picks one, whose preview follows.
    /// `moves` are (tag, revision now, revision before), in the order listed.
    ChooseTag {
        title: String,
        lines: Vec<String>,
        moves: Vec<(String, String, String)>,
    },
    /// The first wave while the precheck's gate does not pass: typing `expected` (the
    /// phase's name) journals the override (`note`) and starts the wave as `ConfirmWave` would.
    OverrideWave {
        title: String,
        lines: Vec<String>,
        expected: String,
        typed: String,
        run: WaveRun,
        note: Box<Command>,
    },
    /// Overriding a gate: the user must type `expected` (the phase's name).
    TypeToConfirm {
        title: String,
        lines: Vec<String>,
        expected: String,
        typed: String,
        command: Command,
    },
}

/// The last line of a preview: which keys apply it and which cancel it.
pub(crate) fn answers(state: &State) -> String {
    let keys = &state.ui.keys;
    format!(
        "{} apply · {} cancel",
        keys.key(KeyAction::Apply),
        keys.either(KeyAction::Cancel)
    )
}

/// Opens the preview of one write, with the keys that apply or cancel it.
pub(super) fn confirm(
    state: &mut State,
    title: String,
    mut lines: Vec<String>,
    command: Command,
    restart_with: Vec<String>,
) {
    lines.extend(dry_note(state));
    lines.push(String::new());
    lines.push(if restart_with.is_empty() {
        answers(state)
    } else {
        let keys = &state.ui.keys;
        format!(
            "{} apply · {} apply and restart the {} namespaces · {} cancel",
            keys.key(KeyAction::Apply),
            keys.key(KeyAction::ApplyAndRestart),
            restart_with.len(),
            keys.either(KeyAction::Cancel)
        )
    });
    state.drive.dialog = Some(Dialog::Confirm {
        title,
        lines,
        command,
        restart_with,
    });
}

/// Keys while a dialog is open, as the keymap reads them (`action`) and as typed (`code`).
/// Returns true when the key was consumed.
pub fn on_dialog_key(
    state: &mut State,
    effects: &mut Effects,
    action: Option<KeyAction>,
    code: KeyCode,
) -> bool {
    use KeyAction as K;
    let Some(dialog) = state.drive.dialog.take() else {
        return false;
    };
    match dialog {
        Dialog::Info { .. } => {}
        Dialog::Confirm {
            command,
            restart_with,
            title,
            lines,
        } => match action {
            Some(K::Apply) => queue(state, effects, command, Vec::new()),
            Some(K::ApplyAndRestart) if !restart_with.is_empty() => {
                queue(state, effects, command, restart_with);
            }
            Some(K::Cancel) => notice(state, "cancelled: nothing was changed"),
            // Anything else neither applies nor cancels.
            _ => {
                state.drive.dialog = Some(Dialog::Confirm {
                    command,
                    restart_with,
                    title,
                    lines,
                });
            }
        },
        Dialog::ConfirmAll {
            title,
            lines,
            commands,
        } => match action {
            Some(K::Apply) => {
                for command in commands {
                    queue(state, effects, command, Vec::new());
                }
            }
            Some(K::Cancel) => notice(state, "cancelled: nothing was changed"),
            _ => {
                state.drive.dialog = Some(Dialog::ConfirmAll {
                    title,
                    lines,
                    commands,
                });
            }
        },
        Dialog::ConfirmWave { title, lines, run } => match action {
            Some(K::Apply) => wave::start(state, effects, run),
            Some(K::Cancel) => notice(state, "cancelled: nothing was changed"),
            _ => state.drive.dialog = Some(Dialog::ConfirmWave { title, lines, run }),
        },
        Dialog::ContinueWave {
            title,
            lines,
            expected,
            mut typed,
        } => match action {
            Some(K::CancelTyped) => {
                let wave = state.ui.keys.key(K::MigrateWave);
                let text = format!("the wave stays stopped: {wave} asks again");
                notice(state, text);
            }
            Some(K::SendTyped) if typed == expected => wave::go_on(state, effects),
            _ => {
                if action == Some(K::SendTyped) {
                    notice(state, format!("type exactly \"{expected}\" to go on"));
                }
                edit(&mut typed, action, code);
                state.drive.dialog = Some(Dialog::ContinueWave {
                    title,
                    lines,
                    expected,
                    typed,
                });
            }
        },
        Dialog::ChooseTag {
            title,
            lines,
            moves,
        } => {
            let picked = match (action, code) {
                (Some(K::Pick), KeyCode::Char(c)) => c
                    .to_digit(10)
                    .and_then(|d| moves.get((d as usize).checked_sub(1)?))
                    .cloned(),
                _ => None,
            };
            match (picked, action) {
                (Some((tag, now_on, back_to)), _) => {
                    let title = format!("Move tag {tag} back from {now_on} to {back_to}?");
                    super::tag::preview_tag(state, tag, now_on, back_to, title);
                }
                (None, Some(K::Cancel)) => notice(state, "cancelled: nothing was changed"),
                (None, _) => {
                    state.drive.dialog = Some(Dialog::ChooseTag {
                        title,
                        lines,
                        moves,
                    });
                }
            }
        }
        Dialog::OverrideWave {
            title,
            lines,
            expected,
            mut typed,
            run,
            note,
        } => match action {
            Some(K::CancelTyped) => notice(state, "cancelled: nothing was changed"),
            Some(K::SendTyped) if typed == expected => {
                queue(state, effects, *note, Vec::new());
                wave::start(state, effects, run);
            }
            _ => {
                if action == Some(K::SendTyped) {
                    notice(state, format!("type exactly \"{expected}\" to override"));
                }
                edit(&mut typed, action, code);
                state.drive.dialog = Some(Dialog::OverrideWave {
                    title,
                    lines,
                    expected,
                    typed,
                    run,
                    note,
                });
            }
        },
        Dialog::TypeToConfirm {
            title,
            lines,
            expected,
            mut typed,
            command,
        } => match action {
            Some(K::CancelTyped) => notice(state, "cancelled: nothing was changed"),
            Some(K::SendTyped) if typed == expected => queue(state, effects, command, Vec::new()),
            Some(K::SendTyped) => {
                notice(state, format!("type exactly \"{expected}\" to override"));
                state.drive.dialog = Some(Dialog::TypeToConfirm {
                    title,
                    lines,
                    expected,
                    typed,
                    command,
                });
            }
            _ => {
                edit(&mut typed, action, code);
                state.drive.dialog = Some(Dialog::TypeToConfirm {
                    title,
                    lines,
                    expected,
                    typed,
                    command,
                });
            }
        },
    }
    true
}

/// Typing into a dialog that asks for a name: characters no key is bound to are text.
fn edit(typed: &mut String, action: Option<KeyAction>, code: KeyCode) {
    match (action, code) {
        (Some(KeyAction::Erase), _) => {
            typed.pop();
        }
        (None, KeyCode::Char(c)) => typed.push(c),
        _ => {}
    }
}
