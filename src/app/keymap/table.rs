//! Every key action of the cockpit, once: its name in the keys file, its default keys, where
//! it applies, who may use it, and what the help says about it. Help, hints, the README's
//! keys table and the key handling all read this table.

/// What a key does. Not `app::actions::Action`, which is a write the upgrade sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAction {
    Down,
    Up,
    PageDown,
    PageUp,
    First,
    Last,
    NextPane,
    PreviousPane,
    NextCluster,
    Drill,
    Filter,
    ClearFilter,
    Help,
    Quit,
    NackOnly,
    Follow,
    CockpitLog,
    Journal,
    Metrics,
    Checks,
    PodEvents,
    ProxyLog,
    ProxyStatus,
    PodYaml,
    Migrate,
    Revert,
    MigrateWave,
    MoveTag,
    Advance,
    Rollback,
    TakeOver,
    Apply,
    ApplyAndRestart,
    Cancel,
    Pick,
    KeepFilter,
    DropFilter,
    SendTyped,
    CancelTyped,
    Erase,
    QuitAnywhere,
    CommandLine,
    CopyName,
    CopyCommand,
    Complete,
    RunCommand,
    CancelCommand,
}

/// What the screen is waiting for, which decides what a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// The panes: no preview open, no filter being typed.
    Panes,
    /// A preview waiting for an answer, or a numbered choice.
    Preview,
    /// A filter being typed: characters are text.
    Filter,
    /// A name being typed to confirm (a gate's override, a wave going on): characters are text.
    Typed,
    /// A `:` command being typed: characters are text.
    Command,
}

impl Context {
    pub const ALL: [Context; 5] = [
        Context::Panes,
        Context::Preview,
        Context::Filter,
        Context::Typed,
        Context::Command,
    ];

    /// How errors name it.
    pub fn name(self) -> &'static str {
        match self {
            Context::Panes => "the panes",
            Context::Preview => "a preview",
            Context::Filter => "a filter being typed",
            Context::Typed => "a typed confirmation",
            Context::Command => "the command line",
        }
    }

    /// Characters typed here are text, so no plain character can be a key here.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::Filter | Context::Typed | Context::Command)
    }
}

/// Which cockpits an action works in; elsewhere it says why it does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anyone,
    /// The cockpit that holds the driver lease: it writes.
    Driver,
    /// A cockpit that may write but watches while another drives.
    Follower,
    /// A cockpit on several clusters: the help leaves it out on one.
    Fleet,
}

/// The help's sections, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    LookAround,
    Views,
    Drive,
    Preview,
    Typing,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::LookAround,
        Section::Views,
        Section::Drive,
        Section::Preview,
        Section::Typing,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::LookAround => "Look around",
            Section::Views => "Views",
            Section::Drive => "Drive the upgrade",
            Section::Preview => "In a preview",
            Section::Typing => "While typing",
        }
    }
}

/// How an action shows in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A row of its own, saying this.
    Own(&'static str),
    /// On the row of the action before it: `↓ j / ↑ k  move down / up`.
    WithPrevious,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub action: KeyAction,
    /// Its name in the keys file.
    pub name: &'static str,
    /// The default keys, as the keys file writes them; hints show the first.
    pub keys: &'static [&'static str],
    pub contexts: &'static [Context],
    pub who: Who,
    pub section: Section,
    pub row: Row,
    /// The keys file cannot rebind it.
    pub fixed: bool,
}

/// An action on the panes, for anyone, until `within` and `only` say otherwise.
const fn entry(
    action: KeyAction,
    name: &'static str,
    keys: &'static [&'static str],
    section: Section,
    row: Row,
) -> Entry {
    Entry {
        action,
        name,
        keys,
        contexts: &[Context::Panes],
        who: Who::Anyone,
        section,
        row,
        fixed: false,
    }
}

impl Entry {
    const fn only(mut self, who: Who) -> Entry {
        self.who = who;
        self
    }

    const fn within(mut self, contexts: &'static [Context]) -> Entry {
        self.contexts = contexts;
        self
    }

    const fn fixed(mut self) -> Entry {
        self.fixed = true;
        self
    }
}

use Context as C;
use KeyAction as A;
use Row::{Own, WithPrevious as Joined};
use Section as S;

/// In the help's order. `KeyAction`'s variants are in the same order (a test checks).
#[rustfmt::skip]
pub const TABLE: &[Entry] = &[
    //    action             name in the file     default keys     section        the help says
    entry(A::Down,           "down",              &["down", "j"],  S::LookAround, Own("move down / up")),
    entry(A::Up,             "up",                &["up", "k"],    S::LookAround, Joined),
    entry(A::PageDown,       "page_down",         &["pgdown"],     S::LookAround, Own("a page down / up")),
    entry(A::PageUp,         "page_up",           &["pgup"],       S::LookAround, Joined),
    entry(A::First,          "first",             &["home", "g"],  S::LookAround, Own("to the first row")),
    entry(A::Last,           "last",              &["end", "G"],   S::LookAround, Own("to the last row")),
    entry(A::NextPane,       "next_pane",         &["tab"],        S::LookAround, Own("next pane")),
    entry(A::PreviousPane,   "previous_pane",     &["shift-tab"],  S::LookAround, Own("previous pane")),
    entry(A::NextCluster,    "next_cluster",      &["c"],          S::LookAround, Own("next cluster of the fleet"))
        .only(Who::Fleet),
    entry(A::Drill,          "drill",             &["enter"],      S::LookAround, Own("pods, or a NACK's pod")),
    entry(A::Filter,         "filter",            &["/"],          S::LookAround, Own("filter the focused table")),
    entry(A::ClearFilter,    "clear_filter",      &["esc"],        S::LookAround, Own("clear the table's filter")),
    entry(A::Help,           "help",              &["?"],          S::LookAround, Own("help (any key closes it)")),
    entry(A::Quit,           "quit",              &["q"],          S::LookAround, Own("quit")),
    entry(A::NackOnly,       "nack_only",         &["n"],          S::Views,      Own("NACK lines only, on/off")),
    entry(A::Follow,         "follow",            &["f"],          S::Views,      Own("follow new lines, on/off")),
    entry(A::CockpitLog,     "cockpit_log",       &["L"],          S::Views,      Own("cockpit log, on/off")),
    entry(A::Journal,        "journal",           &["J"],          S::Views,      Own("journal / metrics / checks, on/off")),
    entry(A::Metrics,        "metrics",           &["P"],          S::Views,      Joined),
    entry(A::Checks,         "checks",            &["C"],          S::Views,      Joined),
    entry(A::PodEvents,      "pod_events",        &["e"],          S::Views,      Own("pod: events / proxy log / sync / YAML")),
    entry(A::ProxyLog,       "proxy_log",         &["l"],          S::Views,      Joined),
    entry(A::ProxyStatus,    "proxy_status",      &["s"],          S::Views,      Joined),
    entry(A::PodYaml,        "pod_yaml",          &["v"],          S::Views,      Joined),
    entry(A::Migrate,        "migrate",           &["m"],          S::Drive,      Own("migrate the namespace"))
        .only(Who::Driver),
    entry(A::Revert,         "revert",            &["r"],          S::Drive,      Own("revert namespace or tag"))
        .only(Who::Driver),
    entry(A::MigrateWave,    "migrate_wave",      &["M"],          S::Drive,      Own("migrate the wave, paced"))
        .only(Who::Driver),
    entry(A::MoveTag,        "move_tag",          &["t"],          S::Drive,      Own("move the next tag"))
        .only(Who::Driver),
    entry(A::Advance,        "advance",           &[">"],          S::Drive,      Own("advance the phase"))
        .only(Who::Driver),
    entry(A::Rollback,       "rollback",          &["X"],          S::Drive,      Own("revert what breached"))
        .only(Who::Driver),
    entry(A::TakeOver,       "take_over",         &["D"],          S::Drive,      Own("take over driving"))
        .only(Who::Follower),
    entry(A::Apply,          "apply",             &["y"],          S::Preview,    Own("apply what it shows"))
        .within(&[C::Preview]),
    entry(A::ApplyAndRestart, "apply_and_restart", &["Y"],         S::Preview,    Own("apply, then restart pods"))
        .within(&[C::Preview]),
    entry(A::Cancel,         "cancel",            &["n", "esc"],   S::Preview,    Own("cancel: nothing changes"))
        .within(&[C::Preview]),
    entry(A::Pick,           "pick",              &["1", "2", "3", "4", "5", "6", "7", "8", "9"],
                                                                   S::Preview,    Own("pick a numbered choice"))
        .within(&[C::Preview]).fixed(),
    entry(A::KeepFilter,     "keep_filter",       &["enter"],      S::Typing,     Own("keep / clear the filter"))
        .within(&[C::Filter]),
    entry(A::DropFilter,     "drop_filter",       &["esc"],        S::Typing,     Joined)
        .within(&[C::Filter]),
    entry(A::SendTyped,      "send_typed",        &["enter"],      S::Typing,     Own("send / drop a typed name"))
        .within(&[C::Typed]),
    entry(A::CancelTyped,    "cancel_typed",      &["esc"],        S::Typing,     Joined)
        .within(&[C::Typed]),
    entry(A::Erase,          "erase",             &["backspace"],  S::Typing,     Own("delete a character"))
        .within(&[C::Filter, C::Typed, C::Command]),
    entry(A::QuitAnywhere,   "quit_anywhere",     &["ctrl-c"],     S::Typing,     Own("quit, from anywhere"))
        .within(&C::ALL).fixed(),
    // The command line and copying.
    entry(A::CommandLine,    "command_line",      &[":"],          S::LookAround, Own("command (:ns, :ctx, :q)")),
    entry(A::CopyName,       "copy_name",         &["y"],          S::LookAround, Own("copy name / kubectl cmd")),
    entry(A::CopyCommand,    "copy_command",      &["Y"],          S::LookAround, Joined),
    entry(A::Complete,       "complete",          &["tab"],        S::Typing,     Own("complete / cycle"))
        .within(&[C::Command]),
    entry(A::RunCommand,     "run_command",       &["enter"],      S::Typing,     Own("run / drop command"))
        .within(&[C::Command]),
    entry(A::CancelCommand,  "cancel_command",    &["esc"],        S::Typing,     Joined)
        .within(&[C::Command]),
];

impl KeyAction {
    /// Its row in `TABLE`.
    pub fn entry(self) -> &'static Entry {
        &TABLE[self as usize]
    }

    /// The action the keys file names so.
    pub fn named(name: &str) -> Option<KeyAction> {
        TABLE.iter().find(|e| e.name == name).map(|e| e.action)
    }
}

/// The names the keys file may set, for error messages.
pub fn names_allowed() -> String {
    TABLE
        .iter()
        .filter(|e| !e.fixed)
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}
